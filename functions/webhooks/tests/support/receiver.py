"""A webhook receiver for the tests: Standard Webhooks' reference library
verifies each request, never our own signing code.

Reads the secrets (whsec_..., space-separated) from the first line of its
standard input, listens on 127.0.0.1 at a free port and prints the port.
Each POST is verified with each secret alone; the answer is 200 when one
verifies (401 when none), with {"verified": [bool per secret]}.
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

SECRETS = sys.stdin.readline().split()


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
        verified = [verifies(secret, body, headers) for secret in SECRETS]
        answer = json.dumps({"verified": verified}).encode()
        self.send_response(200 if any(verified) else 401)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
