"""Bulk exports for BI (#20): `startBulkExport(query:, format:)` queues an export of every order matching a filter,
shaped by a selection over Order (resolvers.bulk_exports); `bulkExport(id:)` reads its progress and, once it is
complete, a signed download link; the subscription `bulkExport(id:)` pushes its progress until it is final."""

import asyncio
import base64
import binascii
import contextlib
import json
import re
from collections.abc import AsyncIterator
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from ordergraph.models import BulkExport as BulkExportRow
from ordergraph.models.bulk_export import BulkExportFormat as Format
from ordergraph.models.bulk_export import BulkExportStatus as Status
from ordergraph.models.columns import utcnow
from ordergraph.resolvers import bulk_exports, orders
from ordergraph.resolvers.errors import InvalidId, Refusal, Unauthenticated
from ordergraph.schema.common import UserError
from ordergraph.schema.info import Info
from ordergraph.schema.node import MAX_GLOBAL_ID_LENGTH, encode_global_id
from ordergraph.schema.scalars import BigInt

if TYPE_CHECKING:
    from ordergraph.schema.query import OrderFilter

_RAW_ID = re.compile(r"BulkExport:(?P<pk>[1-9][0-9]{0,18})")
# How often a progress subscriber reads the job even when nothing was published (another process's worker on a
# deployment without Redis, or a message lost while Redis reconnected).
POLL_SECONDS = 2.0

BulkExportFormat = strawberry.enum(
    Format,
    description="JSONL: one JSON object per order. CSV: one row per order, objects as dotted columns "
    "(total.amount), lists as JSON. PARQUET: nested columns (structs, lists of structs).",
)
BulkExportStatus = strawberry.enum(Status)


def parse_export_id(global_id: str) -> int:
    """Exactly what encode_global_id writes for a BulkExport; INVALID_ID for anything else."""
    refused = InvalidId(f"'{global_id}' is not a valid BulkExport ID.")
    if len(global_id) > MAX_GLOBAL_ID_LENGTH or not global_id.isascii():
        raise refused
    try:
        raw = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise refused from None
    match = _RAW_ID.fullmatch(raw)
    if match is None or global_id.rstrip("=") != encode_global_id("BulkExport", int(match["pk"])):
        raise refused
    return int(match["pk"])


@strawberry.input(description="What to export: the orders a filter matches, each shaped by a selection.")
class BulkExportQuery:
    filter: Annotated["OrderFilter", strawberry.lazy("ordergraph.schema.query")] | None = strawberry.field(
        default=None, description="The same filter as `orders(filter:)` (analysts search identifiers only)."
    )
    selection: str | None = strawberry.field(
        default=None,
        description="Fields of Order as in a GraphQL selection, e.g. `id number total { amount currency } lines "
        "{ sku quantity }`: scalars, Money, customer, deliveryMethod, pickupLocation, shippingAddress, lines, "
        "shipments (with their events) and returns. Null: the fields of "
        "the OrdersExport query. Personal data is null for analysts, as everywhere. At most 4,000 characters.",
    )


@strawberry.type(description="A bulk export: its progress, and its file once COMPLETED. Only its owner reads it.")
class BulkExport:
    row: strawberry.Private[BulkExportRow]

    @strawberry.field
    def id(self) -> strawberry.ID:
        assert self.row.id is not None
        return strawberry.ID(encode_global_id("BulkExport", self.row.id))

    @strawberry.field
    def format(self) -> BulkExportFormat:
        return self.row.format

    @strawberry.field
    def status(self) -> BulkExportStatus:
        return self.row.status

    @strawberry.field(description="The selection it exports (the default one written out).")
    def selection(self) -> str:
        return str(self.row.query["selection"])

    @strawberry.field(description="Orders written so far (every one once COMPLETED).")
    def rows_written(self) -> int:
        return self.row.rows_written

    @strawberry.field(description="Orders matching the filter when the run began; null before.")
    def total_rows(self) -> int | None:
        return self.row.total_rows

    @strawberry.field(description="0 to 100.")
    def percent(self) -> float:
        return bulk_exports.percent(self.row)

    @strawberry.field(description="Why it FAILED: WORKER_LOST (stopped unfinished too often), EXPORT_FAILED.")
    def error_code(self) -> str | None:
        return self.row.error_code

    @strawberry.field
    def error_message(self) -> str | None:
        return self.row.error_message

    @strawberry.field(description="The file's size once COMPLETED.")
    def file_bytes(self) -> BigInt | None:
        return self.row.file_bytes

    @strawberry.field
    def created_at(self) -> datetime:
        return self.row.created_at

    @strawberry.field
    def started_at(self) -> datetime | None:
        return self.row.started_at

    @strawberry.field
    def finished_at(self) -> datetime | None:
        return self.row.finished_at

    @strawberry.field(
        description="Once COMPLETED: a link that downloads the file without a login until downloadUrlExpiresAt "
        "(a fresh one on every read). 410 once expired."
    )
    def download_url(self, info: Info) -> str | None:
        link = bulk_exports.download_url(info.context.export_links, self.row, now=utcnow())
        return link[0] if link else None

    @strawberry.field
    def download_url_expires_at(self, info: Info) -> datetime | None:
        link = bulk_exports.download_url(info.context.export_links, self.row, now=utcnow())
        return link[1] if link else None


