"""scripts/schemathesis's own hooks (loaded through SCHEMATHESIS_HOOKS).

A check, `viewer_only_reads`, for the viewer's run; and data hooks that make
a valid request of Schemathesis's a request the API can serve, where the
document cannot say what serving it takes (a time in the future, a key that
exists) or where the local stand-ins are narrower than AWS. Negative cases
are left as generated: their point is to be refused.

- `expiresAt` (key create and PATCH): a date-time in the past is moved into
  the next year, as `must be in the future` asks.
- revoke's `apiKey`: most become one of the keys scripts/schemathesis_setup.py
  made for it (ST_REVOKABLE_KEYS), so the revocation runs; the rest stay made
  up (a checksum that fails, as a typo's would).
- an invitation's `email`: made to match moto's email pattern (ASCII
  letters, digits and `._%+-`, a top-level domain of letters), because
  moto's Cognito, the local stand-in, refuses any other username; Cognito
  in AWS takes what openapi.yaml allows. The handler's own email rules are
  still tried by the negative cases and the admin run's other requests.
- a webhook endpoint's `url`: the script's loopback server
  (ST_WEBHOOK_SINK), so no delivery leaves the machine or waits on a
  network that is not there.
"""

import datetime
import os
import re
import zlib

import schemathesis
from schemathesis.core.parameters import ParameterLocation


@schemathesis.check
def viewer_only_reads(ctx, response, case):
    """For the viewer run: with the viewer's token, every read is served as
    anyone's (never 401 or 403) and every write of a documented route is a 403."""
    if not response.request.headers.get("Authorization", "").startswith("Bearer "):
        return None
    if case.method.upper() != case.operation.method.upper():
        return None
    status = response.status_code
    if case.method.upper() == "GET" and status in (401, 403):
        raise AssertionError(f"a viewer's read was refused: {status}")
    if case.method.upper() != "GET" and status != 403:
        raise AssertionError(f"a viewer's write answered {status}, not 403")
    return None


def _choice(seed, count):
    """A stable pick from `count` by the generated value, so a seed replays."""
    return zlib.crc32(repr(seed).encode()) % count


def _future(value):
    """`value` moved into the future when it is a date-time in the past."""
    try:
        at = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        return value
    now = datetime.datetime.now(datetime.timezone.utc)
    if at.tzinfo is None or at > now + datetime.timedelta(minutes=5):
        return value
    later = now + datetime.timedelta(days=1 + _choice(value, 365))
    return later.strftime("%Y-%m-%dT%H:%M:%SZ")


def _revokable(value):
    keys = [key for key in os.environ.get("ST_REVOKABLE_KEYS", "").split(",") if key]
    pick = _choice(value, len(keys) + 1) if keys else len(keys)
    return keys[pick] if pick < len(keys) else value


def _moto_email(value):
    """`value` in the shape moto's Cognito takes as an email (its pattern:
    `[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}`, at word boundaries)."""
    if not isinstance(value, str) or "@" not in value:
        return value
    local, _, domain = value.rpartition("@")
    local = re.sub(r"[^A-Za-z0-9._%+-]", "x", local)
    local = local if re.match(r"\w", local) else "x" + local[1:]
    domain, _, top = re.sub(r"[^A-Za-z0-9.-]", "x", domain).rpartition(".")
    if not domain:
        domain, top = top or "x", ""
    top = top if re.fullmatch(r"[A-Za-z]{2,}", top) else "ex"
    return f"{local}@{domain}.{top}"


def _sink(value):
    sink = os.environ.get("ST_WEBHOOK_SINK")
    return f"{sink}/{_choice(value, 1000)}" if sink and isinstance(value, str) else value


@schemathesis.hook
def map_case(context, case):
    body = case.body
    meta = case.meta
    if not isinstance(body, dict) or (meta is not None and meta.is_negative_at(ParameterLocation.BODY)):
        return case
    method, path = case.operation.method.upper(), case.operation.path
    if path.endswith("/api-keys") or path.endswith("/api-keys/{keyId}"):
        if "expiresAt" in body:
            body["expiresAt"] = _future(body["expiresAt"])
    elif path == "/v1/admin/api-keys/revoke" and "apiKey" in body:
        body["apiKey"] = _revokable(body["apiKey"])
    elif path.endswith("/users") and method == "POST" and "email" in body:
        body["email"] = _moto_email(body["email"])
    elif "/webhooks" in path and "url" in body:
        body["url"] = _sink(body["url"])
    return case
