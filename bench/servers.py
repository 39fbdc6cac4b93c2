"""Servers under test: each a uvicorn process of its own (never the load generator's event loop), started from
an app factory with ORDERGRAPH_* settings, and the bearer tokens they accept."""

import asyncio
import math
import os
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Self

import httpx

from ordergraph.resolvers.access import Role
from ordergraph.schema.node import encode_global_id
from ordergraph.server.auth import issue_token

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret-bench-secret-bench-secret"
ORDERGRAPH = "ordergraph.server.app:create_app"


def customer_token(customer_id: int) -> str:
    return issue_token(
        SECRET,
        role=Role.CUSTOMER,
        subject=encode_global_id("Customer", customer_id),
        name=f"bench customer {customer_id}",
        ttl_seconds=6 * 3600,
    )


def staff_token(role: Role, name: str) -> str:
    return issue_token(SECRET, role=role, subject=f"{role.value}:{name}", name=name, ttl_seconds=6 * 3600)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def bench_env(settings: dict[str, str]) -> dict[str, str]:
    """This process's environment without the caller's own ORDERGRAPH_* settings (a stray one, such as
    trusted documents only, would change what is measured), plus `settings`."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("ORDERGRAPH_")}
    return {**inherited, "PYTHONPATH": str(ROOT), "ORDERGRAPH_JWT_SECRET": SECRET, **settings}


class Server:
    """`async with Server(factory, settings) as server:` a uvicorn process listening on a free port,
    healthy (GET /healthz answers 200) on entry, stopped on exit."""

    def __init__(self, factory: str, settings: dict[str, str]) -> None:
        self.factory = factory
        self.settings = settings
        self.port = _free_port()
        self.process: asyncio.subprocess.Process | None = None
        # Customer notifications go to a folder when no mail server is set: a temporary one, not the clone's.
        self.outbox = tempfile.TemporaryDirectory(prefix="og-bench-outbox-")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> Self:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "uvicorn",
            self.factory,
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--log-level",
            "warning",
            "--no-access-log",
            "--backlog",
            "4096",
            "--timeout-graceful-shutdown",
            "5",
            # As `ordergraph serve` runs it (server/cli.py): no per-socket compression of live frames.
            "--ws-per-message-deflate",
            "false",
            cwd=ROOT,
            env=bench_env({"ORDERGRAPH_NOTIFICATION_OUTBOX": self.outbox.name, **self.settings}),
        )
        async with httpx.AsyncClient() as client:
            for _ in range(600):
                if self.process.returncode is not None:
                    raise RuntimeError(f"{self.factory} exited with {self.process.returncode} before it was healthy")
                try:
                    if (await client.get(f"{self.url}/healthz")).status_code == 200:
                        return self
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError(f"{self.factory} was not healthy within 60 s")

    async def __aexit__(self, *_exc: object) -> None:
        self.process.terminate()
        try:
            await asyncio.wait_for(self.process.wait(), 15)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
        self.outbox.cleanup()

    def cpu_seconds(self) -> float:
        """The CPU time the server has used, from /proc (Linux); NaN where there is none."""
        stat = Path(f"/proc/{self.process.pid}/stat")
        if not stat.exists():
            return math.nan
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    async def settle(self, *, busy_below: float = 0.05, window: float = 1.0, at_most: float = 90.0) -> float:
        """Waits until the server spends less than `busy_below` of a core over `window` (it has finished what
        it was asked before: starting subscriptions, say); returns the seconds waited. Where the CPU time is
        unknown (not Linux) it waits `at_most`."""
        started = time.monotonic()
        if math.isnan(self.cpu_seconds()):
            await asyncio.sleep(at_most)
            return at_most
        while time.monotonic() - started < at_most:
            before = self.cpu_seconds()
            await asyncio.sleep(window)
            if self.cpu_seconds() - before < busy_below * window:
                break
        return time.monotonic() - started


def ordergraph_settings(database_url: str, **settings: str) -> dict[str, str]:
    """ORDERGRAPH_* variables: the database, in-memory broadcast unless given, and anything else by name."""
    return {
        "ORDERGRAPH_DATABASE_URL": database_url,
        "ORDERGRAPH_BROADCAST_URL": "memory://",
        **{f"ORDERGRAPH_{name.upper()}": value for name, value in settings.items()},
    }
