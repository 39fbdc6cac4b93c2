"""What every resolver is given about the request: the caller, the request's loaders, a way to read,
a way to change (one transaction, see resolvers.events.change), the integration ports and the clock; and, for
the schema's request limits (schema/limits.py), the limits, the trusted documents, the cost limiter and the caller's address."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ordergraph.loaders import Loaders
from ordergraph.loaders.base import ReadSession
from ordergraph.resolvers.access import Viewer
from ordergraph.resolvers.events import WriteSession
from ordergraph.resolvers.ports import Ports

if TYPE_CHECKING:
    from ordergraph.schema.limits import CostLimiter, QueryLimits
    from ordergraph.schema.trusted_documents import TrustedDocuments


@dataclass(slots=True)
class RequestContext:
    viewer: Viewer
    loaders: Loaders
    read: ReadSession
    write: WriteSession
    ports: Ports
    clock: Callable[[], datetime]
    max_page_size: int
    return_window: timedelta
    return_auto_approve_max_minor: int
    limits: "QueryLimits"
    trusted_documents: "TrustedDocuments"
    cost_limiter: "CostLimiter"
    client_address: str | None
