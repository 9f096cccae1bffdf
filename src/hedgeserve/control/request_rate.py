"""The request rate the autoscaler sees: requests per second over a sliding window, from the
gateway's ever-growing `requests_total` counter.

The gateway counts; the controller samples the counter once per tick and differentiates. A
gateway restart resets its counter (its `started_at` changes), so the window starts afresh
rather than seeing a negative rate. Fewer than two samples, or a window shorter than
`min_span_s`, give no rate: the autoscaler then keeps its target.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

DEFAULT_WINDOW_S = 60.0  # SkyServe's QPS window


@dataclass(frozen=True, slots=True)
class CounterSample:
    at: float  # when read (controller clock)
    started_at: float  # when the gateway process started; identifies the counter's life
    requests_total: int


class RequestRate:
    def __init__(self, window_s: float = DEFAULT_WINDOW_S, min_span_s: float = 1.0) -> None:
        self.window_s = window_s
        self.min_span_s = min_span_s
        self._samples: deque[CounterSample] = deque()

    def add(self, sample: CounterSample) -> None:
        if self._samples and self._samples[-1].started_at != sample.started_at:
            self._samples.clear()
        self._samples.append(sample)
        while len(self._samples) > 2 and sample.at - self._samples[1].at >= self.window_s:
            self._samples.popleft()

    def qps(self) -> float | None:
        if len(self._samples) < 2:
            return None
        first, last = self._samples[0], self._samples[-1]
        span = last.at - first.at
        if span < self.min_span_s:
            return None
        return max(0, last.requests_total - first.requests_total) / span
