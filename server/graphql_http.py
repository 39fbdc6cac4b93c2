"""GraphQL over HTTP (https://graphql.github.io/graphql-over-http/draft/): the media type of each answer, its status
code and what caches may do with it. GraphQLApp (server/app.py) begins an Exchange for each HTTP request.

Media type, from the Accept header (RFC 9110 §12.5.1: the highest q, then the most specific range, then the range
listed first):
- `application/graphql-response+json` when the client prefers it, or names it as much as application/json;
- `application/json` otherwise, and when Accept is absent, empty or only wildcards (`*/*`, `application/*`): the
  legacy default, which the clients that predate the spec (and graphql-http's audits) expect;
- neither acceptable (e.g. `Accept: text/html` without asking for GraphiQL): 406 NOT_ACCEPTABLE, in JSON, before
  anything runs.

Status codes. In application/json, as before the spec: 200 for every GraphQL answer, request errors included,
400 for a request that is not GraphQL. In application/graphql-response+json: 200 once the operation has started
executing, field errors and a null `data` included; a request error (nothing executed: the document does not parse
or validate, variables do not coerce, a limit or trusted-document refusal) has no `data` entry and is 400, but
THROTTLED 429 (with Retry-After), UNAUTHENTICATED 401, FORBIDDEN 403, INTERNAL_SERVER_ERROR 500. An answer with any
SERVICE_UNAVAILABLE error (the database or Redis unreachable; schema/extensions.py) is 503 with Retry-After, whether
or not execution started: the client should retry it whole (application/json: 200, with Retry-After). In both: a
mutation over GET is 405 METHOD_NOT_ALLOWED (with `Allow: POST`), as the spec requires whatever the media type;
every other refusal keeps its code, and its status in application/json.

Caching: every answer varies on Accept and Authorization. An answer to a GET without an Authorization header that
executed without any error (in practice a product-availability query) is `public, max-age=30`; everything else
(POST, a token, any error) is `no-store`.
"""

import math
from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from cross_web import HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from strawberry.http import GraphQLHTTPResponse
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from ordergraph.schema.extensions import REQUEST_ID

