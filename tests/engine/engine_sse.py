"""Test helper: read an OpenAI SSE stream into (arrival time, payload) events."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import aiohttp


@dataclass(frozen=True)
class Event:
    at: float  # time.perf_counter() when the event's last line arrived
    data: Any  # the parsed JSON payload, or the string "[DONE]"


async def read_events(response: aiohttp.ClientResponse) -> list[Event]:
    """Parse `data:` events until the stream ends; asserts the SSE framing on the way."""
    events, lines = [], []
    async for raw in response.content:
        line = raw.decode().rstrip("\r\n")
        if line.startswith(":"):
            continue  # an SSE comment: llama_cpp.server sends ": ping" when a stream is slow
        if line:
            lines.append(line)
            continue
        if not lines:
            continue  # the blank line that ends a comment-only block
        assert len(lines) == 1 and lines[0].startswith("data: "), lines
        payload = lines[0].removeprefix("data: ")
        events.append(Event(time.perf_counter(),
                            payload if payload == "[DONE]" else json.loads(payload)))
        lines = []
    assert not lines, f"stream ended inside an event: {lines}"
    return events


def streamed_text(events: list[Event]) -> str:
    """The concatenated token texts of a chat or completion stream."""
    parts = []
    for event in events:
        if event.data == "[DONE]" or not event.data["choices"]:
            continue
        choice = event.data["choices"][0]
        parts.append(choice["delta"].get("content") or "" if "delta" in choice
                     else choice["text"])
    return "".join(parts)
