"""Customer records and address books: agents create and edit customers, customers their own profile (#18); erasure."""

import strawberry


@strawberry.type
class CustomerQueries:
    """Mixed into the root Query type (schema/query.py)."""


@strawberry.type
class CustomerMutations:
    """Mixed into the root Mutation type (schema/mutation.py)."""
