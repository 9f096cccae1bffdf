"""Request-size buckets: a grid over (input tokens × output tokens).

Invariants:
- Edges are strictly increasing positive integers; each is the *upper* edge of its bucket, so
  bucket i of an axis holds lengths in (edge[i-1], edge[i]] (the first starts at 0).
- A length above the last edge falls into the last bucket (it is clamped, and callers count how
  much was clamped), so every request lands in exactly one bucket.
- A bucket is costed at its upper edges, as Mélange profiles them: capacities are conservative
  for the requests inside the bucket.
- Buckets are ordered input-major (all output buckets of the first input bucket come first).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

# Like Mélange's grid (25/100/250/500/1k/2k), continued by doubling for long prompts.
DEFAULT_INPUT_EDGES: tuple[int, ...] = (25, 100, 250, 500, 1000, 2000, 4000, 8000, 16000)
DEFAULT_OUTPUT_EDGES: tuple[int, ...] = (25, 100, 250, 500, 1000, 2000)


@dataclass(frozen=True, slots=True)
class Bucket:
    input_tokens: int  # upper edge: the prompt length this bucket is costed at
    output_tokens: int  # upper edge: the completion length this bucket is costed at

    @property
    def name(self) -> str:
        return f"{self.input_tokens}x{self.output_tokens}"


@dataclass(frozen=True, slots=True)
class BucketGrid:
    input_edges: tuple[int, ...]
    output_edges: tuple[int, ...]

    def __post_init__(self) -> None:
        for axis, edges in (("input", self.input_edges), ("output", self.output_edges)):
            if not edges:
                raise ValueError(f"{axis} edges are empty")
            if edges[0] < 1 or any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
                raise ValueError(f"{axis} edges must be increasing positive integers: {edges}")

    @property
    def buckets(self) -> tuple[Bucket, ...]:
        return tuple(Bucket(i, o) for i in self.input_edges for o in self.output_edges)

    @property
    def size(self) -> int:
        return len(self.input_edges) * len(self.output_edges)

    def index_of(self, input_tokens: int, output_tokens: int) -> int:
        """The bucket a request of these lengths falls into (clamped into the last bucket)."""
        i = min(bisect.bisect_left(self.input_edges, input_tokens), len(self.input_edges) - 1)
        o = min(bisect.bisect_left(self.output_edges, output_tokens), len(self.output_edges) - 1)
        return i * len(self.output_edges) + o

    def is_clamped(self, input_tokens: int, output_tokens: int) -> bool:
        return input_tokens > self.input_edges[-1] or output_tokens > self.output_edges[-1]


DEFAULT_GRID = BucketGrid(DEFAULT_INPUT_EDGES, DEFAULT_OUTPUT_EDGES)


def parse_edges(text: str) -> tuple[int, ...]:
    """Parse "25,100,250,1k,2k" into (25, 100, 250, 1000, 2000); raises ValueError."""
    edges: list[int] = []
    for part in text.split(","):
        token = part.strip().lower()
        if not token:
            continue
        scale = 1000 if token.endswith("k") else 1
        number = token.removesuffix("k")
        try:
            value = float(number) * scale
        except ValueError:
            raise ValueError(f"{part.strip()!r} is not a token count") from None
        if value != int(value):
            raise ValueError(f"{part.strip()!r} is not a whole number of tokens")
        edges.append(int(value))
    if not edges:
        raise ValueError("no edges given")
    return tuple(edges)
