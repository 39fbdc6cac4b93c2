"""Business buyers (#21): companies, their buyers and locations, price lists, approvals and on-account invoices."""

import strawberry


@strawberry.type
class CompanyQueries:
    """Mixed into the root Query type (schema/query.py)."""


@strawberry.type
class CompanyMutations:
    """Mixed into the root Mutation type (schema/mutation.py)."""
