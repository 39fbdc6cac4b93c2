"""Webhook subscriptions for ERP and other receivers: admins configure them (#17).

A subscription's payload is a GraphQL subscription document over `orderEvents`, executed for each event exactly as
a live subscriber's selection is (graphql-core's ExecuteSubscriptionEvent with this schema's SharedEventExecution,
the event as root value, the event's own loaders), as an agent, or as an analyst when `masked`. `PayloadRenderer`
does that for the worker (server.webhooks) and for redeliveries; subscriptions with the same document and viewer
share one execution per event, as live subscribers do.
"""

import base64
import binascii
import dataclasses
import json
import re
from collections.abc import Callable
from datetime import datetime

import strawberry
from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    execute_subscription_event,
    parse,
    validate,
)

from ordergraph import models
from ordergraph.models.columns import id_of
from ordergraph.resolvers import webhooks
from ordergraph.resolvers.access import Role, Viewer, require_admin
from ordergraph.resolvers.context import RequestContext
from ordergraph.resolvers.errors import InvalidId, Refusal
from ordergraph.schema.common import Connection, UserError
from ordergraph.schema.extensions import coded
from ordergraph.schema.info import Info
from ordergraph.schema.node import MAX_GLOBAL_ID_LENGTH, encode_global_id
from ordergraph.schema.scalars import BigInt
from ordergraph.schema.subscription import SharedEventExecution
from ordergraph.subscriptions.context import current_delivery
from ordergraph.subscriptions.hub import Delivery

ROOT_FIELD = "orderEvents"
_RAW_ID = re.compile(r"(?P<type>WebhookSubscription|WebhookDelivery):(?P<pk>[1-9][0-9]{0,18})")


# --- IDs: global IDs of their own kind (not `node`-resolvable: admins reach them through webhookSubscriptions) ---


def _parse_id(global_id: str, type_name: str) -> int:
    """Exactly what encode_global_id writes for this type; INVALID_ID for anything else."""
    refused = InvalidId(f"'{global_id}' is not a valid {type_name} ID.")
    if len(global_id) > MAX_GLOBAL_ID_LENGTH or not global_id.isascii():
        raise refused
    try:
        raw = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise refused from None
    match = _RAW_ID.fullmatch(raw)
    if match is None or match["type"] != type_name or int(match["pk"]) > 2**63 - 1:
        raise refused
    canonical = encode_global_id(type_name, int(match["pk"]))
    if global_id not in (canonical, canonical + "=" * (-len(canonical) % 4)):
        raise refused
    return int(match["pk"])


# --- The payload document ---


def check_document(schema: GraphQLSchema, text: str) -> DocumentNode:
    """The document parsed, when it is one valid subscription operation against the schema selecting `orderEvents`
    (without arguments: the subscription's eventTypes choose the events) and needing no variables; a coded
    INVALID_DOCUMENT refusal otherwise."""

    def refused(message: str) -> Refusal:
        return Refusal("INVALID_DOCUMENT", message, ["document"])

    if len(text) > webhooks.MAX_DOCUMENT_LENGTH:
        raise refused(f"The document is longer than {webhooks.MAX_DOCUMENT_LENGTH} characters.")
    try:
        document = parse(text, max_tokens=2000)
    except GraphQLError as error:
        raise refused(f"The document does not parse: {error.message}") from None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].operation is not OperationType.SUBSCRIPTION:
        raise refused("The document must hold exactly one operation, a subscription.")
    errors = validate(schema, document)
    if errors:
        raise refused(f"The document is not valid against the schema: {errors[0].message}")
    operation = operations[0]
    if operation.variable_definitions:
        raise refused("The document may not declare variables: nothing would supply them.")
    fields = [s for s in operation.selection_set.selections if isinstance(s, FieldNode)]
    if len(operation.selection_set.selections) != 1 or not fields or fields[0].name.value != ROOT_FIELD:
        raise refused(f"The subscription must select `{ROOT_FIELD}` alone.")
    if fields[0].arguments:
        raise refused(f"`{ROOT_FIELD}` takes no arguments here: the subscription's eventTypes choose the events.")
    return document


def webhook_viewer(subscription: models.WebhookSubscription) -> Viewer:
    """Who a subscription's document runs as: an agent, or an analyst (personal data and free text null) if masked."""
    return Viewer(
        role=Role.ANALYST if subscription.masked else Role.AGENT,
        name="webhook",
        subject=f"webhook:{subscription.id}",
    )


