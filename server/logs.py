"""Log lines: JSON (one object per line, for a log pipeline) or text (for a person at a terminal).

`log_format`: "json", "text", or "auto" (the default): text when stderr is a terminal, JSON otherwise. Every line
of a request or WebSocket names its id (`request_id`, from server.observability.RECORD, which its task carries), so
the id a user reads in an error's `extensions.requestId` or the `X-Request-ID` header finds its lines.

The handler goes on the `ordergraph` logger (and uvicorn's error logger), not the root: an embedding program or a
test runner keeps its own logging; the lines still propagate to it.
"""

import json
import logging
import sys
from datetime import UTC, datetime

from ordergraph.schema.extensions import REQUEST_ID
from ordergraph.server.observability import RECORD

HANDLER_NAME = "ordergraph-log-format"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
LOGGERS = ("ordergraph", "uvicorn.error")


class RequestIdFilter(logging.Filter):
    """Stamps each record with the id of the request whose task logged it ("-" outside any request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id() or "-"
        return True


def current_request_id() -> str | None:
    """The id of the HTTP request or WebSocket whose task is running, if any."""
    served = RECORD.get()
    return served.request_id if served is not None else REQUEST_ID.get()


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or current_request_id(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def log_format(setting: str) -> str:
    if setting in ("json", "text"):
        return setting
    return "text" if sys.stderr.isatty() else "json"


def configure_logging(setting: str) -> None:
    """Installs (once per process; again replaces it) the handler that writes the service's lines."""
    handler = logging.StreamHandler()
    handler.set_name(HANDLER_NAME)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if log_format(setting) == "json" else logging.Formatter(TEXT_FORMAT))
    for name in LOGGERS:
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if h.get_name() == HANDLER_NAME]:
            logger.removeHandler(old)
        logger.addHandler(handler)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.INFO)
        # uvicorn's error logger has a handler of its own when uvicorn configured logging: one line each.
        if name != "ordergraph":
            logger.propagate = False
