"""What crosses the gateway besides routing: headers in both directions, the request body, and
the gateway's own error answers.

Invariants: the replica receives exactly the client's headers minus hop-by-hop ones (RFC 9110
§7.6.1, plus any the client lists in `Connection`), `Host`, `Content-Length` and `Expect`,
plus `X-Forwarded-For`/`-Proto`; nothing else is added. The client receives the replica's
headers minus hop-by-hop ones. The request body is read once, whole and bounded, so every
retry sends the same bytes. Error bodies use OpenAI's shape {"error": {message, type, code}}.
"""

from __future__ import annotations

import json

from aiohttp import hdrs, web
from multidict import CIMultiDict, CIMultiDictProxy

# RFC 9110 §7.6.1: meaningful for one connection only, never forwarded.
HOP_BY_HOP = (
    hdrs.CONNECTION, hdrs.KEEP_ALIVE, hdrs.PROXY_AUTHENTICATE, hdrs.PROXY_AUTHORIZATION,
    hdrs.TE, hdrs.TRAILER, hdrs.TRANSFER_ENCODING, hdrs.UPGRADE,
)  # fmt: skip


class BodyTooLarge(Exception):
    pass


def error_response(
    status: int, message: str, cause: str, *, retry_after: str | None = None
) -> web.Response:
    body = json.dumps({"error": {"message": message, "type": "gateway_error", "code": cause}})
    resp = web.Response(status=status, text=body, content_type="application/json")
    if retry_after is not None:
        resp.headers[hdrs.RETRY_AFTER] = retry_after
    return resp


def request_headers(request: web.BaseRequest, *, strip_auth: bool) -> CIMultiDict[str]:
    """Headers to send upstream: the client's, minus hop-by-hop, Host and Content-Length."""
    out = CIMultiDict(request.headers)
    connection = out.get(hdrs.CONNECTION)
    if connection:
        for token in connection.split(","):
            name = token.strip()
            if name.lower() not in ("keep-alive", "close"):
                out.popall(name, None)  # a header the client marked as hop-by-hop
    for name in HOP_BY_HOP:
        out.popall(name, None)
    out.popall(hdrs.HOST, None)
    out.popall(hdrs.CONTENT_LENGTH, None)  # recomputed from the body we send
    out.popall(hdrs.EXPECT, None)  # the body is already here
    if strip_auth:
        out.popall(hdrs.AUTHORIZATION, None)  # the gateway's key is not the replica's business
    peer = request.remote
    if peer:
        prior = out.get(hdrs.X_FORWARDED_FOR)
        out[hdrs.X_FORWARDED_FOR] = f"{prior}, {peer}" if prior else peer
    out[hdrs.X_FORWARDED_PROTO] = request.scheme
    return out


def response_headers(upstream: CIMultiDictProxy[str], *, keep_length: bool) -> CIMultiDict[str]:
    out = CIMultiDict(upstream)
    for name in HOP_BY_HOP:
        out.popall(name, None)
    if not keep_length:
        out.popall(hdrs.CONTENT_LENGTH, None)
    return out


async def read_body(request: web.BaseRequest, limit: int) -> bytes | None:
    """The whole request body (None if it has none); BodyTooLarge above `limit` bytes."""
    length = request.content_length
    if length is not None and length > limit:
        raise BodyTooLarge  # before 100-continue: the client need not send it at all
    if request.version >= (1, 1) and request.headers.get(hdrs.EXPECT, "").lower() == "100-continue":
        # Low-level aiohttp servers leave this to the handler; curl waits 1 s without it.
        await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    if length is not None:
        return await request.content.readexactly(length) if length else b""
    if not request.body_exists:
        return None
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.readany():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)
