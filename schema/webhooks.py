"""Webhook subscriptions for ERP and other receivers: admins configure them (#17)."""

import strawberry


@strawberry.type
class WebhookQueries:
    """Mixed into the root Query type (schema/query.py)."""


@strawberry.type
class WebhookMutations:
    """Mixed into the root Mutation type (schema/mutation.py)."""
