"""The `ordergraph` command: serve, db upgrade, seed, pickup-points load, token, export-schema,
preview-notifications."""

import argparse
import asyncio
import sys
from pathlib import Path

from sqlalchemy.exc import DBAPIError
from sqlmodel import func, select

from ordergraph.models import Customer, Order
from ordergraph.models.columns import id_of
from ordergraph.models.database import Database
from ordergraph.models.migrate import new_revision, upgrade
from ordergraph.resolvers.access import Role
from ordergraph.schema.node import decode_global_id, encode_global_id
from ordergraph.schema.trusted_documents import CONTRACT
from ordergraph.server.auth import issue_token
from ordergraph.server.settings import Settings

MARKETS = ("us", "cz", "sa", "ae")  # server/seed/markets.py's profiles


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="ordergraph", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the server (uvicorn)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--demo", action="store_true", help="load the demo data into an empty database first")
    serve.add_argument("--market", choices=MARKETS, default="us", help="--demo: the market of the demo data")

    db = commands.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade", "revision"], help="upgrade the database, or write a new revision")
    db.add_argument("--revision", default="head", help="upgrade: the revision to reach")
    db.add_argument("--message", "-m", help="revision: what it changes (its file name)")

    seed = commands.add_parser("seed", help="load deterministic demo data into an empty database")
    seed.add_argument("--seed", type=int, default=1)
    seed.add_argument("--customers", type=int, default=200)
    seed.add_argument("--orders", type=int, default=2000)
    seed.add_argument("--market", choices=MARKETS, default="us", help="the market of the demo world (default: us)")

    points = commands.add_parser("pickup-points", help="load a directory of pickup points and parcel lockers")
    points.add_argument("action", choices=["load"])
    points.add_argument("file", nargs="?", type=Path, help="a directory CSV (default: the one shipped for --country)")
    points.add_argument("--country", default="CZ", help="the points' country (default: CZ)")

    token = commands.add_parser("token", help="print a bearer token")
    token.add_argument("--role", choices=[r.value for r in Role], required=True)
    token.add_argument("--customer", help="the customer's global ID or numeric id (role customer)")
    token.add_argument("--name", help="the caller's display name")
    token.add_argument("--ttl", type=int, help="lifetime in seconds")

    export = commands.add_parser("export-schema", help="write the schema SDL and the trusted-documents manifest")
    export.add_argument(
        "folder", nargs="?", type=Path, help="where to write them (default: the checkout's frontend-contract/)"
    )

    preview = commands.add_parser(
        "preview-notifications", help="write every message of every moment in every language, for sample data"
    )
    preview.add_argument("--out", type=Path, required=True, help="the folder to write them to (one per locale)")

    args = parser.parse_args(argv)
    settings = Settings()
    if args.command == "serve":
        serve_command(settings, args)
    elif args.command == "db" and args.action == "revision":
        if not args.message:
            sys.exit("ordergraph db revision: say what it changes with --message")
        asyncio.run(new_revision(args.message))
    elif args.command == "db":
        asyncio.run(_with_db(settings, lambda database: upgrade(database, args.revision)))
        print(f"database at {_safe_url(settings.database_url)} is at revision {args.revision}")
    elif args.command == "seed":
        asyncio.run(_with_db(settings, lambda database: seed_command(database, args)))
    elif args.command == "pickup-points":
        asyncio.run(_with_db(settings, lambda database: load_points_command(database, args)))
    elif args.command == "token":
        print(token_command(settings, args))
    elif args.command == "export-schema":
        export_schema(args.folder or _checkout_contract())
    elif args.command == "preview-notifications":
        preview_notifications(settings, args.out)


def preview_notifications(settings: Settings, folder: Path) -> None:
    from ordergraph.resolvers.notification_samples import write_previews
    from ordergraph.server.notifier import letter_settings

    written = write_previews(folder, letter_settings(settings))
    print(f"wrote {len(written)} files to {folder}")


def _checkout_contract() -> Path:
    """frontend-contract/ of the checkout this code runs from (an editable install); an installed wheel has none."""
    folder = Path(str(CONTRACT))
    if not (folder.parent / "pyproject.toml").is_file():
        sys.exit("ordergraph export-schema: not running from a checkout; name the folder to write to")
    return folder


def export_schema(folder: Path) -> None:
    from ordergraph.schema.build import build_schema
    from ordergraph.schema.trusted_documents import manifest_json

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "schema.graphql").write_text(build_schema(None).as_str() + "\n")
    (folder / "trusted-documents.json").write_text(manifest_json())
    print(f"wrote schema.graphql and trusted-documents.json to {folder}")


async def _with_db(settings: Settings, action):
    database = Database(settings.database_url)
    try:
        return await action(database)
    finally:
        await database.dispose()


def _backend(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).get_backend_name()


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


async def seed_command(database: Database, args: argparse.Namespace) -> None:
    from ordergraph.server.seed import seed_demo

    await upgrade(database)
    async with database.read() as session:
        if (await session.exec(select(func.count()).select_from(Order))).one():
            sys.exit("ordergraph seed: the database already holds orders; seed an empty one")
    summary = await seed_demo(
        database, seed=args.seed, customers=args.customers, orders=args.orders, market=args.market
    )
    print(summary)


async def load_points_command(database: Database, args: argparse.Namespace) -> None:
    """Upserts the points of a directory file; a network's points missing from the file are deactivated."""
    from ordergraph.resolvers.pickup_points import load_points, read_points, shipped_points

    country = args.country.strip().upper()
    records = read_points(args.file.read_text(encoding="utf-8"), country) if args.file else shipped_points(country)
    if not records:
        sys.exit(f"ordergraph pickup-points: no points to load for {country}; name a directory file")
    await upgrade(database)
    async with database.write() as session:
        loaded = await load_points(session, records)
    print(f"loaded {loaded} pickup points of {country} ({', '.join(sorted({r.network for r in records}))})")


