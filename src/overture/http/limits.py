"""The request body limit: bodies over the limit are refused with 413 before anything parses them.

A declared ``Content-Length`` over the limit is refused without reading a byte; a body sent
without one (chunked) is read only up to the limit. Bodies within the limit are buffered and
replayed to the application, which therefore never sees a partial or oversized body.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from overture.http.problem import problem_response


def declared_length(scope: Scope) -> int | None:
    """The request's Content-Length, None when absent; ValueError when it is not a number."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            if not text.isdigit():
                raise ValueError(text)
            return int(text)
    return None


class BodyLimit:
    """ASGI middleware refusing request bodies larger than ``max_body_bytes`` with 413."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        if max_body_bytes < 1:
            raise ValueError("max_body_bytes must be at least 1")
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path")
        limit = self.max_body_bytes
        try:
            declared = declared_length(scope)
        except ValueError as exc:
            response = problem_response(400, f"Content-Length: {str(exc)!r} is not a number of bytes", path)
            await response(scope, receive, send)
            return
        if declared is not None and declared > limit:
            detail = f"the request body is {declared} bytes; the limit is {limit} bytes"
            await problem_response(413, detail, path, headers={"Connection": "close"})(scope, receive, send)
            return
        chunks: list[bytes] = []
        total = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            total += len(body)
            if total > limit:
                detail = f"the request body exceeds the limit of {limit} bytes"
                await problem_response(413, detail, path, headers={"Connection": "close"})(
                    scope, receive, send
                )
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        buffered: Message = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return buffered
            return await receive()

        await self.app(scope, replay, send)
