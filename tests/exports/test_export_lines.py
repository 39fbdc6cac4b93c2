"""On PostgreSQL, JSONL and Parquet exports are made from JSON lines the database writes (#20,
resolvers.bulk_exports.json_line_chunks). Those lines must be what the Python builder writes, byte for byte, for
every exportable field and every role's masking, on values that test the formats: text needing JSON escapes,
sub-second times, currencies with 0 and 3 places, a negative amount, an order without an address, lines and
shipments out of id order, several chunks, a filter."""

from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq
import pytest
from factories import NOW, build_world
from sqlmodel import select

from ordergraph.models import Customer, Order, OrderLine, Shipment
from ordergraph.models.bulk_export import BulkExportFormat
from ordergraph.models.database import Database
from ordergraph.models.enums import OrderStatus
from ordergraph.resolvers import bulk_exports, orders
from ordergraph.resolvers.access import Role
from ordergraph.server.bulk_exports import ParquetFromLinesWriter, ParquetWriter, export_plan

HOSTILE = 'PO "7" \\ \u0001\u001f\u007f\n\t \u202e\u2028 Jiří مرحبا \U0001f381 % _'
ENGRAVING, NAME = f"{HOSTILE} engraved", f"{HOSTILE} name"  # free text, personal data


def _every_field(fields: dict[str, Any]) -> dict[str, Any]:
    shape: dict[str, Any] = {}
    for name, spec in fields.items():
        if isinstance(spec, bulk_exports.Leaf):
            shape[name] = None
        elif isinstance(spec, bulk_exports.Children):
            shape[name] = [_every_field(spec.fields)]
        else:
            shape[name] = _every_field(spec.fields)
    return shape


EVERY_FIELD = bulk_exports.selection_text(_every_field(bulk_exports.ORDER))
SELECTIONS = [EVERY_FIELD, bulk_exports.DEFAULT_SELECTION, "shippingAddress { city } lines { lineTotal { amount } }"]


@pytest.fixture
async def db(database_factory) -> Any:
    if database_factory.backend != "postgresql":
        pytest.skip("the lines are PostgreSQL's")
    database = Database(await database_factory.new_url())
    world = await build_world(database)
    ids = sorted(pk for pks in world.orders.values() for pk in pks)
    async with database.write() as session:
        first, second, third = [await session.get_one(Order, pk) for pk in ids[:3]]
        first.purchase_order_number = HOSTILE[:64]
        first.placed_at = NOW + timedelta(microseconds=123450)
        first.promised_delivery_by = NOW + timedelta(microseconds=1)
        first.tax_minor = -7
        second.currency = "KWD"
        second.total_minor = 1_234_567
        third.currency = "JPY"
        for name in ("name", "line1", "line2", "city", "region", "postal_code", "country", "phone"):
            setattr(third, f"ship_{name}", None)
        customer = await session.get_one(Customer, first.customer_id)
        customer.name = NAME
        lines = (await session.exec(select(OrderLine).where(OrderLine.order_id == first.id))).all()
        lines[0].customization = ENGRAVING
        lines[0].currency = "BHD"
        lines[0].quantity += 2  # a line total that is not the unit price
        if len(lines) > 1:  # listed by line number, not by id
            lines[0].line_number, lines[-1].line_number = lines[-1].line_number, lines[0].line_number
        shipment = (await session.exec(select(Shipment))).first()
        assert shipment is not None
        shipment.delivered_at = NOW + timedelta(days=1, microseconds=999999)
        shipment.tracking_number = HOSTILE
    yield database
    await database.dispose()


async def _builders_lines(database: Database, query: bulk_exports.ExportQuery, role: Role) -> list[bytes]:
    plan = export_plan(query, role, BulkExportFormat.JSONL)
    return [
        orjson.dumps(record)
        async for chunk in bulk_exports.chunks(database.read, query, plan, chunk_size=7)
        for record in chunk
    ]


