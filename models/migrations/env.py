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
    # Autogenerate names a column type by its module (`ordergraph.models.columns.UTCDateTime`,
    # `sqlmodel.sql.sqltypes.AutoString`); script.py.mako imports both. No user_module_prefix: it would
    # rename SQLModel's types too.
)
with context.begin_transaction():
    context.run_migrations()
