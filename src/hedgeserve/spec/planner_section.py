"""`planner:` — a GPU mix written by `hedge plan --emit-spec` (Mélange-style planning).

`replicas` is how many replicas of each GPU type the plan wants; `weights` is the planned
request rate of ONE replica of each type, relative to the least loaded type (so a balancer that
weights each replica by its type's weight reproduces the plan — `weight × replicas` is the
type's share of the load, see `load_shares`); `split` is the per-request-class breakdown
(class -> GPU -> fraction of that class's traffic). Invariants: counts ≥ 0 with at least one > 0;
weights ≥ 0 with a positive sum; each class of `split` sums to 1. GPU names compare
case-insensitively.

Accepted and validated only: nothing runs the planned mix yet. The controller launches one
replica type (the spec's `resources`), and no weight reaches the gateway.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated

from pydantic import Field, Strict, field_validator

from hedgeserve.spec.strict_model import Count, StrictModel, rule_error

_SUM_TOLERANCE = 1e-6
Share = Annotated[float, Strict(), Field(ge=0, allow_inf_nan=False, description="a number ≥ 0")]


class PlannerConfig(StrictModel):
    replicas: dict[str, Count] = Field(
        default_factory=dict, description="a map GPU -> replica count (integers ≥ 0)"
    )
    weights: dict[str, Share] = Field(
        default_factory=dict, description="a map GPU -> traffic weight (numbers ≥ 0)"
    )
    split: dict[str, dict[str, Share]] = Field(
        default_factory=dict, description="a map request class -> {GPU: fraction}"
    )

    @field_validator("replicas")
    @classmethod
    def _counts(cls, replicas: dict[str, int]) -> dict[str, int]:
        if replicas and not any(replicas.values()):
            raise rule_error("every planned replica count is 0", fix="plan at least one replica")
        return replicas

    @field_validator("weights")
    @classmethod
    def _weights(cls, weights: dict[str, float]) -> dict[str, float]:
        if weights and sum(weights.values()) <= 0:
            raise rule_error("weights sum to 0", fix="give at least one GPU a positive weight")
        return weights

    @field_validator("split")
    @classmethod
    def _split(cls, split: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        for request_class, shares in split.items():
            total = sum(shares.values())
            if abs(total - 1.0) > _SUM_TOLERANCE:
                raise rule_error(
                    f"fractions of class {request_class!r} sum to {total:g}, not 1",
                    fix="make each class's GPU fractions sum to 1 (rerun hedge plan)",
                    field=request_class,
                )
        return split

    @property
    def gpus(self) -> frozenset[str]:
        names = set(self.replicas) | set(self.weights)
        for shares in self.split.values():
            names |= set(shares)
        return frozenset(names)

    def load_shares(self) -> Mapping[str, float]:
        """Each planned GPU type's share of all requests: weight × replicas, normalised to sum
        to 1, keyed as in `replicas`. Empty when that is undefined: no replicas or weights, a
        type with replicas but no weight, or no load at all."""
        weights = {g.lower(): w for g, w in self.weights.items()}
        if not self.replicas or any(g.lower() not in weights for g in self.replicas):
            return MappingProxyType({})
        load = {g: weights[g.lower()] * n for g, n in self.replicas.items()}
        total = sum(load.values())
        return MappingProxyType({g: v / total for g, v in load.items()} if total > 0 else {})
