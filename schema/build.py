"""The schema as served: every type, the extensions in their order, and the variants settings ask for."""

import re
from functools import partial

import strawberry
from graphql import GraphQLError
from strawberry.extensions import DisableIntrospection, ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType

from ordergraph.schema.catalog import Product
from ordergraph.schema.extensions import ErrorCodes, coded
from ordergraph.schema.fulfillment import FulfillmentOrder, Shipment
from ordergraph.schema.limits import RequestGuard, RequestLimits
from ordergraph.schema.location import Location
from ordergraph.schema.mutation import Mutation
from ordergraph.schema.order import Order, OrderLine
from ordergraph.schema.payment import Payment
from ordergraph.schema.query import Query
from ordergraph.schema.result_cache import customer_result_cache
from ordergraph.schema.returns import Return
from ordergraph.schema.scalars import SCALARS
from ordergraph.schema.subscription import SharedEventExecution, Subscription

DID_YOU_MEAN = re.compile(r" Did you mean .+\?$")


class Schema(strawberry.Schema):
    # Without introspection the schema is not revealed through validation errors either.
    hide_suggestions = False

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


def build_schema(guard: RequestGuard | None, *, introspection: bool = True) -> strawberry.Schema:
    """The schema a server serves, its RequestGuard bound into it. `None` builds it for its SDL and for
    validating documents only: such a schema enforces no limits and must serve no request."""
    built = Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Order, OrderLine, Shipment, Return, Payment, FulfillmentOrder, Location, Product],
        # The clients send the same few documents: parse and validate each once (bounded LRU caches).
        # Limits first: a refused request is neither parsed twice nor validated (schema/limits.py).
        # Customers' repeated queries are answered from a store kept per schema (schema/result_cache.py).
        extensions=[
            *([] if guard is None else [partial(RequestLimits, guard)]),
            ErrorCodes,
            ParserCache,
            ValidationCache,
            customer_result_cache(),
            *([] if introspection else [DisableIntrospection]),
        ],
        config=StrawberryConfig(scalar_map=SCALARS),
        execution_context_class=SharedEventExecution,
    )
    built.hide_suggestions = not introspection
    return built
