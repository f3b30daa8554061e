"""ASGI middleware that enforces a server's limits before any work is done.

A request beyond the number in progress at once is answered 503 at once (health checks
excepted: they cost nothing and must answer while the server is busy). A body over the limit is
refused from its ``Content-Length`` at once, and a body without one is counted as it arrives and
cut off as soon as it passes the limit, so no request can make the server buffer more than the
limit. A request that runs past the time limit is answered 504 (its classification finishes in
the pool, whose size bounds what can pile up). Every refusal is a JSON body ``{"error": ...}``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any, Final

import anyio

__all__ = ["HEALTH_PATHS", "BodyLimit", "Overload", "TimeLimit", "json_error"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Paths that answer whatever the load: liveness and readiness.
HEALTH_PATHS: Final = frozenset({"/healthz", "/readyz"})


async def json_error(
    send: Send, status: int, message: str, headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    """Send a complete JSON error response (with ``headers`` besides its own)."""
    body = json.dumps({"error": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class Overload:
    """Answer 503 to a request while ``limit`` others are in progress in this process.

    Only requests count, from their complete head to their response: an idle or half-open
    connection is not a request, so clients that hold connections cannot make others wait.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.in_progress = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request if there is room, else refuse it at once."""
        if scope["type"] != "http" or scope["path"] in HEALTH_PATHS:
            await self.app(scope, receive, send)
            return
        if self.in_progress >= self.limit:
            message = f"server busy ({self.limit} requests in progress); retry shortly"
            await json_error(send, 503, message, [(b"retry-after", b"1")])
            return
        self.in_progress += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_progress -= 1


class BodyLimit:
    """Answer 413 to any request whose body is larger than ``limit`` bytes."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one connection's request under this limit."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        message = f"request body too large (limit {self.limit:,} bytes)"
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None:
            try:
                length = int(declared)
            except ValueError:
                await json_error(send, 400, "invalid Content-Length header")
                return
            if length > self.limit:
                await json_error(send, 413, message)
                return
        received = 0
        refused = False

        async def counting_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            event = await receive()
            if event["type"] == "http.request":
                received += len(event.get("body", b""))
                if received > self.limit:
                    # Answer now; the app sees the client gone and stops reading.
                    refused = True
                    await json_error(send, 413, message)
                    return {"type": "http.disconnect"}
            return event

        async def guarded_send(event: Message) -> None:
            if not refused:
                await send(event)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not refused:  # the app's own failure; a refused request's is expected
                raise


class TimeLimit:
    """Answer 504 to a request still running after ``seconds``."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one connection's request under this limit."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(event: Message) -> None:
            nonlocal started
            started = started or event["type"] == "http.response.start"
            await send(event)

        with anyio.move_on_after(self.seconds) as deadline:
            await self.app(scope, receive, tracking_send)
        if deadline.cancelled_caught and not started:
            await json_error(send, 504, f"request took longer than {self.seconds:g} s")
