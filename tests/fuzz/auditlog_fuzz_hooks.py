"""Schemathesis hooks for the GraphQL fuzz test (tests/tests/api/fuzz.rs).

Schemathesis counts every GraphQL error raised while resolving a field as a
server error. This service answers bad input with typed errors instead
(`BAD_USER_INPUT`, `FORBIDDEN`, `NOT_FOUND`, ...), which is the contract, so the
fuzz run uses this check in place of the built-in `not_a_server_error`: no
5xx, a JSON GraphQL response, every error typed with an `extensions.code`
other than `INTERNAL_SERVER_ERROR`, and nothing of the server's internals.
"""

import schemathesis

# Traces of internals that must never reach a client.
LEAK_MARKERS = ("panicked", "stack backtrace", "stacktrace", ".rs:", "src/", "::")


@schemathesis.check
def typed_errors_only(ctx, response, case):
    """No 5xx; every GraphQL error has a client-facing `extensions.code`."""
    if response.status_code >= 500:
        raise AssertionError(f"HTTP {response.status_code}: {response.text[:1000]}")
    try:
        payload = response.json()
    except ValueError as error:
        raise AssertionError(f"the response is not JSON ({error}): {response.text[:1000]}")
    if not isinstance(payload, dict):
        raise AssertionError(f"the response is not a JSON object: {response.text[:1000]}")
    for error in payload.get("errors") or []:
        extensions = error.get("extensions") or {}
        code = extensions.get("code")
        if not code:
            raise AssertionError(f"an error without extensions.code: {error}")
        if code == "INTERNAL_SERVER_ERROR":
            raise AssertionError(f"an internal error: {error}")
        if "exception" in extensions or "stacktrace" in extensions:
            raise AssertionError(f"an error exposes an exception: {error}")
        message = str(error.get("message", ""))
        for marker in LEAK_MARKERS:
            if marker in message:
                raise AssertionError(f"an error message shows internals ({marker!r}): {error}")
