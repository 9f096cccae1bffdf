"""The approximate tokenizer and the deterministic token sequence (pure)."""

from __future__ import annotations

import os
import subprocess
import sys
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgeserve.engine.tokens import (
    PUNCTUATION,
    count_tokens,
    render,
    sequence_key,
    token_at,
)


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        pytest.param("", 0, id="empty"),
        pytest.param("   \n\t", 0, id="whitespace-is-free"),
        pytest.param("cat", 1, id="short-word"),
        pytest.param("hello", 2, id="five-chars"),  # ceil(5/4) = 2
        pytest.param("internationalization", 5, id="long-word"),  # ceil(20/4) = 5
        pytest.param("Hello, world!", 6, id="punctuation"),  # 2 + 1 + 2 + 1
        pytest.param("a b  c", 3, id="spaces"),
    ],
)
def test_count_tokens(text: str, tokens: int) -> None:
    assert count_tokens(text) == tokens


def test_same_prompt_and_seed_give_the_same_text() -> None:
    assert render(sequence_key("hi there", 7), 0, 50) == render(sequence_key("hi there", 7), 0, 50)


def test_different_prompts_or_seeds_give_different_text() -> None:
    texts = {render(sequence_key(f"prompt {i}", 0), 0, 16) for i in range(100)}
    texts |= {render(sequence_key("prompt 0", seed), 0, 16) for seed in range(1, 101)}
    assert len(texts) == 200


def test_key_is_stable_across_processes() -> None:
    """Replicas must agree on the text: no salted hash() anywhere in the key."""
    code = ("from hedgeserve.engine.tokens import render, sequence_key;"
            "print(render(sequence_key('resume me', 3), 0, 12))")
    outputs = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                       env={**os.environ, "PYTHONHASHSEED": str(hash_seed)}).stdout
        for hash_seed in (1, 2)
    }
    assert outputs == {render(sequence_key("resume me", 3), 0, 12) + "\n"}


@given(prompt=st.text(max_size=40), seed=st.integers(0, 2**32), total=st.integers(1, 60),
       data=st.data())
def test_tokenizer_counts_generated_text_exactly_and_resume_splits_cleanly(
        prompt: str, seed: int, total: int, data: st.DataObject) -> None:
    key = sequence_key(prompt, seed)
    committed = data.draw(st.integers(0, total))
    head, tail = render(key, 0, committed), render(key, committed, total - committed)
    assert count_tokens(head) == committed  # so the resume position is just this count
    assert head + tail == render(key, 0, total)


def test_text_reads_like_words() -> None:
    for prompt in ("a", "b", "c", "d"):
        key = sequence_key(prompt, 0)
        tokens = [token_at(key, p) for p in range(200)]
        assert tokens[0] not in PUNCTUATION and not tokens[0].startswith(" ")
        assert all(t.startswith(" ") or t in PUNCTUATION for t in tokens[1:])
        assert not any(a in PUNCTUATION and b in PUNCTUATION for a, b in pairwise(tokens))
        assert any(t in PUNCTUATION for t in tokens)


def test_negative_position_is_a_bug() -> None:
    with pytest.raises(ValueError, match="position"):
        token_at(sequence_key("x", 0), -1)
