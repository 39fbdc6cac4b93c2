"""POST /webhooks/carriers/{carrier}: a carrier pushes one tracking event, signed with the secret it shares with
us (ORDERGRAPH_CARRIER_WEBHOOK_SECRETS).

    X-Ordergraph-Signature: sha256=<hex HMAC-SHA256 of the raw body under the carrier's secret>
    {"carrierEventId": "…", "trackingNumber": "…", "status": "IN_TRANSIT", "occurredAt": "2026-11-20T17:00:00Z",
     "description": "…", "location": "…"}

Answers: 200 with the outcome (a replayed event id too: acknowledged, nothing changes); 401 for an unknown carrier,
a carrier without a secret, or a missing or wrong signature; 400 for a body that is not a JSON object (INVALID_JSON)
or a field that is missing or wrong (INVALID_INPUT: of the wrong type, too long, holding a control character, a time
that is not ISO 8601 or not in 2000…2099); 404 for a tracking number we never shipped with (NOT_FOUND: the carrier
retries); 413 for a body over 64 KiB, refused as it is read (server/request_body.py refuses it first, and a body
nested too deeply, before the signature is checked). Only a 200 changes anything: the event is applied in one change
through the app's write transaction, so the outbox relay publishes what it moved.
"""

import hashlib
import hmac
import json
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse

from ordergraph.models.enums import ShipmentStatus
from ordergraph.resolvers.errors import Refusal
from ordergraph.resolvers.ports.carrier import Carriers, UnknownCarrier
from ordergraph.resolvers.tracking import CarrierEvent, track_carrier_event
from ordergraph.schema.input_rules import TextRule, rule_for, text_problem

SIGNATURE_HEADER = "X-Ordergraph-Signature"
MAX_BODY_BYTES = 64 * 1024
REQUIRED = ("carrierEventId", "trackingNumber", "status", "occurredAt")
OPTIONAL = ("description", "location")
# Each field keeps the rule of the GraphQL input it stands for (recordShipmentEvent, shipFulfillmentOrder).
TEXT_RULES = {
    "carrierEventId": rule_for("RecordShipmentEventInput.carrierEventId"),
    "trackingNumber": rule_for("ShipFulfillmentOrderInput.trackingNumber"),
    "status": TextRule(32),
    "occurredAt": TextRule(64),
    "description": rule_for("RecordShipmentEventInput.description"),
    "location": rule_for("RecordShipmentEventInput.location"),
}
# A carrier scan happens in this century: anything else is a mistake, whatever the ISO 8601 text says.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


async def carrier_webhook(request: Request) -> JSONResponse:
    services = request.app.state.services
    body = await _body(request)
    if body is None:
        return refusal_response(413, "PAYLOAD_TOO_LARGE", f"A carrier event is at most {MAX_BODY_BYTES} bytes.")
    carrier = _carrier_name(services.ports.carriers, request.path_params["carrier"])
    secret = services.settings.carrier_secrets.get(carrier.casefold()) if carrier else None
    if carrier is None or secret is None or not is_signed(body, secret, request.headers.get(SIGNATURE_HEADER)):
        return refusal_response(401, "UNAUTHENTICATED", "Unknown carrier, or a missing or wrong signature.")
    try:
        tracking_number, event = parse_event(body)
        tracked = await track_carrier_event(services.write, carrier, tracking_number, event)
    except Refusal as refusal:
        return refusal_response(
            404 if refusal.code == "NOT_FOUND" else 400, refusal.code, refusal.message, refusal.field
        )
    return JSONResponse({"outcome": tracked.outcome, "shipmentStatus": tracked.shipment.status})


def signature(body: bytes, secret: str) -> str:
    """The header value a carrier sends with `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def is_signed(body: bytes, secret: str, header: str | None) -> bool:
    # compare_digest: how much of a guess matches must not show in how long the answer takes.
    return header is not None and hmac.compare_digest(signature(body, secret).encode(), header.strip().encode())


def parse_event(body: bytes) -> tuple[str, CarrierEvent]:
    """(tracking number, event) from the JSON body, or a refusal naming what is wrong."""
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):  # not UTF-8 (or UTF-16/32), not JSON, too deep, an int of 4,300+ digits
        raise Refusal("INVALID_JSON", "The body is not JSON.") from None
    if not isinstance(payload, dict):
        raise Refusal("INVALID_JSON", "The body is not a JSON object.")
    for name in REQUIRED:
        if not isinstance(payload.get(name), str) or not payload[name].strip():
            raise Refusal("INVALID_INPUT", f"{name} is required (a string).", [name])
    for name in OPTIONAL:
        if payload.get(name) is not None and not isinstance(payload[name], str):
            raise Refusal("INVALID_INPUT", f"{name} is a string when given.", [name])
    for name, rule in TEXT_RULES.items():
        problem = text_problem(payload[name], rule) if payload.get(name) is not None else None
        if problem is not None:
            raise Refusal("INVALID_INPUT", f"{name} {problem}.", [name])
    try:
        status = ShipmentStatus(payload["status"])
    except ValueError:
        choices = ", ".join(s for s in ShipmentStatus if s is not ShipmentStatus.LABEL_CREATED)
        raise Refusal("INVALID_INPUT", f"status is one of {choices}.", ["status"]) from None
    occurred_at = _occurred_at(payload["occurredAt"])
    event = CarrierEvent(
        payload["carrierEventId"], status, occurred_at, payload.get("description"), payload.get("location")
    )
    return payload["trackingNumber"], event


def _occurred_at(text: str) -> datetime:
    """The event's time in UTC (UTC when the text has no offset), or a refusal: not ISO 8601 ("2026-13-45"), or
    outside 2000…2099 (year 99999 does not parse; 9999-12-31T23:00-05:00 parses but is past what a time can hold)."""
    try:
        moment = datetime.fromisoformat(text)
        moment = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):
        raise Refusal(
            "INVALID_INPUT", "occurredAt is an ISO 8601 time, e.g. 2026-11-20T17:00:00Z.", ["occurredAt"]
        ) from None
    if not EARLIEST <= moment < LATEST:
        raise Refusal("INVALID_INPUT", "occurredAt is a time in the years 2000 to 2099.", ["occurredAt"])
    return moment


def _carrier_name(carriers: Carriers, name: str) -> str | None:
    """The carrier's name as its shipments record it ("ups" is UPS), or None for one the carrier port does not know."""
    try:
        return carriers.carrier(name).name
    except UnknownCarrier:
        return None


async def _body(request: Request) -> bytes | None:
    """The raw body (what the signature covers), or None once it passes MAX_BODY_BYTES: by its Content-Length
    before anything is read, and counted as it streams in (a chunked body has no length)."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            return None
    return bytes(body)


def refusal_response(status_code: int, code: str, message: str, field: list[str] | None = None) -> JSONResponse:
    """A refusal as the webhook answers it: `{"error": code, "message": …, "field": [...]}`."""
    body = {"error": code, "message": message, **({"field": field} if field else {})}
    return JSONResponse(body, status_code=status_code)
