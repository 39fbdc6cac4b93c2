"""Business orders (#21): approvals, purchase orders, payment on account and invoice payments."""

import strawberry


@strawberry.type
class CompanyOrderQueries:
    """Mixed into the root Query type (schema/query.py)."""


@strawberry.type
class CompanyOrderMutations:
    """Mixed into the root Mutation type (schema/mutation.py)."""
