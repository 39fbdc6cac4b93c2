"""The three shapes every loader takes: rows by key, child rows by parent, and pages of child rows.

Each batch runs one SQL statement on a session of its own, so loaders of one request can run
concurrently; they are built per request (aiodataloader binds the running event loop). With `batch=False`
every key is its own statement: what a naive GraphQL server does, kept only as the benchmark's baseline.
"""

from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from aiodataloader import DataLoader
from sqlmodel import SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

ReadSession = Callable[[], AbstractAsyncContextManager[AsyncSession]]


def _unobserved(loader: str, size: int) -> None:
    pass


# Told (the loaded model's name, the batch's number of keys) as each batch loads; the server's metrics set it
# (loaders know nothing of the server).
observe_batch: Callable[[str, int], None] = _unobserved


# The escape character of every LIKE pattern built from a user's text, given in an explicit ESCAPE clause (the
# databases' defaults differ: PostgreSQL escapes with a backslash by default, SQLite has no default at all).
LIKE_ESCAPE = "\\"


def like_literal(text: str) -> str:
    """`text` as a LIKE pattern that matches exactly that text: the escape character, % and _ escaped."""
    return text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")


def contains_text(column: Any, text: str) -> sa.ColumnElement[bool]:
    """`column` contains `text`, case-insensitively, as literal text: the one way a user's text reaches a LIKE
    or ILIKE pattern (search), so % and _ in it are never wildcards."""
    pattern: sa.ColumnElement[bool] = column.ilike(f"%{like_literal(text)}%", escape=LIKE_ESCAPE)
    return pattern


def rows_by_key(read: ReadSession, model: type[SQLModel], key: Any, *, batch: bool = True) -> DataLoader:
    """key -> the row with that (unique) key, or None."""

    async def load_batch(keys: Sequence[Hashable]) -> list[Any]:
        observe_batch(model.__name__, len(keys))
        async with read() as session:
            rows = (await session.exec(select(model).where(key.in_(set(keys))))).all()
        found = {getattr(row, key.key): row for row in rows}
        return [found.get(k) for k in keys]

    return DataLoader(batch_load_fn=load_batch, batch=batch)


def rows_by_parent(
    read: ReadSession, model: type[SQLModel], parent: Any, order_by: Sequence[Any], *, batch: bool = True
) -> DataLoader:
    """parent key -> the list of its child rows, in `order_by` order."""

    async def load_batch(keys: Sequence[Hashable]) -> list[list[Any]]:
        observe_batch(model.__name__, len(keys))
        async with read() as session:
            rows = (await session.exec(select(model).where(parent.in_(set(keys))).order_by(*order_by))).all()
        grouped: dict[Hashable, list[Any]] = defaultdict(list)
        for row in rows:
            grouped[getattr(row, parent.key)].append(row)
        return [grouped.get(k, []) for k in keys]

    return DataLoader(batch_load_fn=load_batch, batch=batch)


@dataclass(frozen=True, slots=True)
class PageKey:
    """One page of one parent's children: the `first` rows after `after` (sort-key values)."""

    parent_id: int
    first: int
    after: tuple | None = None
    variant: Hashable = None  # e.g. "customer-visible events only"


@dataclass(frozen=True, slots=True)
class Page:
    rows: list[Any]
    has_next_page: bool


def pages_by_parent(
    read: ReadSession,
    model: type[SQLModel],
    parent: Any,
    sort: Sequence[Any],
    *,
    descending: bool,
    where: Callable[[Hashable], list[Any]] = lambda variant: [],
    batch: bool = True,
) -> DataLoader:
    """PageKey -> Page, keyset-paginated on `sort` (unique when taken together).

    Every parent's page is its own indexed `LIMIT` query; a batch sends them as one UNION ALL
    statement, so a page costs the same however many children a parent has.
    """

    def page_query(key: PageKey) -> SelectOfScalar[SQLModel]:
        query = select(model).where(parent == key.parent_id, *where(key.variant))
        if key.after is not None:
            sort_key, cursor = sa.tuple_(*sort), sa.tuple_(*(sa.literal(v) for v in key.after))
            query = query.where(sort_key < cursor if descending else sort_key > cursor)
        order = [c.desc() if descending else c.asc() for c in sort]
        return query.order_by(*order).limit(key.first + 1)

    async def fetch(session: AsyncSession, keys: list[PageKey]) -> dict[int, list[Any]]:
        """Pages of several parents that share first/after/variant, in one statement."""
        queries = [page_query(k) for k in keys]
        if len(queries) == 1:
            rows = (await session.exec(queries[0])).all()
        else:
            union = sa.union_all(*(q.subquery().select() for q in queries))
            # sqlmodel's exec() runs any statement, but its overloads list only Select, SelectOfScalar and
            # UpdateBase: an ORM from_statement() (ExecutableReturnsRows) matches none of them.
            statement = select(model).from_statement(union)
            rows = (await session.exec(statement)).scalars().all()  # type: ignore[call-overload]
        grouped: dict[int, list[Any]] = defaultdict(list)
        for row in rows:
            grouped[getattr(row, parent.key)].append(row)
        return grouped

    def sort_value(row: Any) -> tuple:
        return tuple(getattr(row, c.key) for c in sort)

    async def load_batch(keys: Sequence[PageKey]) -> list[Page]:
        observe_batch(model.__name__, len(keys))
        classes: dict[tuple, list[PageKey]] = defaultdict(list)
        for key in dict.fromkeys(keys):
            classes[(key.first, key.after, key.variant)].append(key)
        pages: dict[PageKey, Page] = {}
        async with read() as session:
            for same_class in classes.values():
                grouped = await fetch(session, same_class) if same_class[0].first > 0 else {}
                for key in same_class:
                    rows = sorted(grouped.get(key.parent_id, []), key=sort_value, reverse=descending)
                    pages[key] = Page(rows=rows[: key.first], has_next_page=len(rows) > key.first)
        return [pages[k] for k in keys]

    return DataLoader(batch_load_fn=load_batch, batch=batch)
