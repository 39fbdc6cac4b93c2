"""Request bodies, checked before anything parses them or looks at their token: an ASGI middleware around the app.

- Size: at most ORDERGRAPH_MAX_BODY_BYTES (the carrier webhook: its own 64 KiB). A Content-Length over the limit
  is refused before a byte of the body is read; a body without one (chunked) is counted as it streams in and
  refused as soon as it passes the limit, the rest left unread (the server then closes the connection). 413.
- JSON that Python's json module cannot take: nested deeper than MAX_JSON_DEPTH (json raises RecursionError
  from about a thousand levels), an integer of more digits than Python converts (4,300 by default; json raises
  ValueError), bytes that are not text in the encoding json detects (UnicodeDecodeError). Scanned in the bytes,
  without parsing: strings skipped, brackets counted. 400. The same for the `variables` and `extensions` of a
  GraphQL GET.

A WebSocket's messages are held to the same rules (closed with 1009 or 4400). A body that passes is handed on
whole, so the app reads it as it was sent. Refusals carry a code, in the shape of
the endpoint: GraphQL's `{"errors": [{"message", "extensions": {"code"}}]}` (PAYLOAD_TOO_LARGE, BAD_REQUEST), the
carrier webhook's `{"error": code, "message"}` (PAYLOAD_TOO_LARGE, INVALID_JSON).
"""

import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ordergraph.server import carrier_webhooks

MAX_JSON_DEPTH = 64
WEBHOOK_PATH = "/webhooks/carriers/"

# A JSON string, escapes included; one that never closes runs to the end (so no text is scanned twice).
_JSON_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]++")


def json_problem(text: str | bytes, max_depth: int = MAX_JSON_DEPTH, what: str = "The body") -> str | None:
    """Why Python's json module would fail on `text` other than with a plain syntax error, or None. Cheap: only a
    text with more opening brackets than `max_depth`, or long enough to hold a number too long to convert, is
    scanned, its strings skipped by one regular expression and the brackets left counted."""
    if isinstance(text, bytes):
        try:
            text = text.decode(json.detect_encoding(text), "surrogatepass")
        except (UnicodeDecodeError, LookupError):
            return f"{what} is not UTF-8 text."
    max_digits = sys.get_int_max_str_digits()  # 0: no limit
    long_enough = bool(max_digits) and len(text) > max_digits
    if text.count("[") + text.count("{") <= max_depth and not long_enough:
        return None
    outside_strings = _JSON_STRING.sub('""', text)
    if long_enough and re.search(f"[0-9]{{{max_digits + 1},}}", outside_strings):
        return f"{what} holds a number of more than {max_digits:,} digits."
    depth = 0
    for bracket in _NOT_BRACKET.sub("", outside_strings):
        if bracket in "[{":
            depth += 1
            if depth > max_depth:
                return f"{what} is JSON nested more than {max_depth} levels deep."
        else:
            depth -= 1
    return None


@dataclass(frozen=True, slots=True)
class Endpoint:
    """How one kind of endpoint is guarded: its body limit, whether its body is JSON whatever its content type,
    and how it answers a refusal (status, what went wrong, message)."""

    max_bytes: int
    always_json: bool
    refusal: Callable[[int, str, str], JSONResponse]


def graphql_refusal(status: int, kind: str, message: str) -> JSONResponse:
    code = "PAYLOAD_TOO_LARGE" if kind == "size" else "BAD_REQUEST"
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code}}]}, status_code=status)


def webhook_refusal(status: int, kind: str, message: str) -> JSONResponse:
    return carrier_webhooks.refusal_response(status, "PAYLOAD_TOO_LARGE" if kind == "size" else "INVALID_JSON", message)


class RequestBodyLimits:
    """The ASGI middleware: `Middleware(RequestBodyLimits, max_bytes=settings.max_body_bytes)`."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, max_json_depth: int = MAX_JSON_DEPTH) -> None:
        if max_bytes < 1:
            raise ValueError("max_bytes must be positive")
        self.app = app
        self.max_json_depth = max_json_depth
        self.default = Endpoint(max_bytes, always_json=False, refusal=graphql_refusal)
        self.webhook = Endpoint(min(max_bytes, carrier_webhooks.MAX_BODY_BYTES), True, webhook_refusal)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self.app(scope, self._websocket_frames(receive, send), send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        endpoint = self.webhook if scope["path"].startswith(WEBHOOK_PATH) else self.default
        headers = Headers(scope=scope)
        too_large = f"The request body is over {endpoint.max_bytes:,} bytes."
        declared = headers.get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > endpoint.max_bytes:
            await self._refuse(endpoint.refusal(413, "size", too_large), scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client went away: nothing to answer
            body += message.get("body", b"")
            if len(body) > endpoint.max_bytes:
                await self._refuse(endpoint.refusal(413, "size", too_large), scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        problem = self._problem(scope, headers, bytes(body), endpoint)
        if problem is not None:
            await endpoint.refusal(400, "json", problem)(scope, receive, send)
            return
        await self.app(scope, _replay(bytes(body), receive), send)

    def _problem(self, scope: Scope, headers: Headers, body: bytes, endpoint: Endpoint) -> str | None:
        content_type = headers.get("content-type", "").lower()
        if body and (endpoint.always_json or "json" in content_type):
            if problem := json_problem(body, self.max_json_depth):
                return problem
        # A GraphQL GET carries JSON in its query string.
        for name, value in parse_qsl(scope.get("query_string", b"").decode("latin-1")):
            if name in ("variables", "extensions") and (
                problem := json_problem(value, self.max_json_depth, f"`{name}`")
            ):
                return problem
        return None

    def _websocket_frames(self, receive: Receive, send: Send) -> Receive:
        """A WebSocket's frames held to the same rules: one over the limit closes the socket with 1009 (message too
        big), JSON the parser cannot take with 4400 (graphql-transport-ws: invalid message); the app hears a
        disconnect."""

        async def checked() -> Message:
            message = await receive()
            if message["type"] != "websocket.receive":
                return message
            text = message.get("text")
            data: str | bytes = text if isinstance(text, str) else message.get("bytes") or b""
            size = len(data.encode() if isinstance(data, str) else data)
            if size > self.default.max_bytes:
                code, reason = 1009, "The message is too big."
            else:
                problem = json_problem(data, self.max_json_depth, "The message")
                if problem is None:
                    return message
                code, reason = 4400, problem
            await send({"type": "websocket.close", "code": code, "reason": reason})
            return {"type": "websocket.disconnect", "code": code}

        return checked

    @staticmethod
    async def _refuse(response: JSONResponse, scope: Scope, receive: Receive, send: Send) -> None:
        """Answers without reading the rest of the body, and closes the connection (it cannot be reused)."""
        response.headers["Connection"] = "close"
        await response(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the app the body already read, in one message, then whatever comes next
    (http.disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
