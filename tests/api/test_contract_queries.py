"""Every query of the client contract runs against both databases and returns the data behind it."""

from ordergraph.schema.node import encode_global_id


async def test_my_order_history_lists_only_my_orders_newest_first(api):
    body = await api.run("MyOrderHistory", {"first": 20}, token=api.token("customer", "alice"))
    assert "errors" not in body
    me = body["data"]["me"]
    assert me["email"] == "alice@example.com"
    orders = me["orders"]
    assert orders["totalCount"] == 5
    ids = [edge["node"]["id"] for edge in orders["edges"]]
    assert ids == [encode_global_id("Order", pk) for pk in api.world.orders["alice"]]
    newest = orders["edges"][0]["node"]
    assert newest["status"] == "SHIPPED"
    assert newest["total"] == {"amount": "150.25", "currency": "USD"}
    assert newest["lines"][0]["unitPrice"] == {"amount": "120.00", "currency": "USD"}
    assert newest["shipments"][0]["events"][0]["status"] == "IN_TRANSIT"
    assert newest["placedAt"].endswith("+00:00")
    assert orders["edges"][1]["node"]["status"] == "DELIVERED"
    assert orders["edges"][1]["node"]["returns"][0]["status"] == "REFUNDED"


async def test_my_order_history_pages_with_cursors(api):
    token = api.token("customer", "bob")
    seen, after = [], None
    while True:
        body = await api.run("MyOrderHistory", {"first": 20, "after": after}, token=token)
        orders = body["data"]["me"]["orders"]
        seen += [edge["node"]["id"] for edge in orders["edges"]]
        if not orders["pageInfo"]["hasNextPage"]:
            break
        after = orders["pageInfo"]["endCursor"]
    assert seen == [encode_global_id("Order", pk) for pk in api.world.orders["bob"]]


async def test_my_order_detail_hides_internal_events_from_the_customer(api):
    order_id = encode_global_id("Order", api.world.orders["alice"][0])
    body = await api.run("MyOrderDetail", {"id": order_id}, token=api.token("customer", "alice"))
    order = body["data"]["node"]
    assert order["subtotal"] == {"amount": "132.50", "currency": "USD"}
    assert order["taxTotal"]["amount"] == "11.76"
    assert [e["node"]["type"] for e in order["timeline"]["edges"]] == ["ORDER_PLACED"]
    assert order["payments"][0]["capturedAmount"]["amount"] == "150.25"
    assert order["canCancel"] is False
    assert order["canChangeShipping"] is False


async def test_product_availability_is_public(api):
    body = await api.run("ProductAvailability", {"skus": ["SKU-1", "SKU-2", "NOPE"], "postalCode": "10001"})
    products = body["data"]["products"]
    assert [p["sku"] for p in products] == ["SKU-1", "SKU-2"]
    trail, socks = products
    # 40 on hand - 2 reserved at the warehouse, 3 - 1 safety stock at the store.
    assert trail["availability"]["totalAvailable"] == 40
    assert trail["availability"]["stockStatus"] == "IN_STOCK"
    by_location = {la["location"]["name"]: la for la in trail["availability"]["locations"]}
    assert by_location["Brooklyn Store"]["available"] == 2
    assert by_location["Brooklyn Store"]["pickupAvailable"]
    assert socks["availability"]["stockStatus"] == "OUT_OF_STOCK"
    assert not any(option["available"] for option in socks["availability"]["deliveryOptions"])
    same_day = next(o for o in trail["availability"]["deliveryOptions"] if o["method"]["code"] == "SAME_DAY")
    assert same_day["available"]
    assert same_day["price"] == {"amount": "19.99", "currency": "USD"}


async def test_search_orders_for_an_agent(api):
    customer_id = encode_global_id("Customer", api.world.customers["bob"])
    body = await api.run(
        "SearchOrders",
        {"first": 10, "filter": {"customerId": customer_id, "status": ["CONFIRMED"]}},
        token=api.token("agent"),
    )
    orders = body["data"]["orders"]
    assert orders["totalCount"] == 48  # bob's 50 orders less the shipped and the delivered one
    assert len(orders["edges"]) == 10
    assert orders["pageInfo"]["hasNextPage"]
    assert all(edge["node"]["customer"]["email"] == "bob@example.com" for edge in orders["edges"])


