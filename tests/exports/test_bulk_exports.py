"""Bulk exports (#20): an analyst's file holds every matching order and no personal data, in each format; the
download link is signed and expires; progress is pushed to a subscriber; a job whose worker died is taken over or
fails with a code; bad input creates nothing."""

import asyncio
import contextlib
import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import redis.asyncio as aioredis
import sqlalchemy as sa
from conftest import TEST_SECRET, Api, serving
from contract import document
from factories import NOW, build_world
from test_live_harness import LiveClient, LiveStream, serving_on_a_port

from ordergraph.models import BulkExport
from ordergraph.models.bulk_export import BulkExportStatus
from ordergraph.models.columns import utcnow
from ordergraph.models.database import Database
from ordergraph.resolvers.access import Role
from ordergraph.resolvers.bulk_exports import progress_channel
from ordergraph.resolvers.signed_links import DocumentLink, DocumentPurpose, sign
from ordergraph.schema.bulk_exports import parse_export_id
from ordergraph.schema.node import encode_global_id
from ordergraph.server.auth import issue_token
from ordergraph.subscriptions.wire import order_events_channel

# Only a guard against a test hanging for ever: no test asserts how fast an export finishes.
PATIENCE_POLLS = 600
PERSONAL = ("Example", "example.com", "+1212555", "10 Main St")
ORDER_COUNT = 56  # the world's: alice 5, bob 50, carol 1


@pytest.fixture
async def bi(database_factory, tmp_path: Path) -> AsyncIterator[Api]:
    """The read side's world, served with exports written to a folder of the test's own, polled often."""
    url = await database_factory.new_url()
    db = Database(url)
    world = await build_world(db)
    await db.dispose()
    settings = {"bulk_export_dir": tmp_path / "exports", "bulk_export_poll_seconds": 0.05}
    async with serving(url, world, database_factory.backend, **settings) as served:
        yield served


async def start(api: Api, token: str, fmt: str, query: dict | None = None) -> dict:
    body = await api.run("StartBulkExport", {"query": query or {}, "format": fmt}, token=token)
    assert "errors" not in body, body
    return body["data"]["startBulkExport"]


async def finished(api: Api, token: str, export_id: str) -> dict:
    for _ in range(PATIENCE_POLLS):
        body = await api.run("BulkExportStatus", {"id": export_id}, token=token)
        job = body["data"]["bulkExport"]
        if job["status"] in ("COMPLETED", "FAILED"):
            return job
        await asyncio.sleep(0.05)
    raise AssertionError(f"export {export_id} did not finish: {job}")


async def download(api: Api, url: str) -> bytes:
    response = await api.client.get(url.removeprefix("http://localhost:8000"))
    assert response.status_code == 200, response.text
    return response.content


async def export_file(api: Api, fmt: str, query: dict | None = None, role: str = "analyst") -> tuple[dict, bytes]:
    token = api.token(role)
    started = await start(api, token, fmt, query)
    assert started["userErrors"] == []
    job = await finished(api, token, started["bulkExport"]["id"])
    assert job["status"] == "COMPLETED", job
    return job, await download(api, job["downloadUrl"])


def export_pk(export_id: str) -> int:
    return parse_export_id(export_id)


def jsonl_rows(content: bytes) -> list[dict]:
    return [json.loads(line) for line in content.decode().splitlines()]


