"""Every error leaves with `extensions.code`; unexpected ones leave masked, and are logged in full."""

import logging
from collections.abc import Iterator

from graphql import GraphQLError, GraphQLSyntaxError, VariableDefinitionNode
from strawberry.extensions import SchemaExtension

from ordergraph.resolvers.errors import ApiError

logger = logging.getLogger("ordergraph.errors")

INTERNAL_ERROR_MESSAGE = "Internal server error."
TOKEN_LIMIT = "tokens. Parsing aborted"  # graphql-core's message when max_tokens stops the parser


def coded(error: GraphQLError) -> GraphQLError:
    """The error as it leaves, its code chosen by its kind, never by its wording:
    - raised by a use case (ApiError): its own code;
    - already coded by the stage that refused it (limits, trusted documents, validation: see ErrorCodes);
    - a syntax error: GRAPHQL_PARSE_FAILED (TOO_MANY_TOKENS when the parser stopped at the token limit);
    - a variable's value that does not coerce to its type (graphql-core ties it to the variable's
      definition): BAD_USER_INPUT;
    - anything else refused before execution (e.g. no operation of that name): BAD_REQUEST;
    - anything unexpected: masked as INTERNAL_SERVER_ERROR, and logged in full."""
    original = error.original_error
    if isinstance(original, ApiError):
        return _with_code(error, original.code)
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
        extensions={"code": "INTERNAL_SERVER_ERROR"},
    )


def _with_code(error: GraphQLError, code: str) -> GraphQLError:
    error.extensions = {**(error.extensions or {}), "code": code}
    return error


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
