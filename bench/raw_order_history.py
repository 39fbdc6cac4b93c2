"""The floor for MyOrderHistory: what a person would hand-write instead of a GraphQL server. One endpoint,
`GET /me/orders?first=20` with the same bearer token, answering the same JSON as ordergraph's `data`
(`{"data": {"me": …}}`, byte for byte) from hand-written SQL through asyncpg: five statements on one
connection, rows turned into dicts, json.dumps.

Served by uvicorn like ordergraph (`uvicorn bench.raw_order_history:create_app --factory`) and configured by
the same variables: ORDERGRAPH_DATABASE_URL, ORDERGRAPH_JWT_SECRET, ORDERGRAPH_DATABASE_POOL_SIZE.
"""

import base64
import json
import os
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime

import asyncpg
import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ordergraph.models.money import to_decimal

CUSTOMER = """
SELECT c.id, c.name, c.email, (SELECT count(*) FROM orders o WHERE o.customer_id = c.id) AS order_count
FROM customer c WHERE c.id = $1
"""
ORDERS = """
SELECT o.id, o.number, o.status, o.channel, o.placed_at, o.total_minor, o.currency, o.promised_delivery_by,
       m.code AS method_code, m.name AS method_name, m.kind AS method_kind, p.id AS pickup_id, p.name AS pickup_name,
       o.ship_name, o.ship_line1, o.ship_line2, o.ship_city, o.ship_region, o.ship_postal_code, o.ship_country,
       o.ship_phone
FROM orders o
JOIN delivery_method m ON m.code = o.delivery_method_code
LEFT JOIN location p ON p.id = o.pickup_location_id
WHERE o.customer_id = $1
ORDER BY o.placed_at DESC, o.id DESC
LIMIT $2
"""
LINES = """
SELECT order_id, id, sku, product_name, quantity, quantity_shipped, quantity_cancelled, quantity_returned,
       unit_price_minor, currency
FROM order_line WHERE order_id = ANY($1::bigint[]) ORDER BY line_number
"""
SHIPMENTS = """
SELECT s.order_id, s.id, s.status, s.carrier, s.tracking_number, s.tracking_url, s.estimated_delivery_at,
       s.delivered_at, e.status AS event_status, e.occurred_at, e.description, e.location
FROM shipment s LEFT JOIN shipment_event e ON e.shipment_id = s.id
WHERE s.order_id = ANY($1::bigint[])
ORDER BY s.shipped_at, s.id, e.occurred_at, e.id
"""
RETURNS = """
SELECT order_id, id, status, method FROM return_request WHERE order_id = ANY($1::bigint[]) ORDER BY requested_at, id
"""


STATEMENTS = (CUSTOMER, ORDERS, LINES, SHIPMENTS, RETURNS)


