"""The embedded default for messages to customers: with no SMTP server or SMS endpoint configured, each message is
a file in a folder (ORDERGRAPH_NOTIFICATION_OUTBOX) for a developer to read."""

import os
from pathlib import Path


def write_message(folder: Path, name: str, data: bytes) -> None:
    """Writes `folder/name` whole or not at all; another attempt at the same message replaces the file."""
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{name}.partial"
    partial.write_bytes(data)
    os.replace(partial, folder / name)
