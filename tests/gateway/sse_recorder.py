"""Test helper: an SSE tap that records what the gateway's stream watch hands it."""

from __future__ import annotations

from hedgeserve.gateway.sse import SseEvent


class Recorder:
    def __init__(self) -> None:
        self.events: list[SseEvent] = []
        self.ended: list[bool] = []

    def on_event(self, event: SseEvent) -> None:
        self.events.append(event)

    def on_end(self, *, complete: bool) -> None:
        self.ended.append(complete)