async def test_an_analysts_jsonl_export_holds_every_order_in_the_selections_shape_without_personal_data(bi):
    job, content = await export_file(bi, "JSONL")
    rows = jsonl_rows(content)
    assert len(rows) == job["rowsWritten"] == job["totalRows"] == ORDER_COUNT
    assert job["percent"] == 100.0
    assert int(job["fileBytes"]) == len(content)
    # The OrdersExport selection, shaped as the graph answers it, in order id order.
    page = (await bi.run("OrdersExport", {"first": 100}, token=bi.token("analyst")))["data"]["orders"]["edges"]
    by_number = {edge["node"]["number"]: edge["node"] for edge in page}
    for row in rows:
        node = by_number[row["number"]]
        assert row["id"] == node["id"]
        assert row["status"] == node["status"]
        assert row["total"] == node["total"]
        assert row["customer"] == {"id": node["customer"]["id"], "email": None}
        assert row["lines"] == [
            {k: line[k] for k in ("sku", "quantity", "quantityReturned", "lineTotal")} for line in node["lines"]
        ]
        assert row["shipments"] == node["shipments"]
    assert not any(text in content.decode() for text in PERSONAL)


@pytest.mark.parametrize("fmt", ["JSONL", "CSV", "PARQUET"])
async def test_personal_data_selected_by_an_analyst_is_null_in_every_format(bi, fmt):
    selection = (
        "number customer { name email phone } shippingAddress { name line1 city phone } lines { sku customization }"
    )
    job, content = await export_file(bi, fmt, {"selection": selection})
    assert job["rowsWritten"] == ORDER_COUNT
    if fmt == "JSONL":
        rows = jsonl_rows(content)
        assert {json.dumps(r["customer"]) for r in rows} == {json.dumps({"name": None, "email": None, "phone": None})}
        assert {r["shippingAddress"] is None for r in rows} == {True}
    elif fmt == "CSV":
        rows = list(csv.DictReader(io.StringIO(content.decode())))
        assert len(rows) == ORDER_COUNT
        assert {r["customer.email"] for r in rows} == {""}
        assert "shippingAddress.line1" in rows[0]
    else:
        table = pq.read_table(io.BytesIO(content))
        assert table.num_rows == ORDER_COUNT
        assert table.column("customer").to_pylist()[0] == {"name": None, "email": None, "phone": None}
        assert set(table.column("shippingAddress").to_pylist()) == {None}
    assert not any(text.encode() in content for text in PERSONAL)


async def test_an_admins_export_holds_personal_data_and_the_filter_decides_the_rows(bi):
    customer = encode_global_id("Customer", bi.world.customers["alice"])
    query = {"filter": {"customerId": customer}, "selection": "number customer { email } shippingAddress { line1 }"}
    job, content = await export_file(bi, "PARQUET", query, role="admin")
    rows = pq.read_table(io.BytesIO(content)).to_pylist()
    assert len(rows) == job["rowsWritten"] == 5
    assert {r["customer"]["email"] for r in rows} == {"alice@example.com"}
    assert {r["shippingAddress"]["line1"] for r in rows} == {"10 Main St"}


async def test_the_row_count_matches_the_orders_filter(bi):
    token = bi.token("analyst")
    query = {"filter": {"status": ["SHIPPED"]}, "selection": "number status"}
    job, content = await export_file(bi, "CSV", query)
    listed = await bi.run("OrdersExport", {"first": 100, "filter": {"status": ["SHIPPED"]}}, token=token)
    numbers = sorted(edge["node"]["number"] for edge in listed["data"]["orders"]["edges"])
    rows = list(csv.DictReader(io.StringIO(content.decode())))
    assert sorted(r["number"] for r in rows) == numbers
    assert job["rowsWritten"] == len(numbers) > 0
    assert {r["status"] for r in rows} == {"SHIPPED"}


