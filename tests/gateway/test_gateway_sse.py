"""SSE parsing as the stream passes: any chunking gives the same events."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from sse_recorder import Recorder

from hedgeserve.gateway.sse import SseEvent, SseParser, SseWatch

STREAM = (
    b": keep-alive comment\n"
    b"id: 1\n"
    b'data: {"text": "Hel"}\n'
    b"\n"
    b"event: delta\r\n"
    b"data:first line\r\n"
    b"data: second line\r\n"
    b"\r\n"
    b"id: 3\r"
    b"data: cr only\r"
    b"\r"
    b"retry: 100\n"
    b"\n"  # an event without data is not dispatched
    b"data: [DONE]\n"
    b"\n"
)
EXPECTED = [
    SseEvent(b'{"text": "Hel"}', b"", b"1"),
    SseEvent(b"first line\nsecond line", b"delta", b"1"),
    SseEvent(b"cr only", b"", b"3"),
    SseEvent(b"[DONE]", b"", b"3"),
]


def parse_in_pieces(stream: bytes, cuts: list[int]) -> list[SseEvent]:
    parser = SseParser()
    events: list[SseEvent] = []
    bounds = [0, *sorted(set(cuts)), len(stream)]
    for a, b in zip(bounds, bounds[1:], strict=False):
        events += parser.feed(stream[a:b])
    return events


def test_whole_stream() -> None:
    assert SseParser().feed(STREAM) == EXPECTED


def test_byte_by_byte() -> None:
    assert parse_in_pieces(STREAM, list(range(1, len(STREAM)))) == EXPECTED


@given(st.lists(st.integers(min_value=1, max_value=len(STREAM) - 1), max_size=20))
def test_any_chunking_gives_the_same_events(cuts: list[int]) -> None:
    assert parse_in_pieces(STREAM, cuts) == EXPECTED


def test_incomplete_event_is_held_back() -> None:
    parser = SseParser()
    assert parser.feed(b"data: partial") == []
    assert parser.feed(b" more\n") == []
    assert parser.feed(b"\n") == [SseEvent(b"partial more")]


def test_watch_counts_events_and_sees_done_and_feeds_the_tap() -> None:
    tap = Recorder()
    watch = SseWatch(tap)
    for i in range(0, len(STREAM), 7):
        watch.feed(STREAM[i : i + 7])
    watch.end(complete=True)
    assert (watch.events, watch.saw_done, watch.last_id) == (4, True, b"3")
    assert tap.events == EXPECTED and tap.ended == [True]


TOKEN_EVENTS = [
    b'data: {"t": 1}\n\n', b"data:{}\n\n", b"id: 9\n\n", b": ping\n\n", b"data: x\r\n\n",
]  # fmt: skip


@given(
    st.lists(st.sampled_from([*TOKEN_EVENTS, STREAM]), max_size=12),
    st.lists(st.integers(min_value=1, max_value=400), max_size=8),
)
def test_watch_fast_path_sees_what_the_parser_sees(parts: list[bytes], cuts: list[int]) -> None:
    # The watch takes a shortcut for chunks that are one one-line data event; whatever the
    # chunking (whole events or not), it must see exactly the parser's events.
    stream = b"".join(parts)
    tap = Recorder()
    watch = SseWatch(tap)
    bounds = [0, *sorted({c for c in cuts if c < len(stream)}), len(stream)]
    chunks = [stream[a:b] for a, b in zip(bounds, bounds[1:], strict=False)] if cuts else parts
    for chunk in chunks:
        watch.feed(chunk)
    expected = SseParser().feed(stream)
    assert tap.events == expected and watch.events == len(expected)
    assert watch.last_id == (expected[-1].id if expected else None)
    assert watch.saw_done == any(e.data == b"[DONE]" for e in expected)
