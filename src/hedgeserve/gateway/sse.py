"""Server-sent events, seen incrementally as a token stream passes through the gateway.

This is the seam for mid-stream failover: the proxy forwards every upstream chunk to the
client unchanged and at once, and *also* feeds it to an `SseWatch`, which turns the bytes into
events without holding back the stream (it keeps only the current incomplete line). A future
failover component receives the watch's `StreamTap` calls — each event as it completes, then
how the stream ended — which is everything needed to resume a generation elsewhere.

Parsing follows the WHATWG event-stream rules: lines end in CRLF, LF or CR; `data:` lines of
one event are joined with LF; a blank line dispatches the event; `:` starts a comment; an event
with no data is not dispatched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

DONE = b"[DONE]"  # OpenAI's end-of-stream sentinel


@dataclass(frozen=True, slots=True)
class SseEvent:
    data: bytes
    event: bytes = b""  # the `event:` field; empty means the default "message"
    id: bytes | None = None  # the last `id:` seen so far in the stream (SSE semantics)


class StreamTap(Protocol):
    """Receives a proxied event stream's events; must not block or raise."""

    def on_event(self, event: SseEvent) -> None: ...

    def on_end(self, *, complete: bool) -> None: ...  # complete: the upstream ended cleanly


class SseParser:
    """Incremental parser: `feed(chunk)` returns the events completed by that chunk.

    It works an event at a time: a blank line ends an event, so after line endings are
    normalised to LF, `split(b"\n\n")` yields whole events plus an unfinished rest. A
    one-line `data:` event, nearly every token of an LLM stream, takes a fast path.
    """

    __slots__ = ("_partial", "_id")

    def __init__(self) -> None:
        self._partial = b""  # the unfinished event, line endings already normalised
        self._id: bytes | None = None

    @property
    def last_id(self) -> bytes | None:
        """The last event id the stream set (it carries over to later events)."""
        return self._id

    def single_data(self, chunk: bytes) -> bytes | None:
        """The data of `chunk` if, with nothing pending, it is exactly one one-line `data:`
        event — the shape of nearly every chunk of a token stream, checked with a few C-level
        scans instead of `feed`'s lists and event objects; else None (then use `feed`)."""
        if (
            not self._partial
            and chunk[:5] == b"data:"
            and chunk[-2:] == b"\n\n"
            and chunk.count(b"\n") == 2
            and b"\r" not in chunk
        ):
            return chunk[6:-2] if chunk[5:6] == b" " else chunk[5:-2]
        return None

    def feed(self, chunk: bytes) -> list[SseEvent]:
        buf = self._partial + chunk if self._partial else chunk
        held_cr = b""
        if b"\r" in buf:
            if buf.endswith(b"\r"):
                # It may be the first half of a CRLF split across chunks: decide next time.
                buf, held_cr = buf[:-1], b"\r"
            buf = buf.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        blocks = buf.split(b"\n\n")
        self._partial = blocks.pop() + held_cr
        events: list[SseEvent] = []
        for block in blocks:
            if block[:5] == b"data:" and b"\n" not in block:
                value = block[5:]
                events.append(SseEvent(value[1:] if value[:1] == b" " else value, b"", self._id))
                continue
            event = self._parse_block(block)
            if event is not None:
                events.append(event)
        return events

    def _parse_block(self, block: bytes) -> SseEvent | None:
        data: list[bytes] = []
        name = b""
        for line in block.split(b"\n"):
            if not line or line[0] == 0x3A:  # leading blank line, or ":" comment / keep-alive
                continue
            field, _, value = line.partition(b":")
            if value[:1] == b" ":
                value = value[1:]
            if field == b"data":
                data.append(value)
            elif field == b"event":
                name = value
            elif field == b"id" and b"\0" not in value:
                self._id = value
            # "retry" and unknown fields do not matter to a proxy
        if not data:
            return None  # an event without data is not dispatched
        return SseEvent(b"\n".join(data), name, self._id)


class SseWatch:
    """Parses a proxied stream and keeps what failover needs: events seen, last id, [DONE]."""

    __slots__ = ("_parser", "_tap", "events", "last_id", "saw_done")

    def __init__(self, tap: StreamTap | None = None) -> None:
        self._parser = SseParser()
        self._tap = tap
        self.events = 0
        self.last_id: bytes | None = None
        self.saw_done = False

    def feed(self, chunk: bytes) -> None:
        parser = self._parser
        data = parser.single_data(chunk)
        if data is not None:  # the common case, kept free of event objects unless tapped
            self.events += 1
            self.last_id = parser.last_id
            if data == DONE:
                self.saw_done = True
            if self._tap is not None:
                self._tap.on_event(SseEvent(data, b"", self.last_id))
            return
        for event in parser.feed(chunk):
            self.events += 1
            self.last_id = event.id
            if event.data == DONE:
                self.saw_done = True
            if self._tap is not None:
                self._tap.on_event(event)

    def end(self, *, complete: bool) -> None:
        if self._tap is not None:
            self._tap.on_end(complete=complete)
