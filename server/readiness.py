"""Liveness (/healthz) and readiness (/readyz), and the migration check a server starts with.

- /healthz: the process is alive and answering: always 200. It reports what it sees of the database and the
  broadcast ("ok" or "unavailable", never an exception's name: anyone may call it), but an orchestrator restarting
  a process because PostgreSQL is away would only add to the outage.
- /readyz: ready for traffic: the database at the code's migration head, the database and Redis reachable, the
  relay running, and not draining (shutting down). 200 {"status": "ready"}, else 503 with the reasons. A load
  balancer sends traffic by this one.
- At start (Services.start): PostgreSQL behind the code's migrations refuses to serve (DatabaseBehind) with a
  message saying what to run; SQLite, the embedded default, migrates itself instead. A database at a revision the
  code does not know (newer code has migrated it during a rolling deploy) serves: migrations add before they take
  away.
"""

import asyncio
import logging
from typing import TYPE_CHECKING

import redis.asyncio as aioredis
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import JSONResponse

from ordergraph.models.database import Database
from ordergraph.models.migrate import alembic_config

if TYPE_CHECKING:
    from ordergraph.server.app import Services

logger = logging.getLogger("ordergraph.readiness")

CHECK_TIMEOUT_SECONDS = 2.0


class DatabaseBehind(RuntimeError):
    """The database has not been migrated to what this code needs."""


async def migration_state(db: Database) -> tuple[set[str], set[str], bool]:
    """(the database's revisions, the code's heads, whether the database is behind them)."""

    def read(connection: Connection) -> tuple[set[str], set[str], bool]:
        script = ScriptDirectory.from_config(alembic_config())
        heads = set(script.get_heads())
        current = set(MigrationContext.configure(connection).get_current_heads())
        known = {revision.revision for revision in script.walk_revisions()}
        if not current:
            return current, heads, True
        if current - known:
            return current, heads, False  # newer than this code: it serves
        # Behind when some head is not an ancestor-or-self of what the database has.
        reached: set[str] = set()
        for revision in script.iterate_revisions(tuple(current), "base"):
            reached.add(revision.revision)
        return current, heads, not heads <= reached

    async with db.engine.connect() as conn:
        return await conn.run_sync(read)


async def require_migrated(db: Database) -> None:
    current, heads, behind = await migration_state(db)
    if behind:
        found = ", ".join(sorted(current)) or "none (an empty database)"
        raise DatabaseBehind(
            f"the database is at revision {found}, behind this code's {', '.join(sorted(heads))}: run "
            "`ordergraph db upgrade` (with the same ORDERGRAPH_DATABASE_URL) before starting the server"
        )


async def _check(name: str, probe: "asyncio.Future[object] | object") -> str | None:
    """None when the probe succeeds in time, else the reason (never the exception's name: logged instead)."""
    try:
        await asyncio.wait_for(probe, CHECK_TIMEOUT_SECONDS)  # type: ignore[arg-type]
    except Exception as error:  # noqa: BLE001  (any failure means not ready; the log has what it was)
        logger.warning("readiness: %s unavailable: %r", name, error)
        return f"{name} unreachable"
    return None


async def _broadcast_ok(url: str) -> bool:
    if not url.startswith(("redis://", "rediss://")):
        return True
    client = aioredis.from_url(url, socket_connect_timeout=CHECK_TIMEOUT_SECONDS)
    try:
        await client.ping()
        return True
    except Exception as error:  # noqa: BLE001  (health reports any failure, never its name)
        logger.warning("health: broadcast unavailable: %r", error)
        return False
    finally:
        await client.aclose()


async def healthz(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    try:
        await asyncio.wait_for(services.db.ping(), CHECK_TIMEOUT_SECONDS)
        database = "ok"
    except Exception as error:  # noqa: BLE001  (health reports any failure, never its name)
        logger.warning("health: database unavailable: %r", error)
        database = "unavailable"
    broadcast = "ok" if await _broadcast_ok(services.settings.broadcast_url) else "unavailable"
    healthy = database == broadcast == "ok"
    return JSONResponse({"status": "ok" if healthy else "degraded", "database": database, "broadcast": broadcast})


async def readyz(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    reasons: list[str] = []
    if services.draining:
        reasons.append("draining")
    database = await _check("database", services.db.ping())
    if database:
        reasons.append(database)
    else:
        try:
            _, _, behind = await asyncio.wait_for(migration_state(services.db), CHECK_TIMEOUT_SECONDS)
        except Exception as error:  # noqa: BLE001
            logger.warning("readiness: migrations unreadable: %r", error)
            reasons.append("migrations unreadable")
        else:
            if behind:
                reasons.append("migrations behind the code")
    if services.redis is not None and (redis := await _check("redis", services.redis.ping())):
        reasons.append(redis)
    if not services.relay.running:
        reasons.append("relay stopped")
    if reasons:
        return JSONResponse({"status": "unready", "reasons": reasons}, status_code=503)
    return JSONResponse({"status": "ready"})
