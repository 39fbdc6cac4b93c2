"""Configuring webhooks: admins only, documents and event types checked, target URLs guarded, the secret shown once."""

import pytest
from webhook_helpers import DOCUMENT, FAST, create, created, subscriptions

from ordergraph.models import WebhookSubscription


def refusal(body: dict) -> list[str]:
    return [e["code"] for e in body["data"]["createWebhookSubscription"]["userErrors"]]


async def count_subscriptions(shop) -> int:
    async with shop.db.read() as session:
        return len((await session.exec(WebhookSubscription.__table__.select())).all())


@pytest.mark.parametrize("role", ["agent", "analyst", "customer"])
async def test_only_admins_configure_and_read_webhooks(open_shop, role: str) -> None:
    async with open_shop(**FAST) as shop:
        token = shop.token(role, "alice" if role == "customer" else None)
        body = (
            await shop.post(
                "mutation C($input: CreateWebhookSubscriptionInput!) { createWebhookSubscription(input: $input) "
                "{ secret userErrors { code } } }",
                {"input": {"url": "http://127.0.0.1:9/x", "eventTypes": ["ORDER_PLACED"], "document": DOCUMENT}},
                token=token,
            )
        ).json()
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        body = (await shop.post("{ webhookSubscriptions { id } }", token=token)).json()
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert await count_subscriptions(shop) == 0


@pytest.mark.parametrize(
    ("document", "types"),
    [
        ("subscription { orderEvents { sequence", ["ORDER_PLACED"]),  # does not parse
        ("query { webhookSubscriptions { id } }", ["ORDER_PLACED"]),  # not a subscription
        ("subscription { orderEvents { nothingHere } }", ["ORDER_PLACED"]),  # not valid against the schema
        ("subscription { myOrderUpdates { sequence } }", ["ORDER_PLACED"]),  # not orderEvents
        ("subscription S($a: BigInt) { orderEvents(after: $a) { sequence } }", ["ORDER_PLACED"]),  # variables
        ("subscription { orderEvents(after: 1) { sequence } }", ["ORDER_PLACED"]),  # arguments
        ("subscription A { orderEvents { sequence } } subscription B { orderEvents { type } }", ["ORDER_PLACED"]),
    ],
)
async def test_a_document_that_is_not_one_valid_subscription_over_order_events_is_refused(
    open_shop, document: str, types: list[str]
) -> None:
    async with open_shop(**FAST) as shop:
        body = await create(shop, "http://127.0.0.1:9/x", types=types, document=document)
        assert refusal(body) == ["INVALID_DOCUMENT"]
        assert await count_subscriptions(shop) == 0


async def test_event_types_are_checked(open_shop) -> None:
    async with open_shop(**FAST) as shop:
        assert refusal(await create(shop, "http://127.0.0.1:9/x", types=["ORDER_PLACED", "NO_SUCH"])) == [
            "UNKNOWN_EVENT_TYPE"
        ]
        assert refusal(await create(shop, "http://127.0.0.1:9/x", types=[])) == ["EVENT_TYPES_REQUIRED"]
        assert await count_subscriptions(shop) == 0


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("ftp://127.0.0.1/x", "INVALID_URL"),
        ("http://user:pw@127.0.0.1/x", "INVALID_URL"),
        ("not a url", "INVALID_URL"),
        ("http:///path-only", "INVALID_URL"),
        ("http://127.0.0.1:99999/x", "INVALID_URL"),
        ("http://127.0.0.1:8080/x", "TARGET_NOT_ALLOWED"),  # loopback, not allowed here
        ("http://localhost:8080/x", "TARGET_NOT_ALLOWED"),  # a name resolving to loopback
        ("http://[::1]/x", "TARGET_NOT_ALLOWED"),
        ("https://10.1.2.3/x", "TARGET_NOT_ALLOWED"),  # private
        ("http://192.168.0.10/x", "TARGET_NOT_ALLOWED"),
        ("http://169.254.169.254/latest/meta-data/", "TARGET_NOT_ALLOWED"),  # cloud metadata
        ("http://[::ffff:169.254.169.254]/", "TARGET_NOT_ALLOWED"),  # the same, IPv4-mapped
        ("http://224.0.0.1/x", "TARGET_NOT_ALLOWED"),  # multicast
        ("http://0.0.0.0/x", "TARGET_NOT_ALLOWED"),
        ("http://240.0.0.1/x", "TARGET_NOT_ALLOWED"),  # reserved
    ],
)
async def test_target_urls_are_guarded_without_any_allowed_network(open_shop, url: str, code: str) -> None:
    settings = {**FAST, "webhook_allowed_networks": ""}
    async with open_shop(**settings) as shop:
        assert refusal(await create(shop, url)) == [code]
        assert await count_subscriptions(shop) == 0


