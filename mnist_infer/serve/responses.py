"""What every response carries, and HEAD: ASGI middleware around the whole app.

Every response gets ``X-Content-Type-Options: nosniff`` (a browser never guesses a type the
server did not send), ``Referrer-Policy: no-referrer``, and, unless its route set its own (the
page and the API docs do), a Content-Security-Policy that allows nothing and no framing, as
JSON and static files need nothing. ``HEAD`` is answered as ``GET`` without the body, so health
checkers that use it get the status and headers ``GET`` would.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final

__all__ = [
    "DEFAULT_POLICY",
    "PAGE_POLICY",
    "SECURITY_HEADERS",
    "HeadAsGet",
    "SecurityHeaders",
    "script_policy",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Sent with every response, the server's own refusals included.
SECURITY_HEADERS: Final[tuple[tuple[bytes, bytes], ...]] = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
)
#: For responses that are data (JSON, scripts, styles, images): nothing runs, nothing frames.
DEFAULT_POLICY: Final = "default-src 'none'; frame-ancestors 'none'"
#: The draw-a-digit page: its own script and style files only (no inline code), images drawn
#: or uploaded on the page (``blob:``) and the 28x28 views the API returns (``data:``), and
#: requests to its own origin.
PAGE_POLICY: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_POLICY_HEADER: Final = b"content-security-policy"


def script_policy(*inline_scripts: str) -> str:
    """Return the page policy, also allowing exactly these inline scripts (by SHA-256)."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in inline_scripts
    )
    return PAGE_POLICY.replace("script-src 'self'", f"script-src 'self' {hashes}")


class SecurityHeaders:
    """Add ``SECURITY_HEADERS`` to every response, and ``DEFAULT_POLICY`` where none is set."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add the headers to its response's start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def secured_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {bytes(name).lower() for name, _ in headers}
                headers += [header for header in SECURITY_HEADERS if header[0] not in names]
                if _POLICY_HEADER not in names:
                    headers.append((_POLICY_HEADER, DEFAULT_POLICY.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, secured_send)


class HeadAsGet:
    """Answer ``HEAD`` as the app answers ``GET``, without the body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run a HEAD request as GET and send only its status and headers."""
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headless_send(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headless_send)