def token_command(settings: Settings, args: argparse.Namespace) -> str:
    """A staff token names its holder with --name; a customer token names the customer as the database has
    them, and is refused for a customer that does not exist."""
    role = Role(args.role)
    name = args.name
    if role is Role.CUSTOMER:
        if not args.customer:
            sys.exit("ordergraph token: --customer ID is required for --role customer")
        customer_id = _customer_key(args.customer)
        try:
            customer = asyncio.run(_with_db(settings, lambda database: _customer(database, customer_id)))
        except DBAPIError as error:  # unreachable, or not migrated
            sys.exit(f"ordergraph token: cannot read customers at {_safe_url(settings.database_url)}: {error.orig}")
        if customer is None:
            sys.exit(f"ordergraph token: no customer {args.customer} in the database")
        subject, name = encode_global_id("Customer", id_of(customer)), customer.name
    else:
        subject = f"{role.value}:{(name or role.value).lower().replace(' ', '.')}"
    ttl = args.ttl or settings.jwt_ttl_seconds
    return issue_token(settings.jwt_secret, role=role, subject=subject, name=name, ttl_seconds=ttl)


def _customer_key(text: str) -> int | None:
    """The customer `--customer` names: a numeric id (ASCII digits, within 64 bits) or a Customer global ID."""
    if text.isascii() and text.isdigit():
        return int(text) if int(text) <= 2**63 - 1 else None
    decoded = decode_global_id(text)
    return decoded[1] if decoded is not None and decoded[0] == "Customer" else None


async def _customer(database: Database, customer_id: int | None) -> Customer | None:
    if customer_id is None:
        return None
    async with database.read() as session:
        return await session.get(Customer, customer_id)


async def prepare_demo(settings: Settings, market: str = "us") -> None:
    """Migrate, load the demo data into an empty database, and print tokens to paste into GraphiQL."""
    from ordergraph.server.seed import seed_demo

    database = Database(settings.database_url)
    try:
        await upgrade(database)
        async with database.read() as session:
            has_orders = (await session.exec(select(func.count()).select_from(Order))).one() > 0
        if not has_orders:
            print("loading the demo data…", flush=True)
            print(await seed_demo(database, market=market), flush=True)
        async with database.read() as session:
            customer = (await session.exec(select(Customer).order_by(Customer.id).limit(1))).one()
    finally:
        await database.dispose()
    ttl = settings.jwt_ttl_seconds
    customer_token = issue_token(
        settings.jwt_secret,
        role=Role.CUSTOMER,
        subject=encode_global_id("Customer", customer.id),
        name=customer.name,
        ttl_seconds=ttl,
    )
    agent_token = issue_token(
        settings.jwt_secret, role=Role.AGENT, subject="agent:demo", name="Demo Agent", ttl_seconds=ttl
    )
    analyst_token = issue_token(
        settings.jwt_secret, role=Role.ANALYST, subject="analyst:demo", name="Demo Analyst", ttl_seconds=ttl
    )
    print(
        "\nDemo tokens (GraphiQL → Headers):\n"
        f'  customer {customer.name}: {{"Authorization": "Bearer {customer_token}"}}\n'
        f'  agent:    {{"Authorization": "Bearer {agent_token}"}}\n'
        f'  analyst:  {{"Authorization": "Bearer {analyst_token}"}}\n',
        flush=True,
    )


def serve_command(settings: Settings, args: argparse.Namespace) -> None:
    import uvicorn

    if args.demo:
        asyncio.run(prepare_demo(settings, args.market))
    elif _backend(settings.database_url) != "sqlite":
        # Once here, not in a loop of workers each failing to start (server/readiness.py says why).
        from ordergraph.server.readiness import DatabaseBehind, require_migrated

        try:
            asyncio.run(_with_db(settings, require_migrated))
        except DatabaseBehind as behind:
            sys.exit(f"ordergraph serve: {behind}")
    print(f"GraphiQL: http://{args.host}:{args.port}/graphql", flush=True)
    if args.workers > 1:
        prepare_metrics_folder()
    uvicorn.run(
        "ordergraph.server.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        # SIGTERM: stop accepting, let in-flight requests finish this long, then the app's shutdown (server/app.py).
        timeout_graceful_shutdown=max(1, round(settings.shutdown_grace_seconds)),
        # How long a worker may take to start (imports, the schema, the migration check) or to answer the
        # supervisor's ping before it is replaced: uvicorn's 5 s restarts workers in a loop on a busy host.
        timeout_worker_healthcheck=30,
        # Frames go to thousands of sockets at once: compressing each per socket cost ~16% of a delivery's CPU
        # (bench/fanout.py), and GraphQL frames are small; clients that offer deflate are answered without it.
        ws_per_message_deflate=False,
    )


def prepare_metrics_folder() -> None:
    """Several workers share their metrics through files (server/metrics.py): in PROMETHEUS_MULTIPROC_DIR when
    the operator names it (emptied of the last run's files), else a folder of this run's own."""
    import os
    import shutil
    import tempfile

    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        for entry in Path(folder).glob("*.db"):
            entry.unlink()
    else:
        folder = tempfile.mkdtemp(prefix="ordergraph-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
        import atexit

        atexit.register(shutil.rmtree, folder, ignore_errors=True)
    Path(folder).mkdir(parents=True, exist_ok=True)


if __name__ == "__main__":
    main()