async def test_the_download_link_is_signed_expires_and_opens_only_its_owners_export(bi):
    job, _ = await export_file(bi, "JSONL", {"selection": "number"})
    url = job["downloadUrl"]
    token = url.rsplit("/", 1)[1]
    # Tampered: 403.
    payload, signature = token.split(".")
    tampered = await bi.client.get(f"/exports/{payload}.{signature[:-2]}AA")
    assert (tampered.status_code, tampered.json()["error"]) == (403, "INVALID_LINK")
    # Another export's id under this link's signature: 403. A link for something else (an invoice): 403.
    export_id = export_pk(job["id"])
    other = sign(DocumentLink(DocumentPurpose.INVOICE, str(export_id), utcnow() + timedelta(hours=1)), TEST_SECRET)
    assert (await bi.client.get(f"/exports/{other}")).status_code == 403
    # Expired: 410.
    expired = sign(
        DocumentLink(DocumentPurpose.BULK_EXPORT, str(export_id), utcnow() - timedelta(seconds=1)), TEST_SECRET
    )
    gone = await bi.client.get(f"/exports/{expired}")
    assert (gone.status_code, gone.json()["error"]) == (410, "LINK_EXPIRED")
    # The export link does not open a document at /d/ either.
    assert (await bi.client.get(f"/d/{token}")).status_code == 403
    # Another analyst cannot read the export (nor its link): null, as for one that does not exist.
    stranger = issue_token(TEST_SECRET, role=Role.ANALYST, subject="analyst:other", name="Other", ttl_seconds=600)
    body = await bi.run("BulkExportStatus", {"id": job["id"]}, token=stranger)
    assert body["data"]["bulkExport"] is None


async def test_progress_is_pushed_to_a_subscriber_until_completion(bi):
    token = bi.token("analyst")
    async with serving_on_a_port(bi.app) as ws_url, LiveClient.connect(ws_url, token) as client:
        # Held back while the subscription opens: the worker polls a table it cannot see yet.
        async with held_worker(bi):
            started = await start(bi, token, "JSONL", {"selection": "number lines { sku }"})
            stream = await subscribe_progress(client, started["bulkExport"]["id"])
            first = await stream.next()
            assert first["status"] == "QUEUED"
            await progress_channel_live(bi)
        seen = [first]
        while seen[-1]["status"] not in ("COMPLETED", "FAILED"):
            seen.append(await stream.next())
        assert seen[-1]["status"] == "COMPLETED"
        assert seen[-1]["rowsWritten"] == ORDER_COUNT
        assert seen[-1]["percent"] == 100.0
        assert any(update["status"] == "RUNNING" for update in seen)
        assert (await stream.message())["type"] == "complete"


PROGRESS = (
    "subscription BulkExportProgressUpdates($id: ID!) { bulkExport(id: $id) { id status rowsWritten totalRows percent "
    "errorCode } }"
)


async def subscribe_progress(client: LiveClient, export_id: str) -> LiveStream:
    """The progress subscription as a BI tool would open it (the contract's BulkExportProgress fields)."""
    stream = LiveStream(client, "progress")
    client._streams[stream.id] = stream
    payload = {"query": PROGRESS, "operationName": "BulkExportProgressUpdates", "variables": {"id": export_id}}
    await client.ws.send(json.dumps({"id": stream.id, "type": "subscribe", "payload": payload}))
    return stream


async def progress_channel_live(api: Api) -> None:
    """Until Redis has this process's subscription to the progress channel (the backend subscribes new channels on
    its next turn; the in-memory broadcast at once)."""
    settings = api.app.state.services.settings
    if api.backend != "postgresql":
        return
    channel = progress_channel(order_events_channel(settings.redis_prefix))
    client = aioredis.from_url(settings.broadcast_url)
    try:
        for _ in range(PATIENCE_POLLS):
            if dict(await client.pubsub_numsub(channel)).get(channel.encode(), 0) > 0:
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the progress channel was never subscribed")
    finally:
        await client.aclose()


@contextlib.asynccontextmanager
async def held_worker(api: Api) -> AsyncIterator[None]:
    worker = api.app.state.services.bulk_exports
    await worker.stop()
    try:
        yield
    finally:
        worker._stopping = False
        worker.start()


async def set_job(api: Api, export_id: str, **values) -> None:
    pk = export_pk(export_id)
    async with api.db.write() as session:
        await session.exec(sa.update(BulkExport).where(BulkExport.id == pk).values(**values))


