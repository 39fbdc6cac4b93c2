"""Webhook deliveries to a real receiver on loopback: signed, at least once, in order per order, through failures,
timeouts and the receiver's restart; redeliveries; a subscription disabled after its failure window."""

import asyncio
import dataclasses
import json
import re
from pathlib import Path

from sqlmodel import select
from test_placement import place
from webhook_helpers import (
    FAST,
    assert_at_least_once_in_order,
    created,
    signed_by,
    subscriptions,
    wanted_events,
)
from webhook_receiver import receiving

from ordergraph.models import WebhookAttempt, WebhookSubscription
from ordergraph.resolvers.webhooks import STRICT

README = Path(__file__).resolve().parents[2] / "README.md"

ADD_NOTE = """
mutation Note($input: AddOrderNoteInput!) { addOrderNote(input: $input) { userErrors { code } } }
"""


async def note(shop, order_id: str, message: str) -> None:
    body = (
        await shop.post(
            ADD_NOTE,
            {"input": {"orderId": order_id, "message": message, "visibility": "INTERNAL"}},
            token=shop.token("agent"),
        )
    ).json()
    assert body["data"]["addOrderNote"]["userErrors"] == [], body


async def place_orders(shop, n: int, prefix: str) -> list[str]:
    ids = []
    for i in range(n):
        placed = await place(shop, ("alice", "bob")[i % 2], key=f"{prefix}-{i}")
        ids.append(placed["order"]["id"])
    return ids


async def until_an_attempt(shop, predicate) -> WebhookAttempt:
    """The first recorded attempt that satisfies `predicate`, once there is one (20 s at most). Read from the
    database: polling through the API would spend the admin's query budget."""
    for _ in range(400):
        async with shop.db.read() as session:
            for attempt in (await session.exec(select(WebhookAttempt).order_by(WebhookAttempt.id))).all():
                if predicate(attempt):
                    return attempt
        await asyncio.sleep(0.05)
    raise AssertionError("no such attempt was recorded")


def database_url(shop) -> str:
    return shop.app.state.services.settings.database_url


async def test_events_arrive_signed_and_in_order_through_failures_timeouts_and_a_restart(open_shop) -> None:
    async with receiving(mode="fail") as receiver, open_shop(**FAST) as shop:
        answer = await created(shop, receiver.url)
        secret, start = answer["secret"], int(answer["subscription"]["startSequence"])

        orders = await place_orders(shop, 3, "fail")
        await receiver.wait_for(lambda r: len(r.requests) >= 4)  # failing, and retried
        receiver.mode = "slow"
        await note(shop, orders[0], "while slow")
        await receiver.wait_for(lambda r: sum(x.answered == 0 for x in r.requests) >= 2)  # timed out, and retried
        await receiver.stop()  # connections refused
        await note(shop, orders[1], "while away")
        orders += await place_orders(shop, 2, "away")
        await until_an_attempt(shop, lambda a: "ConnectError" in (a.error or ""))
        receiver.mode = "ok"
        await receiver.start()

        expected = await wanted_events(database_url(shop), start)
        await receiver.wait_for(lambda r: {s for s, _ in expected} <= {x.sequence for x in r.accepted})
        assert_at_least_once_in_order(receiver.requests, expected)
        assert all(signed_by(secret, request) for request in receiver.requests)
        # The body is what the document selects for the event.
        first = receiver.accepted[0].payload
        assert set(first) == {"sequence", "type", "data"}
        assert first["data"]["orderEvents"]["order"]["customer"]["name"]

        [subscription] = await subscriptions(shop)
        attempts = [a for edge in subscription["deliveries"]["edges"] for a in edge["node"]["attempts"]]
        assert {a["statusCode"] for a in attempts} >= {500, 200, None}
        assert any("no answer within" in (a["error"] or "") for a in attempts)
        assert any("ConnectError" in (a["error"] or "") for a in attempts)
        assert all(a["latencyMs"] >= 0 for a in attempts)
        assert subscription["failingSince"] is None
        assert subscription["active"]


async def test_the_readme_verification_accepts_a_delivery_and_refuses_a_replay_and_tampering(open_shop) -> None:
    section = README.read_text().split("## Webhooks", 1)[1]
    snippet = re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)
    assert len(snippet.strip().splitlines()) <= 14
    namespace: dict = {}
    exec(snippet, namespace)
    verify = namespace["verify"]

    async with receiving() as receiver, open_shop(**FAST) as shop:
        secret = (await created(shop, receiver.url, types=["ORDER_PLACED"]))["secret"]
        await place_orders(shop, 1, "readme")
        await receiver.wait_for(lambda r: r.accepted)
        delivery = receiver.accepted[0]
        header = delivery.headers["ordergraph-signature"]
        signed_at = int(header.split(",")[0].removeprefix("t="))

        assert verify(secret, header, delivery.body)
        # Replayed: the same request presented again six minutes later.
        assert not verify(secret, header, delivery.body, now=signed_at + 360)
        # Tampered: another body under the same signature, or a signature made up for another time.
        tampered = delivery.body.replace(b'"ORDER_PLACED"', b'"ORDER_CANCELLED"')
        assert tampered != delivery.body
        assert not verify(secret, header, tampered)
        assert not verify(secret, header.replace(f"t={signed_at}", f"t={signed_at + 1}"), delivery.body)
        assert not verify("whsec_someone-else", header, delivery.body)


