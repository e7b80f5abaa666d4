"""moto's server (moto[server], Apache-2.0) with two changes.

1. Requests are handled one at a time.

Real DynamoDB applies each request atomically: a conditional write or a
TransactWriteItems call sees no other write between its check and its write.
moto's threaded server takes no lock, so two concurrent conditional writes
can both pass their conditions (seen here with concurrent key rolls). A lock
around each request gives the tests DynamoDB's per-request atomicity; it costs
little, since moto's handlers hold the GIL anyway. Connections stay threaded
and keep-alive.

2. Transactions copy each table once, and not its stream.
moto backs up a table with copy.deepcopy before each TransactWriteItems, once
per item of the transaction (the same snapshot each time), and the table holds
its stream shard, which keeps every record ever written. The copy grows with
every write until a transaction outlasts the SDK's timeouts (seen: 4 s after a
few thousand writes), and a transaction's cost grows with its item count,
which DynamoDB's does not (one item more in a transaction cost a third more
here). Each table is now copied once per transaction, and the stream shard
is shared with the copy: a rolled-back transaction may leave stream records
behind, which nothing here reads.

3. With --parent-pid, it exits when that process is gone, so a server that a
test process started never outlives it, even when the test process is killed.

Usage: python scripts/moto_dynamodb.py -H 127.0.0.1 -p PORT [--parent-pid PID]
"""

import argparse
import copy
import os
import signal
import sys
import threading

from werkzeug.serving import run_simple
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)


# The snapshots taken during the TransactWriteItems being served (requests are
# served one at a time), by table: one copy per table per transaction.
_snapshots = None


def _deepcopy_sharing_the_stream(self, memo):
    if _snapshots is not None and id(self) in _snapshots:
        return _snapshots[id(self)]
    clone = self.__class__.__new__(self.__class__)
    memo[id(self)] = clone
    for name, value in self.__dict__.items():
        shared = name == "stream_shard"
        setattr(clone, name, value if shared else copy.deepcopy(value, memo))
    if _snapshots is not None:
        _snapshots[id(self)] = clone
    return clone


Table.__deepcopy__ = _deepcopy_sharing_the_stream
_transact_write_items = DynamoDBBackend.transact_write_items


def _transact_copying_each_table_once(self, transact_items):
    global _snapshots
    _snapshots = {}
    try:
        return _transact_write_items(self, transact_items)
    finally:
        _snapshots = None


DynamoDBBackend.transact_write_items = _transact_copying_each_table_once


def _exit_with(pid: int) -> None:
    """Polls the parent; once it is gone (reparented), exit at once."""
    while os.getppid() == pid:
        threading.Event().wait(0.5)
    os._exit(0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    parser.add_argument("--parent-pid", type=int)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if args.parent_pid:
        threading.Thread(target=_exit_with, args=(args.parent_pid,), daemon=True).start()

    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def one_at_a_time(environ, start_response):
        with lock:
            # Run the whole request, body included, inside the lock.
            return list(app(environ, start_response))

    run_simple(
        args.host,
        args.port,
        one_at_a_time,
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