async def test_a_job_whose_worker_died_is_taken_over_and_completes(bi):
    token = bi.token("analyst")
    async with held_worker(bi):
        started = await start(bi, token, "PARQUET", {"selection": "number"})
        export_id = started["bulkExport"]["id"]
        # What a process that died mid-way leaves: RUNNING, its attempt counted, part written, the lease run out.
        await set_job(
            bi,
            export_id,
            status=BulkExportStatus.RUNNING,
            attempts=1,
            rows_written=7,
            total_rows=ORDER_COUNT,
            lease_until=NOW - timedelta(minutes=1),
        )
        (Path(bi.app.state.services.settings.bulk_export_dir)).mkdir(parents=True, exist_ok=True)
    job = await finished(bi, token, export_id)
    assert job["status"] == "COMPLETED"
    assert job["rowsWritten"] == ORDER_COUNT
    content = await download(bi, job["downloadUrl"])
    assert pq.read_table(io.BytesIO(content)).num_rows == ORDER_COUNT


async def test_a_running_job_with_a_live_lease_is_left_to_its_worker(bi):
    token = bi.token("analyst")
    async with held_worker(bi):
        started = await start(bi, token, "CSV", {"selection": "number"})
        export_id = started["bulkExport"]["id"]
        await set_job(
            bi, export_id, status=BulkExportStatus.RUNNING, attempts=1, lease_until=utcnow() + timedelta(hours=1)
        )
    assert await bi.app.state.services.bulk_exports.run_once() is False
    body = await bi.run("BulkExportStatus", {"id": export_id}, token=token)
    assert body["data"]["bulkExport"]["status"] == "RUNNING"


async def test_a_job_whose_workers_keep_dying_fails_cleanly_with_a_code(bi):
    token = bi.token("analyst")
    async with held_worker(bi):
        started = await start(bi, token, "JSONL", {"selection": "number"})
        export_id = started["bulkExport"]["id"]
        await set_job(
            bi, export_id, status=BulkExportStatus.RUNNING, attempts=3, lease_until=NOW - timedelta(minutes=1)
        )
    job = await finished(bi, token, export_id)
    assert (job["status"], job["errorCode"]) == ("FAILED", "WORKER_LOST")
    assert job["downloadUrl"] is None


async def count_jobs(api: Api) -> int:
    async with api.db.read() as session:
        return (await session.exec(sa.select(sa.func.count()).select_from(BulkExport))).one()[0]


@pytest.mark.parametrize(
    ("selection", "code"),
    [
        ("number password", "INVALID_SELECTION"),  # not in the schema
        ("number timeline { edges { node { message } } }", "INVALID_SELECTION"),  # not exportable
        ("total", "INVALID_SELECTION"),  # an object without a selection
        ("number { x }", "INVALID_SELECTION"),  # a scalar with one
        ("n: number", "INVALID_SELECTION"),  # aliases
        ("...F", "INVALID_SELECTION"),
        ("number }", "INVALID_SELECTION"),  # not GraphQL
        (" ".join(["number"] * 150), "SELECTION_TOO_LARGE"),
    ],
)
async def test_a_bad_selection_is_refused_with_a_code_and_creates_nothing(bi, selection, code):
    before = await count_jobs(bi)
    payload = await start(bi, bi.token("analyst"), "JSONL", {"selection": selection})
    assert payload["bulkExport"] is None
    assert [e["code"] for e in payload["userErrors"]] == [code]
    assert await count_jobs(bi) == before


