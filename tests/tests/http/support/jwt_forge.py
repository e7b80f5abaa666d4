"""Mints the tokens the console tests need, with joserfc (moto's own JWT
library): tokens signed by moto's Cognito key (its fixed public test key, so
for local use only) with chosen claims, and forgeries a JWT authorizer must
refuse. Reads one JSON request from stdin, prints the token.

  {"sign": "moto" | "other" | "hs256-with-public-key" | "none",
   "kid": "dummy", "claims": {...}, "tamper": false}
"""

import base64
import hashlib
import hmac
import json
import sys

from joserfc import jwk, jwt
from moto.utilities.utils import load_resource


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def main() -> None:
    spec = json.load(sys.stdin)
    # A claim given as null is left out.
    claims = {name: value for name, value in spec["claims"].items() if value is not None}
    kid = spec.get("kid", "dummy")
    moto_key = jwk.RSAKey.import_key(load_resource("cognitoidp/resources/jwks-private.json"))
    how = spec["sign"]
    if how == "moto":
        token = jwt.encode({"alg": "RS256", "kid": kid, "typ": "JWT"}, claims, moto_key)
    elif how == "other":
        other = jwk.RSAKey.generate_key(2048)
        token = jwt.encode({"alg": "RS256", "kid": kid, "typ": "JWT"}, claims, other)
    elif how == "hs256-with-public-key":
        # By hand: joserfc rightly refuses a public key as an HMAC secret.
        public = moto_key.as_pem(private=False)
        header = b64(json.dumps({"alg": "HS256", "kid": kid, "typ": "JWT"}).encode())
        signed = f"{header}.{b64(json.dumps(claims).encode())}"
        mac = hmac.new(public, signed.encode(), hashlib.sha256).digest()
        token = f"{signed}.{b64(mac)}"
    elif how == "none":
        header = b64(json.dumps({"alg": "none", "kid": kid, "typ": "JWT"}).encode())
        token = f"{header}.{b64(json.dumps(claims).encode())}."
    else:
        raise SystemExit(f"unknown signing {how}")
    if spec.get("tamper"):
        header, _, signature = token.split(".")
        changed = dict(claims, **{"custom:organizationId": "globex"})
        token = f"{header}.{b64(json.dumps(changed).encode())}.{signature}"
    print(token)


main()
