"""SMS: a short text to a phone number in international form (+12125550123).

The built-in `http` sender posts each message as JSON, {"to": "+1…", "text": "…", "reference": "…"}, to an endpoint
(ORDERGRAPH_SMS_ENDPOINT: an SMS gateway of one's own, or a provider's relay); any 2xx is accepted. Without an endpoint
it writes each message to the outbox folder instead."""

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import httpx

from ordergraph.resolvers.ports.outbox_folder import write_message

TIMEOUT_SECONDS = 10.0


class SmsSender(Protocol):
    async def send(self, phone: str, text: str, *, reference: str) -> None:
        """Hands the message over, or raises. `reference` is the same for every attempt at one message, so the
        receiver can drop a repeat."""
        ...


@dataclass(frozen=True)
class HttpSmsSender:
    endpoint: str

    async def send(self, phone: str, text: str, *, reference: str) -> None:
        async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as client:
            response = await client.post(self.endpoint, json={"to": phone, "text": text, "reference": reference})
        response.raise_for_status()


@dataclass(frozen=True)
class FolderSmsSender:
    folder: Path

    async def send(self, phone: str, text: str, *, reference: str) -> None:
        write_message(self.folder, f"{reference}.sms.txt", f"To: {phone}\n\n{text}\n".encode())


def http_sms_sender(*, endpoint: str | None, outbox: Path) -> SmsSender:
    return HttpSmsSender(endpoint) if endpoint else FolderSmsSender(outbox)