async def test_bad_input_is_refused_with_a_code_and_creates_nothing(bi):
    before = await count_jobs(bi)
    analyst = bi.token("analyst")
    unknown_format = await bi.post(document("StartBulkExport"), {"query": {}, "format": "XLSX"}, token=analyst)
    assert unknown_format.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    oversize = await bi.post(
        document("StartBulkExport"), {"query": {"selection": "number " * 1000}, "format": "CSV"}, token=analyst
    )
    assert oversize.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    # An analyst's search by personal data is refused as in `orders(filter:)`.
    personal = await bi.post(
        document("StartBulkExport"),
        {"query": {"filter": {"search": "alice@example.com"}}, "format": "CSV"},
        token=analyst,
    )
    assert personal.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    for role in ("agent", "customer"):
        token = bi.token(role, "alice" if role == "customer" else None)
        refused = await bi.post(document("StartBulkExport"), {"query": {}, "format": "CSV"}, token=token)
        assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await count_jobs(bi) == before


async def test_an_owner_may_have_only_a_few_exports_waiting(bi):
    token = bi.token("analyst")
    async with held_worker(bi):
        for _ in range(3):
            assert (await start(bi, token, "CSV", {"selection": "number"}))["userErrors"] == []
        refused = await start(bi, token, "CSV", {"selection": "number"})
    assert [e["code"] for e in refused["userErrors"]] == ["TOO_MANY_EXPORTS"]


async def test_an_export_survives_a_restart_of_its_server(database_factory, tmp_path: Path):
    """The server stops mid-export (it hands the export back); the next one to start runs it again to the end."""
    url = await database_factory.new_url()
    db = Database(url)
    world = await build_world(db)
    await db.dispose()
    settings = {"bulk_export_dir": tmp_path, "bulk_export_poll_seconds": 0.05, "bulk_export_chunk_orders": 1}
    async with serving(url, world, database_factory.backend, **settings) as first:
        token = first.token("analyst")
        export_id = (await start(first, token, "JSONL", {"selection": "number lines { sku }"}))["bulkExport"]["id"]
        for _ in range(PATIENCE_POLLS):
            job = (await first.run("BulkExportStatus", {"id": export_id}, token=token))["data"]["bulkExport"]
            if job["rowsWritten"] > 0:
                break
            await asyncio.sleep(0.01)
    assert (job["status"], job["rowsWritten"] > 0) == ("RUNNING", True)
    async with serving(url, world, database_factory.backend, **settings) as second:
        job = await finished(second, token, export_id)
        assert job["status"] == "COMPLETED"
        rows = jsonl_rows(await download(second, job["downloadUrl"]))
    assert len(rows) == job["rowsWritten"] == ORDER_COUNT
    assert len({row["number"] for row in rows}) == ORDER_COUNT  # each order once: the lost attempt's part is gone
    assert [p.name for p in tmp_path.iterdir()] == [f"export-{export_pk(export_id)}.jsonl"]


def test_every_exportable_field_is_a_field_of_the_graph():
    """A selection means what it means in the graph: each exportable field exists there, at the same path."""
    from graphql import get_named_type

    from ordergraph.resolvers.bulk_exports import ORDER, Children, Group
    from ordergraph.schema.build import build_schema

    schema = build_schema(None)._schema

    def missing(type_name: str, fields: dict) -> list[str]:
        graph_fields = schema.type_map[type_name].fields
        found = []
        for name, spec in fields.items():
            if name not in graph_fields:
                found.append(f"{type_name}.{name}")
            elif isinstance(spec, Group | Children):
                found += missing(get_named_type(graph_fields[name].type).name, spec.fields)
        return found

    assert missing("Order", ORDER) == []


@pytest.mark.parametrize(
    "query",
    [
        {"selection": "number\u0000"},
        {"selection": "number \u001b[31mstatus"},
        {"filter": {"search": "ORD-\u0000"}},
        {"filter": {"search": "x" * 10_000}},
        {"filter": {"placedAfter": "yesterday"}},
    ],
)
async def test_hostile_bytes_in_an_export_query_are_refused_with_a_code_and_create_nothing(bi, query):
    before = await count_jobs(bi)
    response = await bi.post(
        document("StartBulkExport"), {"query": query, "format": "JSONL"}, token=bi.token("analyst")
    )
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
    assert await count_jobs(bi) == before