class PayloadRenderer:
    """Computes delivery bodies: `{"sequence", "type", "data"[, "errors"]}` as compact JSON, where `data` is what
    the subscription's document selects for the event. Errors are coded and masked as over the socket."""

    def __init__(self, schema: GraphQLSchema, context: RequestContext) -> None:
        self.schema = schema
        self.context = context  # the viewer and loaders are replaced per subscription and event
        self._documents: dict[str, DocumentNode] = {}

    def delivery(self, event: models.OrderEvent) -> Delivery:
        """One per event: the subscriptions it goes to share its loaders and their executions."""
        return Delivery(event, self.context.loaders.database)

    async def render(self, subscription: models.WebhookSubscription, delivery: Delivery) -> str:
        document = self._documents.get(subscription.document)
        if document is None:
            if len(self._documents) > 1000:
                self._documents.clear()
            document = self._documents[subscription.document] = parse(subscription.document)
        context = dataclasses.replace(self.context, viewer=webhook_viewer(subscription), loaders=delivery.loaders)
        token = current_delivery.set(delivery)
        try:
            executor = SharedEventExecution.build(self.schema, document, context_value=context)
            if isinstance(executor, list):
                data, errors = None, executor
            else:
                result = execute_subscription_event(executor.build_per_event_executor(delivery.event))
                if executor.is_awaitable(result):
                    result = await result
                data, errors = result.data, list(result.errors or [])
        finally:
            current_delivery.reset(token)
        body: dict[str, object] = {"sequence": delivery.event.sequence, "type": delivery.event.type, "data": data}
        if errors:
            body["errors"] = [coded(error).formatted for error in errors]
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def _renderer(info: Info) -> Callable[[models.WebhookSubscription, models.OrderEvent], object]:
    renderer = PayloadRenderer(info.schema._schema, dataclasses.replace(info.context))

    async def render(subscription: models.WebhookSubscription, event: models.OrderEvent) -> str:
        return await renderer.render(subscription, renderer.delivery(event))

    return render


# --- Types ---


@strawberry.type
class WebhookAttempt:
    number: int
    attempted_at: datetime
    status_code: int | None = strawberry.field(description="The receiver's; null when none came (error).")
    latency_ms: int
    error: str | None


@strawberry.type
class WebhookDelivery:
    @strawberry.field(description="Sent in the Ordergraph-Delivery-Id header; the same on every retry.")
    def id(root: models.WebhookDelivery) -> strawberry.ID:
        return strawberry.ID(encode_global_id("WebhookDelivery", id_of(root)))

    @strawberry.field
    def sequence(root: models.WebhookDelivery) -> BigInt:
        return root.sequence

    event_type: str
    status: str = strawberry.field(description="PENDING, DELIVERED or FAILED (its retry window ended).")

    @strawberry.field(name="attemptCount")
    def attempt_count(root: models.WebhookDelivery) -> int:
        return root.attempts

    created_at: datetime
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    body: str = strawberry.field(description="The exact bytes sent (UTF-8 JSON), signed.")

    @strawberry.field
    def redelivery_of(root: models.WebhookDelivery) -> strawberry.ID | None:
        if root.redelivery_of is None:
            return None
        return strawberry.ID(encode_global_id("WebhookDelivery", root.redelivery_of))

    @strawberry.field(description="Its requests, oldest first: the newest 50.")
    async def attempts(root: models.WebhookDelivery, info: Info) -> list[WebhookAttempt]:
        return await webhooks.attempts(info.context, id_of(root))  # type: ignore[return-value]


@strawberry.type(name="WebhookDeliveryConnection")
class WebhookDeliveryConnection(Connection[WebhookDelivery]):
    pass


@strawberry.type
class WebhookLogEntry:
    kind: str = strawberry.field(description="CREATED, SECRET_ROTATED, ENABLED or DISABLED.")
    occurred_at: datetime
    detail: str | None
    actor: str | None


@strawberry.type
class WebhookSubscription:
    @strawberry.field
    def id(root: models.WebhookSubscription) -> strawberry.ID:
        return strawberry.ID(encode_global_id("WebhookSubscription", id_of(root)))

    url: str
    event_types: list[str]
    document: str
    masked: bool
    active: bool
    disabled_reason: str | None
    disabled_at: datetime | None
    failing_since: datetime | None = strawberry.field(description="When the current run of failed attempts began.")
    created_at: datetime

    @strawberry.field(description="Events after this sequence are delivered to it.")
    def start_sequence(root: models.WebhookSubscription) -> BigInt:
        return root.start_sequence

    @strawberry.field(description="Its deliveries, newest first.")
    async def deliveries(
        root: models.WebhookSubscription, info: Info, first: int | None = None, after: str | None = None
    ) -> WebhookDeliveryConnection:
        return await webhooks.deliveries(info.context, id_of(root), first=first, after=after)  # type: ignore[return-value]

    @strawberry.field(
        description="What happened to the subscription itself, oldest first (DISABLED…): the newest 50 entries."
    )
    async def log(root: models.WebhookSubscription, info: Info) -> list[WebhookLogEntry]:
        return await webhooks.log(info.context, id_of(root))  # type: ignore[return-value]


# --- Inputs and payloads ---


@strawberry.input
class CreateWebhookSubscriptionInput:
    url: str
    event_types: list[str] = strawberry.field(description="OrderEvent types (`OrderEvent.type`).")
    document: str = strawberry.field(
        description="A subscription document selecting `orderEvents { … }`: what each delivery's `data` holds."
    )
    masked: bool = strawberry.field(default=False, description="Run the document as an analyst: no personal data.")


