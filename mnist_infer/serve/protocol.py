"""uvicorn's httptools HTTP protocol with a deadline and a size bound for each request's head.

uvicorn has no deadline for receiving a request: its keep-alive timer restarts on every byte,
so a client that sends a request line and never ends its headers holds a connection for as
long as it likes, and a few hundred such clients hold the server. Here the head (request line
and headers) must arrive within ``head_timeout`` seconds of the connection opening or of the
request's first byte, and within ``max_head_bytes``; otherwise the client gets a JSON 408 or
431 and the connection closes. The body is the app's business (``TimeLimit``). What the parser
itself refuses (a garbage request line, a bad ``Content-Length``, ``Content-Length`` together
with chunked) is answered with a JSON 400 that gives the parser's reason, instead of uvicorn's
plain text.

Pass ``functools.partial(HeadDeadlineProtocol, head_timeout=..., max_head_bytes=...)`` as
uvicorn's ``http`` (a partial of a module-level class survives the pickling that uvicorn's
worker processes need).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Final

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mnist_infer.serve.responses import DEFAULT_POLICY, SECURITY_HEADERS

__all__ = ["DEFAULT_MAX_HEAD_BYTES", "HeadDeadlineProtocol"]

#: The largest request head accepted, in bytes: 64 KiB, four times h11's default incomplete
#: event (16 KiB) and eight times a header line that gunicorn or nginx take by default (8 KiB).
#: This app's requests need a few hundred bytes; a browser's rarely pass 8 KiB.
DEFAULT_MAX_HEAD_BYTES: Final = 65_536

_REASONS: Final = {
    400: b"Bad Request",
    408: b"Request Timeout",
    431: b"Request Header Fields Too Large",
}


class HeadDeadlineProtocol(HttpToolsProtocol):
    """One connection: uvicorn's httptools protocol, with each request head under a deadline."""

    def __init__(
        self,
        config: Any,
        server_state: Any,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        head_timeout: float = 5.0,
        max_head_bytes: int = DEFAULT_MAX_HEAD_BYTES,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.head_timeout = head_timeout
        self.max_head_bytes = max_head_bytes
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_bytes = 0  # of the head being received, while its timer runs

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the deadline: a new connection must send a whole request head in time."""
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the head timer with the connection."""
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Feed the parser; refuse a head over the size bound, and say why the parser refused."""
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        except httptools.HttpParserError as error:
            self._refuse(400, f"invalid HTTP request ({error})")
            return
        if self._head_timer is not None:  # a head still incomplete after this data
            # (in a chunk that also ends a pipelined request before it, that request's bytes
            # count too: a bound, not a measure)
            self._head_bytes += len(data)
            if self._head_bytes > self.max_head_bytes:
                self._refuse(431, f"request head too large (limit {self.max_head_bytes:,} bytes)")

    def on_message_begin(self) -> None:
        """Start the deadline at a request's first byte (unless one already runs)."""
        super().on_message_begin()
        self._arm()

    def on_headers_complete(self) -> None:
        """Stop the deadline: the head is in, and the request goes to the app."""
        self._disarm()
        super().on_headers_complete()

    def _arm(self) -> None:
        if self._head_timer is None and not self.transport.is_closing():
            self._head_bytes = 0
            self._head_timer = self.loop.call_later(self.head_timeout, self._head_too_slow)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self.cycle is not None and not self.cycle.response_complete:
            # A pipelined head behind a response still being made: its turn has not come.
            self._arm()
            return
        self._refuse(408, f"request head not received within {self.head_timeout:g} s")

    def _refuse(self, status: int, message: str) -> None:
        """Answer ``status`` with a JSON error and close, if no response is under way."""
        self._disarm()
        if self.transport.is_closing():
            return
        if self.cycle is None or self.cycle.response_complete:
            body = json.dumps({"error": message}).encode()
            head = [
                f"HTTP/1.1 {status} ".encode() + _REASONS[status],
                b"content-type: application/json",
                b"content-length: " + str(len(body)).encode(),
                b"connection: close",
                *(name + b": " + value for name, value in SECURITY_HEADERS),
                b"content-security-policy: " + DEFAULT_POLICY.encode(),
            ]
            self.transport.write(b"\r\n".join(head) + b"\r\n\r\n" + body)
        self.transport.close()
