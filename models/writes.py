"""New rows written as plain INSERTs: for a hot path that builds a row once and does not change it again in its
transaction (placement), where the ORM's unit of work costs more than the statement itself."""

import functools
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import SQLModel


@functools.cache
def _insert_of(model: type[SQLModel]) -> tuple[Any, str, tuple[str, ...]]:
    """A table's INSERT … RETURNING its key, built once per table (SQLAlchemy then reuses its compiled form), with
    the key's name and the other columns' names."""
    mapper = sa.inspect(model)
    key = mapper.primary_key[0]
    columns = tuple(name for name in mapper.columns.keys() if name != key.key)
    return sa.insert(mapper.local_table).returning(key, sort_by_parameter_order=True), key.key, columns


async def insert_rows(connection: AsyncConnection, rows: Sequence[SQLModel]) -> None:
    """Inserts new rows of one table, in one statement, and gives each its id. The rows stay outside any session:
    a later change to one of them is not written unless the caller writes it."""
    if not rows:
        return
    statement, key, columns = _insert_of(type(rows[0]))
    ids = await connection.execute(statement, [{name: getattr(row, name) for name in columns} for row in rows])
    for row, new_id in zip(rows, ids.scalars().all(), strict=True):
        setattr(row, key, new_id)
