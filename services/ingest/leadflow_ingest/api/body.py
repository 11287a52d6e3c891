"""Reading a request body with a hard size limit."""

from __future__ import annotations

from fastapi import Request


class BodyTooLarge(Exception):
    pass


async def read_limited(request: Request, limit: int) -> bytes:
    """The body, or ``BodyTooLarge`` as soon as it exceeds ``limit`` bytes.

    A declared ``Content-Length`` over the limit is refused before reading anything;
    otherwise the stream is read chunk by chunk and abandoned at the limit, so an
    oversized (or chunked, undeclared) body is never buffered whole.
    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > limit:
        raise BodyTooLarge()
    received = bytearray()
    async for chunk in request.stream():
        received += chunk
        if len(received) > limit:
            raise BodyTooLarge()
    return bytes(received)
