"""The continuous-batching loop: one asyncio task advances every running request together.

Requests are submitted into a FIFO waiting queue. At each step boundary the loop admits as many
as `max_batch` allows (`step_time.admit_count`), sleeps for the step time the pure model gives
(`StepTimeModel.step_s`), then hands every request in the step its next token. There is one
sleep per step for the whole batch, never one per request, so hundreds of concurrent streams
cost one timer and one queue put each per step.

Invariants: at most `max_batch` requests run at once; a request gets exactly one token per step
it takes part in; a cancelled request (client gone) leaves the batch at the next boundary.
Steps are scheduled against deadlines so small timer overshoots do not accumulate. The summed
actual vs model step times (`actual_s / model_s`, shown in /health as `step_time_ratio`) are the
emulator's own fidelity gauge: 1.0 means it keeps the model's timing, more means it falls behind.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field

from hedgeserve.engine.decoding import DecodeState, Generation, Step, advance
from hedgeserve.engine.step_time import StepTimeModel, admit_count


@dataclass(eq=False, slots=True)
class ActiveRequest:
    """A submitted request as the loop sees it; its handler reads `steps` until finished."""

    generation: Generation
    input_tokens: int
    steps: asyncio.Queue[Step] = field(default_factory=asyncio.Queue)
    state: DecodeState = field(default_factory=DecodeState)
    is_cancelled: bool = False


class BatchScheduler:
    def __init__(self, model: StepTimeModel, max_batch: int) -> None:
        self._model = model
        self._max_batch = max_batch
        self._waiting: deque[ActiveRequest] = deque()
        self._running: list[ActiveRequest] = []
        self._wake = asyncio.Event()
        self.steps = 0  # steps run so far
        self.model_s = 0.0  # summed step times the model asked for
        self.actual_s = 0.0  # summed step times as they happened (timer overshoot, CPU work)

    @property
    def running(self) -> int:
        return len(self._running)

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    @property
    def step_time_ratio(self) -> float:
        """Actual over modelled step time so far (1.0 before any step)."""
        return self.actual_s / self.model_s if self.model_s > 0 else 1.0

    def submit(self, generation: Generation, input_tokens: int) -> ActiveRequest:
        request = ActiveRequest(generation, input_tokens)
        self._waiting.append(request)
        self._wake.set()
        return request

    def _drop_cancelled(self) -> None:
        if any(r.is_cancelled for r in self._waiting):
            self._waiting = deque(r for r in self._waiting if not r.is_cancelled)
        self._running = [r for r in self._running if not r.is_cancelled]

    async def run(self) -> None:
        """Run steps forever (cancel the task to stop)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time()
        previous_end: float | None = None  # end of the previous step while busy
        while True:
            self._drop_cancelled()
            if not self._running and not self._waiting:
                self._wake.clear()
                await self._wake.wait()
                deadline = loop.time()
                previous_end = None
                continue
            admitted = [self._waiting.popleft() for _ in range(
                admit_count(len(self._running), len(self._waiting), self._max_batch))]
            step_s = self._model.step_s(len(self._running), [r.input_tokens for r in admitted])
            self._running = self._running + admitted
            now = loop.time()
            step_start = now if previous_end is None else previous_end
            # Catch up a timer overshoot of up to one step; after a longer stall start afresh.
            deadline = (deadline if now - deadline <= step_s else now) + step_s
            await asyncio.sleep(max(0.0, deadline - loop.time()))
            previous_end = loop.time()
            self.steps += 1
            self.model_s += step_s
            self.actual_s += previous_end - step_start
            for request in self._running:
                if request.is_cancelled:
                    continue
                step = advance(request.generation, request.state)
                request.state = step.state
                request.steps.put_nowait(step)
            self._running = [r for r in self._running if r.state.finish is None]
