"""What travels on the broadcast channel: one committed event per message, as JSON."""

import json
from datetime import datetime

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
