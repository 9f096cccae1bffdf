"""From the spec's resolved `ReplicaPolicy` to the core's policy and autoscaler, and their state
to and from JSON (the store keeps it, so a restarted controller continues where it stopped).

- `use_spot: false` -> `OnDemandOnly`.
- spot -> `SpotHedge(extra=num_overprovision, base_ondemand=base_ondemand_fallback_replicas,
  dynamic_fallback=dynamic_ondemand_fallback)`. SkyServe without `spot_placer` leaves placement
  to its optimizer; we always place with SpotHedge's rule (cheapest active zone not yet used),
  which is the same choice while no zone has been preempted.
- A per-GPU `target_qps_per_replica` map: a local service runs one replica type, so the entry
  of the first accelerator named in resources is used (else the smallest entry).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from hedgeserve.core.autoscale import AutoscalerConfig, AutoscalerState
from hedgeserve.core.baselines import OnDemandOnly
from hedgeserve.core.decisions import Policy
from hedgeserve.core.spothedge import SpotHedge
from hedgeserve.core.zone_sets import ZoneSets
from hedgeserve.core.zones import ZoneOffer
from hedgeserve.spec.replica_policy import ReplicaPolicy


def build_policy(replica_policy: ReplicaPolicy) -> Policy[Any]:
    if not replica_policy.use_spot:
        return OnDemandOnly()
    return SpotHedge(
        extra=replica_policy.num_overprovision,
        base_ondemand=replica_policy.base_ondemand_replicas,
        dynamic_fallback=replica_policy.dynamic_ondemand_fallback,
    )


def build_autoscaler(
    replica_policy: ReplicaPolicy, accelerators: Sequence[str] = ()
) -> AutoscalerConfig:
    qps = replica_policy.target_qps_per_replica
    per_gpu = replica_policy.target_qps_per_accelerator
    if qps is None and per_gpu:
        lowered = {k.lower(): v for k, v in per_gpu.items()}
        named = [lowered[a.lower()] for a in accelerators if a.lower() in lowered]
        qps = named[0] if named else min(per_gpu.values())
    return AutoscalerConfig(
        min_replicas=replica_policy.min_replicas,
        max_replicas=replica_policy.max_replicas,
        target_qps_per_replica=qps,
        upscale_delay_s=replica_policy.upscale_delay_s,
        downscale_delay_s=replica_policy.downscale_delay_s,
    )


def encode_policy_state(state: object) -> str:
    if state is None:
        return "null"
    if isinstance(state, ZoneSets):
        return json.dumps(state.to_dict())
    raise ValueError(f"no JSON form for policy state {type(state).__name__}")


def decode_policy_state(text: str | None, policy: Policy[Any], zones: Sequence[ZoneOffer]) -> Any:
    """The stored state, or the policy's initial state when none is stored (or it does not fit
    this policy: the spec switched between spot and on-demand)."""
    initial = policy.initial_state(zones)
    if not text:
        return initial
    data = json.loads(text)
    if isinstance(initial, ZoneSets) and isinstance(data, dict):
        return ZoneSets.from_dict(data)
    return initial


def encode_autoscaler_state(state: AutoscalerState) -> str:
    return json.dumps(
        {"target": state.target, "up_since": state.up_since, "down_since": state.down_since}
    )


def decode_autoscaler_state(text: str | None, config: AutoscalerConfig) -> AutoscalerState:
    if not text:
        return AutoscalerState(target=config.min_replicas)
    data = json.loads(text)
    target = min(max(int(data["target"]), config.min_replicas), config.max_replicas)
    return AutoscalerState(target=target, up_since=data.get("up_since"),
                           down_since=data.get("down_since"))
