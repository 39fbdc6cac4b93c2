"""The GraphQL schema: Strawberry types over the models, resolving through resolvers and loaders."""

import re
from functools import cache

import strawberry
from graphql import GraphQLError
from strawberry.extensions import DisableIntrospection, ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType

from schema.catalog import Product
from schema.extensions import ErrorCodes, coded
from schema.limits import RequestLimits
from schema.fulfillment import FulfillmentOrder, Shipment
from schema.location import Location
from schema.mutation import Mutation
from schema.order import Order, OrderLine
from schema.payment import Payment
from schema.query import Query
from schema.result_cache import customer_result_cache
from schema.returns import Return
from schema.scalars import SCALARS
from schema.subscription import SharedEventExecution, Subscription


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
                errors[index] = GraphQLError(DID_YOU_MEAN.sub("", error.message), error.nodes,
                                             extensions=error.extensions)


def build_schema(*, introspection: bool = True) -> strawberry.Schema:
    built = Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Order, OrderLine, Shipment, Return, Payment, FulfillmentOrder, Location, Product],
        # The clients send the same few documents: parse and validate each once (bounded LRU caches).
        # Limits first: a refused request is neither parsed twice nor validated (schema/limits.py).
        # Customers' repeated queries are answered from a store kept per schema (schema/result_cache.py).
        extensions=[RequestLimits, ErrorCodes, ParserCache, ValidationCache, customer_result_cache(),
                    *([] if introspection else [DisableIntrospection])],
        config=StrawberryConfig(scalar_map=SCALARS),
        execution_context_class=SharedEventExecution,
    )
    built.hide_suggestions = not introspection
    return built


schema = build_schema()


@cache
def schema_for(*, introspection: bool) -> strawberry.Schema:
    """The schema as settings want it served (built once per variant)."""
    return schema if introspection else build_schema(introspection=False)