async def test_an_allowed_network_lets_in_that_network_only_and_never_metadata(open_shop) -> None:
    async with open_shop(**{**FAST, "webhook_allowed_networks": "127.0.0.0/8,169.254.0.0/16"}) as shop:
        for url in ("https://10.0.0.1/x", "http://169.254.169.254/x", "http://[::1]/x"):
            assert refusal(await create(shop, url)) == ["TARGET_NOT_ALLOWED"], url
        assert refusal(await create(shop, "http://127.0.0.1:9/x")) == []
        assert refusal(await create(shop, "http://169.254.1.1:9/x")) == []


async def test_the_secret_is_shown_at_creation_and_rotation_only(open_shop) -> None:
    async with open_shop(**FAST) as shop:
        answer = await created(shop, "http://127.0.0.1:9/x")
        assert answer["secret"].startswith("whsec_")
        assert len(answer["secret"]) > 40
        # No field reads it back.
        body = (await shop.post("{ webhookSubscriptions { secret } }", token=shop.token("admin"))).json()
        assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        [listed] = await subscriptions(shop)
        assert answer["secret"] not in str(listed)

        rotated = (
            await shop.post(
                "mutation R($id: ID!) { rotateWebhookSecret(id: $id) { secret subscription { log { kind } } "
                "userErrors { code } } }",
                {"id": listed["id"]},
                token=shop.token("admin"),
            )
        ).json()["data"]["rotateWebhookSecret"]
        assert rotated["secret"].startswith("whsec_")
        assert rotated["secret"] != answer["secret"]
        assert [e["kind"] for e in rotated["subscription"]["log"]] == ["CREATED", "SECRET_ROTATED"]
        agent = (
            await shop.post(
                "mutation R($id: ID!) { rotateWebhookSecret(id: $id) { secret } }",
                {"id": listed["id"]},
                token=shop.token("agent"),
            )
        ).json()
        assert agent["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        unknown = (
            await shop.post(
                "mutation R($id: ID!) { rotateWebhookSecret(id: $id) { secret userErrors { code } } }",
                {"id": "V2ViaG9va1N1YnNjcmlwdGlvbjo5OTk"},  # WebhookSubscription:999
                token=shop.token("admin"),
            )
        ).json()["data"]["rotateWebhookSecret"]
        assert unknown == {"secret": None, "userErrors": [{"code": "NOT_FOUND"}]}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("url", "http://127.0.0.1:9/x\x00"),  # PostgreSQL refuses NUL in text: never a 500
        ("url", "http://127.0.0.1:9/\x1bx"),
        ("url", "http://127.0.0.1:9/" + "x" * 2100),
        ("document", "subscription { orderEvents { sequence } }\x00"),
        ("document", "subscription { orderEvents { sequence } }" + " " * 20_001),
        ("eventTypes", ["ORDER_PLACED\x00"]),
    ],
)
async def test_hostile_text_in_a_subscription_is_a_coded_error_that_creates_nothing(
    open_shop, field: str, value: object
) -> None:
    async with open_shop(**FAST) as shop:
        variables = {"url": "http://127.0.0.1:9/x", "eventTypes": ["ORDER_PLACED"], "document": DOCUMENT}
        response = await shop.post(
            "mutation C($input: CreateWebhookSubscriptionInput!) { createWebhookSubscription(input: $input) "
            "{ secret userErrors { field code } } }",
            {"input": variables | {field: value}},
            token=shop.token("admin"),
        )
        body = response.json()
        codes = [e["extensions"]["code"] for e in body.get("errors", [])] or [
            e["code"] for e in body["data"]["createWebhookSubscription"]["userErrors"]
        ]
        assert codes, body
        assert "INTERNAL_SERVER_ERROR" not in codes, body
        assert response.status_code in (200, 400), response.text
        assert await count_subscriptions(shop) == 0