async def _database_lines(database: Database, query: bulk_exports.ExportQuery, role: Role) -> list[bytes]:
    plan = export_plan(query, role, BulkExportFormat.JSONL)
    chunks = bulk_exports.json_line_chunks(database.read, query, plan, chunk_size=7)
    return [line.encode() async for chunk in chunks for line in chunk]


@pytest.mark.parametrize("role", [Role.ANALYST, Role.ADMIN, Role.AGENT])
@pytest.mark.parametrize("selection", SELECTIONS)
async def test_the_databases_lines_are_the_builders_bytes(db: Database, role: Role, selection: str) -> None:
    query = bulk_exports.ExportQuery(orders.OrderFilter(), False, bulk_exports.parse_selection(selection))
    built = await _builders_lines(db, query, role)
    written = await _database_lines(db, query, role)
    assert len(built) > 14  # more than two chunks
    assert written == built
    if selection == EVERY_FIELD:  # the values meant to test the formats are there
        text = b"\n".join(written).decode()
        for value in ('"1234.567"', '"-0.07"', ".123450+00:00", ".000001+00:00", "\\u0001\\u001f\u007f\\n", "مرحبا"):
            assert value in text, value
        for hidden in (ENGRAVING, NAME):  # an analyst's lines hold neither
            assert (orjson.dumps(hidden).decode() in text) == (role is not Role.ANALYST)


async def test_a_filter_and_its_lists_choose_the_same_orders(db: Database) -> None:
    statuses = [OrderStatus.DELIVERED, OrderStatus.SHIPPED, OrderStatus.CANCELLED]
    query = bulk_exports.ExportQuery(orders.OrderFilter(statuses=statuses), False, bulk_exports.parse_selection(None))
    built = await _builders_lines(db, query, Role.ANALYST)
    assert 0 < len(built) < 56
    assert await _database_lines(db, query, Role.ANALYST) == built


@pytest.mark.parametrize("role", [Role.ANALYST, Role.ADMIN])
async def test_parquet_from_the_databases_lines_holds_the_builders_values(
    db: Database, role: Role, tmp_path: Path
) -> None:
    query = bulk_exports.ExportQuery(orders.OrderFilter(), False, bulk_exports.parse_selection(EVERY_FIELD))
    plan = export_plan(query, role, BulkExportFormat.PARQUET)
    from_dicts, from_lines = tmp_path / "dicts.parquet", tmp_path / "lines.parquet"
    writer = ParquetWriter(from_dicts, plan.columns)
    async for records in bulk_exports.chunks(db.read, query, plan, chunk_size=7):
        writer.write(records)
    writer.close()
    line_writer = ParquetFromLinesWriter(from_lines, plan.columns)
    async for lines in bulk_exports.json_line_chunks(db.read, query, plan, chunk_size=7):
        line_writer.write(lines)
    line_writer.close()
    expected, got = pq.read_table(from_dicts), pq.read_table(from_lines)
    assert got.schema == expected.schema
    assert got.to_pylist() == expected.to_pylist()
    assert got.num_rows == 56


@pytest.mark.parametrize("role", [Role.ANALYST, Role.ADMIN])
@pytest.mark.parametrize("selection", SELECTIONS)
async def test_the_databases_object_counts_are_the_builders(db: Database, role: Role, selection: str) -> None:
    """What the cost of a page of orders read as rows counts (schema/compiled.py), from SQL and from the dicts."""
    query = bulk_exports.ExportQuery(orders.OrderFilter(), False, bulk_exports.parse_selection(selection))
    plan = export_plan(query, role, BulkExportFormat.JSONL)
    built = [order async for chunk in bulk_exports.chunks(db.read, query, plan, chunk_size=100) for order in chunk]
    async with db.read() as session:
        ids = (await session.exec(select(Order.id))).all()
    counted = await bulk_exports.orders_by_id(db.read_connection, plan, [pk for pk in ids if pk is not None])
    assert [counted[n].objects for n in sorted(counted)] == [plan.count_objects(order) for order in built]
    assert {plan.count_objects(order) for order in built} != {1}
