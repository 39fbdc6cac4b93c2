"""What a request works out from its document alone, kept by document text: clients send the same few documents.

The text is the key (Python keeps a string's hash; a parsed DocumentNode's hash walks its whole tree), and the
parser cache gives the same text the same document, so a value worked out from one request's document holds for
every request with that text.
"""

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

Value = TypeVar("Value")

MAX_DOCUMENTS = 128  # as Strawberry's caches: a flood of distinct texts only costs the work again


class PerDocument(Generic[Value]):
    """A bounded map from (document text, …) to a value: the least recently used goes first."""

    def __init__(self, max_entries: int = MAX_DOCUMENTS) -> None:
        self.max_entries = max_entries
        self._values: OrderedDict[Hashable, Value] = OrderedDict()

    def get(self, key: Hashable, make: Callable[[], Value]) -> Value:
        """The value kept for `key`, or `make()`'s, kept."""
        try:
            value = self._values[key]
        except KeyError:
            value = self._values[key] = make()
            if len(self._values) > self.max_entries:
                self._values.popitem(last=False)
            return value
        self._values.move_to_end(key)
        return value
