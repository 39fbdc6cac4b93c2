"""Running it in production (issue 22): liveness and readiness, the migration check at start, request ids in
headers, errors and log lines, and a PostgreSQL outage answered SERVICE_UNAVAILABLE (a real PostgreSQL behind a
TCP proxy this test stops and starts)."""

import asyncio
import contextlib
import json
import os
import sys
import uuid

import asyncpg
import pytest
from conftest import BACKENDS, TEST_SECRET, Api, _pg_dsn
from contract import document
from test_live_harness import PATIENCE_SECONDS
from test_placement import order_input

from ordergraph.models.database import Database
from ordergraph.models.migrate import upgrade
from ordergraph.server.app import create_app
from ordergraph.server.readiness import DatabaseBehind
from ordergraph.server.settings import Settings

GRAPHQL_RESPONSE = "application/graphql-response+json"
postgresql_only = pytest.mark.parametrize("database_factory", [b for b in BACKENDS if b == "postgresql"], indirect=True)


async def test_healthz_is_alive_and_readyz_ready(shop: Api) -> None:
    health = await shop.client.get("/healthz")
    assert (health.status_code, health.json()) == (200, {"status": "ok", "database": "ok", "broadcast": "ok"})
    ready = await shop.client.get("/readyz")
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})


async def test_readyz_is_unready_while_draining(shop: Api) -> None:
    shop.app.state.services.draining = True
    try:
        ready = await shop.client.get("/readyz")
    finally:
        shop.app.state.services.draining = False
    assert (ready.status_code, ready.json()) == (503, {"status": "unready", "reasons": ["draining"]})


async def test_a_sane_request_id_is_kept_and_any_other_replaced(shop: Api) -> None:
    kept = await shop.client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.42"})
    assert kept.headers["x-request-id"] == "lb-7f3a.42"
    for insane in ("", "a b", "x" * 200, "ünïcode"):
        replaced = await shop.client.get("/healthz", headers={"X-Request-ID": insane.encode()})
        assert replaced.headers["x-request-id"] not in ("", insane)
        assert len(replaced.headers["x-request-id"]) == 32


async def test_every_error_names_its_request(shop: Api) -> None:
    # An error while executing, a refusal before execution, and a request that is not GraphQL.
    alice = shop.token("customer", "alice")
    not_hers = await shop.client.post(
        "/graphql",
        json={"query": document("MyOrderDetail"), "variables": {"id": "not-an-id"}},
        headers={"Authorization": f"Bearer {alice}", "X-Request-ID": "req-detail-1"},
    )
    unparsable = await shop.client.post("/graphql", json={"query": "{"}, headers={"X-Request-ID": "req-parse-1"})
    batch = await shop.client.post("/graphql", json=[{"query": "{__typename}"}], headers={"X-Request-ID": "req-batch"})
    for response, request_id in ((not_hers, "req-detail-1"), (unparsable, "req-parse-1"), (batch, "req-batch")):
        errors = response.json()["errors"]
        assert errors, response.text
        assert {e["extensions"]["requestId"] for e in errors} == {request_id}, response.text
        assert response.headers["x-request-id"] == request_id


@postgresql_only
async def test_starting_on_a_postgresql_database_behind_the_migrations_refuses_to_serve(database_factory) -> None:
    name = f"og_test_behind_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(_pg_dsn())
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    try:
        url = _pg_dsn(name)
        for revision in (None, "0001"):
            if revision:
                db = Database(url)
                await upgrade(db, revision)
                await db.dispose()
            app = create_app(Settings(database_url=url, jwt_secret=TEST_SECRET))
            with pytest.raises(DatabaseBehind, match=r"ordergraph db upgrade") as refused:
                async with app.router.lifespan_context(app):
                    pytest.fail("served a database behind the code")
            assert ("an empty database" in str(refused.value)) == (revision is None)
        # `ordergraph serve` says so once and exits, before starting any worker.
        served = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "ordergraph.server.cli",
            "serve",
            "--workers",
            "2",
            "--port",
            "1",
            env={**os.environ, "ORDERGRAPH_DATABASE_URL": url},
            stderr=asyncio.subprocess.PIPE,
        )
        _, stderr = await asyncio.wait_for(served.communicate(), PATIENCE_SECONDS)
        assert served.returncode == 1
        assert b"behind this code's" in stderr
        assert b"ordergraph db upgrade" in stderr
        db = Database(url)
        await upgrade(db)
        await db.dispose()
        app = create_app(Settings(database_url=url, jwt_secret=TEST_SECRET))
        async with app.router.lifespan_context(app):
            pass  # at head: it serves
    finally:
        admin = await asyncpg.connect(_pg_dsn())
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


