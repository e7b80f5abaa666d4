"""What scripts/schemathesis runs against, made on a local gateway the way the
product makes it: an organization key (public routes), keys of another
organization for the revoke route to revoke, and, given the gateway's log
and the demo's password, two console users' ID tokens (console routes) from
the gateway's own user pool on moto's Cognito: the demo admin the gateway
seeds, and a viewer that admin invites through the console API (so the
viewer has the membership record every console request is checked against).
Prints shell assignments.

    python scripts/schemathesis_setup.py URL ADMIN_TOKEN [GATEWAY_LOG DEMO_PASSWORD]
"""

import json
import os
import re
import secrets
import shlex
import sys
import time
import urllib.error
import urllib.request

import boto3

DEMO_ADMIN = "admin@acme.example"
VIEWER = "viewer@acme.example"


def call(url, method, path, body, authorization):
    """The API's JSON answer to one request; an error status raises."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, method=method, data=data,
                                     headers={"Authorization": authorization,
                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def wait_for(url):
    """Until the gateway answers (any status) or 30 s have gone."""
    for _ in range(150):
        try:
            urllib.request.urlopen(url + "/v1/nowhere", timeout=1)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"scripts/schemathesis: the gateway at {url} did not answer")


def local_pool(log):
    """The pool and app client the gateway made, as its banner names them."""
    found = re.search(r"local pool (\S+) \(moto's Cognito API\), app client (\S+)",
                      open(log, encoding="utf-8").read())
    if found is None:
        sys.exit(f"scripts/schemathesis: no local pool in the gateway's banner ({log})")
    return found.group(1), found.group(2)


def id_token(cognito, client_id, email, password):
    """A user's ID token, as the managed login's password step gets it."""
    answer = cognito.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                   AuthParameters={"USERNAME": email, "PASSWORD": password})
    return answer["AuthenticationResult"]["IdToken"]


def main(url, admin_token, log=None, demo_password=None):
    wait_for(url)
    admin = "Bearer " + admin_token
    call(url, "PUT", "/v1/admin/organizations/acme", {"name": "Acme"}, admin)
    key = call(url, "POST", "/v1/admin/organizations/acme/api-keys", {}, admin)["apiKey"]
    schedule = {"name": "Spring", "campaign": "Renewals", "channel": "sms", "status": "active"}
    call(url, "PUT", "/v1/admin/organizations/acme/schedules/spring-renewals", schedule, admin)
    # Keys of an organization no other run uses: revoking them takes nothing
    # from the public routes' key.
    call(url, "PUT", "/v1/admin/organizations/leaky", {"name": "Leaky"}, admin)
    revokable = ",".join(
        call(url, "POST", "/v1/admin/organizations/leaky/api-keys", {}, admin)["apiKey"]
        for _ in range(4))
    assignments = {"key": key, "revokable": revokable}
    if log is not None:
        assignments.update(console_tokens(url, log, demo_password))
    for name, value in assignments.items():
        print(f"{name}={shlex.quote(value)}")


def console_tokens(url, log, demo_password):
    """The demo admin's ID token and an invited viewer's."""
    pool_id, client_id = local_pool(log)
    # The Cognito API the gateway uses: moto's, on the DynamoDB endpoint unless
    # named, in the region the gateway's local pool is made in.
    endpoint = (os.environ.get("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER")
                or os.environ["AWS_ENDPOINT_URL_DYNAMODB"])
    cognito = boto3.client("cognito-idp", endpoint_url=endpoint, region_name="us-east-1")
    console_admin = id_token(cognito, client_id, DEMO_ADMIN, demo_password)
    call(url, "POST", "/v1/console/organizations/acme/users",
         {"email": VIEWER, "role": "org-viewer"}, "Bearer " + console_admin)
    # The invitation's first sign-in, done for the viewer: a password of their own.
    password = secrets.token_urlsafe(16) + "Aa1-"
    cognito.admin_set_user_password(UserPoolId=pool_id, Username=VIEWER, Password=password,
                                    Permanent=True)
    viewer = id_token(cognito, client_id, VIEWER, password)
    me = call(url, "GET", "/v1/console/me", None, "Bearer " + viewer)
    if me.get("role") != "org-viewer":
        sys.exit(f"scripts/schemathesis: the viewer's token is not a viewer's: {me}")

    return {"console_admin": console_admin, "viewer": viewer}


if __name__ == "__main__":
    main(*sys.argv[1:])
