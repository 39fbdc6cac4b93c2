"""What travels on the broadcast channel: one committed event per message, as JSON; what travels to a
subscriber: graphql-transport-ws `next` messages, whose payload is encoded once for every subscriber given the
same result, the subscription's id spliced in front of it; and how every GraphQL answer is encoded as JSON
(`encode_json`: HTTP bodies and those payloads alike)."""

import json
from datetime import datetime
from typing import Any

import orjson

from ordergraph.models import OrderEvent
from ordergraph.models.enums import ActorKind, EventVisibility


def order_events_channel(redis_prefix: str) -> str:
    """The channel this deployment's events travel on (ORDERGRAPH_REDIS_PREFIX)."""
    return f"{redis_prefix}.order_events"


# Sent by a backend (never published) after it has (re)subscribed: whatever was published meanwhile was
# missed, so the process back-fills from the database.
RESUBSCRIBED = ""


def encode_event(event: OrderEvent) -> str:
    return json.dumps(
        {
            "id": event.id,
            "sequence": event.sequence,
            "order_id": event.order_id,
            "customer_id": event.customer_id,
            "type": event.type,
            "message": event.message,
            "visibility": event.visibility.value,
            "actor_kind": event.actor_kind.value,
            "actor_name": event.actor_name,
            "occurred_at": event.occurred_at.isoformat(),
            "reason_code": event.reason_code,
            "internal_note": event.internal_note,
        }
    )


def decode_event(message: str) -> OrderEvent:
    data = json.loads(message)
    return OrderEvent(
        **data
        | {
            "visibility": EventVisibility(data["visibility"]),
            "actor_kind": ActorKind(data["actor_kind"]),
            "occurred_at": datetime.fromisoformat(data["occurred_at"]),
        }
    )


class Prebuilt:
    """A part of an answer built before the answer is encoded (schema/compiled.py: a level's orders, read as rows
    together): its JSON text exactly as encoding its value would write it, or that value; and how many objects it
    holds, itself included, which the answer's cost counts without walking it. Filled in once its level is read."""

    __slots__ = ("json", "objects", "value")

    def __init__(self) -> None:
        self.json: str | None = None
        self.value: Any = None
        self.objects = 0


def _prebuilt(value: object) -> Any:
    if type(value) is Prebuilt:
        return value.value if value.json is None else orjson.Fragment(value.json)
    raise TypeError(f"Type is not JSON serializable: {type(value).__name__}")


def _prebuilt_value(value: object) -> Any:
    if type(value) is Prebuilt:
        return value.value if value.json is None else json.loads(value.json)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def encode_json(answer: Any) -> str:
    """A GraphQL answer as compact JSON text (text, not bytes: Strawberry sends bytes over a WebSocket as binary
    frames, which graphql-ws refuses). orjson, for speed; what it refuses (an integer beyond 64 bits, a key that is
    not a string) goes through json.dumps as before, which says what it refuses in turn."""
    try:
        return orjson.dumps(answer, default=_prebuilt).decode()
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(answer, separators=(",", ":"), ensure_ascii=False, default=_prebuilt_value)


def encode_payload(data: dict | None, extensions: dict | None) -> str:
    """A `next` message's payload without errors: `{"data": …, "extensions": …}` as JSON text."""
    payload = {"data": data, "extensions": extensions} if extensions else {"data": data}
    return encode_json(payload)


def next_prefix(operation_id: str) -> str:
    """The text of a `next` message before its payload; the message is `prefix + payload + "}"`."""
    return '{"id":' + json.dumps(operation_id) + ',"type":"next","payload":'
