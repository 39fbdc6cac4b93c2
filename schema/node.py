"""Relay global IDs: opaque base64 of "Type:key", and the Node interface."""

import base64
import binascii

import strawberry

from ordergraph.resolvers.errors import InvalidId

NODE_TYPES = {"Customer", "Order", "OrderLine", "Shipment", "Return", "Payment", "FulfillmentOrder", "Location"}


def encode_global_id(type_name: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


def decode_global_id(global_id: str) -> tuple[str, int] | None:
    """(type name, primary key), or None for anything that is not an ID this graph issued."""
    try:
        raw = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()
        type_name, _, pk = raw.partition(":")
        if type_name in NODE_TYPES and pk.isdigit():
            return type_name, int(pk)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    return None


def parse_global_id(global_id: str, *expected: str) -> tuple[str, int]:
    """Decode an ID a client sent, refusing malformed IDs and IDs of another type with INVALID_ID."""
    decoded = decode_global_id(global_id)
    if decoded is None or (expected and decoded[0] not in expected):
        kind = " or ".join(expected) if expected else "object"
        raise InvalidId(f"'{global_id}' is not a valid {kind} ID.")
    return decoded


@strawberry.interface
class Node:
    id: strawberry.ID
