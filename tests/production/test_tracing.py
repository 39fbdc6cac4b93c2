"""OpenTelemetry traces (issue 22), collected by the SDK's in-memory exporter: a placement's trace holds its
request, its operation, its SQL statements and the relay's publish of its events."""

import asyncio

import httpx
from conftest import TEST_SECRET, Api
from contract import document
from factories import NOW
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from test_live_harness import PATIENCE_SECONDS
from test_placement import order_input

from ordergraph.server.app import create_app
from ordergraph.server.settings import Settings

CALLER_TRACE, CALLER_SPAN = 0x4BF92F3577B34DA6A3CE929D0E0E4736, 0x00F067AA0BA902B7


async def test_a_placement_is_traced_from_its_request_to_the_relays_publish(open_shop, database_factory) -> None:
    backend = database_factory.backend
    async with open_shop() as seeded:
        settings = seeded.app.state.services.settings
        world = seeded.world
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = create_app(Settings(**{**settings.model_dump(), "jwt_secret": TEST_SECRET}), tracer_provider=provider)
    app.state.services.clock = lambda: NOW
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ordergraph.test") as client:
            shop = Api(client, app, world, "")
            response = await client.post(
                "/graphql",
                json={"query": document("PlaceOrder"), "variables": {"input": order_input(key="traced-1")}},
                headers={
                    "Authorization": f"Bearer {shop.token('customer', 'alice')}",
                    "X-Request-ID": "trace-me",
                    "traceparent": f"00-{CALLER_TRACE:032x}-{CALLER_SPAN:016x}-01",  # the caller's trace goes on
                },
            )
            assert "errors" not in response.json(), response.text
            request = next(s for s in exporter.get_finished_spans() if s.attributes.get("ordergraph.request_id"))
            trace_id = request.context.trace_id

            def in_trace() -> list:
                return [s for s in exporter.get_finished_spans() if s.context.trace_id == trace_id]

            for _ in range(PATIENCE_SECONDS * 10):  # the relay publishes in its own task
                if any(s.name == "relay publish" for s in in_trace()):
                    break
                await asyncio.sleep(0.1)

    spans = in_trace()
    by_id = {s.context.span_id: s for s in spans}
    names = [s.name for s in spans]
    assert request.name == "POST /graphql"
    assert (trace_id, request.parent.span_id, request.parent.is_remote) == (CALLER_TRACE, CALLER_SPAN, True)
    assert request.attributes["ordergraph.request_id"] == "trace-me"
    assert request.attributes["http.response.status_code"] == 200
    (operation,) = [s for s in spans if s.name == "mutation PlaceOrder"]
    assert operation.parent.span_id == request.context.span_id
    # Its SQL, each statement a span under the operation (directly or through another span of the request).
    statements = [s for s in spans if "db.query.text" in s.attributes]
    assert any(s.name == "INSERT" and "order_event" in s.attributes["db.query.text"] for s in statements), names

    def under(span, ancestor) -> bool:
        while span.parent is not None:
            if span.parent.span_id == ancestor.context.span_id:
                return True
            span = by_id.get(span.parent.span_id)
            if span is None:
                return False
        return False

    assert all(under(s, operation) for s in statements if s.start_time < operation.end_time)
    # The use case: a span of its own under the operation, holding the placement's writes.
    (use_case,) = [s for s in spans if s.name == "Mutation.placeOrder"]
    assert use_case.parent.span_id == operation.context.span_id
    assert "ordergraph.user_error.code" not in use_case.attributes
    assert any(under(s, use_case) and "order_event" in s.attributes["db.query.text"] for s in statements)
    # The relay's publish of the placement's events is in the same trace, after the request's commit.
    (publish,) = [s for s in spans if s.name == "relay publish"]
    assert publish.attributes["ordergraph.events"] >= 1
    assert under(publish, use_case)
    redis_calls = [s for s in spans if s.attributes.get("db.system") == "redis"]
    if backend == "postgresql":  # with Redis: the cost limiter's calls, and the relay's PUBLISH under its publish
        assert any(under(s, operation) for s in redis_calls), names
        assert any(s.name == "PUBLISH" and s.parent.span_id == publish.context.span_id for s in redis_calls), names
    else:
        assert redis_calls == []
