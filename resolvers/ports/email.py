"""Email: a message to the customer's address over SMTP (ORDERGRAPH_SMTP_*), or, with no SMTP host configured, a
.eml file in the outbox folder."""

import asyncio
import smtplib
import ssl
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Protocol

from ordergraph.resolvers.ports.outbox_folder import write_message

TIMEOUT_SECONDS = 30.0


class EmailSender(Protocol):
    async def send(self, message: Message, *, reference: str) -> None:
        """Hands the message over, or raises. `reference` is the same for every attempt at one message."""
        ...


@dataclass(frozen=True)
class SmtpEmailSender:
    host: str
    port: int = 25
    starttls: bool = False
    username: str | None = None
    password: str | None = None

    async def send(self, message: Message, *, reference: str) -> None:
        await asyncio.to_thread(self._send, message)  # smtplib blocks

    def _send(self, message: Message) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=TIMEOUT_SECONDS) as smtp:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message)


@dataclass(frozen=True)
class FolderEmailSender:
    folder: Path

    async def send(self, message: Message, *, reference: str) -> None:
        write_message(self.folder, f"{reference}.eml", message.as_bytes())


def email_sender(
    *, host: str | None, port: int, starttls: bool, username: str | None, password: str | None, outbox: Path
) -> EmailSender:
    if not host:
        return FolderEmailSender(outbox)
    return SmtpEmailSender(host, port, starttls, username, password)
