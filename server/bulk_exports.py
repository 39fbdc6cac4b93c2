"""The bulk-export worker (#20): runs queued exports (resolvers.bulk_exports) into files, safe with any number of
processes, the way the notifier and the webhook sender claim their work (server/notifier.py):

- Claim. A QUEUED job, or a RUNNING one whose lease has expired (its process died or hung), is claimed by a
  conditional UPDATE that exactly one process wins: RUNNING, attempts + 1, the lease a lease ahead. The attempt
  number is the claim's fencing token: every later write of the run (progress, the outcome) is conditional on it,
  so a process that lost its claim writes nothing, and stops at its next progress write.
- Run. The rows are read chunk by chunk from the read database and written to `{export_dir}/{id}-{attempt}.part`
  (encoding in a thread, so the event loop keeps serving); after each chunk the progress (rows written) is
  recorded, the lease renewed, and the progress published on the broadcast for `bulkExport(id:)` subscribers.
  At the end the file is renamed to `export-{id}.{ext}` and the job recorded COMPLETED, in that order: a COMPLETED
  job's file exists.
- Restart. A re-claimed job starts again from its first order (the partial file of the lost attempt is removed);
  after `max_attempts` claims it is FAILED with WORKER_LOST. A run that fails (the database refuses, the disk is
  full) is FAILED with EXPORT_FAILED and a message without data. On shutdown a running job is handed back (its
  lease ended now), and the next process to poll starts it again.

Formats: JSONL (one JSON object per order, shaped like the selection's GraphQL answer), CSV (one row per order,
objects flattened to dotted columns such as `total.amount`, lists as JSON text), Parquet (nested: objects as
structs, lists as lists of structs; written a row group per chunk through pyarrow, so memory stays flat). On
PostgreSQL the database writes each order's JSON line (JSONL's lines; pyarrow parses them for Parquet), so this
process only moves bytes; elsewhere, and for CSV, the rows are built here.
"""

import asyncio
import contextlib
import csv
import io
import logging
import os
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.json as pa_json
import pyarrow.parquet as pq
import sqlalchemy as sa
from broadcaster import Broadcast
from sqlmodel import col, select

from ordergraph.models import BulkExport
from ordergraph.models.bulk_export import BulkExportFormat, BulkExportStatus
from ordergraph.models.columns import utcnow
from ordergraph.models.database import Database
from ordergraph.resolvers import bulk_exports
from ordergraph.resolvers.access import Role, Viewer
from ordergraph.resolvers.bulk_exports import Column, ExportPlan, ExportQuery
from ordergraph.server.settings import Settings
from ordergraph.subscriptions.backoff import Backoff

logger = logging.getLogger("ordergraph.bulk_exports")

EXTENSIONS = {BulkExportFormat.JSONL: "jsonl", BulkExportFormat.CSV: "csv", BulkExportFormat.PARQUET: "parquet"}
LAST_LOOP_RETRY_SECONDS = 5.0
MAX_ERROR_TEXT = 500


class LostClaim(Exception):
    """Another process holds the job now (this one's lease expired): this run stops without writing."""


# --- Writers ---------------------------------------------------------------------------------------------------


# A JSON line: compact, UTF-8, date-times as datetime.isoformat() writes them, all in C (the plan leaves
# date-times as they are read).
_json_line = partial(orjson.dumps, option=orjson.OPT_APPEND_NEWLINE)


class JsonLinesWriter:
    def __init__(self, path: Path, columns: list[Column]) -> None:
        self.file = path.open("wb")

    def write(self, records: list[dict[str, Any]]) -> None:
        self.file.write(b"".join(map(_json_line, records)))

    def close(self) -> None:
        self.file.close()


class TextLinesWriter:
    """JSON lines written already (by the database)."""

    def __init__(self, path: Path, columns: list[Column]) -> None:
        self.file = path.open("wb")

    def write(self, lines: list[str]) -> None:
        self.file.write(("\n".join(lines) + "\n").encode())

    def close(self) -> None:
        self.file.close()


def _flat_columns(columns: list[Column], prefix: str = "") -> Iterator[tuple[str, tuple[str, ...], bool]]:
    """(header, path, is a list) per CSV column."""
    for column in columns:
        name = f"{prefix}{column.name}"
        if column.type == "object":
            for header, path, listed in _flat_columns(list(column.fields), f"{name}."):
                yield header, (column.name, *path), listed
        else:
            yield name, (column.name,), column.type == "list"


def _csv_cell(value: object, listed: bool) -> object:
    if value is None:
        return ""
    if listed:
        return orjson.dumps(value).decode()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


