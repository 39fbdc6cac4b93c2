"""Inbound shipments, receiving, and stock thresholds per level (#18)."""

import strawberry


@strawberry.type
class StockInQueries:
    """Mixed into the root Query type (schema/query.py)."""


@strawberry.type
class StockInMutations:
    """Mixed into the root Mutation type (schema/mutation.py)."""
