"""Whether a resolver's value must be awaited, decided once per type.

graphql-core asks it of every field's value (Strawberry's optimized_is_awaitable skips only builtins); for a
model instance `hasattr(value, "__await__")` goes through pydantic's __getattr__, which raises and catches an
AttributeError each time. The answer is a property of the value's type (`await` looks __await__ up on the type),
except for generators, where a flag of each object's code decides: those are never remembered.
"""

import inspect
import types
from collections.abc import Awaitable
from typing import Any, TypeGuard

_AWAITABLE: dict[type, bool] = {}


def is_awaitable(value: Any) -> TypeGuard[Awaitable[Any]]:
    """inspect.isawaitable, remembered by type."""
    kind = type(value)
    known = _AWAITABLE.get(kind)
    if known is None:
        known = inspect.isawaitable(value)
        if kind is not types.GeneratorType:
            _AWAITABLE[kind] = known
    return known
