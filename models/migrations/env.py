"""Alembic environment: `ordergraph.models.migrate` hands over an open connection; the metadata is the models'."""

from alembic import context
from sqlmodel import SQLModel

from ordergraph import models  # noqa: F401  (registers every table)

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    # Autogenerate names the project's column types by their installed module.
    user_module_prefix="ordergraph.models.columns.",
)
with context.begin_transaction():
    context.run_migrations()
