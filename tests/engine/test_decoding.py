"""Per-request decoding: max_tokens, stop strings, and what a stream may emit (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgeserve.engine.decoding import (
    DecodeState,
    FinishReason,
    Generation,
    advance,
    decode_all,
)
from hedgeserve.engine.tokens import render, sequence_key, token_at

KEY = sequence_key("tell me a story", 0)


def test_length_finish_after_max_new_tokens() -> None:
    state, text = decode_all(Generation(KEY, start=0, max_new_tokens=7))
    assert (state.finish, state.produced) == (FinishReason.LENGTH, 7)
    assert text == render(KEY, 0, 7)


def test_resumed_generation_continues_the_sequence() -> None:
    _, text = decode_all(Generation(KEY, start=5, max_new_tokens=4))
    assert text == render(KEY, 5, 4)


def test_stop_string_cuts_before_it() -> None:
    full = render(KEY, 0, 40)
    stop = token_at(KEY, 12)  # a whole word, with its leading space
    state, text = decode_all(Generation(KEY, start=0, max_new_tokens=40, stops=(stop,)))
    assert state.finish is FinishReason.STOP
    assert text == full[: full.index(stop)]
    assert stop not in text


def test_earliest_completed_stop_wins() -> None:
    full = render(KEY, 0, 40)
    late, early = full[100:108], full[30:33]
    state, text = decode_all(Generation(KEY, 0, 40, stops=(late, early)))
    assert state.finish is FinishReason.STOP
    assert text == full[: full.index(early)]


def test_possible_stop_prefix_is_held_back_then_released() -> None:
    first_token = token_at(KEY, 0)
    gen = Generation(KEY, 0, 10, stops=(first_token + "\x01",))  # never completes
    step = advance(gen, DecodeState())
    assert step.delta == ""  # the whole first token might be the start of the stop string
    step = advance(gen, step.state)
    assert step.delta.startswith(first_token + " ")  # the next token ruled the stop out


def test_advance_after_finish_is_a_bug() -> None:
    state, _ = decode_all(Generation(KEY, 0, 1))
    with pytest.raises(ValueError, match="finished"):
        advance(Generation(KEY, 0, 1), state)


@given(prompt=st.text(max_size=20), max_new=st.integers(1, 40), data=st.data())
def test_stream_deltas_equal_the_cut_text_and_never_leak_a_stop(
        prompt: str, max_new: int, data: st.DataObject) -> None:
    key = sequence_key(prompt, 1)
    full = render(key, 0, max_new)
    start = data.draw(st.integers(0, len(full)))
    stop = data.draw(st.one_of(st.just(full[start : start + data.draw(st.integers(1, 6))]),
                               st.text(min_size=1, max_size=4)))
    if not stop:
        stop = "#"
    gen = Generation(key, 0, max_new, stops=(stop,))
    state, sent = DecodeState(), ""
    while state.finish is None:
        step = advance(gen, state)
        state, sent = step.state, sent + step.delta
        assert stop not in sent
        assert full.startswith(sent)
    cut = full.find(stop)
    assert sent == (full if cut < 0 else full[:cut])
    assert state.finish is (FinishReason.LENGTH if cut < 0 else FinishReason.STOP)
