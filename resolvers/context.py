"""What every resolver is given about the request: the caller, the request's loaders, a way to read,
a way to change (one transaction, see resolvers.events.change), the integration ports and the clock."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from loaders import Loaders
from loaders.base import ReadSession
from resolvers.access import Viewer
from resolvers.events import WriteSession
from resolvers.ports import Ports


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
