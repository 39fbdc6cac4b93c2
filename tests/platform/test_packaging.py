"""The project as users get it: the wheel built from the checkout, installed into a fresh virtual environment
beside PyPI's `schema` (another package of that name), and the `ordergraph` command run from a directory outside
the checkout, where only the installed names, ordergraph.<room>, can be imported.

Slow (a minute or two: pip fetches the build backend and the dependencies) and never skipped: it needs pip and the
package index that installing the project needs anyway.
"""

import contextlib
import csv
import importlib.util
import io
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).resolve().parents[2]
BIN = "Scripts" if os.name == "nt" else "bin"
# Loopback only, and never through a proxy the environment may name for pip.
LOOPBACK = urllib.request.build_opener(urllib.request.ProxyHandler({}))
PATIENCE = 90  # seconds a server may take to answer /healthz
JWT_SECRET = "test-packaging-secret-not-the-development-one"


def _run(command: list[str | Path], *, cwd: Path, env: dict[str, str], timeout: float) -> str:
    """Run `command`, return its standard output; fail the test with everything it printed if it fails."""
    shown = " ".join(str(part) for part in command)
    try:
        result = subprocess.run(
            [str(part) for part in command],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"`{shown}` did not finish in {timeout} s\n--- stdout\n{exc.stdout}\n--- stderr\n{exc.stderr}")
    if result.returncode != 0:
        pytest.fail(
            f"`{shown}` (in {cwd}) exited with {result.returncode}\n"
            f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
        )
    return result.stdout


