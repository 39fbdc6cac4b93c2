"""Every error leaves with `extensions.code`; unexpected ones leave masked, and are logged in full."""

import logging
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from ordergraph.resolvers.errors import ApiError

logger = logging.getLogger("ordergraph.errors")

INTERNAL_ERROR_MESSAGE = "Internal server error."


def coded(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    if isinstance(original, ApiError):
        return _with_code(error, original.code)
    if error.path is None and (original is None or isinstance(original, GraphQLError)):
        # Refused before execution: the document does not parse, does not validate, or variables do not fit.
        # (An exception from an extension, such as a failed database read, has no path either: masked below.)
        if error.message.startswith("Syntax Error"):
            too_long = "tokens. Parsing aborted" in error.message  # graphql-core's max_tokens (schema/limits.py)
            return _with_code(error, "TOO_MANY_TOKENS" if too_long else "GRAPHQL_PARSE_FAILED")
        if error.message.startswith("Variable"):
            return _with_code(error, "BAD_USER_INPUT")
        return _with_code(error, (error.extensions or {}).get("code", "GRAPHQL_VALIDATION_FAILED"))
    logger.error("unexpected error at %s", error.path, exc_info=original or error)
    return GraphQLError(
        INTERNAL_ERROR_MESSAGE,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": "INTERNAL_SERVER_ERROR"},
    )


def _with_code(error: GraphQLError, code: str) -> GraphQLError:
    error.extensions = {**(error.extensions or {}), "code": code}
    return error


class ErrorCodes(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and getattr(result, "errors", None):
            result.errors = [coded(e) for e in result.errors]