@strawberry.type
class StartBulkExportPayload:
    bulk_export: BulkExport | None
    user_errors: list[UserError]


@strawberry.type
class BulkExportQueries:
    """Mixed into the root Query type (schema/query.py)."""

    @strawberry.field(description="Analysts and admins: one of their own bulk exports; null for anyone else's.")
    async def bulk_export(self, info: Info, id: strawberry.ID) -> BulkExport | None:
        row = await bulk_exports.bulk_export(info.context, parse_export_id(id))
        return BulkExport(row=row) if row else None


@strawberry.type
class BulkExportMutations:
    """Mixed into the root Mutation type (schema/mutation.py)."""

    @strawberry.mutation(
        description="Analysts (personal data masked) and admins: export every order a filter matches to a file, in "
        "the background. Follow it with the bulkExport query or subscription."
    )
    async def start_bulk_export(
        self, info: Info, query: BulkExportQuery, format: BulkExportFormat
    ) -> StartBulkExportPayload:
        order_filter = query.filter.to_domain() if query.filter else orders.OrderFilter()
        try:
            row = await bulk_exports.start_bulk_export(
                info.context,
                order_filter=order_filter,
                selection=query.selection,
                export_format=format,
            )
        except Refusal as refusal:
            error = UserError(field=refusal.field, message=refusal.message, code=refusal.code)
            return StartBulkExportPayload(bulk_export=None, user_errors=[error])
        return StartBulkExportPayload(bulk_export=BulkExport(row=row), user_errors=[])


@strawberry.type
class BulkExportSubscriptions:
    """Mixed into the root Subscription type (schema/subscription.py)."""

    @strawberry.subscription(
        name="bulkExport",
        description="One of the caller's bulk exports: its state now, then each change of its progress, until it "
        "is COMPLETED or FAILED (the last message).",
    )
    async def bulk_export_progress(self, info: Info, id: strawberry.ID) -> AsyncIterator[BulkExport]:
        export_id = parse_export_id(id)
        context = info.context
        row = await bulk_exports.owned_export(context.read, context.viewer, export_id)
        return _progress(info, export_id, row)


async def _progress(info: Info, export_id: int, row: BulkExportRow) -> AsyncIterator[BulkExport]:
    """Each published change is passed on as it was published (none is skipped for a later one); the final one,
    and whatever a poll or a resubscribed backend (which may have missed messages) finds, is read from the job."""
    context = info.context
    hub = context.hub  # type: ignore[attr-defined]
    channel = bulk_exports.progress_channel(hub.channel)
    async with hub.broadcast.subscribe(channel) as inbox:
        # Subscribed before reading again: a change committed in between is published after this read.
        row = await bulk_exports.owned_export(context.read, context.viewer, export_id)
        last = (row.status, row.rows_written, row.total_rows)
        yield BulkExport(row=row)
        while not bulk_exports.is_final(row):
            # The token was checked when the socket opened; nothing more is sent once it has expired.
            if context.viewer.expires_at is not None and utcnow() >= context.viewer.expires_at:
                raise Unauthenticated("The token has expired: reconnect with a new one.")
            published: dict | None = None
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(POLL_SECONDS):
                    while published is None:
                        published = _published((await inbox.get()).message, export_id)
            if published and published["status"] not in (Status.COMPLETED, Status.FAILED):
                progress = {"status": Status(published["status"]), "rows_written": published["rows"]}
                row = BulkExportRow(**row.model_dump() | progress | {"total_rows": published["total"]})
            else:
                row = await bulk_exports.owned_export(context.read, context.viewer, export_id)
            seen = (row.status, row.rows_written, row.total_rows)
            if seen != last:
                last = seen
                yield BulkExport(row=row)


def _published(message: str, export_id: int) -> dict | None:
    """This export's progress message; {} when the job must be read (the backend resubscribed, or a message that
    does not parse); None for another export's."""
    try:
        data = json.loads(message)
        return data if data["id"] == export_id else None
    except (ValueError, KeyError, TypeError):
        return {}