async def test_search_customers_by_email(api):
    body = await api.run("SearchCustomers", {"search": "carol@"}, token=api.token("agent"))
    nodes = [edge["node"] for edge in body["data"]["customers"]["edges"]]
    assert nodes == [
        {
            "id": encode_global_id("Customer", api.world.customers["carol"]),
            "name": "Carol Example",
            "email": "carol@example.com",
            "phone": "+12125550100",
            "orderCount": 1,
        }
    ]


async def test_customer_360(api):
    customer_id = encode_global_id("Customer", api.world.customers["alice"])
    body = await api.run("Customer360", {"id": customer_id}, token=api.token("agent"))
    customer = body["data"]["node"]
    assert customer["orderCount"] == 5
    assert customer["lifetimeValue"] == {"amount": "751.25", "currency": "USD"}
    assert customer["addresses"][0]["postalCode"] == "10001"
    assert customer["notificationPreferences"] == {"email": True, "sms": True, "phone": "+12125550199"}
    assert len(customer["orders"]["edges"]) == 5
    activity = [edge["node"] for edge in customer["activity"]["edges"]]
    assert len(activity) == 10
    assert activity[0]["sequence"] > activity[-1]["sequence"]
    assert {a["actor"]["kind"] for a in activity} == {"CUSTOMER", "SYSTEM"}


async def test_agent_order_detail_shows_internal_events_and_fulfillment(api):
    order_id = encode_global_id("Order", api.world.orders["alice"][1])
    body = await api.run("AgentOrderDetail", {"id": order_id}, token=api.token("agent"))
    order = body["data"]["node"]
    assert order["status"] == "DELIVERED"
    assert order["placedBy"] == {"kind": "CUSTOMER", "name": "Alice Example"}
    assert [e["node"]["visibility"] for e in order["timeline"]["edges"]] == ["CUSTOMER", "INTERNAL"]
    assert order["fulfillmentOrders"][0]["location"]["name"] == "Newark Warehouse"
    assert order["fulfillmentOrders"][0]["status"] == "DELIVERED"
    assert order["returns"][0]["lines"][0] == {
        "orderLine": {"id": order["lines"][0]["id"], "sku": "SKU-1"},
        "quantity": 1,
        "reason": "SIZE_OR_FIT",
    }
    assert order["returns"][0]["refundAmount"]["amount"] == "130.65"


async def test_orders_export_pages_ascending_for_analysts(api):
    token = api.token("analyst")
    seen, after = [], None
    while True:
        body = await api.run("OrdersExport", {"first": 25, "after": after}, token=token)
        page = body["data"]["orders"]
        seen += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == 56
    assert [n["placedAt"] for n in seen] == sorted(n["placedAt"] for n in seen)
    assert all(n["customer"]["email"] is None for n in seen)


async def test_inventory_position(api):
    body = await api.run("InventoryPosition", {"first": 2}, token=api.token("analyst"))
    page = body["data"]["inventoryLevels"]
    assert page["pageInfo"]["hasNextPage"]
    body = await api.run(
        "InventoryPosition", {"first": 2, "after": page["pageInfo"]["endCursor"]}, token=api.token("analyst")
    )
    rest = body["data"]["inventoryLevels"]
    levels = [e["node"] for e in page["edges"] + rest["edges"]]
    assert [(lv["sku"], lv["location"]["name"], lv["available"]) for lv in levels] == [
        ("SKU-1", "Newark Warehouse", 38),
        ("SKU-1", "Brooklyn Store", 2),
        ("SKU-2", "Newark Warehouse", 0),
    ]
    assert levels[2]["incoming"] == 50
    assert not rest["pageInfo"]["hasNextPage"]