class CsvWriter:
    def __init__(self, path: Path, columns: list[Column]) -> None:
        self.file = path.open("w", newline="", encoding="utf-8")
        self.columns = list(_flat_columns(columns))
        self.csv = csv.writer(self.file)
        self.csv.writerow([header for header, _, _ in self.columns])

    def write(self, records: list[dict[str, Any]]) -> None:
        getters = [(_path_getter(path), listed) for _, path, listed in self.columns]
        self.csv.writerows([[_csv_cell(get(record), listed) for get, listed in getters] for record in records])

    def close(self) -> None:
        self.file.close()


def _path_getter(path: tuple[str, ...]) -> Callable[[dict[str, Any]], object]:
    if len(path) == 1:
        (name,) = path
        return lambda record: record[name]

    def get(record: dict[str, Any]) -> object:
        value: Any = record
        for name in path:
            if value is None:
                return None
            value = value[name]
        return value

    return get


_ARROW_TYPES = {"string": pa.string(), "int": pa.int64(), "bool": pa.bool_(), "timestamp": pa.timestamp("us", "UTC")}


def arrow_type(column: Column) -> pa.DataType:
    if column.type == "object":
        return pa.struct([pa.field(c.name, arrow_type(c)) for c in column.fields])
    if column.type == "list":
        return pa.list_(arrow_type(column.fields[0]))
    return _ARROW_TYPES[column.type]


def arrow_schema(columns: list[Column]) -> pa.Schema:
    return pa.schema([pa.field(c.name, arrow_type(c)) for c in columns])


class ParquetFile:
    """A Parquet file of the export's columns, written one row group per chunk: the file never needs more than a
    chunk in memory."""

    def __init__(self, path: Path, columns: list[Column]) -> None:
        self.schema = arrow_schema(columns)
        self.writer = pq.ParquetWriter(path, self.schema, compression="zstd")

    def close(self) -> None:
        self.writer.close()


class ParquetWriter(ParquetFile):
    """Parquet from the Python builder's dicts."""

    def write(self, records: list[dict[str, Any]]) -> None:
        self.writer.write_table(pa.Table.from_pylist(records, schema=self.schema))


class ParquetFromLinesWriter(ParquetFile):
    """Parquet from JSON lines written by the database: pyarrow parses them to the file's schema (in C++, on
    its own threads), the values as the Python builder's dicts would give them (tests/exports)."""

    def write(self, lines: list[str]) -> None:
        data = ("\n".join(lines) + "\n").encode()
        # A block holds whole lines: at least the longest (an order with hundreds of lines), else 1 MiB.
        block = max(1 << 20, max(map(len, lines)) * 4 + 2)  # UTF-8: at most 4 bytes per character
        table = pa_json.read_json(
            io.BytesIO(data),
            read_options=pa_json.ReadOptions(block_size=block),
            parse_options=pa_json.ParseOptions(explicit_schema=self.schema, unexpected_field_behavior="error"),
        )
        self.writer.write_table(table)


WRITERS: dict[BulkExportFormat, Callable[[Path, list[Column]], Any]] = {
    BulkExportFormat.JSONL: JsonLinesWriter,
    BulkExportFormat.CSV: CsvWriter,
    BulkExportFormat.PARQUET: ParquetWriter,
}
# The formats written from JSON lines built by PostgreSQL (resolvers.bulk_exports.json_line_chunks), and how.
LINE_WRITERS: dict[BulkExportFormat, Callable[[Path, list[Column]], Any]] = {
    BulkExportFormat.JSONL: TextLinesWriter,
    BulkExportFormat.PARQUET: ParquetFromLinesWriter,
}


def export_plan(query: ExportQuery, role: Role, export_format: BulkExportFormat) -> ExportPlan:
    """`query` compiled for `role` (the masking of resolvers.access) and the file: date-times as text for CSV,
    whose writer takes cells as they are; JSONL and Parquet encode them themselves."""
    text_times = export_format is BulkExportFormat.CSV
    return bulk_exports.compile_plan(query.shape, Viewer(role=role), text_times=text_times)


