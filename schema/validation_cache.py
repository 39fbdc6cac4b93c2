"""Each document text validated once (per schema and set of validation rules): Strawberry's ValidationCache keys
its LRU on the parsed document, whose hash walks its whole tree (~40 us for MyOrderHistory) on every request."""

import functools
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from ordergraph.schema.per_document import PerDocument


class ValidationByText(SchemaExtension):
    """Strawberry's ValidationCache, keyed by the text (Strawberry's own rules added as it adds them)."""

    def __init__(self, verdicts: PerDocument[list[GraphQLError]]) -> None:
        self.verdicts = verdicts

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if context.query and document is not None and context.validation_rules:
            rules = tuple(context.validation_rules)
            context.pre_execution_errors = self.verdicts.get(
                (context.query, rules), lambda: validate_document(context.schema._schema, document, rules)
            )
        yield


def validation_by_text() -> "functools.partial[ValidationByText]":
    """The extension factory for one schema: its verdicts are kept for the schema's lifetime."""
    return functools.partial(ValidationByText, PerDocument())
