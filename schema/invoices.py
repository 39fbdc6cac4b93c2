"""Invoices, credit notes and the accounting export (#17)."""

import strawberry


@strawberry.type
class InvoiceQueries:
    """Mixed into the root Query type (schema/query.py)."""


@strawberry.type
class InvoiceMutations:
    """Mixed into the root Mutation type (schema/mutation.py)."""