JSON = "application/json"
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
# What each media type's Content-Type says: application/json as it always was (JSON is UTF-8 by definition);
# the spec asks for the encoding on its own type.
CONTENT_TYPE = {JSON: JSON, GRAPHQL_RESPONSE_JSON: f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8"}
# Where a wildcard matches both equally, the first: the legacy default.
SERVED = (JSON, GRAPHQL_RESPONSE_JSON)

PUBLIC_MAX_AGE_SECONDS = 30  # stock levels and delivery promises may be this stale in a CDN or browser cache
PUBLIC = f"public, max-age={PUBLIC_MAX_AGE_SECONDS}"
NOT_STORED = "no-store"
VARY = ("Accept", "Authorization")

# Refusals before any operation runs, by Strawberry's reason; other reasons take their status's name.
HTTP_REFUSALS = {"Batching is not enabled": "BATCHING_NOT_SUPPORTED"}
# A GraphQL request error's status in application/graphql-response+json, by its first error's code; any other is
# 400: the request does not parse or validate, in the spec's sense or by this server's limits.
REQUEST_ERROR_STATUS = {
    "THROTTLED": HTTPStatus.TOO_MANY_REQUESTS,
    "UNAUTHENTICATED": HTTPStatus.UNAUTHORIZED,
    "FORBIDDEN": HTTPStatus.FORBIDDEN,
    "INTERNAL_SERVER_ERROR": HTTPStatus.INTERNAL_SERVER_ERROR,
}


@dataclass(frozen=True, slots=True)
class _Range:
    type: str  # "application/json", "application/*" or "*/*"
    q: float
    position: int

    @property
    def specificity(self) -> int:
        return 0 if self.type == "*/*" else 1 if self.type.endswith("/*") else 2

    def matches(self, media_type: str) -> bool:
        return self.type in ("*/*", media_type) or self.type == media_type.split("/")[0] + "/*"


def _ranges(accept: str) -> Iterator[_Range]:
    for position, item in enumerate(accept.split(",")):
        media_range, *parameters = (part.strip() for part in item.split(";"))
        if "/" not in media_range:
            continue
        q = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = min(max(float(value.strip()), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        yield _Range(media_range.lower(), q, position)


def negotiate(accept: str | None) -> str | None:
    """The media type to answer a request with this Accept header in, or None when it accepts neither."""
    if accept is None or not accept.strip():
        return JSON
    ranges = list(_ranges(accept))
    chosen: tuple[tuple[float, int, int, int], str] | None = None
    for preference, media_type in enumerate(SERVED):
        matching = [r for r in ranges if r.matches(media_type)]
        if not matching:
            continue
        # The most specific range that matches decides the type's q (the first of equally specific ones).
        decisive = max(matching, key=lambda r: (r.specificity, -r.position))
        if decisive.q <= 0:
            continue
        key = (decisive.q, decisive.specificity, -decisive.position, -preference)
        if chosen is None or key > chosen[0]:
            chosen = (key, media_type)
    return chosen[1] if chosen else None


def error_body(message: str, code: str) -> dict[str, Any]:
    request_id = REQUEST_ID.get()
    extensions = {"code": code} if request_id is None else {"code": code, "requestId": request_id}
    return {"errors": [{"message": message, "extensions": extensions}]}


def _code(error: GraphQLError) -> str | None:
    code = (error.extensions or {}).get("code")
    return code if isinstance(code, str) else None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a GraphQL result means for HTTP."""

    request_error: bool  # nothing executed: a graphql-response+json answer has no `data` entry
    has_errors: bool
    code: str | None  # the first error's
    retry_after: float | None  # THROTTLED's, SERVICE_UNAVAILABLE's
    unavailable: bool = False  # some error is SERVICE_UNAVAILABLE

    @classmethod
    def of(cls, result: ExecutionResult) -> "Outcome":
        errors = result.errors or []
        # Errors raised while executing carry the path of their field; those before it (parsing, validation,
        # variables, this server's limits) have none.
        request_error = result.data is None and bool(errors) and all(e.path is None for e in errors)
        first = next((e for e in errors if _code(e) == "SERVICE_UNAVAILABLE"), errors[0] if errors else None)
        retry_after = (first.extensions or {}).get("retry_after") if first is not None else None
        return cls(
            request_error=request_error,
            has_errors=bool(errors),
            code=_code(first) if first is not None else None,
            retry_after=float(retry_after) if isinstance(retry_after, int | float) else None,
            unavailable=first is not None and _code(first) == "SERVICE_UNAVAILABLE",
        )

    @property
    def status(self) -> int:
        """The status in application/graphql-response+json."""
        if self.unavailable:
            return HTTPStatus.SERVICE_UNAVAILABLE
        if not self.request_error:
            return HTTPStatus.OK
        return REQUEST_ERROR_STATUS.get(self.code or "", HTTPStatus.BAD_REQUEST)


class Exchange:
    """One HTTP request to /graphql: the media type negotiated for it and, once executed, its outcome."""

    def __init__(self, request: Request) -> None:
        self.request = request
        self.media_type = negotiate(request.headers.get("accept"))
        self.outcome: Outcome | None = None
        request.state.graphql_exchange = self

    @classmethod
    def of(cls, request: Request) -> "Exchange":
        exchange = getattr(request.state, "graphql_exchange", None)
        return exchange if isinstance(exchange, Exchange) else cls(request)

    @property
    def answers_in(self) -> str:
        return self.media_type or JSON

    def body(self, result: ExecutionResult, body: GraphQLHTTPResponse) -> GraphQLHTTPResponse:
        """The body Strawberry made for `result`, as this exchange's media type has it."""
        self.outcome = Outcome.of(result)
        if self.outcome.request_error and self.answers_in == GRAPHQL_RESPONSE_JSON:
            body.pop("data", None)  # a request error has no data entry; application/json keeps `data: null`
        return body

    def not_acceptable(self) -> Response:
        accepted = " or ".join(SERVED)
        return JSONResponse(
            error_body(
                f"The Accept header allows no media type this endpoint answers in ({accepted}).", "NOT_ACCEPTABLE"
            ),
            status_code=HTTPStatus.NOT_ACCEPTABLE,
            media_type=CONTENT_TYPE[JSON],
        )

    def refused(self, refusal: HTTPException) -> Response:
        """A request refused before any operation ran, with a code like every other refusal."""
        status, headers = refusal.status_code, {}
        cause = refusal.__cause__
        if isinstance(cause, InvalidOperationTypeError) and cause.operation_type is OperationType.MUTATION:
            status, headers = HTTPStatus.METHOD_NOT_ALLOWED, {"Allow": "POST"}  # the spec's MUST for GET
        elif status == HTTPStatus.METHOD_NOT_ALLOWED:
            headers = {"Allow": "GET, POST"}
        code = HTTP_REFUSALS.get(refusal.reason) or HTTPStatus(status).name
        return JSONResponse(
            error_body(refusal.reason, code),
            status_code=status,
            headers=headers,
            media_type=CONTENT_TYPE[self.answers_in],
        )

    def answered(self, response: Response) -> None:
        """Strawberry's answer to an executed request (or GraphiQL's page), in the negotiated media type."""
        outcome = self.outcome
        if outcome is None:
            return  # not a GraphQL result: the IDE's page
        response.headers["content-type"] = CONTENT_TYPE[self.answers_in]
        if outcome.unavailable and outcome.retry_after is not None:
            response.headers["retry-after"] = str(max(1, math.ceil(outcome.retry_after)))
        if self.answers_in != GRAPHQL_RESPONSE_JSON:
            return
        response.status_code = outcome.status
        if outcome.status == HTTPStatus.TOO_MANY_REQUESTS and outcome.retry_after is not None:
            response.headers["retry-after"] = str(max(1, math.ceil(outcome.retry_after)))
        elif outcome.status == HTTPStatus.UNAUTHORIZED:
            response.headers["www-authenticate"] = "Bearer"

    def set_caching(self, response: Response) -> None:
        """Cache-Control and Vary, for every answer."""
        outcome = self.outcome
        public = (
            self.request.method == "GET"
            and "authorization" not in self.request.headers
            and outcome is not None
            and not outcome.has_errors
            and response.status_code == HTTPStatus.OK
        )
        response.headers["cache-control"] = PUBLIC if public else NOT_STORED
        present = [v.strip() for v in response.headers.get("vary", "").split(",") if v.strip()]
        missing = [v for v in VARY if v.lower() not in {p.lower() for p in present}]
        response.headers["vary"] = ", ".join([*present, *missing])
