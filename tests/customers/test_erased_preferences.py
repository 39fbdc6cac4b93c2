"""An erased customer (#18) chooses nothing any more: notification preferences and language are refused with
CUSTOMER_ERASED and change nothing, no event is written."""

import sqlalchemy as sa
from conftest import Api

from ordergraph.models import Customer, NotificationMomentPreference, OrderEvent
from ordergraph.schema.node import encode_global_id


async def customer_state(shop: Api, customer_id: int) -> tuple:
    async with shop.db.read() as session:
        customer = await session.get_one(Customer, customer_id)
        moments = (
            await session.exec(
                sa.select(sa.func.count())
                .select_from(NotificationMomentPreference)
                .where(NotificationMomentPreference.customer_id == customer_id)
            )
        ).one()[0]
        events = (await session.exec(sa.select(sa.func.count()).select_from(OrderEvent))).one()[0]
    return (
        customer.locale,
        customer.notify_email,
        customer.notify_sms,
        customer.sms_phone,
        customer.time_zone,
        customer.quiet_hours_start,
        moments,
        events,
    )


async def test_an_erased_customer_cannot_change_preferences_or_language(shop: Api) -> None:
    bob = shop.world.customers["bob"]
    erased = await shop.run(
        "EraseCustomerPersonalData",
        {"input": {"customerId": encode_global_id("Customer", bob)}},
        token=shop.token("agent"),
    )
    assert erased["data"]["eraseCustomerPersonalData"]["userErrors"] == []
    before = await customer_state(shop, bob)
    me = shop.token("customer", "bob")
    for operation, variables in (
        ("UpdateMyNotificationPreferences", {"input": {"email": False, "sms": True, "phone": "+420601234567"}}),
        (
            "UpdateMyNotificationSettings",
            {
                "input": {
                    "timeZone": "Europe/Prague",
                    "quietHoursStart": "22:00",
                    "quietHoursEnd": "07:00",
                    "moments": [{"moment": "PARCEL_SHIPPED", "email": False}],
                }
            },
        ),
        ("UpdateMyLanguage", {"input": {"locale": "cs"}}),
    ):
        body = await shop.run(operation, variables, token=me)
        assert "errors" not in body, body
        payload = next(iter(body["data"].values()))
        assert [e["code"] for e in payload["userErrors"]] == ["CUSTOMER_ERASED"], operation
        assert payload["customer"] is None
    assert await customer_state(shop, bob) == before

    # Alice, not erased, still chooses.
    body = await shop.run("UpdateMyLanguage", {"input": {"locale": "cs"}}, token=shop.token("customer", "alice"))
    assert body["data"]["updateMyLanguage"]["userErrors"] == []
