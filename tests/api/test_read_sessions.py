"""Read sessions (server/database.py): on PostgreSQL a loader's batch is its statement alone, one round trip, with
no BEGIN, ROLLBACK or pool ping around it; SQLite reads keep their BEGIN; once the database has cut the pool's
connections, at most one request fails (masked) before reads are served again."""

import itertools

import pytest
import sqlalchemy as sa
from conftest import Api
from contract import document
from sqlalchemy import event
from test_statement_counts import MY_ORDER_HISTORY_READS, MY_ORDER_HISTORY_STATEMENTS

NEW = itertools.count()  # an unused variable numbered anew: no result cache answers the request


async def _history(api: Api) -> dict:
    return await api.run("MyOrderHistory", {"first": 50, "unused": next(NEW)}, token=api.token("customer", "alice"))


async def test_postgresql_reads_send_their_statements_and_nothing_around_them(api: Api) -> None:
    if api.backend != "postgresql":
        pytest.skip("round trips over the network: PostgreSQL only")
    await api.db.dispose()  # connections from now on carry the logger
    around: list[str] = []

    def log_driver_queries(connection, _record) -> None:
        # asyncpg logs what it sends outside prepared statements: BEGIN, ROLLBACK, the pool's ';' ping.
        connection.driver_connection.add_query_logger(lambda logged: around.append(logged.query))

    for engine in api.db.engines:
        event.listen(engine.sync_engine, "connect", log_driver_queries)
    try:
        with api.statements() as executed:
            body = await _history(api)
    finally:
        for engine in api.db.engines:
            event.remove(engine.sync_engine, "connect", log_driver_queries)
    assert "errors" not in body
    assert len(executed) == MY_ORDER_HISTORY_STATEMENTS["postgresql"], "\n".join(executed)
    assert around == []


async def test_sqlite_reads_still_run_in_a_transaction(api: Api) -> None:
    if api.backend != "sqlite":
        pytest.skip("SQLite's read snapshot")
    with api.statements() as executed:
        assert "errors" not in await _history(api)
    selects = [s for s in executed if s.lstrip().upper().startswith(("SELECT", "("))]
    assert len(selects) == MY_ORDER_HISTORY_STATEMENTS["sqlite"]
    assert executed.count("BEGIN") == MY_ORDER_HISTORY_READS


async def test_reads_serve_again_once_the_database_has_cut_the_pools_connections(api: Api) -> None:
    if api.backend != "postgresql":
        pytest.skip("server-side disconnects: PostgreSQL only")
    assert "errors" not in await _history(api)
    async with api.db.engine.connect() as admin:
        await admin.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    # Without a ping at checkout the first read on a cut connection fails; the pool then replaces them all.
    cut = (await api.post(document("MyOrderHistory"), {"first": 1}, token=api.token("customer", "alice"))).json()
    # ... told as the retryable SERVICE_UNAVAILABLE, even where it is raised outside a field (the result cache's read).
    assert [e["extensions"]["code"] for e in cut.get("errors", [])] in ([], ["SERVICE_UNAVAILABLE"]), cut
    assert "errors" not in await _history(api)
