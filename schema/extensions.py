"""Every error leaves with `extensions.code`; unexpected ones leave masked, and are logged in full."""

import errno
import logging
import socket
from collections.abc import Iterator
from contextvars import ContextVar

import redis.exceptions
import sqlalchemy.exc
from graphql import GraphQLError, GraphQLSyntaxError, VariableDefinitionNode, VariableNode
from strawberry.extensions import SchemaExtension

from ordergraph.resolvers.errors import ApiError

logger = logging.getLogger("ordergraph.errors")

INTERNAL_ERROR_MESSAGE = "Internal server error."
TOKEN_LIMIT = "tokens. Parsing aborted"  # graphql-core's message when max_tokens stops the parser
# The HTTP request being served, set by server/observability.py: every error carries it as
# `extensions.requestId`, so a user's report finds the server's log lines.
REQUEST_ID: ContextVar[str | None] = ContextVar("ordergraph_request_id", default=None)
# While the database (or Redis) is unreachable: SERVICE_UNAVAILABLE, retryable after this many seconds.
UNAVAILABLE_RETRY_AFTER_SECONDS = 5
UNAVAILABLE_MESSAGE = "The service is briefly unavailable; retry shortly."


def unavailable(error: BaseException | None) -> bool:
    """Whether an exception (or one it was raised from) means a backing service could not be reached: a
    connection refused, reset or timed out, a pool with no connection to give, a connection found dead. Those
    pass when the service is back, unlike a failure of the request itself."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, ConnectionError | TimeoutError | socket.gaierror | sqlalchemy.exc.TimeoutError):
            return True
        if isinstance(error, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError):
            return True
        if isinstance(error, OSError) and error.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return True
        if isinstance(error, sqlalchemy.exc.DBAPIError) and error.connection_invalidated:
            return True
        if type(error).__module__.startswith("asyncpg") and type(error).__name__ in ASYNCPG_UNAVAILABLE:
            return True
        error = error.__cause__ or error.__context__
    return False


# asyncpg's own "could not talk to the server" errors (by name: asyncpg is a driver, not a schema dependency).
ASYNCPG_UNAVAILABLE = frozenset(
    {
        "ConnectionDoesNotExistError",
        "ConnectionFailureError",
        "CannotConnectNowError",
        "AdminShutdownError",
        "CrashShutdownError",
        "TooManyConnectionsError",
    }
)


def coded(error: GraphQLError) -> GraphQLError:
    """The error as it leaves, its code chosen by its kind, never by its wording:
    - raised by a use case (ApiError): its own code;
    - already coded by the stage that refused it (limits, trusted documents, validation: see ErrorCodes);
    - a syntax error: GRAPHQL_PARSE_FAILED (TOO_MANY_TOKENS when the parser stopped at the token limit);
    - a variable's value that does not coerce to its type (graphql-core ties it to the variable's
      definition), or to the argument it is given to (tied to the variable there): BAD_USER_INPUT;
    - anything else refused before execution (e.g. no operation of that name): BAD_REQUEST;
    - a backing service unreachable (`unavailable`): SERVICE_UNAVAILABLE, with `retry_after` seconds;
    - anything unexpected: masked as INTERNAL_SERVER_ERROR, and logged in full.
    Every error also carries the request's id (REQUEST_ID) as `requestId`."""
    original = error.original_error
    if (error.extensions or {}).get("code") == "SERVICE_UNAVAILABLE":
        return error
    if original is not None and not isinstance(original, GraphQLError) and unavailable(original):
        logger.warning("service unavailable at %s: %r", error.path, original)
        return GraphQLError(
            UNAVAILABLE_MESSAGE,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions=_tagged({"code": "SERVICE_UNAVAILABLE", "retry_after": UNAVAILABLE_RETRY_AFTER_SECONDS}),
        )
    if isinstance(original, ApiError):
        return _with_code(error, original.code)
    if isinstance(original, GraphQLError) and any(isinstance(node, VariableNode) for node in error.nodes or ()):
        # graphql-core coercing a field's argument at execution: a null variable given to a non-null argument
        # that has a default (which validation lets through) is the caller's input, not a fault.
        return _with_code(error, "BAD_USER_INPUT")
    if error.path is None and (original is None or isinstance(original, GraphQLError)):
        # (An exception from an extension, such as a failed database read, has no path either: masked below.)
        refusals = [error] if original is None else [error, original]
        if code := next((r.extensions["code"] for r in refusals if (r.extensions or {}).get("code")), None):
            return _with_code(error, code)
        if any(isinstance(r, GraphQLSyntaxError) for r in refusals):
            # graphql-core raises the token limit (schema/limits.py) as a plain syntax error; its fixed text
            # is the only mark of that kind.
            return _with_code(error, "TOO_MANY_TOKENS" if TOKEN_LIMIT in error.message else "GRAPHQL_PARSE_FAILED")
        if any(isinstance(node, VariableDefinitionNode) for node in error.nodes or ()):
            return _with_code(error, "BAD_USER_INPUT")
        return _with_code(error, "BAD_REQUEST")
    logger.error("unexpected error at %s", error.path, exc_info=original or error)
    return GraphQLError(
        INTERNAL_ERROR_MESSAGE,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions=_tagged({"code": "INTERNAL_SERVER_ERROR"}),
    )


def _with_code(error: GraphQLError, code: str) -> GraphQLError:
    error.extensions = _tagged({**(error.extensions or {}), "code": code})
    return error


def _tagged(extensions: dict[str, object]) -> dict[str, object]:
    request_id = REQUEST_ID.get()
    return extensions if request_id is None else {**extensions, "requestId": request_id}


class ErrorCodes(SchemaExtension):
    def on_validate(self) -> Iterator[None]:
        """What validation refused is coded as such here, by the stage, so no later rule guesses its kind."""
        yield
        for error in self.execution_context.pre_execution_errors or ():
            if not (error.extensions or {}).get("code"):
                _with_code(error, "GRAPHQL_VALIDATION_FAILED")

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and getattr(result, "errors", None):
            result.errors = [coded(e) for e in result.errors]
