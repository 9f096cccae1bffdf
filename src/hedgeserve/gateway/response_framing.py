"""HTTP/1.1 responses from a replica, as bytes: where the head ends, what it says, where the
body ends. Pure (no I/O); `upstream.py` feeds it what the socket delivers.

Why our own: aiohttp's client spends most of a streamed token's CPU in layers a proxy does not
need (a `StreamReader`, a future and a task wake-up per chunk). Parsing a head is one `split`,
and following chunked framing is a few `find`s per chunk, which is cheap enough in Python.

Invariants:
- `parse_head` accepts CRLF or bare-LF line ends (RFC 9112 §2.2) and rejects what a proxy must
  not pass on: a bad status line, a header line without a name or with whitespace before the
  colon, obsolete line folding, conflicting Content-Length values.
- The body length follows RFC 9112 §6.3: no body for HEAD, 1xx, 204 and 304; chunked when it
  is the final transfer coding; until close for any other transfer coding or when no length
  is given; else Content-Length.
- A decoder returns the body's payload bytes in order, exactly once, and says `done` at the
  message end; bytes after the end are `extra` (the connection is then not reused). Malformed
  framing raises `MalformedResponse` and nothing after it is returned.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from enum import Enum
from typing import NamedTuple

MAX_HEAD_BYTES = 64 * 1024  # a response head beyond this is refused, as aiohttp does
MAX_LINE_BYTES = 8 * 1024  # a chunk-size or trailer line


_NONE: frozenset[str] = frozenset()
_KEEP_ALIVE = frozenset({"keep-alive"})
_is_token = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+").fullmatch  # RFC 9110 §5.6.2


def _plain_name(name: str) -> bool:
    """Letters, digits and dashes: nearly every header name, checked without the regex."""
    return name.isascii() and name.replace("-", "").isalnum()


class MalformedResponse(ValueError):
    """The replica's bytes are not a well-formed HTTP/1.x response."""


class BodyKind(Enum):
    NONE = "none"
    LENGTH = "length"
    CHUNKED = "chunked"
    UNTIL_CLOSE = "until_close"


class ResponseHead(NamedTuple):  # a tuple: built once per response, ~10x cheaper than a dataclass
    status: int
    reason: str
    headers: list[tuple[str, str]]  # as received, in order
    body: BodyKind
    length: int | None  # for BodyKind.LENGTH
    keep_alive: bool  # the replica allows reusing the connection
    content_type: str  # media type, lower case, without parameters
    connection: frozenset[str]  # the `Connection` tokens, lower case


def head_end(buf: bytes) -> int:
    """The offset just past the blank line that ends the head in `buf`, or -1."""
    crlf = buf.find(b"\r\n\r\n")
    lf = buf.find(b"\n\n")
    if lf >= 0 and (crlf < 0 or lf < crlf):
        return lf + 2
    return crlf + 4 if crlf >= 0 else -1


def parse_head(head: bytes, *, request_method: str) -> ResponseHead:
    """Parse a complete head (status line and headers, with or without the blank line)."""
    # Decoded once, as aiohttp does: UTF-8, undecodable bytes kept as surrogate escapes.
    lines = head.decode("utf-8", "surrogateescape").rstrip("\r\n").split("\n")
    status_line = lines[0].rstrip("\r")
    if (
        len(status_line) < 12
        or not status_line.startswith("HTTP/1.")
        or status_line[7] not in "01"
        or status_line[8] != " "
        or not status_line[9:12].isdigit()
        or status_line[12:13] not in ("", " ")
    ):
        raise MalformedResponse(f"bad status line {status_line[:40]!r}")
    http10 = status_line[7] == "0"
    status = int(status_line[9:12])
    reason = status_line[13:]
    headers: list[tuple[str, str]] = []
    length: int | None = None
    transfer: str | None = None
    connection = ""
    content_type = ""
    for line in lines[1:]:
        if line[-1:] == "\r":
            line = line[:-1]
        name, colon, value = line.partition(":")
        if not colon or "\r" in value or (not _plain_name(name) and _is_token(name) is None):
            raise MalformedResponse(f"bad header line {line[:40]!r}")
        value = value.strip(" \t")
        headers.append((name, value))
        key = name.lower()
        if key == "content-length":
            if not value.isdigit() or (length is not None and int(value) != length):
                raise MalformedResponse(f"bad Content-Length {value[:40]!r}")
            length = int(value)
        elif key == "transfer-encoding":
            transfer = f"{transfer}, {value}" if transfer else value
        elif key == "connection":
            connection = f"{connection}, {value}" if connection else value
        elif key == "content-type":
            content_type = value.partition(";")[0].strip().lower()
    if not connection:
        tokens = _NONE
    elif connection == "keep-alive":
        tokens = _KEEP_ALIVE
    else:
        tokens = frozenset(map(str.strip, connection.lower().split(",")))
    keep_alive = "keep-alive" in tokens if http10 else "close" not in tokens
    if request_method == "HEAD" or status < 200 or status in (204, 304):
        kind = BodyKind.NONE
    elif transfer is not None:
        last = transfer.rpartition(",")[2].strip().lower()
        kind = BodyKind.CHUNKED if last == "chunked" else BodyKind.UNTIL_CLOSE
        length = None
    elif length is not None:
        kind = BodyKind.LENGTH
    else:
        kind = BodyKind.UNTIL_CLOSE
    if kind is BodyKind.UNTIL_CLOSE:
        keep_alive = False  # the end of the body is the end of the connection
    return ResponseHead(status, reason, headers, kind, length, keep_alive, content_type, tokens)


