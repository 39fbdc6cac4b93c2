"""Keyset pagination: opaque cursors holding the sort key of the last row seen, and the page size cap."""

import base64
import binascii
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ordergraph.resolvers.errors import BadUserInput

DEFAULT_PAGE_SIZE = 20


@dataclass(frozen=True, slots=True)
class Sort:
    """A named keyset order: attribute names that are unique together, and their direction."""

    name: str
    keys: tuple[str, ...]
    descending: bool

    def values(self, row: Any) -> tuple:
        return tuple(getattr(row, k) for k in self.keys)

    def cursor(self, row: Any) -> str:
        values = [v.isoformat() if isinstance(v, datetime) else v for v in self.values(row)]
        raw = json.dumps([self.name, values], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def decode(self, cursor: str | None, types: Sequence[type]) -> tuple | None:
        """The sort-key values in a cursor made by this sort; anything else is a BAD_USER_INPUT."""
        if cursor is None:
            return None
        try:
            name, values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
            if name != self.name or len(values) != len(types):
                raise ValueError
            return tuple(
                datetime.fromisoformat(v) if t is datetime else t(v) for t, v in zip(types, values, strict=True)
            )
        except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
            raise BadUserInput("`after` is not a cursor of this list.") from None


@dataclass(frozen=True, slots=True)
class Connection:
    """One page of a list, as resolvers hand it to the schema; `count` runs only if totalCount is asked for."""

    rows: list[Any]
    sort: Sort
    has_next_page: bool
    has_previous_page: bool
    count: Callable[[], Awaitable[int]] | None = None


def page_size(first: int | None, maximum: int, default: int = DEFAULT_PAGE_SIZE) -> int:
    if first is None:
        return min(default, maximum)
    if first < 0 or first > maximum:
        raise BadUserInput(f"`first` must be between 0 and {maximum}.")
    return first
