"""Uploads the built console and its config.json to a stack's console bucket
(scripts/publish-console). config.json comes from the stack's outputs, so the
console built once works with any stack."""

import argparse
import json
import mimetypes
import pathlib
import time

import boto3

# Revalidated on every load (ETag), so a publish shows at once.
CACHE_CONTROL = "no-cache"
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
         ".html": "text/html; charset=utf-8", ".svg": "image/svg+xml", ".json": "application/json"}


def stack_settings(cloudformation, stack_name):
    """The stack's outputs and parameters, by key."""
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}
    return outputs, parameters


def revocation_seconds(parameters):
    """How long a disabled, deleted or rolled-out key may still be accepted:
    each authorizer instance's cache plus API Gateway's (template.yaml's
    AuthCacheTtlSeconds and ReauthorizeEverySeconds, their defaults when unset)."""
    return int(parameters.get("AuthCacheTtlSeconds") or 30) + int(parameters.get("ReauthorizeEverySeconds") or 30)


def console_config(outputs, parameters, api_reference_url=None):
    """config.json: where the console finds the API, its reference and the
    managed login, and how long a revoked key may still work."""
    missing = [k for k in ("ApiUrl", "ConsoleClientId", "ConsoleBucketName", "ConsoleDistributionId") if not outputs.get(k)]
    if missing:
        raise SystemExit(f"the stack has no {', '.join(missing)} output: is ConsoleHosting true?")
    login_url = outputs.get("ConsoleLoginDomain") or parameters.get("ConsoleLoginUrl")
    if not login_url:
        raise SystemExit("no ConsoleLoginDomain output and no ConsoleLoginUrl parameter: where do users sign in?")
    config = {"apiUrl": outputs["ApiUrl"], "loginUrl": login_url, "clientId": outputs["ConsoleClientId"],
              "scope": "openid email profile", "revocationSeconds": revocation_seconds(parameters)}
    config.update(mfa_settings(outputs, parameters))
    if api_reference_url:
        config["apiReferenceUrl"] = api_reference_url
    return config


def mfa_settings(outputs, parameters):
    """With the stack's own pool: its MFA (the ConsoleMfa parameter) and, unless
    OFF, where the console sets up a user's authenticator app (the pool's
    regional user-pool API, named by the pool ID's region) with the scope
    that allows it. Another provider's sign-in has none of these."""
    pool_id = outputs.get("ConsoleUserPoolId")
    if not pool_id:
        return {}
    mode = parameters.get("ConsoleMfa") or "OPTIONAL"
    if mode == "OFF":
        return {"mfa": mode}
    region = pool_id.split("_", 1)[0]
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return {"mfa": mode, "userPoolUrl": f"https://cognito-idp.{region}.{suffix}/",
            "scope": "openid email profile aws.cognito.signin.user.admin"}


def upload(s3, bucket, console_dir, config):
    """Every built file but the gzip copies (CloudFront compresses), then config.json."""
    for path in sorted(pathlib.Path(console_dir).iterdir()):
        if path.suffix == ".gz" or not path.is_file():
            continue
        content_type = TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        s3.put_object(Bucket=bucket, Key=path.name, Body=path.read_bytes(),
                      ContentType=content_type, CacheControl=CACHE_CONTROL)
        print(f"uploaded {path.name}")
    s3.put_object(Bucket=bucket, Key="config.json", Body=json.dumps(config, indent=2).encode(),
                  ContentType="application/json", CacheControl=CACHE_CONTROL)
    print("uploaded config.json")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("console_dir")
    parser.add_argument("stack_name")
    parser.add_argument("--region")
    parser.add_argument("--api-reference-url", help="where the console links for the API reference (scripts/docs builds it)")
    args = parser.parse_args()
    session = boto3.session.Session(region_name=args.region)
    outputs, parameters = stack_settings(session.client("cloudformation"), args.stack_name)
    config = console_config(outputs, parameters, args.api_reference_url)
    upload(session.client("s3"), outputs["ConsoleBucketName"], args.console_dir, config)
    session.client("cloudfront").create_invalidation(
        DistributionId=outputs["ConsoleDistributionId"],
        InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": str(time.time())})
    print(f"console: {outputs.get('ConsoleUrl', '(see the ConsoleUrl output)')}")


if __name__ == "__main__":
    main()
