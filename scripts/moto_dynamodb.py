"""moto's server (moto[server], Apache-2.0) with two changes.

1. Requests are handled one at a time.

Real DynamoDB applies each request atomically: a conditional write or a
TransactWriteItems call sees no other write between its check and its write.
moto's threaded server takes no lock, so two concurrent conditional writes
can both pass their conditions (seen here with concurrent key rolls). A lock
around each request gives the tests DynamoDB's per-request atomicity; it costs
little, since moto's handlers hold the GIL anyway. Connections stay threaded
and keep-alive.

2. Transactions do not copy the table's stream.
moto backs up a table with copy.deepcopy before each TransactWriteItems (once
per item of the transaction), and the table holds its stream shard, which
keeps every record ever written. The copy grows with every write until a
transaction outlasts the SDK's timeouts (seen: 4 s after a few thousand
writes). The stream shard is shared with the copy instead: a rolled-back
transaction may leave stream records behind, which nothing here reads.

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
from moto.dynamodb.models.table import Table
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)


def _deepcopy_sharing_the_stream(self, memo):
    clone = self.__class__.__new__(self.__class__)
    memo[id(self)] = clone
    for name, value in self.__dict__.items():
        shared = name == "stream_shard"
        setattr(clone, name, value if shared else copy.deepcopy(value, memo))
    return clone


Table.__deepcopy__ = _deepcopy_sharing_the_stream


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
