"""The error answers of the OpenAPI document (tools/openapi.py): what each status means, the
Error schema, and which statuses each operation lists."""

from __future__ import annotations

ERROR_DESCRIPTIONS = {
    "400": "INVALID_ARGUMENT, FAILED_PRECONDITION or OUT_OF_RANGE: a bad field, malformed JSON, "
    "a path or query value of the wrong type, a path field repeated in the body with another value "
    "or set in the query string (ids come from the path only)",
    "401": "UNAUTHENTICATED: no token, a bad or expired token (or, for log-in, wrong credentials)",
    "403": "PERMISSION_DENIED: the caller's role or identity may not do this",
    "404": "NOT_FOUND: no such resource, or no such method or path",
    "409": "ALREADY_EXISTS or ABORTED: a conflict with the current state",
    "413": "the request body is larger than Envoy accepts (16 MiB)",
    "429": "RESOURCE_EXHAUSTED: too many attempts; wait as the retry-after header says",
    "503": "UNAVAILABLE: no healthy instance, or a dependency (database) is down; retry later",
    "504": "DEADLINE_EXCEEDED: the upstream did not answer in time",
}
# The statuses only some methods give; every JSON call can give 400, 503 and 504.
NOT_FOUND_METHODS = {"GetVideo", "GetVideoStats", "GetJobExecution", "GetResumePosition"}
# The methods whose use case raises a Conflict (domain/errors.py): a taken username, a job
# already running, a mark contradicting the recorded outcome or of a payout not approved, a month
# closed out of order, a role change leaving no active admin, an Idempotency-Key reused.
CONFLICT_METHODS = {"SignUp", "RunJob", "MarkPayout", "CloseMonth", "SetRole", "ApproveMonth"}
CONFLICT_METHODS |= {"ScheduleTierTable", "PutPayoutProfile", "ScheduleTaxTable"}
# Methods every role may call, each about its own account only (an admin about any): the
# comment names all four roles, yet another account's id is a 403.
OWN_ACCOUNT_METHODS = {"GetAccount"}
THROTTLED_METHODS = {"Login"}  # failed log-ins of a username are throttled


def error_responses(method: str, *, public: bool, restricted: bool, has_body: bool, has_path_params: bool) -> dict:
    """The error statuses an operation documents; `restricted`: only some roles may call it."""
    codes = ["400"]
    if not public or method == "Login":
        codes.append("401")
    if restricted or method in OWN_ACCOUNT_METHODS:
        codes.append("403")
    # A path value that is empty or holds a "/" matches no route: Envoy's 404.
    if method in NOT_FOUND_METHODS or has_path_params:
        codes.append("404")
    if method in CONFLICT_METHODS:
        codes.append("409")
    if has_body:
        codes.append("413")
    if method in THROTTLED_METHODS:
        codes.append("429")
    codes += ["503", "504"]
    return {code: {"$ref": f"#/components/responses/E{code}"} for code in sorted(codes)}


def error_components() -> dict:
    """components.responses: one `E<status>` per status, its body the Error schema."""
    return {
        f"E{code}": {
            "description": text,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for code, text in ERROR_DESCRIPTIONS.items()
    }


ERROR_SCHEMA = {
    "type": "object",
    "description": (
        "A gRPC status as JSON: `code` is the gRPC code number (3 INVALID_ARGUMENT, 5 NOT_FOUND, "
        "6 ALREADY_EXISTS, 7 PERMISSION_DENIED, 8 RESOURCE_EXHAUSTED, 14 UNAVAILABLE, 16 UNAUTHENTICATED, ...), "
        "`message` says what is wrong. Errors of the services carry `details` (google.rpc.Status); "
        "Envoy's own refusals (token, malformed JSON, no route, body too large) have no details."
    ),
    "properties": {
        "code": {"type": "integer", "minimum": 0, "maximum": 16},
        "message": {"type": "string"},
        "details": {"type": "array", "items": {"type": "object", "properties": {"@type": {"type": "string"}}}},
        "http_status": {"type": "string", "description": "only on Envoy's replies of a status not listed here"},
    },
    "required": ["code", "message"],
}
