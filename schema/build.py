"""The schema as served: every type, the extensions in their order, and the variants settings ask for."""

import contextlib
import inspect
import re
from collections.abc import Iterable, Sequence
from functools import partial
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import DisableIntrospection, ParserCache, SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StreamResult
from strawberry.types import ExecutionContext
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType
from strawberry.utils.aio import aclosing

from ordergraph.schema.catalog import Product
from ordergraph.schema.direct_resolvers import resolve_directly
from ordergraph.schema.extensions import ErrorCodes, coded
from ordergraph.schema.fulfillment import FulfillmentOrder, Shipment
from ordergraph.schema.input_rules import describe_input_rules, input_rules
from ordergraph.schema.limits import RequestGuard, RequestLimits
from ordergraph.schema.location import Location
from ordergraph.schema.mutation import Mutation
from ordergraph.schema.order import Order, OrderLine
from ordergraph.schema.payment import Payment
from ordergraph.schema.pickup_point import PickupPoint
from ordergraph.schema.query import Query
from ordergraph.schema.result_cache import customer_result_cache
from ordergraph.schema.returns import Return
from ordergraph.schema.scalars import SCALARS
from ordergraph.schema.subscription import SharedEventExecution, Subscription
from ordergraph.schema.validation_cache import validation_by_text

DID_YOU_MEAN = re.compile(r" Did you mean .+\?$")


class ExtensionsRunner(SchemaExtensionsRunner):
    """Strawberry's, minus per-result work for extensions that do nothing there. A result's `extensions` are
    asked only of the extensions that give any (those overriding get_results: RequestLimits' cost), awaited only
    when awaitable; a streamed result enters no hooks when no extension has an on_stream_result. Both run once
    per subscriber per live event: asking every extension, each through await_maybe, and gathering every
    extension's hooks per result were ~13% of the server's CPU in a fan-out to 10,000 subscriptions
    (bench/fanout.py)."""

    def __init__(self, execution_context: ExecutionContext, extensions: list[SchemaExtension] | None = None) -> None:
        super().__init__(execution_context, extensions)
        self.giving_results = [e for e in self.extensions if type(e).get_results is not SchemaExtension.get_results]
        self.streaming = any(type(e).on_stream_result is not SchemaExtension.on_stream_result for e in self.extensions)

    async def get_extensions_results(self, ctx: ExecutionContext) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for extension in self.giving_results:
            results = extension.get_results()
            data.update(await results if inspect.isawaitable(results) else results)
        data.update(ctx.extensions_results)
        return data

    def on_stream_result(self, result: Any) -> Any:
        return super().on_stream_result(result) if self.streaming else NO_HOOKS


NO_HOOKS = contextlib.nullcontext()  # async with too; holds nothing, so one serves every result


class Schema(strawberry.Schema):
    # Without introspection the schema is not revealed through validation errors either.
    hide_suggestions = False

    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        return ExtensionsRunner(execution_context=execution_context, extensions=extensions)

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """ErrorCodes logs what is unexpected; refusals with a code are answers, not server errors. A syntax
        error raised inside the parser cache's hook skips ErrorCodes, so requests refused before execution
        get their code here. A subscription streams its results before ErrorCodes sees the operation end, so
        each of its results is coded (and masked) here, in place."""
        for index, error in enumerate(errors):
            # (An error with a path was raised executing a parsed document, so the operation type is known.)
            if error.path is None or execution_context.operation_type is OperationType.SUBSCRIPTION:
                errors[index] = error = coded(error)
            if self.hide_suggestions and DID_YOU_MEAN.search(error.message):
                errors[index] = GraphQLError(
                    DID_YOU_MEAN.sub("", error.message), error.nodes, extensions=error.extensions
                )

    async def stream(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        operation_extensions: dict[str, Any] | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
    ) -> StreamResult:
        """Strawberry's stream (subscriptions over the WebSocket), whose refusals arrive as results. A refusal
        raised by an extension before anything ran (RequestLimits: the document's size, an untrusted document or
        persisted-query hash, depth, cost, throttling) is an answer over HTTP, where Schema.execute turns it into
        a PreExecutionError, but escaped Strawberry's stream as an exception, which its WebSocket handler logged
        as a crash and answered with a bare `complete`. Here it is the stream's one result, coded like any other
        error, which the handler sends as the subscription's `error` message."""
        results = await super().stream(
            query,
            variable_values=variable_values,
            context_value=context_value,
            root_value=root_value,
            operation_name=operation_name,
            operation_extensions=operation_extensions,
            allowed_operation_types=allowed_operation_types,
        )
        return self._refusals_as_results(results)

    async def _refusals_as_results(self, results: StreamResult) -> StreamResult:
        started = False
        try:
            async with aclosing(results):
                async for result in results:
                    started = True
                    yield result
        except Exception as exc:  # any refusal before the first result is this stream's answer
            if started:
                raise
            errors = [exc if isinstance(exc, GraphQLError) else GraphQLError(str(exc), original_error=exc)]
            self._process_errors(errors)
            yield PreExecutionError(data=None, errors=errors)


def build_schema(
    guard: RequestGuard | None,
    *,
    introspection: bool = True,
    around: Sequence[type[SchemaExtension]] = (),
    within: Sequence[type[SchemaExtension]] = (),
) -> strawberry.Schema:
    """The schema a server serves, its RequestGuard bound into it. `None` builds it for its SDL and for
    validating documents only: such a schema enforces no limits and must serve no request. The server's
    measuring extensions go `around` every other (first: they see refusals too) or `within` (last: after the
    result cache)."""
    built = Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Order, OrderLine, Shipment, Return, Payment, FulfillmentOrder, Location, Product, PickupPoint],
        # The clients send the same few documents: parse and validate each once (bounded LRU caches).
        # Limits first: a refused request is neither parsed twice nor validated (schema/limits.py).
        # Customers' repeated queries are answered from a store kept per schema (schema/result_cache.py).
        extensions=[
            *around,
            *([] if guard is None else [partial(RequestLimits, guard)]),
            ErrorCodes,
            ParserCache,
            validation_by_text(),
            input_rules(),  # text and ID inputs' characters and lengths (schema/input_rules.py)
            customer_result_cache(),
            *([] if introspection else [DisableIntrospection]),
            *within,
        ],
        config=StrawberryConfig(scalar_map=SCALARS),
        execution_context_class=SharedEventExecution,
    )
    describe_input_rules(built._schema)
    # Fields with nothing for Strawberry to do per call are resolved without its wrapping (schema/direct_resolvers.py).
    resolve_directly(built)
    built.hide_suggestions = not introspection
    return built
