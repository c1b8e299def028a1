"""`GET /metrics` beside the MCP endpoint: the tool's Prometheus metrics over HTTP."""

from __future__ import annotations

from typing import TYPE_CHECKING

import anyio.to_thread

from containers_tool import metrics

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send

PATH = "/metrics"


def serve_metrics(app: ASGIApp) -> ASGIApp:
    """Wraps an ASGI app: `GET /metrics` answers the exposition, anything else goes to `app`."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].rstrip("/") != PATH:
            await app(scope, receive, send)
            return
        if scope["method"] not in ("GET", "HEAD"):
            await _answer(send, 405, b"method not allowed\n", b"text/plain")
            return
        # containers_active lists the engine's containers: not on the event loop.
        body = await anyio.to_thread.run_sync(metrics.exposition)
        await _answer(
            send, 200, body if scope["method"] == "GET" else b"", metrics.CONTENT_TYPE.encode()
        )

    return wrapped


async def _answer(send: Send, status: int, body: bytes, content_type: bytes) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
