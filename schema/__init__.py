"""The GraphQL schema: Strawberry types over the models, resolving through resolvers and loaders."""

import strawberry
from graphql import GraphQLError
from strawberry.extensions import ParserCache, ValidationCache
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
from schema.returns import Return
from schema.scalars import SCALARS
from schema.subscription import SharedEventExecution, Subscription


class Schema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """ErrorCodes logs what is unexpected; refusals with a code are answers, not server errors. A syntax
        error raised inside the parser cache's hook skips ErrorCodes, so requests refused before execution
        get their code here. A subscription streams its results before ErrorCodes sees the operation end, so
        each of its results is coded (and masked) here, in place."""
        for index, error in enumerate(errors):
            # (An error with a path was raised executing a parsed document, so the operation type is known.)
            if error.path is None or execution_context.operation_type is OperationType.SUBSCRIPTION:
                errors[index] = coded(error)


def build_schema() -> strawberry.Schema:
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Order, OrderLine, Shipment, Return, Payment, FulfillmentOrder, Location, Product],
        # The clients send the same few documents: parse and validate each once (bounded LRU caches).
        # Limits first: a refused request is neither parsed twice nor validated (schema/limits.py).
        extensions=[RequestLimits, ErrorCodes, ParserCache, ValidationCache],
        config=StrawberryConfig(scalar_map=SCALARS),
        execution_context_class=SharedEventExecution,
    )


schema = build_schema()
