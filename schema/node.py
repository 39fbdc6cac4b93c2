"""Relay global IDs: opaque base64 of "Type:key", and the Node interface."""

import base64
import binascii
import re

import strawberry

from ordergraph.resolvers.errors import InvalidId

MAX_PK = 2**63 - 1  # BIGINT
MAX_GLOBAL_ID_LENGTH = 64  # the longest issued, "FulfillmentOrder:" and 19 digits, has 48 characters
_RAW_ID = re.compile(r"(?P<type>[A-Za-z]+):(?P<pk>[1-9][0-9]{0,18})")
NODE_TYPES = {
    "Customer",
    "CustomerAddress",  # a saved address, for the address-book mutations (not resolvable by `node`)
    "Order",
    "OrderLine",
    "Shipment",
    "Return",
    "Payment",
    "FulfillmentOrder",
    "Location",
    "PickupPoint",
    "InboundShipment",  # stock coming in (schema/stock_in.py), for receiving; not a Node
    # Business buyers (#21): schema/companies.py; a CompanyBuyer's key is its customer's.
    "Company",
    "CompanyLocation",
    "CompanyBuyer",
    "PriceList",
}


def encode_global_id(type_name: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


def decode_global_id(global_id: str) -> tuple[str, int] | None:
    """(type name, primary key), or None for anything that is not an ID this graph issued: exactly what
    encode_global_id writes (with or without its base64 padding), for a key of 1 to 2^63-1 written in ASCII
    digits without a sign or leading zeros. No other spelling of the same ID is accepted."""
    if not isinstance(global_id, str) or len(global_id) > MAX_GLOBAL_ID_LENGTH or not global_id.isascii():
        return None
    try:
        raw = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    match = _RAW_ID.fullmatch(raw)
    if match is None or match["type"] not in NODE_TYPES:
        return None
    pk = int(match["pk"])
    if pk > MAX_PK:
        return None
    canonical = encode_global_id(match["type"], pk)
    if global_id not in (canonical, canonical + "=" * (-len(canonical) % 4)):
        return None  # another spelling of it: other padding, characters base64 skips, non-zero spare bits
    return match["type"], pk


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
