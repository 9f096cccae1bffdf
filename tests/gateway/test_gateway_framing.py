"""Response framing (pure): heads, chunked bodies split anywhere, lengths, malformed input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgeserve.gateway.response_framing import (
    BodyKind,
    ChunkedBody,
    LengthBody,
    MalformedResponse,
    UntilCloseBody,
    decoder_for,
    head_end,
    parse_head,
)

SSE_HEAD = (
    b"HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
    b"Transfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n"
)


def test_head_of_a_token_stream() -> None:
    head = parse_head(SSE_HEAD, request_method="POST")
    assert (head.status, head.reason, head.body, head.length) == (200, "OK", BodyKind.CHUNKED, None)
    assert head.keep_alive and head.content_type == "text/event-stream"
    assert head.headers[0] == ("Server", "nginx") and len(head.headers) == 4
    assert head.connection == frozenset({"keep-alive"})


@pytest.mark.parametrize(
    ("raw", "method", "kind", "length", "keep_alive"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", "GET", BodyKind.LENGTH, 5, True),
        (b"HTTP/1.1 200 OK\nContent-Length: 5\n\n", "GET", BodyKind.LENGTH, 5, True),  # bare LF
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", "HEAD", BodyKind.NONE, 5, True),
        (b"HTTP/1.1 204 No Content\r\n\r\n", "GET", BodyKind.NONE, None, True),
        (b"HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n", "GET", BodyKind.NONE, 9, True),
        (b"HTTP/1.1 200 OK\r\n\r\n", "GET", BodyKind.UNTIL_CLOSE, None, False),
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n", "GET",
         BodyKind.LENGTH, 1, False),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n", "GET", BodyKind.LENGTH, 1, False),
        (b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\n", "GET",
         BodyKind.LENGTH, 1, True),
        # Transfer-Encoding wins over Content-Length; chunked must be the last coding.
        (b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", "GET",
         BodyKind.CHUNKED, None, True),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
         "GET", BodyKind.CHUNKED, None, True),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", "GET",
         BodyKind.UNTIL_CLOSE, None, False),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\n", "GET",
         BodyKind.LENGTH, 4, True),
        (b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n", "GET", BodyKind.NONE, None, True),
    ],
    ids=["length", "bare-lf", "head", "204", "304", "until-close", "conn-close", "http10",
         "http10-keep-alive", "te-over-cl", "te-list", "te-not-chunked", "same-length-twice",
         "103"],
)  # fmt: skip
def test_body_length_rules(
    raw: bytes, method: str, kind: BodyKind, length: int | None, keep_alive: bool
) -> None:
    head = parse_head(raw, request_method=method)
    assert (head.body, head.keep_alive) == (kind, keep_alive)
    if kind is not BodyKind.CHUNKED:
        assert head.length == length


@pytest.mark.parametrize(
    "raw",
    [
        b"HTTP/2 200 OK\r\n\r\n",
        b"HTTP/1.1 20 OK\r\n\r\n",
        b"HTTP/1.1 2000 OK\r\n\r\n",
        b"ICY 200 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nNo-Colon\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nName : space before colon\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nA: 1\r\n folded: continuation\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n: no name\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nBad\x01Name: x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: -4\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n",
    ],
    ids=["http2", "short-status", "long-status", "not-http", "no-colon", "space-before-colon",
         "obs-fold", "empty-name", "control-in-name", "conflicting-length", "negative-length",
         "bare-cr"],
)  # fmt: skip
def test_malformed_heads_are_refused(raw: bytes) -> None:
    with pytest.raises(MalformedResponse):
        parse_head(raw, request_method="GET")


def test_head_end_finds_the_first_blank_line() -> None:
    assert head_end(b"HTTP/1.1 200 OK\r\nA: b\r\n") == -1
    assert head_end(SSE_HEAD + b"5\r\nhello") == len(SSE_HEAD)
    assert head_end(b"HTTP/1.1 200 OK\nA: b\n\nbody\r\n\r\n") == len(b"HTTP/1.1 200 OK\nA: b\n\n")


def chunked(pieces: list[bytes], *, extension: bool = False, trailer: bool = False) -> bytes:
    ext = b";name=value" if extension else b""
    body = b"".join(b"%x%s\r\n%s\r\n" % (len(p), ext, p) for p in pieces if p)
    return body + b"0\r\n" + (b"X-Trailer: t\r\n" if trailer else b"") + b"\r\n"


def feed_all(decoder: ChunkedBody, data: bytes, cuts: list[int]) -> bytes:
    out = b""
    start = 0
    for cut in [*sorted(c % (len(data) + 1) for c in cuts), len(data)]:
        if cut > start:
            out += b"".join(decoder.feed(data[start:cut]))
            start = cut
    return out


@given(
    pieces=st.lists(st.binary(min_size=0, max_size=300), max_size=8),
    cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=12),
    extension=st.booleans(),
    trailer=st.booleans(),
)
def test_chunked_payload_is_the_same_however_it_is_split(
    pieces: list[bytes], cuts: list[int], extension: bool, trailer: bool
) -> None:
    data = chunked(pieces, extension=extension, trailer=trailer)
    decoder = ChunkedBody()
    assert feed_all(decoder, data + b"NEXT", cuts) == b"".join(pieces)
    assert decoder.done and decoder.extra == b"NEXT"


def test_whole_chunk_deliveries_are_marked_for_pass_through() -> None:
    events = [b"data: one\n\n", b"data: two\n\n", b"data: [DONE]\n\n"]
    decoder = ChunkedBody()
    framed = [b"%x\r\n%s\r\n" % (len(e), e) for e in events]
    assert decoder.feed(framed[0]) == [events[0]] and decoder.whole
    assert decoder.feed(framed[1] + framed[2]) == events[1:] and decoder.whole
    assert decoder.feed(b"0\r\n\r\n") == [] and not decoder.whole and decoder.done
    split = ChunkedBody()
    assert split.feed(framed[0][:6]) == [b"dat"] and not split.whole
    assert split.feed(framed[0][6:]) == [events[0][3:]] and not split.whole
    assert split.feed(framed[1]) == [events[1]] and split.whole  # back on a boundary


@pytest.mark.parametrize(
    "data",
    [b"zz\r\nab\r\n", b"0x2\r\nab\r\n", b"2\r\nabc\r\n", b"\r\n", b"1" * 9000],
    ids=["not-hex", "hex-prefix", "data-longer-than-size", "empty-size", "size-line-too-long"],
)
def test_malformed_chunked_framing_is_refused(data: bytes) -> None:
    with pytest.raises(MalformedResponse):
        ChunkedBody().feed(data)


def test_length_and_until_close_bodies() -> None:
    body = LengthBody(5)
    assert body.feed(b"hel") == [b"hel"] and not body.done
    assert body.feed(b"lo!!") == [b"lo"] and body.done and body.extra == b"!!"
    assert LengthBody(0).done
    until_close = UntilCloseBody()
    assert until_close.feed(b"abc") == [b"abc"] and not until_close.done
    assert until_close.at_close() and until_close.done
    cut_short = ChunkedBody()
    cut_short.feed(b"5\r\nab")
    assert not cut_short.at_close()  # a chunked body that stops early is broken, not done


def test_decoder_matches_the_head() -> None:
    head = parse_head(b"HTTP/1.1 204 No Content\r\n\r\n", request_method="GET")
    decoder = decoder_for(head)
    assert decoder.done and decoder.feed(b"stray") == [] and decoder.extra == b"stray"
    assert isinstance(decoder_for(parse_head(SSE_HEAD, request_method="GET")), ChunkedBody)
