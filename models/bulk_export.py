"""Bulk exports (#20): one row per export job an analyst or admin started, claimed and run by a worker
(server.bulk_exports).

Invariants:
- `query` is the export's validated request (an order filter and a selection over Order, as JSON) and never
  changes; the rows of the file follow from it, the owner's role (masking) and the data when the job ran.
- A job is run by the process holding its lease: the one whose conditional UPDATE set `attempts` to its own
  attempt number and `lease_until` ahead. Progress and the outcome are written only while `attempts` is still that
  number, so a process that lost its lease (paused past it, another re-claimed the job) writes nothing.
- COMPLETED and FAILED are final. A COMPLETED job has `file_name` (under the configured export folder) and
  `rows_written` orders in it; a FAILED one has `error_code`.
"""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ordergraph.models.columns import BigIntId, UTCDateTime, enum_column, utcnow


class BulkExportFormat(StrEnum):
    JSONL = "JSONL"
    CSV = "CSV"
    PARQUET = "PARQUET"


class BulkExportStatus(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class BulkExport(SQLModel, table=True):
    __tablename__ = "bulk_export"
    __table_args__ = (sa.Index("ix_bulk_export_status_lease", "status", "lease_until"),)

    id: int | None = Field(default=None, sa_type=BigIntId, primary_key=True)
    # Who started it (the token's subject and role): only they read it; the role decides the masking.
    owner_subject: str = Field(max_length=200)
    owner_role: str = Field(max_length=16)
    format: BulkExportFormat = Field(sa_type=enum_column(BulkExportFormat))
    query: dict[str, object] = Field(sa_type=sa.JSON)
    status: BulkExportStatus = Field(default=BulkExportStatus.QUEUED, sa_type=enum_column(BulkExportStatus))
    total_rows: int | None = None  # counted when the run begins
    rows_written: int = 0
    attempts: int = 0
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    error_code: str | None = Field(default=None, max_length=40)
    error_message: str | None = Field(default=None, max_length=500)
    file_name: str | None = Field(default=None, max_length=200)
    file_bytes: int | None = Field(default=None, sa_type=sa.BigInteger)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
