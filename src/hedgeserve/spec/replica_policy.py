"""`service.replica_policy` (SkyServe's schema) and its resolved form, `ReplicaPolicy`.

Rules checked here, as SkyServe checks them: max_replicas ≥ min_replicas; a range of replicas
needs `target_qps_per_replica`, and `target_qps_per_replica` needs `max_replicas`; the on-demand
floor fits under max_replicas. Rules that need `resources.use_spot` (fallback and placer options
need spot) are checked in `service_spec`.

Invariant: `ReplicaPolicy` is the only form the controller and simulator read. `replicas: N`,
`replica_policy: {...}` and "neither" all resolve to it, so nobody re-interprets the YAML.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from pydantic import Field, field_validator, model_validator

from hedgeserve.spec.strict_model import Count, Flag, Seconds, StrictModel, rule_error

DEFAULT_UPSCALE_DELAY_S = 300.0  # SkyServe's default
DEFAULT_DOWNSCALE_DELAY_S = 1200.0  # SkyServe's default


class SpotPlacer(StrEnum):
    DYNAMIC_FALLBACK = "dynamic_fallback"  # SpotHedge: spread over zones, avoid preempted ones


@dataclass(frozen=True, slots=True)
class ReplicaPolicy:
    """How many replicas, of which kind. Resolved once at load time.

    `target_qps_per_replica` (one number) and `target_qps_per_accelerator` (per GPU type) are
    exclusive; both empty means a fixed count of `min_replicas` (= `max_replicas`).
    """

    min_replicas: int
    max_replicas: int
    target_qps_per_replica: float | None
    target_qps_per_accelerator: Mapping[str, float]
    upscale_delay_s: float
    downscale_delay_s: float
    num_overprovision: int  # SpotHedge's N_extra: spare replicas on top of the target
    base_ondemand_replicas: int  # on-demand replicas kept at all times
    dynamic_ondemand_fallback: bool  # on-demand replicas cover spot replicas that are not ready
    spot_placer: SpotPlacer | None
    use_spot: bool

    @property
    def is_autoscaling(self) -> bool:
        has_target = self.target_qps_per_replica is not None or bool(
            self.target_qps_per_accelerator
        )
        return has_target and self.max_replicas > self.min_replicas

    @property
    def is_spothedge(self) -> bool:
        """SkyServe calls the placer plus dynamic fallback "SpotHedge"; so do we."""
        return (
            self.use_spot
            and self.spot_placer is SpotPlacer.DYNAMIC_FALLBACK
            and self.dynamic_ondemand_fallback
        )

    @property
    def label(self) -> str:
        if not self.use_spot:
            return "on-demand only"
        if self.is_spothedge:
            return "SpotHedge"
        parts = ["spot"]
        if self.spot_placer is not None:
            parts.append(f"{self.spot_placer.value} placer")
        if self.dynamic_ondemand_fallback:
            parts.append("dynamic on-demand fallback")
        if self.base_ondemand_replicas:
            parts.append(f"{self.base_ondemand_replicas} base on-demand")
        return " + ".join(parts) if len(parts) > 1 else "spot only"

    @classmethod
    def fixed(cls, count: int, *, use_spot: bool) -> ReplicaPolicy:
        """`service.replicas: N`, or 1 when neither `replicas` nor `replica_policy` is given."""
        return cls(
            min_replicas=count,
            max_replicas=count,
            target_qps_per_replica=None,
            target_qps_per_accelerator=MappingProxyType({}),
            upscale_delay_s=DEFAULT_UPSCALE_DELAY_S,
            downscale_delay_s=DEFAULT_DOWNSCALE_DELAY_S,
            num_overprovision=0,
            base_ondemand_replicas=0,
            dynamic_ondemand_fallback=False,
            spot_placer=None,
            use_spot=use_spot,
        )


class ReplicaPolicyConfig(StrictModel):
    min_replicas: Count
    max_replicas: Count | None = None
    target_qps_per_replica: float | dict[str, float] | None = Field(
        default=None, description="a number > 0 (requests/s per replica), or a map GPU -> number"
    )
    upscale_delay_seconds: Seconds = DEFAULT_UPSCALE_DELAY_S
    downscale_delay_seconds: Seconds = DEFAULT_DOWNSCALE_DELAY_S
    num_overprovision: Count = 0
    base_ondemand_fallback_replicas: Count = 0
    dynamic_ondemand_fallback: Flag = False
    spot_placer: SpotPlacer | None = Field(default=None, description="dynamic_fallback")

    @field_validator("spot_placer", mode="before")
    @classmethod
    def _placer_any_case(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("target_qps_per_replica", mode="before")
    @classmethod
    def _check_target_qps(cls, value: Any) -> Any:
        # Checked by hand so a bad value gets one clear error, not one per union member.
        if value is None:
            return None
        if isinstance(value, dict):
            if not value:
                raise rule_error(
                    "target_qps_per_replica is an empty map",
                    fix="give at least one GPU: number entry, e.g. {H100: 8}",
                )
            for gpu, qps in value.items():
                if not isinstance(gpu, str) or not gpu.strip():
                    raise rule_error(
                        f"{gpu!r} is not a GPU name",
                        fix="use names like H100 or L4",
                        field=str(gpu),
                    )
                _check_qps(qps, field=gpu)
            return {gpu.strip(): float(qps) for gpu, qps in value.items()}
        _check_qps(value, field="")
        return float(value)

    @model_validator(mode="after")
    def _check_bounds(self) -> ReplicaPolicyConfig:
        has_target = self.target_qps_per_replica is not None
        if self.max_replicas is None:
            if has_target:
                raise rule_error(
                    "target_qps_per_replica is set but max_replicas is not",
                    fix="set max_replicas (≥ min_replicas) as the autoscaler's upper bound",
                    field="max_replicas",
                )
            upper = self.min_replicas
        else:
            upper = self.max_replicas
        if upper < self.min_replicas:
            raise rule_error(
                f"max_replicas ({upper}) is less than min_replicas ({self.min_replicas})",
                fix=f"set max_replicas to at least {self.min_replicas}",
                field="max_replicas",
            )
        if upper == 0:
            said = (
                "max_replicas is 0"
                if self.max_replicas is not None
                else ("min_replicas is 0 and max_replicas is not set")
            )
            raise rule_error(
                f"{said}, so the service would never run a replica",
                fix="set max_replicas to at least 1",
                field="max_replicas",
            )
        if upper > self.min_replicas and not has_target:
            raise rule_error(
                f"replicas may range from {self.min_replicas} to {upper} "
                "but target_qps_per_replica is not set, so nothing drives the autoscaler",
                fix="set target_qps_per_replica, or set max_replicas equal to min_replicas",
                field="target_qps_per_replica",
            )
        if self.base_ondemand_fallback_replicas > upper:
            raise rule_error(
                f"base_ondemand_fallback_replicas ({self.base_ondemand_fallback_replicas}) "
                f"exceeds max_replicas ({upper})",
                fix=f"set base_ondemand_fallback_replicas to at most {upper}",
                field="base_ondemand_fallback_replicas",
            )
        return self

    def resolve(self, *, use_spot: bool) -> ReplicaPolicy:
        target = self.target_qps_per_replica
        return ReplicaPolicy(
            min_replicas=self.min_replicas,
            max_replicas=self.min_replicas if self.max_replicas is None else self.max_replicas,
            target_qps_per_replica=target if isinstance(target, float) else None,
            target_qps_per_accelerator=MappingProxyType(
                dict(target) if isinstance(target, dict) else {}
            ),
            upscale_delay_s=self.upscale_delay_seconds,
            downscale_delay_s=self.downscale_delay_seconds,
            num_overprovision=self.num_overprovision,
            base_ondemand_replicas=self.base_ondemand_fallback_replicas,
            dynamic_ondemand_fallback=self.dynamic_ondemand_fallback,
            spot_placer=self.spot_placer,
            use_spot=use_spot,
        )


def _check_qps(qps: Any, *, field: str) -> None:
    if isinstance(qps, bool) or not isinstance(qps, int | float) or qps <= 0:
        raise rule_error(
            f"target QPS {qps!r} is not a number > 0",
            fix="give the requests/s one replica serves at its latency target, e.g. 2.5",
            field=field,
        )
