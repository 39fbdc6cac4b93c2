"""What the webhook tests share: admin operations, settings that make retries quick, checks of what arrived."""

import hashlib
import hmac
from collections import defaultdict

import sqlalchemy as sa
from webhook_receiver import Received

from ordergraph.models import OrderEvent
from ordergraph.models.database import Database

DOCUMENT = "subscription { orderEvents { sequence type order { number customer { name } } } }"
TYPES = ["ORDER_PLACED", "PAYMENT_AUTHORIZED", "ORDER_ROUTED", "ORDER_NOTE_ADDED", "ORDER_HELD"]

# Quick retries and a short timeout; loopback receivers allowed.
FAST = {
    "webhook_allowed_networks": "127.0.0.0/8",
    "webhook_poll_seconds": 0.1,
    "webhook_timeout_seconds": 1.0,
    "webhook_retry_base_seconds": 0.05,
    "webhook_retry_cap_seconds": 0.3,
    "webhook_lease_seconds": 3.0,
}

SUBSCRIPTION_FIELDS = """
  id url eventTypes masked active disabledReason disabledAt failingSince startSequence
  log { kind detail actor }
"""

CREATE = f"""
mutation Create($input: CreateWebhookSubscriptionInput!) {{
  createWebhookSubscription(input: $input) {{
    subscription {{ {SUBSCRIPTION_FIELDS} }}
    secret
    userErrors {{ field message code }}
  }}
}}"""

SUBSCRIPTIONS = f"""
query Subscriptions($first: Int, $after: String) {{
  webhookSubscriptions {{
    {SUBSCRIPTION_FIELDS}
    deliveries(first: $first, after: $after) {{
      edges {{ cursor node {{
        id sequence eventType status attemptCount body redeliveryOf lastStatusCode lastError
        attempts {{ number attemptedAt statusCode latencyMs error }}
      }} }}
      pageInfo {{ hasNextPage endCursor }}
    }}
  }}
}}"""


async def create(shop, url: str, types=TYPES, document: str = DOCUMENT, masked: bool = False, role: str = "admin"):
    body = (
        await shop.post(
            CREATE,
            {"input": {"url": url, "eventTypes": types, "document": document, "masked": masked}},
            token=shop.token(role),
        )
    ).json()
    return body


async def created(shop, url: str, **options) -> dict:
    body = await create(shop, url, **options)
    answer = body["data"]["createWebhookSubscription"]
    assert answer["userErrors"] == [], answer
    return answer


async def subscriptions(shop, first: int = 10) -> list[dict]:
    """Every subscription with all its deliveries (newest first), read a page at a time."""
    body = (await shop.post(SUBSCRIPTIONS, {"first": first}, token=shop.token("admin"))).json()
    assert "errors" not in body, body
    found = body["data"]["webhookSubscriptions"]
    for index, subscription in enumerate(found):
        page = subscription["deliveries"]
        while page["pageInfo"]["hasNextPage"]:
            after = page["pageInfo"]["endCursor"]
            body = (await shop.post(SUBSCRIPTIONS, {"first": first, "after": after}, token=shop.token("admin"))).json()
            assert "errors" not in body, body
            page = body["data"]["webhookSubscriptions"][index]["deliveries"]
            subscription["deliveries"]["edges"] += page["edges"]
    return found


def signed_by(secret: str, received: Received) -> bool:
    fields = dict(part.split("=", 1) for part in received.headers["ordergraph-signature"].split(","))
    expected = hmac.new(secret.encode(), f"{fields['t']}.".encode() + received.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields["v1"])


async def wanted_events(url: str, after: int, types=TYPES) -> list[tuple[int, int]]:
    """(sequence, order id) of the committed events of these types after `after`."""
    db = Database(url)
    async with db.read() as session:
        rows = (
            await session.exec(
                sa.select(OrderEvent.sequence, OrderEvent.order_id)
                .where(OrderEvent.sequence > after, OrderEvent.type.in_(types))
                .order_by(OrderEvent.sequence)
            )
        ).all()
    await db.dispose()
    return [(s, o) for s, o in rows]


def assert_at_least_once_in_order(requests: list[Received], expected: list[tuple[int, int]]) -> None:
    """Every expected event accepted at least once; per order, no request for an event before every earlier event
    of that order was accepted; a delivery id always carries the same event and the same bytes."""
    accepted = {r.sequence for r in requests if r.answered == 200}
    missing = [s for s, _ in expected if s not in accepted]
    assert not missing, f"never accepted: {missing}"
    order_of = dict(expected)
    by_order: dict[int, list[int]] = defaultdict(list)
    for sequence, order_id in expected:
        by_order[order_id].append(sequence)
    done: set[int] = set()
    for request in requests:
        order_id = order_of.get(request.sequence)
        assert order_id is not None, f"an event that was not wanted: {request.sequence}"
        earlier = [s for s in by_order[order_id] if s < request.sequence]
        assert all(s in done for s in earlier), f"{request.sequence} sent before {earlier} were accepted"
        if request.answered == 200:
            done.add(request.sequence)
    bodies: dict[str, tuple[int, bytes]] = {}
    for request in requests:
        seen = bodies.setdefault(request.delivery_id, (request.sequence, request.body))
        assert seen == (request.sequence, request.body), "a delivery id carried another event or other bytes"
