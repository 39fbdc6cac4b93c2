"""The GraphQL schema: Strawberry types over the models, resolving through resolvers and loaders."""

import strawberry
from graphql import GraphQLError
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from schema.catalog import Product
from schema.extensions import ErrorCodes
from schema.fulfillment import FulfillmentOrder, Shipment
from schema.location import Location
from schema.order import Order, OrderLine
from schema.payment import Payment
from schema.query import Query
from schema.returns import Return
from schema.scalars import SCALARS


class Schema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """ErrorCodes logs what is unexpected; refusals with a code are answers, not server errors."""


def build_schema() -> strawberry.Schema:
    return Schema(
        query=Query,
        types=[Order, OrderLine, Shipment, Return, Payment, FulfillmentOrder, Location, Product],
        extensions=[ErrorCodes],
        config=StrawberryConfig(scalar_map=SCALARS),
    )


schema = build_schema()