async def export_to_file(
    read_db: Database,
    query: ExportQuery,
    role: Role,
    export_format: BulkExportFormat,
    path: Path,
    *,
    chunk_size: int,
    progress: Callable[[int], Any] | None = None,
) -> int:
    """Writes every order matching `query` to `path`, masked for `role`; the number written. `progress(rows)` is
    awaited after each chunk. The next chunk is read while the last one is encoded and written (in a thread).
    JSONL and Parquet from PostgreSQL: the database writes each order's JSON line
    (resolvers.bulk_exports.json_line_chunks), which is the file's line or what pyarrow reads into Parquet."""
    plan = export_plan(query, role, export_format)
    source: AsyncIterator[list[Any]]
    make_writer = LINE_WRITERS.get(export_format) if read_db.dialect == "postgresql" else None
    if make_writer is not None:
        source = bulk_exports.json_line_chunks(read_db.read, query, plan, chunk_size=chunk_size)
    else:
        source = bulk_exports.chunks(read_db.read, query, plan, chunk_size=chunk_size)
        make_writer = WRITERS[export_format]
    writer = await asyncio.to_thread(make_writer, path, plan.columns)
    rows = 0
    pending: asyncio.Future[None] | None = None
    try:
        async for records in source:
            if pending is not None:
                await pending
            pending = asyncio.ensure_future(asyncio.to_thread(writer.write, records))
            rows += len(records)
            if progress is not None:
                await progress(rows)
        if pending is not None:
            await pending
    finally:
        if pending is not None and not pending.done():
            with contextlib.suppress(Exception):
                await pending
        await asyncio.to_thread(writer.close)
    return rows


# --- The worker ------------------------------------------------------------------------------------------------


