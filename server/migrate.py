"""Alembic migrations, run over the application's own async engine."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

from server.database import Database

MIGRATIONS = Path(__file__).resolve().parent.parent / "models" / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def upgrade(db: Database, revision: str = "head") -> None:
    def run(connection: Connection) -> None:
        command.upgrade(alembic_config(connection), revision)

    async with db.engine.begin() as conn:
        await conn.run_sync(run)
