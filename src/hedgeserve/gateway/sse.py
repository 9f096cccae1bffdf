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
    """Incremental parser: `feed(chunk)` returns the events completed by that chunk."""

    __slots__ = ("_partial", "_data", "_event", "_id")

    def __init__(self) -> None:
        self._partial = b""
        self._data: list[bytes] = []
        self._event = b""
        self._id: bytes | None = None

    def feed(self, chunk: bytes) -> list[SseEvent]:
        buf = self._partial + chunk if self._partial else chunk
        if b"\r" in buf:
            # A trailing CR may be the first half of a CRLF split across chunks: keep it back.
            hold = buf.endswith(b"\r")
            if hold:
                buf = buf[:-1]
            buf = buf.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
            lines = buf.split(b"\n")
            self._partial = lines.pop() + (b"\r" if hold else b"")
        else:
            lines = buf.split(b"\n")
            self._partial = lines.pop()
        events: list[SseEvent] = []
        for line in lines:
            if not line:
                if self._data:
                    events.append(SseEvent(b"\n".join(self._data), self._event, self._id))
                self._data = []
                self._event = b""
            elif line[0] == 0x3A:  # ":" comment / keep-alive
                continue
            else:
                field, _, value = line.partition(b":")
                if value[:1] == b" ":
                    value = value[1:]
                if field == b"data":
                    self._data.append(value)
                elif field == b"event":
                    self._event = value
                elif field == b"id" and b"\0" not in value:
                    self._id = value
                # "retry" and unknown fields do not matter to a proxy
        return events


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
        for event in self._parser.feed(chunk):
            self.events += 1
            self.last_id = event.id
            if event.data == DONE:
                self.saw_done = True
            if self._tap is not None:
                self._tap.on_event(event)

    def end(self, *, complete: bool) -> None:
        if self._tap is not None:
            self._tap.on_end(complete=complete)
