"""moto's server (moto[server], Apache-2.0) with two changes.

1. Requests are handled one at a time.

Real DynamoDB applies each request atomically: a conditional write or a
TransactWriteItems call sees no other write between its check and its write.
moto's threaded server takes no lock, so two concurrent conditional writes
can both pass their conditions (seen here with concurrent key rolls). A lock
around each request gives the tests DynamoDB's per-request atomicity; it costs
little, since moto's handlers hold the GIL anyway. Connections stay threaded
and keep-alive.

2. Transactions back up the items they touch, not whole tables.
moto backs up each table a TransactWriteItems names with copy.deepcopy, once
per item of the transaction, and restores the copies if the transaction is
cancelled. The table holds every item and its stream shard every record ever
written, so a transaction's cost grows with the table (seen: over 4 s, the
SDK's timeout, once a table held tens of thousands of items) and with the
transaction's item count, where DynamoDB's does neither. Here the tables are
not copied: the items the transaction names are saved before it runs and put
back (or deleted, if they did not exist) when it is cancelled. A cancelled
transaction may leave stream records behind, which nothing here reads.

3. A TransactWriteItems retried with its ClientRequestToken is not applied
again. DynamoDB answers a call whose token it has seen succeed within ten
minutes with success and changes nothing; the SDK sets one token per call and
keeps it across its retries, so an attempt that timed out after it was applied
is not applied twice. moto ignores the token: under load such a retry failed
its own conditions (a dispatch answered 409 after it had been written). Here
the tokens of applied transactions are remembered for ten minutes. (A reuse
with other parameters is not detected, as DynamoDB would; nothing here
reuses one.)

4. With --parent-pid, it exits when that process is gone, so a server that a
test process started never outlives it, even when the test process is killed.

Usage: python scripts/moto_dynamodb.py -H 127.0.0.1 -p PORT [--parent-pid PID]
"""

import argparse
import copy
import os
import signal
import sys
import threading
import time

from werkzeug.serving import run_simple
from moto.dynamodb.models import DynamoDBBackend
from moto.core.responses import ActionResult
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)


# While a TransactWriteItems is served (requests are served one at a time),
# moto's backup of a table is the table itself: the items are saved instead.
_in_transaction = False


def _no_copy_during_transactions(self, memo):
    if _in_transaction:
        return self
    clone = self.__class__.__new__(self.__class__)
    memo[id(self)] = clone
    for name, value in self.__dict__.items():
        setattr(clone, name, copy.deepcopy(value, memo))
    return clone


Table.__deepcopy__ = _no_copy_during_transactions
_transact_write_items = DynamoDBBackend.transact_write_items


def _touched_items(backend, transact_items):
    """(table name, key, the item's attributes before, or None) per operation."""
    saved = []
    for entry in transact_items:
        _, op = next(iter(entry.items()))
        name = op.get("TableName")
        if name not in backend.tables:
            continue
        if "Item" in op:
            table = backend.tables[name]
            attrs = [a for a in (table.hash_key_attr, table.range_key_attr) if a]
            if not all(a in op["Item"] for a in attrs):
                continue
            key = {a: op["Item"][a] for a in attrs}
        elif "Key" in op:
            key = op["Key"]
        else:
            continue
        try:
            current = backend.get_item(name, key)
        except Exception:  # an invalid key: the transaction fails before writing it
            continue
        before = copy.deepcopy(current.to_json()["Attributes"]) if current else None
        saved.append((name, key, before))
    return saved


def _transact_backing_up_items(self, transact_items):
    global _in_transaction
    saved = _touched_items(self, transact_items)
    _in_transaction = True
    try:
        return _transact_write_items(self, transact_items)
    except Exception:
        for name, key, before in reversed(saved):
            if before is None:
                if self.get_item(name, key) is not None:
                    self.delete_item(name, key)
            else:
                self.put_item(name, before)
        raise
    finally:
        _in_transaction = False


DynamoDBBackend.transact_write_items = _transact_backing_up_items

# DynamoDB's window for ClientRequestToken, in seconds.
_TOKEN_WINDOW = 600
# Token -> when its transaction was applied (requests are served one at a time).
_applied_tokens = {}
_serve_transaction = DynamoHandler.transact_write_items


def _transact_once_per_token(self):
    token = self.body.get("ClientRequestToken")
    now = time.monotonic()
    if token is not None and now - _applied_tokens.get(token, -_TOKEN_WINDOW) < _TOKEN_WINDOW:
        return ActionResult({"ConsumedCapacity": [], "ItemCollectionMetrics": {}})
    result = _serve_transaction(self)
    if token is not None:
        for old in [t for t, at in _applied_tokens.items() if now - at >= _TOKEN_WINDOW]:
            del _applied_tokens[old]
        _applied_tokens[token] = now
    return result


DynamoHandler.transact_write_items = _transact_once_per_token


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