async def test_redelivery_of_one_delivery_and_of_every_event_after_a_sequence(open_shop) -> None:
    async with receiving() as receiver, open_shop(**FAST) as shop:
        answer = await created(shop, receiver.url)
        subscription_id, start = answer["subscription"]["id"], int(answer["subscription"]["startSequence"])
        await place_orders(shop, 2, "redeliver")
        expected = await wanted_events(database_url(shop), start)
        await receiver.wait_for(lambda r: len(r.accepted) >= len(expected))
        [listed] = await subscriptions(shop)
        oldest = listed["deliveries"]["edges"][-1]["node"]
        count = len(receiver.requests)

        body = (
            await shop.post(
                "mutation R($id: ID!) { redeliverWebhookDelivery(id: $id) { delivery { id redeliveryOf body } "
                "userErrors { code } } }",
                {"id": oldest["id"]},
                token=shop.token("admin"),
            )
        ).json()["data"]["redeliverWebhookDelivery"]
        assert body["delivery"]["redeliveryOf"] == oldest["id"]
        await receiver.wait_for(lambda r: len(r.requests) > count)
        again = receiver.requests[count]
        assert again.body == oldest["body"].encode()  # identical bytes
        assert again.delivery_id != receiver.requests[0].delivery_id

        count = len(receiver.requests)
        body = (
            await shop.post(
                "mutation E($id: ID!, $after: BigInt!) { redeliverWebhookEvents(subscriptionId: $id, "
                "afterSequence: $after) { queued lastSequence hasMore userErrors { code } } }",
                {"id": subscription_id, "after": str(start)},
                token=shop.token("admin"),
            )
        ).json()["data"]["redeliverWebhookEvents"]
        assert body["queued"] == len(expected)
        assert not body["hasMore"]
        await receiver.wait_for(lambda r: len(r.requests) >= count + len(expected))
        assert sorted(r.sequence for r in receiver.requests[count:]) == [s for s, _ in expected]

        refused = (
            await shop.post(
                "mutation R($id: ID!) { redeliverWebhookDelivery(id: $id) { userErrors { code } } }",
                {"id": "not-an-id"},
                token=shop.token("admin"),
            )
        ).json()
        assert refused["errors"][0]["extensions"]["code"] == "INVALID_ID"


async def test_a_subscription_failing_for_its_whole_window_is_disabled_with_a_record_and_keeps_its_deliveries(
    open_shop,
) -> None:
    async with receiving(mode="fail") as receiver, open_shop(**FAST, webhook_failure_window_seconds=0.5) as shop:
        await created(shop, receiver.url, types=["ORDER_PLACED"])
        await place_orders(shop, 2, "disable")
        for _ in range(400):
            async with shop.db.read() as session:
                if not (await session.exec(select(WebhookSubscription.active))).one():
                    break
            await asyncio.sleep(0.05)
        [subscription] = await subscriptions(shop)
        assert not subscription["active"]
        assert subscription["disabledAt"]
        assert "Every attempt failed" in subscription["disabledReason"]
        assert [entry["kind"] for entry in subscription["log"]] == ["CREATED", "DISABLED"]
        assert subscription["log"][1]["detail"] == subscription["disabledReason"]
        pending = [e["node"]["status"] for e in subscription["deliveries"]["edges"]]
        assert pending == ["PENDING", "PENDING"]

        # Enabled again, with the receiver mended: nothing was lost.
        receiver.mode = "ok"
        body = (
            await shop.post(
                "mutation A($id: ID!) { setWebhookSubscriptionActive(id: $id, active: true) { "
                "subscription { active disabledReason log { kind } } userErrors { code } } }",
                {"id": subscription["id"]},
                token=shop.token("admin"),
            )
        ).json()["data"]["setWebhookSubscriptionActive"]
        assert body["subscription"]["active"]
        assert body["subscription"]["disabledReason"] is None
        assert [e["kind"] for e in body["subscription"]["log"]] == ["CREATED", "DISABLED", "ENABLED"]
        await receiver.wait_for(lambda r: len(r.accepted) == 2)


async def test_the_target_is_checked_again_before_each_request(open_shop) -> None:
    """Allowed when created, refused when sent (as when the host's DNS answer changes): no request goes out."""
    async with receiving() as receiver, open_shop(**FAST) as shop:
        await created(shop, receiver.url, types=["ORDER_PLACED"])
        worker = shop.app.state.services.webhooks
        worker.policy = dataclasses.replace(worker.policy, targets=STRICT)
        await place_orders(shop, 1, "rebind")
        await until_an_attempt(shop, lambda a: True)
        [subscription] = await subscriptions(shop)
        attempt = subscription["deliveries"]["edges"][0]["node"]["attempts"][0]
        assert attempt["statusCode"] is None
        assert "loopback" in attempt["error"]
        assert receiver.requests == []


async def test_a_masked_subscription_gets_no_personal_data(open_shop) -> None:
    async with receiving() as receiver, open_shop(**FAST) as shop:
        plain = await created(shop, receiver.url, types=["ORDER_PLACED"])
        await created(shop, receiver.url, types=["ORDER_PLACED"], masked=True)
        await place_orders(shop, 1, "masked")
        await receiver.wait_for(lambda r: len(r.accepted) == 2)
        names = {
            signed_by(plain["secret"], r): r.payload["data"]["orderEvents"]["order"]["customer"]["name"]
            for r in receiver.accepted
        }
        assert names[True]
        assert names[False] is None
        assert all(json.loads(r.body)["type"] == "ORDER_PLACED" for r in receiver.accepted)
