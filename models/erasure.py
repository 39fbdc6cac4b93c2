from datetime import datetime

from sqlmodel import Field, SQLModel

from ordergraph.models.columns import BigIntId, UTCDateTime, enum_column, utcnow
from ordergraph.models.enums import ActorKind


class CustomerErasure(SQLModel, table=True):
    """That a customer's personal data was erased, by whom and when (resolvers.erasure): never an erased value.
    `scrubbed` counts the rows changed per table ("orders=3 order_event=12 …"), for an auditor."""

    __tablename__ = "customer_erasure"

    id: int | None = Field(default=None, sa_type=BigIntId, primary_key=True)
    customer_id: int = Field(sa_type=BigIntId, foreign_key="customer.id", unique=True)
    erased_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor_kind: ActorKind = Field(sa_type=enum_column(ActorKind))
    actor_name: str | None = None  # the agent's or admin's name, as their token gives it
    actor_subject: str | None = None
    scrubbed: str = ""
    outbox_files_deleted: int = 0
