"""`planner:` — a GPU mix written by `hedge plan --emit-spec` (Mélange-style planning).

`replicas` is how many replicas of each GPU type the plan wants, `weights` the share of traffic
the gateway should send to each type, and `split` the per-request-class breakdown
(class -> GPU -> fraction of that class's traffic). Invariants: counts ≥ 0 with at least one > 0;
weights ≥ 0 with a positive sum; each class of `split` sums to 1. GPU names compare
case-insensitively.
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

    def routing_weights(self) -> Mapping[str, float]:
        """Weights scaled to sum to 1 (empty when the plan gives none)."""
        total = sum(self.weights.values())
        return MappingProxyType({g: w / total for g, w in self.weights.items()} if total else {})
