"""What crosses the gateway besides routing: headers in both directions, the request body, and
the gateway's own error answers.

Invariants: the replica receives exactly the client's headers minus hop-by-hop ones (RFC 9110
§7.6.1, plus any the client lists in `Connection`), `Host`, `Content-Length` and `Expect`,
plus `X-Forwarded-For`/`-Proto`, the replica's own `Host`, and `Content-Length` for the body
(0 for a bodiless POST/PUT/PATCH/DELETE); nothing else is added. The client receives the
replica's headers minus hop-by-hop ones (and those the replica's `Connection` lists). Headers
are filtered once per request on raw bytes or the parsed list, never through multidict
copies. The request body is read once, whole and bounded, so every retry sends the same
bytes. Error bodies use OpenAI's shape {"error": {message, type, code}}.
"""

from __future__ import annotations

import json

from aiohttp import hdrs, web
from multidict import CIMultiDict

from hedgeserve.gateway.response_framing import ResponseHead
from hedgeserve.gateway.upstream import Origin

# RFC 9110 §7.6.1: meaningful for one connection only, never forwarded (lower case).
HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
    "transfer-encoding", "upgrade",
})  # fmt: skip
# Also not passed upstream: Host and Content-Length are the gateway's to set for the replica,
# Expect was answered here, X-Forwarded-* are rewritten.
_NOT_FORWARDED = frozenset(
    n.encode() for n in HOP_BY_HOP | {"host", "content-length", "expect", "x-forwarded-proto"}
)
_NOT_FORWARDED_WITH_AUTH = _NOT_FORWARDED | {b"authorization"}
_XFF = b"x-forwarded-for"
_HOP_BY_HOP_AND_LENGTH = HOP_BY_HOP | {"content-length"}
_CONNECTION_OPTIONS = frozenset({"keep-alive", "close", ""})  # tokens that name no header
_NO_BODY_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})  # no Content-Length: 0


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


def request_head(
    request: web.BaseRequest, origin: Origin, body: bytes | None, *, strip_auth: bool
) -> bytes:
    """The request line and headers to send upstream, serialised (see module invariants).

    Works on the raw header bytes: names are matched in lower case, values pass unchanged.
    """
    drop = _NOT_FORWARDED_WITH_AUTH if strip_auth else _NOT_FORWARDED
    connection = request.headers.get(hdrs.CONNECTION)
    if connection:
        listed = {t.strip().lower().encode("latin-1") for t in connection.split(",")}
        drop = drop | (listed - {b"keep-alive", b"close", b""})
    peer = request.remote
    lines = [
        b"%s %s%s HTTP/1.1\r\nHost: %s\r\n"
        % (
            request.method.encode("ascii"),
            origin.path_prefix.encode("ascii"),
            request.raw_path.encode("utf-8", "surrogateescape"),
            origin.host_header,
        )
    ]
    forwarded_for: bytes | None = None
    for name, value in request.raw_headers:
        key = name.lower()
        if key in drop:
            continue
        if key == _XFF and peer:
            if forwarded_for is None:
                forwarded_for = value  # the first one, extended below, replaces them all
            continue
        lines.append(b"%s: %s\r\n" % (name, value))
    if peer:
        hop = peer.encode("ascii")
        xff = forwarded_for + b", " + hop if forwarded_for else hop
        lines.append(b"X-Forwarded-For: %s\r\n" % xff)
    lines.append(b"X-Forwarded-Proto: %s\r\n" % request.scheme.encode("ascii"))
    if body is not None:
        lines.append(b"Content-Length: %d\r\n" % len(body))
    elif request.method not in _NO_BODY_METHODS:
        lines.append(b"Content-Length: 0\r\n")
    lines.append(b"\r\n")
    return b"".join(lines)


def response_headers(head: ResponseHead, *, keep_length: bool) -> CIMultiDict[str]:
    """The replica's headers for the client: minus hop-by-hop ones (and those its
    `Connection` names), and minus Content-Length unless `keep_length`."""
    drop = HOP_BY_HOP if keep_length else _HOP_BY_HOP_AND_LENGTH
    if head.connection - _CONNECTION_OPTIONS:
        drop = drop | head.connection
    return CIMultiDict([(n, v) for n, v in head.headers if n.lower() not in drop])


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
