"""What every resolver is given about the request: the caller and their network address, the request's loaders,
a way to read, a way to change (one transaction, see resolvers.events.change), the integration ports, the clock
and the business settings a use case applies. Nothing here is GraphQL's: the schema binds its own request limits
when it is built (schema/limits.py)."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from ordergraph.loaders import Loaders
from ordergraph.loaders.base import ReadConnection, ReadSession
from ordergraph.resolvers.access import Viewer
from ordergraph.resolvers.events import WriteSession
from ordergraph.resolvers.ports import Ports
from ordergraph.resolvers.signed_links import LinkSettings


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
    client_address: str | None
    # Pickup is promised only from stores this close to the shopper (great-circle km).
    pickup_max_distance_km: float = field(default=50.0, kw_only=True)
    # The notifier's outbox folder (file-based email and SMS), whose files erasure deletes; None: none in use.
    notification_outbox: Path | None = field(default=None, kw_only=True)
    # How this server signs download links it hands out (bulk exports' files); None: it hands out none.
    export_links: LinkSettings | None = field(default=None, kw_only=True)
    # How long a business order waiting for its company's approval keeps its stock and credit (#21).
    approval_reservation: timedelta = field(default=timedelta(hours=48), kw_only=True)

    @property
    def read_connection(self) -> ReadConnection:
        """A read without an ORM session around it (Database.read_connection): for Core statements whose rows
        become read-only snapshots (loaders.as_models), such as a page of orders."""
        return self.loaders.database.read_connection
