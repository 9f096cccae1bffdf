"""The continuous-batching time model: how long one engine step takes, and who joins it.

The engine runs in steps. In each step every running request that already has its first token
decodes one more token, and the requests admitted at the start of the step are prefilled and get
their first token. The step takes

    step_s = decode_s(d) + prefill_s(admitted)             (each term only when non-empty)
    decode_s(d) = tpot_s * (1 + batch_slowdown * (d - 1))  for d >= 1 decoding requests
    prefill_s(admitted) = ttft_s + prefill_s_per_token * sum(input tokens of the admitted)

so a lone request sees TTFT = ttft_s + prefill_s_per_token * input_tokens and then one token every
tpot_s; a batch of d decodes slower per token (memory-bound decode shares the GPU), and a step that
prefills new requests delays the tokens of everyone in it (prefill is not chunked). Requests
beyond `max_batch` wait in FIFO order; their TTFT includes that wait.

Everything here is pure: the scheduler (the shell) owns the clock and the queues.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StepTimeModel:
    ttft_s: float  # fixed cost of a prefill step
    prefill_s_per_token: float  # plus this per input token prefilled in the step
    tpot_s: float  # time per output token of a lone decoding request
    batch_slowdown: float  # relative extra decode time per additional request in the batch

    def decode_s(self, decoding: int) -> float:
        """Decode time of one step with `decoding` requests in the batch (0 when none)."""
        if decoding <= 0:
            return 0.0
        return self.tpot_s * (1.0 + self.batch_slowdown * (decoding - 1))

    def prefill_s(self, admitted_input_tokens: Sequence[int]) -> float:
        """Prefill time of one step that admits requests with these input lengths."""
        if not admitted_input_tokens:
            return 0.0
        return self.ttft_s + self.prefill_s_per_token * sum(admitted_input_tokens)

    def step_s(self, decoding: int, admitted_input_tokens: Sequence[int]) -> float:
        return self.decode_s(decoding) + self.prefill_s(admitted_input_tokens)


def admit_count(running: int, waiting: int, max_batch: int) -> int:
    """How many waiting requests join the batch at the next step boundary (FIFO)."""
    return max(0, min(waiting, max_batch - running))
