"""`service:` — SkyServe's service section: readiness probe, replica count or policy, load
balancing, ingress port, TLS.

Invariants: `replicas` and `replica_policy` are exclusive (neither means one replica); the load
balancing policy is one of `LoadBalancingPolicy` (SkyServe's `instance_aware_least_load` is an
alias of `instance_aware`); a per-GPU target QPS map needs `instance_aware` balancing.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field, ValidationInfo, field_validator, model_validator

from hedgeserve.spec.paths import resolve_path
from hedgeserve.spec.probe import ReadinessProbeConfig
from hedgeserve.spec.replica_policy import ReplicaPolicy, ReplicaPolicyConfig
from hedgeserve.spec.strict_model import (
    Port,
    PositiveCount,
    PositiveSeconds,
    StrictModel,
    rule_error,
)

DEFAULT_STREAM_TIMEOUT_S = 120.0  # SkyServe's gateway-to-replica timeout


class LoadBalancingPolicy(StrEnum):
    LEAST_LOAD = "least_load"  # fewest in-flight requests (SkyServe's default)
    ROUND_ROBIN = "round_robin"
    POWER_OF_TWO = "power_of_two"  # least loaded of two random replicas
    INSTANCE_AWARE = "instance_aware"  # in-flight / the replica GPU's target QPS (or weight)


_LB_ALIASES = {"instance_aware_least_load": LoadBalancingPolicy.INSTANCE_AWARE.value}


class TlsConfig(StrictModel):
    keyfile: str = Field(description="a path to the PEM private key")
    certfile: str = Field(description="a path to the PEM certificate chain")

    @field_validator("keyfile", "certfile", mode="before")
    @classmethod
    def _resolve(cls, value: Any, info: ValidationInfo) -> Any:
        return resolve_path(value, info)


class LoadBalancerConfig(StrictModel):
    stream_timeout_seconds: PositiveSeconds = DEFAULT_STREAM_TIMEOUT_S


class ServiceConfig(StrictModel):
    readiness_probe: ReadinessProbeConfig = Field(
        default_factory=lambda: ReadinessProbeConfig(),
        description="a path like /health, or a mapping with path, timeouts, post_data, headers",
    )
    replicas: PositiveCount | None = None
    replica_policy: ReplicaPolicyConfig | None = Field(
        default=None,
        description="a mapping with min_replicas, max_replicas, target_qps_per_replica ...",
    )
    load_balancing_policy: LoadBalancingPolicy = Field(
        default=LoadBalancingPolicy.LEAST_LOAD,
        description="one of least_load, round_robin, power_of_two, instance_aware",
    )
    load_balancer: LoadBalancerConfig = Field(default_factory=lambda: LoadBalancerConfig())
    ports: Port | None = None
    tls: TlsConfig | None = Field(default=None, description="a mapping with keyfile and certfile")

    @field_validator("load_balancing_policy", mode="before")
    @classmethod
    def _lb_alias(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        name = value.strip().lower()
        return _LB_ALIASES.get(name, name)

    @model_validator(mode="after")
    def _one_replica_rule(self) -> ServiceConfig:
        if self.replicas is not None and self.replica_policy is not None:
            raise rule_error(
                "both replicas and replica_policy are set",
                fix="use replicas: N for a fixed count, or replica_policy for autoscaling "
                "and spot options — not both",
                field="replicas",
            )
        policy = self.replica_policy
        per_gpu = policy is not None and isinstance(policy.target_qps_per_replica, dict)
        if per_gpu and self.load_balancing_policy is not LoadBalancingPolicy.INSTANCE_AWARE:
            raise rule_error(
                "a per-GPU target_qps_per_replica map needs instance-aware load balancing",
                fix="set service.load_balancing_policy: instance_aware, or give one number",
                field="load_balancing_policy",
            )
        return self

    def resolve_policy(self, *, use_spot: bool) -> ReplicaPolicy:
        if self.replica_policy is not None:
            return self.replica_policy.resolve(use_spot=use_spot)
        return ReplicaPolicy.fixed(self.replicas or 1, use_spot=use_spot)
