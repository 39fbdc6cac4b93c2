"""The GraphQL schema: Strawberry types over the models, resolving through resolvers and loaders."""

import strawberry
from graphql import GraphQLError
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from schema.catalog import Product
from schema.extensions import ErrorCodes, coded
from schema.fulfillment import FulfillmentOrder, Shipment
from schema.location import Location
from schema.mutation import Mutation
from schema.order import Order, OrderLine
from schema.payment import Payment
from schema.query import Query
from schema.returns import Return
from schema.scalars import SCALARS


class Schema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """ErrorCodes logs what is unexpected; refusals with a code are answers, not server errors. A syntax
        error raised inside the parser cache's hook skips ErrorCodes, so requests refused before execution
        get their code here."""
        for error in errors:
            if error.path is None:
                coded(error)


def build_schema() -> strawberry.Schema:
    return Schema(
        query=Query,
        mutation=Mutation,
        types=[Order, OrderLine, Shipment, Return, Payment, FulfillmentOrder, Location, Product],
        # The clients send the same few documents: parse and validate each once (bounded LRU caches).
        extensions=[ErrorCodes, ParserCache, ValidationCache],
        config=StrawberryConfig(scalar_map=SCALARS),
    )


schema = build_schema()
