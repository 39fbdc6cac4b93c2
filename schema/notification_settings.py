"""Customers' language and notification preferences per channel and moment (#19)."""

import strawberry


@strawberry.type
class NotificationQueries:
    """Mixed into the root Query type (schema/query.py)."""


@strawberry.type
class NotificationMutations:
    """Mixed into the root Mutation type (schema/mutation.py)."""
