"""Signed document links: absolute URLs in emails that open one document without a login.

A link is `{public_url}/d/{token}`; the token is `payload.signature`, both base64url: the payload is JSON
{"p": purpose, "d": document, "e": expiry (Unix seconds)} and the signature HMAC-SHA256 over it with a key derived
from the server secret (ORDERGRAPH_JWT_SECRET) for this use only. So a link
- opens only the document it names, for the purpose it names (a label link never opens an invoice): changing
  either breaks the signature (403 INVALID_LINK);
- stops working at its expiry (410 LINK_EXPIRED), checked before anything is looked up;
- carries no database id: the document is named as the customer knows it (an RMA or order number).
"""

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from ordergraph.resolvers.errors import Refusal


class DocumentPurpose(StrEnum):
    RETURN_LABEL = "RETURN_LABEL"  # a MAIL return's label, by RMA number
    DROP_OFF_PASS = "DROP_OFF_PASS"  # a store drop-off return's pass, by RMA number
    INVOICE = "INVOICE"  # an invoice or a credit note, by its number
    BULK_EXPORT = "BULK_EXPORT"  # a bulk export's file, by the export's id, for its owner (resolvers.bulk_exports)


@dataclass(frozen=True, slots=True)
class DocumentLink:
    purpose: DocumentPurpose
    document: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class LinkSettings:
    """What a server signs links with: where they open, its secret, and how long a link it hands out works."""

    public_url: str
    secret: str
    lifetime: timedelta


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"ordergraph signed document links", hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(link: DocumentLink, secret: str) -> str:
    """The token for a link (deterministic: the same link, the same token)."""
    payload = json.dumps(
        {"p": link.purpose.value, "d": link.document, "e": int(link.expires_at.timestamp())},
        separators=(",", ":"),
        sort_keys=True,
    ).encode()
    signature = hmac.new(_key(secret), payload, hashlib.sha256).digest()
    return f"{_b64(payload)}.{_b64(signature)}"


def link_url(public_url: str, link: DocumentLink, secret: str) -> str:
    return f"{public_url.rstrip('/')}/d/{sign(link, secret)}"


def verify(token: str, secret: str, *, now: datetime) -> DocumentLink:
    """The link a token stands for; Refusal INVALID_LINK for one this server did not sign as it is (tampered,
    truncated, another server's), LINK_EXPIRED once it has expired."""
    invalid = Refusal("INVALID_LINK", "This link is not valid.", ["token"])
    payload_text, _, signature_text = token.partition(".")
    if not payload_text or not signature_text or len(token) > 1000:
        raise invalid
    try:
        payload, signature = _unb64(payload_text), _unb64(signature_text)
    except (binascii.Error, ValueError):
        raise invalid from None
    if not hmac.compare_digest(signature, hmac.new(_key(secret), payload, hashlib.sha256).digest()):
        raise invalid
    try:
        fields = json.loads(payload)
        link = DocumentLink(
            DocumentPurpose(fields["p"]), str(fields["d"]), datetime.fromtimestamp(int(fields["e"]), UTC)
        )
    except (ValueError, KeyError, TypeError):
        raise invalid from None
    if now >= link.expires_at:
        raise Refusal("LINK_EXPIRED", "This link has expired: ask for a new one in your account.", ["token"])
    return link
