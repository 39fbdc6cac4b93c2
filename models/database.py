"""The database engine and its sessions, on SQLite (embedded default) or PostgreSQL.

Reads use `read()`; every change goes through `write()`, one transaction that commits or rolls back
whole. On SQLite a write transaction starts with BEGIN IMMEDIATE, so a second writer waits (busy
timeout) for the first instead of failing with SQLITE_BUSY half-way through; WAL lets readers go on
meanwhile.

On PostgreSQL a read session runs in autocommit: each statement is its own transaction, with no BEGIN and
ROLLBACK around it, so a loader's batch is one round trip. That reads exactly what it did inside a transaction:
under READ COMMITTED every statement takes its own snapshot either way, and a request's loaders never shared a
session. Connections are not pinged at checkout (three round trips each time); they are recycled after
RECYCLE_SECONDS, and one that fails as disconnected fails its statement and has the pool replace every
connection opened before it.

On PostgreSQL reads and writes have pools of their own (`engines`), each of `pool_size` connections and as many
again in a burst. The requests' databases give their read pool no overflow (`read_overflow=0`): an overflow
connection is closed when it comes back to a full pool, so under sustained concurrency every burst opened and
closed connections (a TCP connect, startup and SSL negotiation each), which cost MyOrderHistory 30% of its
throughput at 16 concurrent requests (37.8 vs 53.8 req/s in process). Reads wait for a pooled connection instead.
That cannot deadlock: a read session never waits for a write connection, and a change that reads while it holds
its write connection takes the read from the other pool.

Case-insensitive search (`ilike`) must fold every letter, not only ASCII ("ŠŤASTNÝ" finds "Jiří Šťastný").
PostgreSQL does; SQLite's built-in lower() folds ASCII only, so every SQLite connection replaces it with Python's
str.lower (`_lower`), which fixes every `ilike` with no SQL change. Rule: no expression index on lower() on
SQLite, since such an index would be built by whichever lower() the writing connection had.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel.ext.asyncio.session import AsyncSession

_WRITE_OPTION = "ordergraph_write"
RECYCLE_SECONDS = 1800


def async_url(url: str) -> str:
    """Accept the URLs people write (postgresql://, sqlite:///) and pick the async driver."""
    parsed = make_url(url)
    driver = {"postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg", "sqlite": "sqlite+aiosqlite"}
    if parsed.drivername in driver:
        parsed = parsed.set(drivername=driver[parsed.drivername])
    return parsed.render_as_string(hide_password=False)


class Database:
    def __init__(
        self, url: str, *, busy_timeout_ms: int = 10_000, pool_size: int = 10, read_overflow: int | None = None
    ) -> None:
        self.url = async_url(url)
        self.dialect = make_url(self.url).get_backend_name()
        if self.dialect == "sqlite":
            self.engine = create_async_engine(self.url)
            _configure_sqlite(self.engine, busy_timeout_ms)
        else:
            self.engine = create_async_engine(
                self.url, pool_size=pool_size, max_overflow=pool_size, pool_recycle=RECYCLE_SECONDS
            )
        # SQLite keeps its BEGIN (on_begin): a read there is one snapshot of the WAL, and costs no network.
        reads = (
            self.engine
            if self.dialect == "sqlite"
            else create_async_engine(
                self.url,
                pool_size=pool_size,
                max_overflow=pool_size if read_overflow is None else read_overflow,
                pool_recycle=RECYCLE_SECONDS,
                isolation_level="AUTOCOMMIT",
            )
        )
        # Every engine of this database, the write engine first: whoever counts or traces statements watches all.
        self.engines: tuple[AsyncEngine, ...] = (self.engine,) if reads is self.engine else (self.engine, reads)
        self._reads = reads
        self._read_sessions = async_sessionmaker(reads, class_=AsyncSession, expire_on_commit=False, autoflush=False)
        self._write_sessions = async_sessionmaker(
            self.engine.execution_options(**{_WRITE_OPTION: True}), class_=AsyncSession, expire_on_commit=False
        )

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._read_sessions() as session:
            yield session

    @asynccontextmanager
    async def read_connection(self) -> AsyncIterator[AsyncConnection]:
        """A read as `read()` gives it, without the ORM session around it: for a statement built once and run
        often (the loaders'), where creating and closing a session was a tenth of the statement's cost."""
        async with self._reads.connect() as connection:
            yield connection

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        async with self._write_sessions() as session, session.begin():
            yield session

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.exec_driver_sql("SELECT 1")

    async def dispose(self) -> None:
        for engine in self.engines:
            await engine.dispose()


def _configure_sqlite(engine: AsyncEngine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        # Take transaction control from the driver so that BEGIN is ours to issue (see on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        dbapi_connection.create_function("lower", 1, _lower, deterministic=True)

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE_OPTION) else "BEGIN")


def _lower(value: object) -> object:
    """SQLite's lower() for every script: text lower-cased by Python, anything else (NULL, numbers) as it is."""
    return value.lower() if isinstance(value, str) else value
