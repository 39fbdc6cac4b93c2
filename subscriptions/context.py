"""The context of a WebSocket connection: a request context that also holds the process's event hub."""

from contextvars import ContextVar
from dataclasses import dataclass

from ordergraph.loaders import Loaders
from ordergraph.resolvers.context import RequestContext
from ordergraph.subscriptions.hub import Delivery, Hub

# Strawberry shares one context among all operations of a connection, and runs each operation in a task of
# its own; keeping the loaders in a context variable gives every subscription the loaders of the event it is
# delivering, even while another subscription on the same socket delivers another event.
_event_loaders: ContextVar[Loaders] = ContextVar("ordergraph.event_loaders")
# The event this operation's task is delivering, for sharing its execution (schema.subscription).
current_delivery: ContextVar[Delivery | None] = ContextVar("ordergraph.current_delivery", default=None)


@dataclass(slots=True)
class LiveContext(RequestContext):
    hub: Hub
    connection_params: dict | None = None  # the connection_init payload (Strawberry sets it)

    loaders = property(lambda self: _event_loaders.get(), lambda self, loaders: _event_loaders.set(loaders))
