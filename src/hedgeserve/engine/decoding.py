"""One request's decoding: which text to emit after each token, and when to finish.

A `Generation` says what to produce (sequence key, first position, token budget, stop strings);
a `DecodeState` is how far it got. `advance` is pure: one token in, the state after it and the
text that is now safe to send out. Invariants:
- the text emitted over all steps never contains a stop string and is a prefix of the full
  continuation `render(key, start, n)`;
- text that could still become the start of a stop string is held back until the next token
  decides it (as vLLM does), so a stream never has to take back what it sent;
- a request finishes with "stop" at the first stop string (matched in the text this request
  generates, not in the committed text it resumes from) or with "length" after
  `max_new_tokens` tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hedgeserve.engine.tokens import SequenceKey, token_at


class FinishReason(StrEnum):
    STOP = "stop"
    LENGTH = "length"


@dataclass(frozen=True, slots=True)
class Generation:
    key: SequenceKey
    start: int  # position of the first new token: the committed tokens of a resumed request
    max_new_tokens: int
    stops: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DecodeState:
    produced: int = 0  # tokens generated so far (the stop-string token included)
    text: str = ""  # generated text, cut before a stop string once one is found
    emitted: int = 0  # characters of `text` already handed out
    finish: FinishReason | None = None


@dataclass(frozen=True, slots=True)
class Step:
    state: DecodeState
    delta: str  # text to send now; may be empty while a possible stop string is held back


def _held_back(text: str, stops: tuple[str, ...]) -> int:
    """Length of the longest suffix of `text` that is a proper prefix of some stop string."""
    longest = 0
    for stop in stops:
        for size in range(min(len(stop) - 1, len(text)), longest, -1):
            if text.endswith(stop[:size]):
                longest = size
                break
    return longest


def _first_stop(text: str, stops: tuple[str, ...], search_from: int) -> int | None:
    hits = [i for stop in stops if (i := text.find(stop, search_from)) >= 0]
    return min(hits) if hits else None


def advance(gen: Generation, state: DecodeState) -> Step:
    """Generate the next token of `gen` and say what may be emitted now."""
    if state.finish is not None:
        raise ValueError("advance() called on a finished generation")
    token = token_at(gen.key, gen.start + state.produced)
    text = state.text + token
    produced = state.produced + 1
    longest_stop = max((len(s) for s in gen.stops), default=0)
    # A new stop can only end inside the new token, so search just the tail that could hold it.
    cut = _first_stop(text, gen.stops, max(0, len(state.text) - longest_stop + 1))
    if cut is not None:
        final = DecodeState(produced, text[:cut], cut, FinishReason.STOP)
        return Step(final, text[state.emitted : cut])
    if produced >= gen.max_new_tokens:
        final = DecodeState(produced, text, len(text), FinishReason.LENGTH)
        return Step(final, text[state.emitted :])
    safe = max(state.emitted, len(text) - _held_back(text, gen.stops))
    return Step(DecodeState(produced, text, safe, None), text[state.emitted : safe])


def decode_all(gen: Generation) -> tuple[DecodeState, str]:
    """Run `gen` to completion; returns the final state and the whole emitted text."""
    state, parts = DecodeState(), []
    while state.finish is None:
        step = advance(gen, state)
        state = step.state
        parts.append(step.delta)
    return state, "".join(parts)
