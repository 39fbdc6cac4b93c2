"""New rows written as plain INSERTs: for a hot path that builds a row once and does not change it again in its
transaction (placement), where the ORM's unit of work costs more than the statement itself."""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import SQLModel


async def insert_rows(connection: AsyncConnection, rows: Sequence[SQLModel]) -> None:
    """Inserts new rows of one table, in one statement, and gives each its id. The rows stay outside any session:
    a later change to one of them is not written unless the caller writes it."""
    if not rows:
        return
    mapper = sa.inspect(type(rows[0]))
    key = mapper.primary_key[0]
    columns = [name for name in mapper.columns.keys() if name != key.key]
    ids = await connection.execute(
        sa.insert(mapper.local_table).returning(key, sort_by_parameter_order=True),
        [{name: getattr(row, name) for name in columns} for row in rows],
    )
    for row, new_id in zip(rows, ids.scalars().all(), strict=True):
        setattr(row, key.key, new_id)
