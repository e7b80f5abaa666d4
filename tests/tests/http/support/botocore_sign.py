"""Sends one request signed by botocore's SigV4Auth: an implementation of
SigV4 independent of the aws-sigv4 crate the local gateway verifies with.

Reads a JSON object on stdin: url, method, body (what is signed), sent_body
(what is sent; default: body), access_key, secret_key, region, age_seconds
(how old the signature's time is). Prints {"status", "body"} as JSON.
"""
import datetime
import json
import sys
import urllib.error
import urllib.request

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

spec = json.load(sys.stdin)
age = datetime.timedelta(seconds=spec.get("age_seconds", 0))
now = botocore.auth.get_current_datetime
botocore.auth.get_current_datetime = lambda: now() - age

body = spec.get("body", "").encode()
request = AWSRequest(method=spec["method"], url=spec["url"], data=body,
                     headers={"Content-Type": "application/json"})
credentials = Credentials(spec["access_key"], spec["secret_key"])
botocore.auth.SigV4Auth(credentials, "execute-api", spec["region"]).add_auth(request)

sent = spec.get("sent_body", spec.get("body", "")).encode()
prepared = urllib.request.Request(spec["url"], data=sent if sent else None,
                                  method=spec["method"], headers=dict(request.headers.items()))
try:
    with urllib.request.urlopen(prepared, timeout=10) as response:
        status, text = response.status, response.read().decode()
except urllib.error.HTTPError as error:
    status, text = error.code, error.read().decode()
print(json.dumps({"status": status, "body": text}))
