"""POST /webhooks/carriers/{carrier}: a carrier pushes one tracking event, signed with the secret it shares with
us (ORDERGRAPH_CARRIER_WEBHOOK_SECRETS).

    X-Ordergraph-Signature: sha256=<hex HMAC-SHA256 of the raw body under the carrier's secret>
    {"carrierEventId": "…", "trackingNumber": "…", "status": "IN_TRANSIT", "occurredAt": "2026-11-20T17:00:00Z",
     "description": "…", "location": "…"}

Answers: 200 with the outcome (a replayed event id too: acknowledged, nothing changes); 401 for an unknown carrier,
a carrier without a secret, or a missing or wrong signature; 400 for a body that is not a JSON object (INVALID_JSON)
or a field that is missing or wrong (INVALID_INPUT); 404 for a tracking number we never shipped with (NOT_FOUND: the
carrier retries); 413 for a body over 64 KiB. Only a 200 changes anything: the event is applied in one change
through the app's write transaction, so the outbox relay publishes what it moved.
"""

import hashlib
import hmac
import json
from datetime import datetime

from starlette.requests import Request
from starlette.responses import JSONResponse

from ordergraph.models.enums import ShipmentStatus
from ordergraph.resolvers.errors import Refusal
from ordergraph.resolvers.ports.carrier import Carriers, UnknownCarrier
from ordergraph.resolvers.tracking import CarrierEvent, track_carrier_event

SIGNATURE_HEADER = "X-Ordergraph-Signature"
MAX_BODY_BYTES = 64 * 1024
REQUIRED = ("carrierEventId", "trackingNumber", "status", "occurredAt")
OPTIONAL = ("description", "location")


async def carrier_webhook(request: Request) -> JSONResponse:
    services = request.app.state.services
    body = await _body(request)
    if body is None:
        return _error(413, "PAYLOAD_TOO_LARGE", f"A carrier event is at most {MAX_BODY_BYTES} bytes.")
    carrier = _carrier_name(services.ports.carriers, request.path_params["carrier"])
    secret = services.settings.carrier_secrets.get(carrier.casefold()) if carrier else None
    if secret is None or not is_signed(body, secret, request.headers.get(SIGNATURE_HEADER)):
        return _error(401, "UNAUTHENTICATED", "Unknown carrier, or a missing or wrong signature.")
    try:
        tracking_number, event = parse_event(body)
        tracked = await track_carrier_event(services.write, carrier, tracking_number, event)
    except Refusal as refusal:
        return _error(404 if refusal.code == "NOT_FOUND" else 400, refusal.code, refusal.message, refusal.field)
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
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise Refusal("INVALID_JSON", "The body is not JSON.") from None
    if not isinstance(payload, dict):
        raise Refusal("INVALID_JSON", "The body is not a JSON object.")
    for name in REQUIRED:
        if not isinstance(payload.get(name), str) or not payload[name].strip():
            raise Refusal("INVALID_INPUT", f"{name} is required (a string).", [name])
    for name in OPTIONAL:
        if payload.get(name) is not None and not isinstance(payload[name], str):
            raise Refusal("INVALID_INPUT", f"{name} is a string when given.", [name])
    try:
        status = ShipmentStatus(payload["status"])
    except ValueError:
        choices = ", ".join(s for s in ShipmentStatus if s is not ShipmentStatus.LABEL_CREATED)
        raise Refusal("INVALID_INPUT", f"status is one of {choices}.", ["status"]) from None
    try:
        occurred_at = datetime.fromisoformat(payload["occurredAt"])
    except ValueError:
        raise Refusal(
            "INVALID_INPUT", "occurredAt is an ISO 8601 time, e.g. 2026-11-20T17:00:00Z.", ["occurredAt"]
        ) from None
    event = CarrierEvent(
        payload["carrierEventId"], status, occurred_at, payload.get("description"), payload.get("location")
    )
    return payload["trackingNumber"], event


def _carrier_name(carriers: Carriers, name: str) -> str | None:
    """The carrier's name as its shipments record it ("ups" is UPS), or None for one the carrier port does not know."""
    try:
        return carriers.carrier(name).name
    except UnknownCarrier:
        return None


async def _body(request: Request) -> bytes | None:
    """The raw body (what the signature covers), or None once it passes MAX_BODY_BYTES."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            return None
    return bytes(body)


def _error(status_code: int, code: str, message: str, field: list[str] | None = None) -> JSONResponse:
    body = {"error": code, "message": message, **({"field": field} if field else {})}
    return JSONResponse(body, status_code=status_code)
