"""Keyset pagination: opaque cursors holding the sort key of the last row seen, and the page size cap."""

import base64
import binascii
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from ordergraph.resolvers.errors import BadUserInput

DEFAULT_PAGE_SIZE = 20
MAX_CURSOR_LENGTH = 200  # the longest cursor issued is about 100 characters
MAX_KEY = 2**63 - 1  # ids, sequences and amounts are BIGINT
MAX_TEXT_KEY = 64  # a text sort key (an order number)


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
        return _encode(self.name, values)

    def decode(self, cursor: str | None, types: Sequence[type]) -> tuple | None:
        """The sort-key values in a cursor made by this sort; anything else is a BAD_USER_INPUT. Only cursors
        exactly as `cursor` writes them are accepted (with or without base64 padding), each key of its type and in
        range: an int in 0…2^63-1, a UTC time in ISO 8601, a short printable string."""
        if cursor is None:
            return None
        try:
            if len(cursor) > MAX_CURSOR_LENGTH or not cursor.isascii():
                raise ValueError
            name, values = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
            if name != self.name or not isinstance(values, list) or len(values) != len(types):
                raise ValueError
            keys = tuple(_key(t, v) for t, v in zip(types, values, strict=True))
            canonical = _encode(name, values)
            if cursor not in (canonical, canonical + "=" * (-len(canonical) % 4)):
                raise ValueError  # another spelling of a cursor: not one this server wrote
            return keys
        except (ValueError, TypeError, binascii.Error, RecursionError):  # orjson.JSONDecodeError is a ValueError
            raise BadUserInput("`after` is not a cursor of this list.") from None


def _encode(name: str, values: list) -> str:
    """base64url of the compact JSON [name, values] (UTF-8), unpadded."""
    return base64.urlsafe_b64encode(orjson.dumps([name, values])).decode().rstrip("=")


def _key(kind: type, value: object) -> Any:
    """One sort-key value of a cursor, checked against its kind; ValueError or TypeError when it does not fit."""
    if kind is int:
        if type(value) is not int or not 0 <= value <= MAX_KEY:
            raise ValueError
        return value
    if kind is datetime:
        if not isinstance(value, str):
            raise TypeError
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None or moment.isoformat() != value:
            raise ValueError
        return moment
    if kind is str:
        if not isinstance(value, str) or len(value) > MAX_TEXT_KEY or not value.isprintable():
            raise ValueError
        return value
    raise AssertionError(f"no cursor key of type {kind.__name__}")


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