def _package_dirs() -> dict[str, str]:
    """The installed package prefix (ordergraph/models) of each folder of the checkout (models), from pyproject."""
    config = tomllib.loads((CHECKOUT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    return {folder: package.replace(".", "/") for package, folder in config.items()}


def _build_tree(destination: Path) -> Path:
    """What the wheel is built from: the checkout's top-level files and its package folders, copied. Building in the
    checkout itself would leave setuptools' build/ there, whose stale files a later build packs."""
    destination.mkdir()
    for entry in CHECKOUT.iterdir():
        if entry.is_file() and not entry.name.startswith("."):
            shutil.copy2(entry, destination / entry.name)
    for folder in _package_dirs():
        shutil.copytree(
            CHECKOUT / folder, destination / folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.db*")
        )
    return destination


def _build_wheel(tmp_path: Path, env: dict[str, str]) -> Path:
    source = _build_tree(tmp_path / "source")
    wheelhouse = tmp_path / "wheelhouse"
    if importlib.util.find_spec("pip") is not None:
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", wheelhouse, source]
    elif importlib.util.find_spec("build") is not None:
        command = [sys.executable, "-m", "build", "--wheel", "--outdir", wheelhouse, source]
    else:
        pytest.fail(f"neither pip nor build is installed in {sys.executable}: nothing to build the wheel with")
    _run(command, cwd=tmp_path, env=env, timeout=600)
    wheels = sorted(wheelhouse.glob("ordergraph-*.whl"))
    assert len(wheels) == 1, f"expected one ordergraph wheel in {wheelhouse}, found {os.listdir(wheelhouse)}"
    return wheels[0]


def _check_wheel(wheel: Path) -> dict:
    """Everything under ordergraph/ (and the dist-info), with the contract, migrations and reference data; returns
    the installed trusted-documents manifest."""
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        dist_infos = {name.split("/")[0] for name in names if name.split("/")[0].endswith(".dist-info")}
        assert len(dist_infos) == 1, f"{wheel.name} holds {sorted(dist_infos)}"
        (dist_info,) = dist_infos
        record = [row[0] for row in csv.reader(io.StringIO(archive.read(f"{dist_info}/RECORD").decode())) if row]
        manifest = json.loads(archive.read("ordergraph/contract/trusted-documents.json"))

    for listing, paths in (("its files", names), ("its RECORD", record)):
        tops = {path.split("/")[0] for path in paths} - {dist_info}
        assert tops == {"ordergraph"}, f"{wheel.name}: {listing} name top-level {sorted(tops)}, not only ordergraph"
    assert set(record) == names, f"RECORD and the archive differ: {sorted(set(record) ^ names)}"
    assert "ordergraph/__init__.py" not in names, "ordergraph must stay a namespace package (no __init__.py)"

    expected = {
        "ordergraph/contract/schema.graphql",
        "ordergraph/contract/trusted-documents.json",
        "ordergraph/contract/operations/spa.graphql",
        "ordergraph/models/migrations/env.py",
        "ordergraph/models/migrations/script.py.mako",
    }
    for folder, package in _package_dirs().items():
        # Every module of every folder (a subpackage missing from pyproject's `packages` would be left out) …
        expected |= {f"{package}/{path.relative_to(CHECKOUT / folder).as_posix()}" for path in _sources(folder, "*.py")}
    # … and the data: every contract operation, every migration, the reference tables.
    expected |= {f"ordergraph/contract/operations/{p.name}" for p in _sources("frontend-contract/operations", "*")}
    expected |= {f"ordergraph/models/migrations/versions/{p.name}" for p in _sources("models/migrations/versions")}
    expected |= {f"ordergraph/models/reference/{p.name}" for p in _sources("models/reference", "*.csv.gz")}
    assert any(name.startswith("ordergraph/models/migrations/versions/") for name in expected)
    assert any(name.startswith("ordergraph/models/reference/") for name in expected)
    missing = sorted(expected - names)
    assert not missing, f"{wheel.name} lacks (package-data or packages in pyproject.toml):\n  " + "\n  ".join(missing)
    return manifest


def _sources(folder: str, pattern: str = "*.py") -> list[Path]:
    return [
        path
        for path in (CHECKOUT / folder).rglob(pattern)
        if path.is_file() and "__pycache__" not in path.parts and not path.name.endswith(".pyc")
    ]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _request(url: str, body: dict | None = None, headers: dict[str, str] | None = None) -> tuple[int, str]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with LOOPBACK.open(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@contextlib.contextmanager
def _serving(ordergraph: Path, *, cwd: Path, env: dict[str, str], log: Path) -> Iterator[str]:
    """`ordergraph serve` on a free loopback port, healthy on entry (its base URL), stopped on exit. When the
    block fails, what the server printed is printed too."""
    port = _free_port()
    with log.open("w") as output:
        process = subprocess.Popen(
            [str(ordergraph), "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=cwd,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline, last = time.monotonic() + PATIENCE, "no answer"
        while True:
            if process.poll() is not None:
                pytest.fail(f"`ordergraph serve` exited with {process.returncode} before it was healthy")
            try:
                status, text = _request(f"{base}/healthz")
                if status == 200:
                    break
                last = f"{status} {text}"
            except OSError as exc:
                last = repr(exc)
            if time.monotonic() > deadline:
                pytest.fail(f"`ordergraph serve` was not healthy within {PATIENCE} s; /healthz: {last}")
            time.sleep(0.2)
        yield base
    except BaseException:
        print(f"--- `ordergraph serve` output ({log}):\n{log.read_text()}")
        raise
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=20)


def _graphql(base: str, body: dict) -> dict:
    status, text = _request(f"{base}/graphql", body)
    assert status == 200, f"POST /graphql answered {status}: {text}"
    return json.loads(text)


@pytest.mark.timeout(900)
def test_the_wheel_installs_and_serves_outside_the_checkout(tmp_path: Path) -> None:
    base_env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("ORDERGRAPH_") and key not in {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV"}
    }
    base_env["PYTHONNOUSERSITE"] = "1"

    # The wheel: one top-level name, the contract, the migrations and the reference data.
    wheel = _build_wheel(tmp_path, base_env)
    manifest = _check_wheel(wheel)
    operations = {operation["name"]: operation for operation in manifest["operations"]}
    # The customer app's product page: asked by anyone, signed in or not.
    assert "ProductAvailability" in operations, f"no ProductAvailability among {sorted(operations)}"
    availability_hash = operations["ProductAvailability"]["id"]

    # A fresh virtual environment holding the wheel and PyPI's schema.
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", venv], cwd=tmp_path, env=base_env, timeout=300)
    python, ordergraph = venv / BIN / "python", venv / BIN / "ordergraph"
    env = {**base_env, "VIRTUAL_ENV": str(venv), "PATH": f"{venv / BIN}{os.pathsep}{base_env.get('PATH', '')}"}
    _run([python, "-m", "pip", "install", wheel, "schema"], cwd=tmp_path, env=env, timeout=600)

    # A working directory outside the checkout: only what the wheel installed is importable.
    work = tmp_path / "work"
    work.mkdir()
    assert not work.resolve().is_relative_to(CHECKOUT), f"{work} is inside the checkout"

    # (a) PyPI's schema and ordergraph.schema side by side; the bare room names are not importable.
    _run(
        [
            python,
            "-c",
            "import sys, schema, ordergraph.schema.build\n"
            "assert hasattr(schema, 'Schema') and hasattr(schema, 'And'), schema.__file__\n"
            "assert ordergraph.schema.build.__file__.startswith(sys.prefix), ordergraph.schema.build.__file__",
        ],
        cwd=work,
        env=env,
        timeout=120,
    )
    _run(
        [
            python,
            "-c",
            "import importlib.util\n"
            "for name in ('models', 'loaders', 'resolvers', 'subscriptions', 'server'):\n"
            "    assert importlib.util.find_spec(name) is None, importlib.util.find_spec(name)",
        ],
        cwd=work,
        env=env,
        timeout=120,
    )

    # (b), (c) Migrate and seed a SQLite file.
    database = work / "ordergraph-packaging.db"
    env["ORDERGRAPH_DATABASE_URL"] = f"sqlite+aiosqlite:///{database}"
    env["ORDERGRAPH_JWT_SECRET"] = JWT_SECRET
    env["ORDERGRAPH_NOTIFICATION_OUTBOX"] = str(work / "outbox")
    upgraded = _run([ordergraph, "db", "upgrade"], cwd=work, env=env, timeout=300)
    assert "revision head" in upgraded, upgraded
    assert database.is_file(), f"`ordergraph db upgrade` created no {database}"
    seeded = _run([ordergraph, "seed", "--customers", "5", "--orders", "20"], cwd=work, env=env, timeout=300)
    assert "seeded 5 customers" in seeded, seeded
    assert "20 orders" in seeded, seeded
    with contextlib.closing(sqlite3.connect(database)) as connection:
        (sku,) = connection.execute("SELECT sku FROM product ORDER BY sku LIMIT 1").fetchone()

    # The other commands: a token, and the contract as the installed code writes it, equal to the installed one.
    token = _run([ordergraph, "token", "--role", "agent", "--name", "ci"], cwd=work, env=env, timeout=120).strip()
    assert token.count(".") == 2, f"`ordergraph token` printed {token!r}, not a JWT"
    exported = work / "exported"
    _run([ordergraph, "export-schema", exported], cwd=work, env=env, timeout=120)
    installed_contract = Path(
        _run(
            [python, "-c", "from importlib.resources import files; print(files('ordergraph.contract'))"],
            cwd=work,
            env=env,
            timeout=120,
        ).strip()
    )
    for name in ("schema.graphql", "trusted-documents.json"):
        assert (exported / name).read_text() == (installed_contract / name).read_text(), (
            f"the wheel's {name} is not what its code exports: run `ordergraph export-schema` in the checkout"
        )
    # Without a folder it writes to a checkout's frontend-contract/ only, never into the installed package.
    unnamed = subprocess.run(
        [str(ordergraph), "export-schema"], cwd=work, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert unnamed.returncode != 0, unnamed.stdout
    assert "name the folder" in unnamed.stderr, unnamed.stderr

    persisted = {
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": availability_hash}},
        "operationName": "ProductAvailability",
        "variables": {"skus": [sku], "postalCode": None},
    }

    def assert_available(body: dict) -> None:
        assert "errors" not in body, body
        assert body.get("data"), body
        products = body["data"]["products"]
        assert [product["sku"] for product in products] == [sku], body
        assert products[0]["availability"]["totalAvailable"] >= 0, body

    # (d) Served, answering a hash-only persisted query from no one in particular.
    with _serving(ordergraph, cwd=work, env=env, log=work / "serve.log") as base:
        assert_available(_graphql(base, persisted))

    # (e) Trusted documents only: it starts (the manifest is installed), refuses other documents, runs the hash.
    trusted_env = {**env, "ORDERGRAPH_TRUSTED_DOCUMENTS_ONLY": "true"}
    with _serving(ordergraph, cwd=work, env=trusted_env, log=work / "serve-trusted.log") as base:
        refused = _graphql(base, {"query": "{ __typename }"})
        assert not refused.get("data"), refused
        assert refused["errors"][0]["extensions"]["code"] == "UNTRUSTED_DOCUMENT", refused
        assert_available(_graphql(base, persisted))