class TcpProxy:
    """Forwards a loopback port to PostgreSQL; `stop` refuses new connections and cuts the open ones, as an
    outage would; `start` again on the same port."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port: int | None = None
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._forward, "127.0.0.1", self.port or 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self.writers):
            writer.transport.abort()
        await self.server.wait_closed()

    async def _forward(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            client_writer.transport.abort()
            return
        self.writers |= {client_writer, upstream_writer}

        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            writer.transport.abort()

        await asyncio.gather(pipe(client_reader, upstream_writer), pipe(upstream_reader, client_writer))
        self.writers -= {client_writer, upstream_writer}


@postgresql_only
async def test_while_postgresql_is_unreachable_requests_are_told_to_retry(open_shop, capsys) -> None:
    from sqlalchemy.engine import make_url

    async with open_shop() as seeded:
        url = make_url(seeded.app.state.services.settings.database_url)
        world = seeded.world
    proxy = TcpProxy(url.port or 5432)
    await proxy.start()
    proxied = url.set(port=proxy.port).render_as_string(hide_password=False)
    app = create_app(Settings(database_url=proxied, jwt_secret=TEST_SECRET, log_format="json"))
    import httpx

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ordergraph.test") as client:
            shop = Api(client, app, world, "postgresql")
            alice, agent = shop.token("customer", "alice"), shop.token("agent")
            history = {"query": document("MyOrderHistory"), "variables": {"first": 5}}
            assert "errors" not in (await client.post("/graphql", json=history, headers=_auth(alice))).json()

            await proxy.stop()
            # A customer's query (the result cache's version read fails before execution), an agent's query
            # (fails in a resolver), and a placement, in both media types.
            placing = {"query": document("PlaceOrder"), "variables": {"input": order_input(key="outage-1")}}
            requests = [
                (history, alice),
                ({"query": document("SearchOrders"), "variables": {"first": 5}}, agent),
                (placing, alice),
            ]
            for number, (body, token) in enumerate(requests):
                request_id = f"outage-{number}"
                modern = await client.post(
                    "/graphql",
                    json=body,
                    headers={**_auth(token), "Accept": GRAPHQL_RESPONSE, "X-Request-ID": request_id},
                )
                assert modern.status_code == 503, modern.text
                assert modern.headers["retry-after"] == "5"
                assert modern.headers["content-type"].startswith(GRAPHQL_RESPONSE)
                codes = {e["extensions"]["code"] for e in modern.json()["errors"]}
                assert codes == {"SERVICE_UNAVAILABLE"}, modern.text
                assert {e["extensions"]["requestId"] for e in modern.json()["errors"]} == {request_id}
                legacy = await client.post("/graphql", json=body, headers=_auth(token))
                assert legacy.status_code == 200
                assert legacy.headers["retry-after"] == "5"
                assert {e["extensions"]["code"] for e in legacy.json()["errors"]} == {"SERVICE_UNAVAILABLE"}

            health = await client.get("/healthz")
            assert health.status_code == 200  # alive: restarting it would not bring PostgreSQL back
            assert health.json() == {"status": "degraded", "database": "unavailable", "broadcast": "ok"}
            ready = await client.get("/readyz")
            assert ready.status_code == 503
            assert "database unreachable" in ready.json()["reasons"]
            assert "Error" not in health.text + ready.text  # no exception class names

            await proxy.start()
            body = (await client.post("/graphql", json=history, headers=_auth(alice))).json()
            assert "errors" not in body, body
            assert (await client.get("/readyz")).status_code == 200
    await proxy.stop()

    # The outage's log lines are JSON, each naming the request it happened in.
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    unavailable = [line for line in lines if line["message"].startswith("service unavailable")]
    assert {line["request_id"] for line in unavailable} >= {"outage-0", "outage-1", "outage-2"}


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
