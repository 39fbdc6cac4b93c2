"""Every relation is batched: a page of orders costs the same few SQL statements however long it is."""

# The result cache's version read (schema/result_cache.py; a repeat is answered with it alone), me, orders page,
# totalCount, then the page's orders as the fast path's Rows read them (schema/compiled.py): on PostgreSQL one
# statement that writes each order's JSON, on SQLite one per table (orders, lines, shipments, their tracking
# events, returns), in one read.
MY_ORDER_HISTORY_STATEMENTS = {"postgresql": 5, "sqlite": 9}
MY_ORDER_HISTORY_READS = 5  # read sessions: the first four statements' and the Rows'


async def _count_my_order_history(api, customer: str, first: int) -> tuple[list[str], dict]:
    with api.statements() as executed:
        body = await api.run("MyOrderHistory", {"first": first}, token=api.token("customer", customer))
    assert "errors" not in body
    return [s for s in executed if not s.startswith(("BEGIN", "COMMIT", "ROLLBACK"))], body


async def test_my_order_history_runs_the_same_statements_for_5_and_50_orders(api):
    five, body5 = await _count_my_order_history(api, "alice", 50)
    fifty, body50 = await _count_my_order_history(api, "bob", 50)
    assert len(body5["data"]["me"]["orders"]["edges"]) == 5
    assert len(body50["data"]["me"]["orders"]["edges"]) == 50
    assert len(five) == len(fifty) == MY_ORDER_HISTORY_STATEMENTS[api.backend], "\n".join(fifty)


async def test_a_nested_connection_per_order_is_still_one_statement(api):
    query = """{ orders(first: 50) { edges { node { timeline(first: 5) { edges { node { type } } } } } } }"""
    with api.statements() as executed:
        response = await api.post(query, token=api.token("agent"))
    assert "errors" not in response.json()
    selects = [s for s in executed if s.lstrip().upper().startswith(("SELECT", "("))]
    assert len(selects) == 2, "\n".join(selects)


# placeOrder (#20): one placement's reads and writes, the order inserted with its status and promise (no UPDATE of
# it after the reservation, whose row locks are held until commit), and nothing read back for the answer (the
# request's loaders are given what the placement wrote). Counted up to the events' INSERT, which is the last: one
# for all of them, which reads the highest sequence number itself; PostgreSQL adds the sequence's advisory lock.
PLACE_ORDER_STATEMENTS = 19


async def test_placing_an_order_updates_no_order_and_reads_nothing_back(shop):
    from test_placement import place

    with shop.statements() as executed:
        result = await place(shop)
    assert result["userErrors"] == []
    assert result["order"]["lines"]
    sent = [
        s.lstrip()
        for s in executed
        if not s.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")) and "pg_advisory" not in s
    ]
    assert not [s for s in sent if s.upper().startswith("UPDATE ORDERS")], "\n".join(sent)
    events = next(i for i, s in enumerate(sent) if s.upper().startswith("INSERT INTO ORDER_EVENT"))
    assert sent[events:] == sent[events : events + 1], "\n".join(sent)
    assert events == PLACE_ORDER_STATEMENTS, "\n".join(s.split("\n")[0][:90] for s in sent)
