"""Alembic migrations, run over the application's own async engine."""

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

from ordergraph.models.database import Database

# A package resource, so an installed wheel finds its migrations as a checkout does.
MIGRATIONS = "ordergraph.models:migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    config.attributes["connection"] = connection
    return config


async def upgrade(db: Database, revision: str = "head") -> None:
    def run(connection: Connection) -> None:
        command.upgrade(alembic_config(connection), revision)

    async with db.engine.begin() as conn:
        await conn.run_sync(run)
