"""Checks of our own for scripts/schemathesis (loaded through SCHEMATHESIS_HOOKS)."""

import schemathesis


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