@strawberry.type
class WebhookSubscriptionPayload:
    subscription: WebhookSubscription | None
    secret: str | None = strawberry.field(
        description="The signing secret: given here, at creation and rotation, and never again."
    )
    user_errors: list[UserError]


@strawberry.type
class WebhookDeliveryPayload:
    delivery: WebhookDelivery | None
    user_errors: list[UserError]


@strawberry.type
class RedeliverWebhookEventsPayload:
    queued: int
    last_sequence: BigInt | None = strawberry.field(description="Go on after this one when hasMore.")
    has_more: bool
    user_errors: list[UserError]


def _errors(refusal: Refusal) -> list[UserError]:
    return [UserError(field=refusal.field, message=refusal.message, code=refusal.code)]


@strawberry.type
class WebhookQueries:
    """Mixed into the root Query type (schema/query.py)."""

    @strawberry.field(description="Admins: every webhook subscription (at most 100 exist).")
    async def webhook_subscriptions(self, info: Info) -> list[WebhookSubscription]:
        return await webhooks.subscriptions(info.context)  # type: ignore[return-value]

    @strawberry.field(description="Admins: one webhook subscription.")
    async def webhook_subscription(self, info: Info, id: strawberry.ID) -> WebhookSubscription | None:
        return await webhooks.subscription(info.context, _parse_id(id, "WebhookSubscription"))  # type: ignore[return-value]


@strawberry.type
class WebhookMutations:
    """Mixed into the root Mutation type (schema/mutation.py)."""

    @strawberry.mutation(description="Admins: a new webhook subscription; its secret is in this answer only.")
    async def create_webhook_subscription(
        self, info: Info, input: CreateWebhookSubscriptionInput
    ) -> WebhookSubscriptionPayload:
        try:
            require_admin(info.context.viewer, "configure webhooks")
            check_document(info.schema._schema, input.document)
            subscription, secret = await webhooks.create_subscription(
                info.context, url=input.url, event_types=input.event_types, document=input.document, masked=input.masked
            )
        except Refusal as refusal:
            return WebhookSubscriptionPayload(subscription=None, secret=None, user_errors=_errors(refusal))
        return WebhookSubscriptionPayload(subscription=subscription, secret=secret, user_errors=[])  # type: ignore[arg-type]

    @strawberry.mutation(description="Admins: a new signing secret, in this answer only.")
    async def rotate_webhook_secret(self, info: Info, id: strawberry.ID) -> WebhookSubscriptionPayload:
        try:
            subscription, secret = await webhooks.rotate_secret(info.context, _parse_id(id, "WebhookSubscription"))
        except Refusal as refusal:
            return WebhookSubscriptionPayload(subscription=None, secret=None, user_errors=_errors(refusal))
        return WebhookSubscriptionPayload(subscription=subscription, secret=secret, user_errors=[])  # type: ignore[arg-type]

    @strawberry.mutation(description="Admins: stop or resume deliveries (resuming clears disabledReason).")
    async def set_webhook_subscription_active(
        self, info: Info, id: strawberry.ID, active: bool
    ) -> WebhookSubscriptionPayload:
        try:
            subscription = await webhooks.set_active(info.context, _parse_id(id, "WebhookSubscription"), active)
        except Refusal as refusal:
            return WebhookSubscriptionPayload(subscription=None, secret=None, user_errors=_errors(refusal))
        return WebhookSubscriptionPayload(subscription=subscription, secret=None, user_errors=[])  # type: ignore[arg-type]

    @strawberry.mutation(description="Admins: send one delivery's body again, as a new delivery.")
    async def redeliver_webhook_delivery(self, info: Info, id: strawberry.ID) -> WebhookDeliveryPayload:
        try:
            delivery = await webhooks.redeliver_delivery(info.context, _parse_id(id, "WebhookDelivery"))
        except Refusal as refusal:
            return WebhookDeliveryPayload(delivery=None, user_errors=_errors(refusal))
        return WebhookDeliveryPayload(delivery=delivery, user_errors=[])  # type: ignore[arg-type]

    @strawberry.mutation(
        description="Admins: queue again every event of the subscription's types after `afterSequence` (at most "
        f"{webhooks.MAX_REDELIVERED_EVENTS} a call)."
    )
    async def redeliver_webhook_events(
        self, info: Info, subscription_id: strawberry.ID, after_sequence: BigInt
    ) -> RedeliverWebhookEventsPayload:
        try:
            done = await webhooks.redeliver_events(
                info.context, _parse_id(subscription_id, "WebhookSubscription"), int(after_sequence), _renderer(info)
            )
        except Refusal as refusal:
            return RedeliverWebhookEventsPayload(
                queued=0, last_sequence=None, has_more=False, user_errors=_errors(refusal)
            )
        return RedeliverWebhookEventsPayload(
            queued=done.queued, last_sequence=done.last_sequence, has_more=done.has_more, user_errors=[]
        )
