"""Value types shared across the graph: money, addresses, actors, pages, user errors."""

from decimal import Decimal
from typing import Generic, TypeVar

import strawberry

from ordergraph.models.money import to_decimal
from ordergraph.resolvers import pagination
from ordergraph.schema.enums import ActorKind

T = TypeVar("T")


@strawberry.type
class Money:
    amount: Decimal
    currency: str


def money(minor: int, currency: str) -> Money:
    return Money(amount=to_decimal(minor, currency), currency=currency)


@strawberry.type
class Address:
    name: str | None
    line1: str
    line2: str | None
    city: str
    region: str | None
    postal_code: str
    country: str
    phone: str | None


@strawberry.type
class Actor:
    kind: ActorKind
    name: str | None


@strawberry.type
class UserError:
    field: list[str] | None
    message: str
    code: str


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    node: T
    sort: strawberry.Private[pagination.Sort]

    @strawberry.field
    def cursor(self) -> str:
        """Encoded only when asked for: a 500-order page whose edges' cursors nobody selects encodes none."""
        return self.sort.cursor(self.node)


@strawberry.type
class Connection(Generic[T]):
    """A page of a list; built from resolvers.pagination.Connection."""

    @strawberry.field
    def edges(root: pagination.Connection) -> list[Edge[T]]:
        sort = root.sort
        return [Edge(node=row, sort=sort) for row in root.rows]

    @strawberry.field
    def page_info(root: pagination.Connection) -> PageInfo:
        rows, sort = root.rows, root.sort
        return PageInfo(
            has_next_page=root.has_next_page,
            has_previous_page=root.has_previous_page,
            start_cursor=sort.cursor(rows[0]) if rows else None,
            end_cursor=sort.cursor(rows[-1]) if rows else None,
        )