class BodyDecoder(ABC):
    """Payload bytes of one body; `feed` returns the pieces each delivery completes."""

    __slots__ = ("done", "extra", "whole")

    def __init__(self) -> None:
        self.done = False
        self.extra = b""  # bytes that arrived after the end of the message
        self.whole = False  # the last delivery was exactly whole chunks (ChunkedBody only)

    @abstractmethod
    def feed(self, data: bytes) -> list[bytes]: ...

    def at_close(self) -> bool:
        """The connection closed: True if that ended the body cleanly."""
        return self.done


class NoBody(BodyDecoder):
    __slots__ = ()

    def __init__(self) -> None:
        super().__init__()
        self.done = True

    def feed(self, data: bytes) -> list[bytes]:
        self.extra += data
        return []


class LengthBody(BodyDecoder):
    __slots__ = ("_left",)

    def __init__(self, length: int) -> None:
        super().__init__()
        self._left = length
        self.done = length == 0

    def feed(self, data: bytes) -> list[bytes]:
        if self.done:
            self.extra += data
            return []
        left = self._left
        if len(data) < left:
            self._left = left - len(data)
            return [data]
        self._left = 0
        self.done = True
        if len(data) > left:
            self.extra = data[left:]
            return [data[:left]]
        return [data]


class UntilCloseBody(BodyDecoder):
    __slots__ = ()

    def feed(self, data: bytes) -> list[bytes]:
        return [data]

    def at_close(self) -> bool:
        self.done = True
        return True


# ChunkedBody states
_SIZE, _DATA, _DATA_END, _TRAILER = range(4)
_HEX = b"0123456789abcdefABCDEF"


class ChunkedBody(BodyDecoder):
    """Chunked transfer coding (RFC 9112 §7.1), incrementally; trailers are read and dropped.

    `whole` tells, after each `feed`, whether that delivery was exactly a run of complete
    chunks from one chunk boundary to another (the usual case for a token stream, one event
    per chunk): a client that also gets chunks can then be sent the bytes as they came.
    """

    __slots__ = ("_state", "_left", "_line")

    def __init__(self) -> None:
        super().__init__()
        self._state = _SIZE
        self._left = 0  # payload bytes left in the current chunk
        self._line = b""  # an unfinished size, chunk-end or trailer line

    def feed(self, data: bytes) -> list[bytes]:
        if self.done:
            self.extra += data
            self.whole = False
            return []
        pieces: list[bytes] = []
        end = len(data)
        pos = 0
        if self._state == _SIZE and not self._line:
            # Fast path: whole chunks with a bare hex size, one slice each.
            while True:
                nl = data.find(b"\n", pos, pos + 20)
                if nl <= pos:
                    break
                digits = data[pos : nl - 1] if data[nl - 1] == 0x0D else data[pos:nl]
                if not digits or digits.translate(None, _HEX):
                    break  # an extension, or malformed: the slow path decides
                start = nl + 1
                stop = start + int(digits, 16)
                if stop == start or stop + 2 > end or data[stop : stop + 2] != b"\r\n":
                    break  # the last chunk, or one not complete yet
                pieces.append(data[start:stop])
                pos = stop + 2
                if pos == end:
                    self.whole = True
                    return pieces
        self.whole = False
        while pos < end:
            state = self._state
            if state == _DATA:
                take = min(self._left, end - pos)
                pieces.append(data[pos : pos + take])
                pos += take
                self._left -= take
                if not self._left:
                    self._state = _DATA_END
                continue
            nl = data.find(b"\n", pos)
            if nl < 0:
                self._line += data[pos:]
                if len(self._line) > MAX_LINE_BYTES:
                    raise MalformedResponse("chunked framing line too long")
                break
            line = self._line + data[pos:nl] if self._line else data[pos:nl]
            self._line = b""
            pos = nl + 1
            if len(line) > MAX_LINE_BYTES:
                raise MalformedResponse("chunked framing line too long")
            if line[-1:] == b"\r":
                line = line[:-1]
            if state == _SIZE:
                size = _chunk_size(line)
                if size:
                    self._left = size
                    self._state = _DATA
                else:
                    self._state = _TRAILER
            elif state == _DATA_END:
                if line:
                    raise MalformedResponse("chunk data longer than its size")
                self._state = _SIZE
            elif not line:  # _TRAILER: a blank line ends the message
                self.done = True
                self.extra = data[pos:]
                break
        return pieces


def _chunk_size(line: bytes) -> int:
    digits = line.partition(b";")[0].strip(b" \t")
    if not digits or len(digits) > 16 or digits.translate(None, _HEX):
        raise MalformedResponse(f"bad chunk size {line[:20]!r}")
    return int(digits, 16)


def decoder_for(head: ResponseHead) -> BodyDecoder:
    if head.body is BodyKind.CHUNKED:
        return ChunkedBody()
    if head.body is BodyKind.LENGTH and head.length is not None:
        return LengthBody(head.length)
    if head.body is BodyKind.UNTIL_CLOSE:
        return UntilCloseBody()
    return NoBody()
