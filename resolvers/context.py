"""What every resolver is given about the request: the caller, the request's loaders, a way to read."""

from dataclasses import dataclass

from loaders import Loaders
from loaders.base import ReadSession
from resolvers.access import Viewer


@dataclass(slots=True)
class RequestContext:
    viewer: Viewer
    loaders: Loaders
    read: ReadSession
    max_page_size: int
