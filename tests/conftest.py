"""Test fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL is required, never skipped: the run stops with a clear message when it is unreachable.
Each backend gets one migrated template per session; a test that needs a database of its own gets
a copy of it (CREATE DATABASE … TEMPLATE on PostgreSQL, a file copy on SQLite).
"""

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
import redis.asyncio as aioredis
from sqlalchemy.engine import make_url

from ordergraph.models.database import Database
from ordergraph.models.migrate import upgrade

POSTGRES_URL = os.environ.get("ORDERGRAPH_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("ORDERGRAPH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
BACKENDS = [b.strip() for b in os.environ.get("ORDERGRAPH_TEST_BACKENDS", "sqlite,postgresql").split(",") if b.strip()]


def _pg_dsn(database: str | None = None) -> str:
    url = make_url(POSTGRES_URL).set(drivername="postgresql")
    if database:
        url = url.set(database=database)
    return url.render_as_string(hide_password=False)


def pytest_sessionstart(session: pytest.Session) -> None:
    """The production half (PostgreSQL and Redis) is required: stop with a clear message, never skip."""
    if "postgresql" not in BACKENDS:
        return

    async def probe_postgres() -> None:
        conn = await asyncpg.connect(_pg_dsn(), timeout=5)
        await conn.close()

    async def probe_redis() -> None:
        client = aioredis.from_url(REDIS_URL, socket_connect_timeout=5)
        try:
            await client.ping()
        finally:
            await client.aclose()

    for name, url, probe, variable in (
        ("PostgreSQL", POSTGRES_URL, probe_postgres, "ORDERGRAPH_TEST_POSTGRES_URL"),
        ("Redis", REDIS_URL, probe_redis, "ORDERGRAPH_TEST_REDIS_URL"),
    ):
        try:
            asyncio.run(probe())
        except Exception as exc:  # noqa: BLE001  (any failure to connect means the same to the person running tests)
            pytest.exit(
                f"{name} is unreachable at {url} ({exc!r}). The suite runs on SQLite and on PostgreSQL with Redis;"
                f" start {name} or point {variable} at one.",
                returncode=3,
            )


class DatabaseFactory:
    """Hands out migrated, empty databases of one backend, each a copy of a template migrated once."""

    def __init__(self, backend: str, workdir) -> None:
        self.backend = backend
        self.workdir = workdir
        self.run_id = uuid.uuid4().hex[:8]
        self.template: str | None = None
        self.created: list[str] = []

    async def _admin(self) -> asyncpg.Connection:
        return await asyncpg.connect(_pg_dsn())

    async def _prepare_template(self) -> None:
        if self.backend == "sqlite":
            self.template = str(self.workdir / "template.db")
            url = f"sqlite:///{self.template}"
        else:
            self.template = f"og_test_{self.run_id}_template"
            admin = await self._admin()
            await admin.execute(f'CREATE DATABASE "{self.template}"')
            await admin.close()
            self.created.append(self.template)
            url = _pg_dsn(self.template)
        db = Database(url)
        await upgrade(db)
        await db.dispose()

    async def new_url(self) -> str:
        if self.template is None:
            await self._prepare_template()
        name = f"og_test_{self.run_id}_{len(self.created)}"
        self.created.append(name)  # numbered on both backends: two tests must never share a database
        if self.backend == "sqlite":
            path = self.workdir / f"{name}.db"
            shutil.copyfile(self.template, path)
            return f"sqlite:///{path}"
        admin = await self._admin()
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        await admin.close()
        return _pg_dsn(name)

    async def new(self) -> Database:
        return Database(await self.new_url())

    async def drop_all(self) -> None:
        if self.backend != "postgresql" or not self.created:
            return
        admin = await self._admin()
        for name in reversed(self.created):
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(scope="session", params=BACKENDS)
async def database_factory(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[DatabaseFactory]:
    factory = DatabaseFactory(request.param, tmp_path_factory.mktemp(request.param))
    yield factory
    await factory.drop_all()


@pytest.fixture
async def empty_db(database_factory: DatabaseFactory) -> AsyncIterator[Database]:
    """A migrated database of its own (postal codes loaded, nothing else)."""
    db = await database_factory.new()
    yield db
    await db.dispose()


# The API as a client sees it: a real app (lifespan included) over a database with known data.

import contextlib  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import datetime  # noqa: E402

import httpx  # noqa: E402
from contract import document  # noqa: E402
from factories import NOW, World, build_shop, build_world  # noqa: E402
from sqlalchemy import event  # noqa: E402
from starlette.applications import Starlette  # noqa: E402

from ordergraph.resolvers.access import Role  # noqa: E402
from ordergraph.schema.node import encode_global_id  # noqa: E402
from ordergraph.server.app import create_app  # noqa: E402
from ordergraph.server.auth import issue_token  # noqa: E402
from ordergraph.server.settings import Settings  # noqa: E402

TEST_SECRET = "test-secret-for-ordergraph-tests-only"


@dataclass
class Api:
    client: httpx.AsyncClient
    app: Starlette
    world: World
    backend: str

    @property
    def db(self) -> Database:
        return self.app.state.services.db

    def set_clock(self, moment: datetime) -> None:
        self.app.state.services.clock = lambda: moment

    def token(self, role: str, customer: str | None = None, *, ttl: int = 3600, secret: str = TEST_SECRET) -> str:
        subject = encode_global_id("Customer", self.world.customers[customer]) if customer else f"{role}:tester"
        return issue_token(secret, role=Role(role), subject=subject, name=f"Test {role}", ttl_seconds=ttl)

    async def post(self, query: str, variables: dict | None = None, *, token: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return await self.client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)

    async def run(self, operation: str, variables: dict | None = None, *, token: str | None = None) -> dict:
        """A contract operation by name; returns the response body (status 200 asserted)."""
        response = await self.post(document(operation), variables, token=token)
        assert response.status_code == 200, response.text
        return response.json()

    @contextlib.contextmanager
    def statements(self):
        """Counts the SQL statements the app sends while the block runs."""
        executed: list[str] = []
        engines = [engine.sync_engine for engine in self.app.state.services.db.engines]

        def record(_conn, _cursor, statement, *_args) -> None:
            executed.append(statement)

        for engine in engines:
            event.listen(engine, "before_cursor_execute", record)
        try:
            yield executed
        finally:
            for engine in engines:
                event.remove(engine, "before_cursor_execute", record)


@contextlib.asynccontextmanager
async def serving(url: str, world: World, backend: str, **settings: object) -> AsyncIterator[Api]:
    """The app on `url`: with the in-memory broadcast on SQLite, with Redis on PostgreSQL, under a prefix of its own
    so that apps and test runs sharing the Redis never hear each other's events or share cost buckets."""
    broadcast = (
        {"broadcast_url": REDIS_URL, "redis_prefix": f"ordergraph-test-{uuid.uuid4().hex[:12]}"}
        if backend == "postgresql"
        else {"broadcast_url": "memory://"}
    )
    app = create_app(Settings(**{"database_url": url, "jwt_secret": TEST_SECRET, **broadcast, **settings}))
    app.state.services.clock = lambda: NOW
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ordergraph.test") as client:
            yield Api(client, app, world, backend)


@pytest.fixture(scope="session")
async def api(database_factory: DatabaseFactory) -> AsyncIterator[Api]:
    """The read side's world, shared by every test that only reads."""
    url = await database_factory.new_url()
    db = Database(url)
    world = await build_world(db)
    await db.dispose()
    async with serving(url, world, database_factory.backend) as served:
        yield served


@pytest.fixture
async def shop(database_factory: DatabaseFactory) -> AsyncIterator[Api]:
    """A shop of its own to place and change orders in (tests.factories.build_shop), its clock at NOW."""
    url = await database_factory.new_url()
    db = Database(url)
    world = await build_shop(db)
    await db.dispose()
    async with serving(url, world, database_factory.backend) as served:
        yield served


@pytest.fixture
def open_shop(database_factory: DatabaseFactory):
    """Opens a shop like `shop`'s, served with settings of the test's own:
    `async with open_shop(smtp_host="127.0.0.1", smtp_port=port) as shop: …`."""

    @contextlib.asynccontextmanager
    async def opened(**settings: object) -> AsyncIterator[Api]:
        url = await database_factory.new_url()
        db = Database(url)
        world = await build_shop(db)
        await db.dispose()
        async with serving(url, world, database_factory.backend, **settings) as served:
            yield served

    return opened


@pytest.fixture(scope="session", autouse=True)
def notification_outbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Apps under test have no SMTP server or SMS endpoint, so their notifiers write messages to the outbox folder:
    this session's own, not ./outbox. Server processes that tests start inherit it."""
    folder = tmp_path_factory.mktemp("outbox")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ORDERGRAPH_NOTIFICATION_OUTBOX", str(folder))
        yield folder


@pytest.fixture(scope="session", autouse=True)
def bulk_export_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Exports that tests start are written to this session's own folder, not ./exports."""
    folder = tmp_path_factory.mktemp("exports")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ORDERGRAPH_BULK_EXPORT_DIR", str(folder))
        yield folder