def _global_id(type_name: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


def _customer_id(authorization: str | None, secret: str) -> int | None:
    """The customer a bearer token names, as ordergraph reads it; None for anything else."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["exp", "sub", "role"]})
        subject = base64.urlsafe_b64decode(claims["sub"] + "=" * (-len(claims["sub"]) % 4)).decode()
    except (jwt.InvalidTokenError, ValueError):
        return None
    kind, _, pk = subject.partition(":")
    return int(pk) if claims["role"] == "customer" and kind == "Customer" and pk.isdigit() else None


def _money(minor: int, currency: str) -> dict:
    return {"amount": str(to_decimal(minor, currency)), "currency": currency}


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _cursor(order: asyncpg.Record) -> str:
    raw = json.dumps(["customer-orders", [order["placed_at"].isoformat(), order["id"]]], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _address(o: asyncpg.Record) -> dict | None:
    if o["ship_line1"] is None:
        return None
    return {
        "name": o["ship_name"],
        "line1": o["ship_line1"],
        "line2": o["ship_line2"],
        "city": o["ship_city"],
        "region": o["ship_region"],
        "postalCode": o["ship_postal_code"],
        "country": o["ship_country"],
        "phone": o["ship_phone"],
    }


async def order_history(connection: asyncpg.Connection, customer_id: int, first: int) -> dict | None:
    customer = await connection.fetchrow(CUSTOMER, customer_id)
    if customer is None:
        return None
    rows = await connection.fetch(ORDERS, customer_id, first + 1)
    orders = rows[:first]
    ids = [o["id"] for o in orders]
    lines, shipments, returns = defaultdict(list), defaultdict(dict), defaultdict(list)
    for line in await connection.fetch(LINES, ids):
        lines[line["order_id"]].append(
            {
                "id": _global_id("OrderLine", line["id"]),
                "sku": line["sku"],
                "productName": line["product_name"],
                "quantity": line["quantity"],
                "quantityShipped": line["quantity_shipped"],
                "quantityCancelled": line["quantity_cancelled"],
                "quantityReturned": line["quantity_returned"],
                "unitPrice": _money(line["unit_price_minor"], line["currency"]),
                "lineTotal": _money(line["unit_price_minor"] * line["quantity"], line["currency"]),
            }
        )
    for row in await connection.fetch(SHIPMENTS, ids):
        shipment = shipments[row["order_id"]].setdefault(
            row["id"],
            {
                "id": _global_id("Shipment", row["id"]),
                "status": row["status"],
                "carrier": row["carrier"],
                "trackingNumber": row["tracking_number"],
                "trackingUrl": row["tracking_url"],
                "estimatedDeliveryAt": _time(row["estimated_delivery_at"]),
                "deliveredAt": _time(row["delivered_at"]),
                "events": [],
            },
        )
        if row["event_status"] is not None:
            shipment["events"].append(
                {
                    "status": row["event_status"],
                    "occurredAt": _time(row["occurred_at"]),
                    "description": row["description"],
                    "location": row["location"],
                }
            )
    for row in await connection.fetch(RETURNS, ids):
        returns[row["order_id"]].append(
            {"id": _global_id("Return", row["id"]), "status": row["status"], "method": row["method"]}
        )
    edges = [
        {
            "cursor": _cursor(o),
            "node": {
                "id": _global_id("Order", o["id"]),
                "number": o["number"],
                "status": o["status"],
                "channel": o["channel"],
                "placedAt": _time(o["placed_at"]),
                "total": _money(o["total_minor"], o["currency"]),
                "deliveryMethod": {"code": o["method_code"], "name": o["method_name"], "kind": o["method_kind"]},
                "shippingAddress": _address(o),
                "pickupLocation": None
                if o["pickup_id"] is None
                else {"id": _global_id("Location", o["pickup_id"]), "name": o["pickup_name"]},
                "promisedDeliveryBy": _time(o["promised_delivery_by"]),
                "lines": lines[o["id"]],
                "shipments": list(shipments[o["id"]].values()),
                "returns": returns[o["id"]],
            },
        }
        for o in orders
    ]
    return {
        "id": _global_id("Customer", customer["id"]),
        "name": customer["name"],
        "email": customer["email"],
        "orders": {
            "totalCount": customer["order_count"],
            "pageInfo": {"hasNextPage": len(rows) > first, "endCursor": edges[-1]["cursor"] if edges else None},
            "edges": edges,
        },
    }


def app(
    url: str, secret: str, pool_size: int, on_connect: Callable[[asyncpg.Connection], Awaitable[None]] | None = None
) -> Starlette:
    """`on_connect` runs on each new database connection (the benchmark counts statements through it)."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # As many connections as ordergraph's engine may open: its pool plus as many again in overflow.
        async with asyncpg.create_pool(url, min_size=pool_size, max_size=2 * pool_size, init=on_connect) as pool:
            app.state.pool = pool
            yield

    async def my_orders(request: Request) -> Response:
        customer_id = _customer_id(request.headers.get("authorization"), secret)
        if customer_id is None:
            return JSONResponse({"error": "UNAUTHENTICATED"}, status_code=401)
        async with request.app.state.pool.acquire() as connection:
            me = await order_history(connection, customer_id, int(request.query_params.get("first", "20")))
        body = json.dumps({"data": {"me": me}}, separators=(",", ":"))  # as ordergraph encodes its answers
        return Response(body, media_type="application/json")

    async def healthz(request: Request) -> Response:
        async with request.app.state.pool.acquire() as connection:
            await connection.fetchval("SELECT 1")
        return JSONResponse({"status": "ok"})

    return Starlette(routes=[Route("/me/orders", my_orders), Route("/healthz", healthz)], lifespan=lifespan)


def create_app() -> Starlette:
    """The uvicorn factory: settings from the environment, as ordergraph's."""
    return app(
        os.environ["ORDERGRAPH_DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://"),
        os.environ["ORDERGRAPH_JWT_SECRET"],
        int(os.environ.get("ORDERGRAPH_DATABASE_POOL_SIZE", "10")),
    )
