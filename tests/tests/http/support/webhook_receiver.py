"""Webhook receivers for the tests: Standard Webhooks' reference library
(`standardwebhooks`) verifies every request, never our own signing code.

Listens on 127.0.0.1 at a free port and prints the port. Its behaviour is
read, on each request, from the JSON file named by argv[1]:
{"<path>": {"secrets": ["whsec_..."], "statuses": [500, 500]}}: each request
to <path> is verified with each secret alone, and answered with the next
status of `statuses` (200 once they are used up). Each request is printed
as one JSON line: path, webhook-id, the entries of webhook-signature, which
secrets verified it, the event's type and organization, the status sent.
"""

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

CONFIG = sys.argv[1]
LOCK = threading.Lock()
ANSWERED = {}


def verifies(secret, body, headers):
    try:
        Webhook(secret).verify(body, headers)
        return True
    except WebhookVerificationError:
        return False


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        headers = dict(self.headers.items())
        with LOCK:
            with open(CONFIG) as f:
                config = json.load(f).get(self.path, {})
            count = ANSWERED.get(self.path, 0)
            ANSWERED[self.path] = count + 1
        statuses = config.get("statuses", [])
        status = statuses[count] if count < len(statuses) else 200
        event = json.loads(body)
        line = json.dumps({
            "path": self.path,
            "id": headers.get("webhook-id"),
            "signatures": len(headers.get("webhook-signature", "").split()),
            "verified": [verifies(s, body, headers) for s in config.get("secrets", [])],
            "type": event.get("type"),
            "timestamp": event.get("timestamp"),
            "organizationId": event.get("data", {}).get("organizationId"),
            "eventId": event.get("data", {}).get("eventId"),
            "userAgent": headers.get("user-agent"),
            "status": status,
        })
        with LOCK:
            print(line, flush=True)
        self.send_response(status)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