class BulkExportWorker:
    def __init__(
        self,
        db: Database,
        read_db: Database,
        broadcast: Broadcast | None,
        *,
        channel: str,
        export_dir: Path,
        lease: timedelta,
        poll_seconds: float,
        max_attempts: int,
        chunk_size: int,
    ) -> None:
        self.db = db
        self.read_db = read_db
        self.broadcast = broadcast
        self.channel = channel
        self.export_dir = export_dir
        self.lease = lease
        self.poll_seconds = poll_seconds
        self.max_attempts = max_attempts
        self.chunk_size = chunk_size
        self._woken = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._running: tuple[int, int] | None = None  # (job id, attempt) of the run under way

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="bulk-exports")

    def wake(self) -> None:
        self._woken.set()

    async def stop(self) -> None:
        """Stops the run under way and hands its job back (lease ended now), for the next process to start again."""
        if self._task is None:
            return
        self._stopping = True
        self._woken.set()
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        if self._running is not None:
            job_id, attempt = self._running
            with contextlib.suppress(Exception):
                await self._fenced(job_id, attempt, lease_until=utcnow())

    async def _run(self) -> None:
        backoff = Backoff(logger, "bulk exports could not run (%r); retrying in %.2fs", last=LAST_LOOP_RETRY_SECONDS)
        while not self._stopping:
            try:
                while not self._stopping and await self.run_once():
                    pass
                backoff.reset()
            except Exception as error:  # noqa: BLE001  (the database away: the jobs wait in it)
                await backoff.failed(error)
                continue
            try:
                await asyncio.wait_for(self._woken.wait(), self.poll_seconds)
            except TimeoutError:
                pass
            self._woken.clear()

    async def run_once(self) -> bool:
        """Claims and runs one job; False when none was due."""
        now = utcnow()
        async with self.db.read() as session:
            due = (
                await session.exec(
                    select(BulkExport.id)
                    .where(
                        sa.or_(
                            col(BulkExport.status) == BulkExportStatus.QUEUED,
                            sa.and_(
                                col(BulkExport.status) == BulkExportStatus.RUNNING, col(BulkExport.lease_until) <= now
                            ),
                        )
                    )
                    .order_by(col(BulkExport.id))
                    .limit(10)
                )
            ).all()
        for job_id in due:
            assert job_id is not None
            attempt = await self._claim(job_id)
            if attempt is not None:
                await self._attempt(job_id, attempt)
                return True
        return False

    async def _claim(self, job_id: int) -> int | None:
        now = utcnow()
        async with self.db.write() as session:
            claimed = await session.exec(
                sa.update(BulkExport)
                .where(
                    col(BulkExport.id) == job_id,
                    sa.or_(
                        col(BulkExport.status) == BulkExportStatus.QUEUED,
                        sa.and_(col(BulkExport.status) == BulkExportStatus.RUNNING, col(BulkExport.lease_until) <= now),
                    ),
                )
                .values(
                    status=BulkExportStatus.RUNNING,
                    attempts=col(BulkExport.attempts) + 1,
                    lease_until=now + self.lease,
                    started_at=now,
                    rows_written=0,
                )
            )
            if claimed.rowcount != 1:
                return None
            return (await session.exec(select(BulkExport.attempts).where(BulkExport.id == job_id))).one()

    async def _fenced(self, job_id: int, attempt: int, **values: Any) -> bool:
        """Writes `values` while this run still holds the job; False when it no longer does."""
        async with self.db.write() as session:
            written = await session.exec(
                sa.update(BulkExport)
                .where(
                    col(BulkExport.id) == job_id,
                    col(BulkExport.attempts) == attempt,
                    col(BulkExport.status) == BulkExportStatus.RUNNING,
                )
                .values(**values)
            )
            return bool(written.rowcount == 1)

    async def _publish(self, job_id: int) -> None:
        """Tells subscribers the job moved (they read it): a broadcast that is away only delays them to their poll."""
        if self.broadcast is None:
            return
        async with self.db.read() as session:
            job = await session.get(BulkExport, job_id)
        if job is None:
            return
        try:
            await self.broadcast.publish(self.channel, bulk_exports.progress_message(job))
        except Exception as error:  # noqa: BLE001  (Redis away: subscribers poll the row)
            logger.warning("bulk export %s: progress not published (%r)", job_id, error)

    async def _attempt(self, job_id: int, attempt: int) -> None:
        if attempt > self.max_attempts:
            # Every earlier claim's process stopped before finishing: most likely the export itself brings them down.
            await self._fail(job_id, attempt, "WORKER_LOST", f"The export stopped unfinished {attempt - 1} times.")
            return
        async with self.db.read() as session:
            job = await session.get_one(BulkExport, job_id)
        self._running = (job_id, attempt)
        part = self.export_dir / f"{job_id}-{attempt}.part"
        try:
            query = ExportQuery.of(job.query)
            self.export_dir.mkdir(parents=True, exist_ok=True)
            for stale in self.export_dir.glob(f"{job_id}-*.part"):  # a lost attempt's
                stale.unlink(missing_ok=True)
            total = await bulk_exports.count_orders(self.read_db.read, query)
            if not await self._fenced(job_id, attempt, total_rows=total):
                raise LostClaim()
            await self._publish(job_id)

            async def progress(rows: int) -> None:
                if not await self._fenced(job_id, attempt, rows_written=rows, lease_until=utcnow() + self.lease):
                    raise LostClaim()
                await self._publish(job_id)

            rows = await export_to_file(
                self.read_db,
                query,
                Role(job.owner_role),
                job.format,
                part,
                chunk_size=self.chunk_size,
                progress=progress,
            )
            final = self.export_dir / f"export-{job_id}.{EXTENSIONS[job.format]}"
            size = part.stat().st_size
            os.replace(part, final)
            done = await self._fenced(
                job_id,
                attempt,
                status=BulkExportStatus.COMPLETED,
                rows_written=rows,
                total_rows=max(rows, total),
                file_name=final.name,
                file_bytes=size,
                finished_at=utcnow(),
                lease_until=None,
            )
            if not done:
                raise LostClaim()
            logger.info("bulk export %s: %s orders to %s", job_id, rows, final.name)
        except LostClaim:
            logger.warning("bulk export %s: attempt %s lost its claim; another process runs it", job_id, attempt)
        except asyncio.CancelledError:
            raise  # shutting down: stop() hands the job back
        except Exception as error:
            logger.exception("bulk export %s failed", job_id)
            await self._fail(job_id, attempt, "EXPORT_FAILED", f"The export failed ({type(error).__name__}).")
        else:
            self._running = None
            await self._publish(job_id)
            return
        finally:
            part.unlink(missing_ok=True)
        self._running = None

    async def _fail(self, job_id: int, attempt: int, code: str, message: str) -> None:
        await self._fenced(
            job_id,
            attempt,
            status=BulkExportStatus.FAILED,
            error_code=code,
            error_message=message[:MAX_ERROR_TEXT],
            finished_at=utcnow(),
            lease_until=None,
        )
        await self._publish(job_id)


def bulk_export_worker_for(settings: Settings, broadcast: Broadcast | None, *, channel: str) -> BulkExportWorker:
    """The worker of a process, on engines of its own (its reads on the read database when there is one)."""
    db = Database(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms, pool_size=1)
    read_db = (
        Database(settings.read_database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms, pool_size=1)
        if settings.read_database_url
        else db
    )
    return BulkExportWorker(
        db,
        read_db,
        broadcast,
        channel=bulk_exports.progress_channel(channel),
        export_dir=settings.bulk_export_dir,
        lease=timedelta(seconds=settings.bulk_export_lease_seconds),
        poll_seconds=settings.bulk_export_poll_seconds,
        max_attempts=settings.bulk_export_max_attempts,
        chunk_size=settings.bulk_export_chunk_orders,
    )


async def dispose(worker: BulkExportWorker) -> None:
    await worker.db.dispose()
    if worker.read_db is not worker.db:
        await worker.read_db.dispose()
