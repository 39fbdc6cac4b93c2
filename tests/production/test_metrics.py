"""/metrics (issue 22): a scripted session moves the counters it should, and only allowed callers may scrape."""

import asyncio
import socket

import httpx
from conftest import Api
from contract import document
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import col, select
from test_live_harness import PATIENCE_SECONDS, LiveClient, serving_on_a_port
from test_placement import place
from webhook_helpers import FAST, created
from webhook_receiver import receiving

from ordergraph.models import OrderEvent
from ordergraph.subscriptions.wire import encode_event


async def scrape(client: httpx.AsyncClient, **headers: str) -> dict[tuple[str, tuple], float]:
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def moved(before: dict, after: dict, name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


async def test_a_scripted_session_moves_the_counters(shop: Api) -> None:
    alice, agent = shop.token("customer", "alice"), shop.token("agent")
    before = await scrape(shop.client)

    history = await shop.run("MyOrderHistory", {"first": 5}, token=alice)
    assert "errors" not in history
    await shop.run("MyOrderHistory", {"first": 5}, token=alice)  # the same again: from the result cache
    await place(shop, key="metrics-1")
    await shop.run("SearchOrders", {"first": 5}, token=agent)
    await shop.app.state.services.notifier.run_once()  # the placement's confirmation, to the outbox folder
    refused = await shop.run("MyOrderDetail", {"id": "nonsense"}, token=alice)
    refused_code = refused["errors"][0]["extensions"]["code"]
    throttled = 0
    for _ in range(30):  # an anonymous caller asking again and again
        body = (await shop.post(document("ProductAvailability"), {"skus": ["SKU-1", "SKU-2", "SKU-3"]})).json()
        if "errors" in body:
            assert body["errors"][0]["extensions"]["code"] == "THROTTLED"
            throttled += 1
            break

    after = await scrape(shop.client)
    requests = "ordergraph_graphql_requests_total"
    assert moved(before, after, requests, operation="MyOrderHistory", role="customer", code="OK") == 2
    assert moved(before, after, requests, operation="PlaceOrder", role="customer", code="OK") == 1
    assert moved(before, after, requests, operation="SearchOrders", role="agent", code="OK") == 1
    assert moved(before, after, requests, operation="MyOrderDetail", role="customer", code=refused_code) == 1
    assert moved(before, after, requests, operation="ProductAvailability", role="anonymous", code="THROTTLED") == 1
    assert moved(before, after, "ordergraph_rate_limit_refusals_total", role="anonymous") == throttled == 1
    assert moved(before, after, "ordergraph_result_cache_hits_total") >= 1
    latency = "ordergraph_graphql_request_seconds_count"
    assert moved(before, after, latency, operation="MyOrderHistory") == 2
    # SQL: every request observed, and the statements counted (a placement alone sends several).
    assert moved(before, after, "ordergraph_request_sql_statements_count") >= 6
    assert moved(before, after, "ordergraph_request_sql_statements_sum") >= 5
    assert moved(before, after, "ordergraph_request_sql_seconds_sum") > 0
    assert moved(before, after, "ordergraph_sql_statements_total") >= 5
    assert moved(before, after, "ordergraph_notification_attempts_total") >= 1
    assert moved(before, after, "ordergraph_notification_failures_total") == 0


async def test_the_relay_and_live_gauges(shop: Api) -> None:
    alice = shop.token("customer", "alice")
    before = await scrape(shop.client)
    async with serving_on_a_port(shop.app) as url, LiveClient.connect(url, alice) as spa:
        mine = await spa.subscribe("MyOrderUpdates", {"after": "0"})
        await place(shop, key="metrics-live")
        assert (await mine.next())["type"] == "ORDER_PLACED"
        # The subscriber may read the event from the log before the relay publishes it: wait for the relay.
        for _ in range(PATIENCE_SECONDS * 10):
            during = await scrape(shop.client)
            if moved(before, during, "ordergraph_relay_events_published_total") >= 1:
                break
            await asyncio.sleep(0.1)
        assert moved(before, during, "ordergraph_relay_events_published_total") >= 1
        assert moved(before, during, "ordergraph_websockets_open") == 1
        assert moved(before, during, "ordergraph_subscriptions_live") == 1
        await mine.complete()
    after = await scrape(shop.client)
    assert moved(before, after, "ordergraph_websockets_open") == 0
    assert moved(before, after, "ordergraph_subscriptions_live") == 0
    assert after[("ordergraph_relay_lag_events", ())] == 0


async def test_only_allowed_callers_may_scrape(open_shop) -> None:
    async with open_shop(metrics_allowed_networks="10.0.0.0/8", metrics_token="scrape-secret") as shop:
        # The test client calls from 127.0.0.1, outside 10.0.0.0/8.
        refused = await shop.client.get("/metrics")
        assert (refused.status_code, refused.json()) == (403, {"error": "FORBIDDEN"})
        wrong = await shop.client.get("/metrics", headers={"Authorization": "Bearer guess"})
        assert wrong.status_code == 403
        assert await scrape(shop.client, Authorization="Bearer scrape-secret")
    async with open_shop() as shop:  # the default: loopback only
        assert await scrape(shop.client)


async def test_the_queues_loaders_and_hub_gaps(open_shop) -> None:
    """Webhook deliveries queued, attempted and failing (a receiver answering 500) and their pending depth; the
    notifier's pending depth (an SMTP server that is not there); loader batch sizes; a gap the hub back-filled."""
    with socket.socket() as closed:  # a port nobody listens on: every email attempt fails
        closed.bind(("127.0.0.1", 0))
        smtp_port = closed.getsockname()[1]
    settings = {**FAST, "smtp_host": "127.0.0.1", "smtp_port": smtp_port, "notification_poll_seconds": 3600}
    async with receiving(mode="fail") as receiver, open_shop(**settings) as shop:
        services = shop.app.state.services
        await created(shop, receiver.url)
        before = await scrape(shop.client)

        placed = await place(shop, key="metrics-queues")
        await shop.run("MyOrderDetail", {"id": placed["order"]["id"]}, token=shop.token("customer", "alice"))
        await receiver.wait_for(lambda r: len(r.requests) >= 1)
        await services.notifier.run_once()  # queues the confirmation; its one attempt fails
        # The hub misses a sequence: two orders committed while the relay is stopped, then only the newest event
        # published; it reads the others back from the database.
        await services.relay.stop()
        await place(shop, key="metrics-gap-1")
        await place(shop, key="metrics-gap-2")
        async with shop.db.read() as session:
            newest = (await session.exec(select(OrderEvent).order_by(col(OrderEvent.sequence).desc()))).first()
        await services.broadcast.publish(channel=services.relay.channel, message=encode_event(newest))
        for _ in range(PATIENCE_SECONDS * 10):
            if services.hub.position == newest.sequence:
                break
            await asyncio.sleep(0.1)
        after = await scrape(shop.client)

    assert moved(before, after, "ordergraph_webhook_deliveries_queued_total") >= 1
    assert moved(before, after, "ordergraph_webhook_attempts_total") >= 1
    assert moved(before, after, "ordergraph_webhook_failures_total") >= 1
    assert moved(before, after, "ordergraph_webhook_deliveries_pending") >= 1  # retried later, so still pending
    assert moved(before, after, "ordergraph_notification_attempts_total") >= 1
    assert moved(before, after, "ordergraph_notification_failures_total") >= 1
    assert moved(before, after, "ordergraph_notifications_pending") >= 1
    assert moved(before, after, "ordergraph_loader_batch_size_count", loader="Order") >= 1
    assert moved(before, after, "ordergraph_hub_gaps_back_filled_total") >= 1
    assert moved(before, after, "ordergraph_hub_events_back_filled_total") >= 2
