"""Each document text validated once (per schema and set of validation rules).

Strawberry's ValidationCache keys its LRU on the parsed document, and a DocumentNode's hash walks its whole tree:
~40 us for MyOrderHistory, on every request. The text is what the parser cache keys on too, so the same text is
the same document and gets the same verdict: the text (whose hash Python keeps) is the key here.
"""

import functools
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

MAX_DOCUMENTS = 128  # as Strawberry's default: a flood of distinct texts only costs their validation again

Verdicts = OrderedDict[tuple[str, tuple[Any, ...]], list[GraphQLError]]


class ValidationByText(SchemaExtension):
    """Strawberry's ValidationCache, keyed by the text (Strawberry's own rules added as it adds them)."""

    def __init__(self, verdicts: Verdicts) -> None:
        self.verdicts = verdicts

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.query and context.graphql_document is not None and context.validation_rules:
            key = (context.query, tuple(context.validation_rules))
            errors = self.verdicts.get(key)
            if errors is None:
                errors = validate_document(
                    context.schema._schema, context.graphql_document, tuple(context.validation_rules)
                )
                self.verdicts[key] = errors
                if len(self.verdicts) > MAX_DOCUMENTS:
                    self.verdicts.popitem(last=False)
            else:
                self.verdicts.move_to_end(key)
            context.pre_execution_errors = errors
        yield


def validation_by_text() -> "functools.partial[ValidationByText]":
    """The extension factory for one schema: its verdicts are kept for the schema's lifetime."""
    return functools.partial(ValidationByText, OrderedDict())
