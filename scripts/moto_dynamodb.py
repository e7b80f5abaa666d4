"""moto's server (moto[server], Apache-2.0) with one change: requests are
handled one at a time.

Real DynamoDB applies each request atomically: a conditional write or a
TransactWriteItems call sees no other write between its check and its write.
moto's threaded server takes no lock, so two concurrent conditional writes
can both pass their conditions (seen here with concurrent key rolls). A lock
around each request gives the tests DynamoDB's per-request atomicity; it costs
little, since moto's handlers hold the GIL anyway. Connections stay threaded
and keep-alive.

Usage: python scripts/moto_dynamodb.py -H 127.0.0.1 -p PORT
"""

import argparse
import signal
import sys
import threading

from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

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
