"""Emulated tokens: an approximate tokenizer and a deterministic token sequence.

Invariants:
- `token_at(key, position)` is a pure function of the sequence key (prompt + seed) and the
  position, so any replica with the same seed produces the same text, and a continuation that
  starts at position k reproduces tokens k, k+1, ... of the uninterrupted sequence exactly.
- The tokenizer is consistent with the generator: `count_tokens(render(key, 0, n)) == n`, so the
  position a resumed request continues from is just the token count of its committed text.

The tokenizer is an approximation of a BPE tokenizer (about four characters per token), not the
tokenizer of any real model: every run of word characters counts ceil(len / 4) tokens and every
other non-space character counts one token. Whitespace is free.
"""

from __future__ import annotations

import hashlib
import math
import re
from typing import NewType

SequenceKey = NewType("SequenceKey", bytes)

_TOKEN_PIECES = re.compile(r"\w+|[^\w\s]")

_WORD_TEXT = """
    the of and to in is it for on as at by be or an we you they he she this that with from
    but not are was were has had have will can may must all any each more most some such no
    nor too very just than then so up out off over down into onto upon near far here when
    what who how why one two ten six four five nine new old big low high fast slow long wide
    deep warm cold dry wet dark red blue gold gray pink jade ruby sky sea sun moon star rain
    snow wind fog hill lake pond road path gate door wall roof room hall yard farm barn town
    city port dock ship boat sail oar mast net rope knot bell lamp fire ash coal iron tin zinc
    gem ore rock sand clay mud dust leaf tree root seed bud twig bark moss fern vine rose lily
    corn rice bean pea nut fig date lime pear plum kiwi milk tea soup cake pie jam salt herb
    cat dog fox owl elk yak ant bee cow pig hen ram doe emu bat eel cod koi ox wolf bear deer
    hawk crow dove swan duck frog toad moth wasp lion seal orca mule goat lamb colt calf pony
    run walk jump swim fly sing read draw cook bake grow sow reap dig mend sew knit fold pour
    stir wash dry rest wait stay move turn lift push pull hold give take make find keep send
    zone spot node load plan cost rate time step loop path data byte file disk core chip
    """
# Every word has at most four characters, so each one is exactly one token under `count_tokens`.
WORDS: tuple[str, ...] = tuple(dict.fromkeys(_WORD_TEXT.split()))
PUNCTUATION: tuple[str, ...] = (".", ",", ";", "!", "?")

# One position in eight is a punctuation candidate; a candidate right after another is a word.
_PUNCT_THRESHOLD = 32


def count_tokens(text: str) -> int:
    """Approximate token count (about four characters per token; see the module docstring)."""
    return sum(
        math.ceil(len(piece) / 4) if piece[0].isalnum() or piece[0] == "_" else 1
        for piece in _TOKEN_PIECES.findall(text)
    )


def sequence_key(prompt: str, seed: int) -> SequenceKey:
    """The key of the sequence a prompt generates under a seed (stable across processes)."""
    digest = hashlib.blake2b(f"{seed}\x00{prompt}".encode(), digest_size=16).digest()
    return SequenceKey(digest)


def _position_hash(key: SequenceKey, position: int) -> bytes:
    return hashlib.blake2b(key + position.to_bytes(8, "little"), digest_size=8).digest()


def _is_punct_candidate(key: SequenceKey, position: int) -> bool:
    return position >= 1 and _position_hash(key, position)[0] < _PUNCT_THRESHOLD


def token_at(key: SequenceKey, position: int) -> str:
    """The text of token `position` (0-based) of the sequence `key`.

    Words carry a leading space except at position 0, punctuation never does; so concatenating
    tokens 0..n-1 gives readable text, and a continuation from position k > 0 appends cleanly.
    """
    if position < 0:
        raise ValueError(f"token position must be >= 0, got {position}")
    digest = _position_hash(key, position)
    if _is_punct_candidate(key, position) and not _is_punct_candidate(key, position - 1):
        return PUNCTUATION[digest[1] % len(PUNCTUATION)]
    word = WORDS[int.from_bytes(digest[2:6], "little") % len(WORDS)]
    return word if position == 0 else " " + word


def render(key: SequenceKey, start: int, count: int) -> str:
    """Tokens start .. start+count-1 of the sequence, concatenated."""
    return "".join(token_at(key, position) for position in range(start, start + count))
