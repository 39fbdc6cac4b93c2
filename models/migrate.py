"""Alembic migrations, run over the application's own async engine."""

import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
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


async def new_revision(message: str) -> None:
    """Writes the next revision into models/migrations/versions/ (of the checkout: an editable install):
    what the models declare beyond a scratch SQLite database migrated to head. Revisions are numbered
    0001, 0002, …; an empty one means the models and the migrations agree."""
    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite:///{Path(folder) / 'head.db'}")
        try:
            await upgrade(db)

            def run(connection: Connection) -> None:
                config = alembic_config(connection)
                heads = ScriptDirectory.from_config(config).get_heads()
                number = f"{max((int(head) for head in heads), default=0) + 1:04d}"
                command.revision(config, message=message, autogenerate=True, rev_id=number)

            async with db.engine.begin() as conn:
                await conn.run_sync(run)
        finally:
            await db.dispose()
