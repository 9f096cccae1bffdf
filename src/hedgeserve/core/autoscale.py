"""The QPS autoscaler: how many ready replicas (N_tar) the load needs.

candidate = clamp(ceil(qps / target_qps_per_replica), min_replicas, max_replicas)

N_tar moves to the candidate only after the candidate has stayed above N_tar for
`upscale_delay_s` (or below it for `downscale_delay_s`), then jumps straight to the latest
candidate — SkyServe's hysteresis. Delays are kept as "pending since" timestamps compared with
`now`, never as tick counts, so the result does not depend on how often it is called (the
controller's tick and the simulator's events give the same answer). Scaling up from zero is
immediate: a request is waiting. Without `target_qps_per_replica` the target is `min_replicas`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AutoscalerConfig:
    min_replicas: int
    max_replicas: int
    target_qps_per_replica: float | None = None
    upscale_delay_s: float = 300.0
    downscale_delay_s: float = 1200.0

    def __post_init__(self) -> None:
        if not 0 <= self.min_replicas <= self.max_replicas:
            raise ValueError("need 0 <= min_replicas <= max_replicas")
        if self.target_qps_per_replica is not None and self.target_qps_per_replica <= 0:
            raise ValueError("target_qps_per_replica must be positive")


@dataclass(frozen=True, slots=True)
class AutoscalerState:
    target: int
    up_since: float | None = None  # when the candidate first exceeded the target
    down_since: float | None = None  # when the candidate first fell below the target


def initial_autoscaler_state(config: AutoscalerConfig) -> AutoscalerState:
    return AutoscalerState(target=config.min_replicas)


def candidate_replicas(config: AutoscalerConfig, qps: float) -> int:
    if config.target_qps_per_replica is None:
        return config.min_replicas
    wanted = math.ceil(max(qps, 0.0) / config.target_qps_per_replica - 1e-9)
    return min(max(wanted, config.min_replicas), config.max_replicas)


def autoscale(
    config: AutoscalerConfig, state: AutoscalerState, *, now: float, qps: float
) -> AutoscalerState:
    """The next autoscaler state (its `target` is N_tar) given the request rate at `now`."""
    candidate = candidate_replicas(config, qps)
    if candidate == state.target:
        return AutoscalerState(state.target)
    if state.target == 0 and candidate > 0:
        return AutoscalerState(candidate)  # scale from zero at once: requests are waiting
    if candidate > state.target:
        since = state.up_since if state.up_since is not None else now
        if now - since >= config.upscale_delay_s:
            return AutoscalerState(candidate)
        return AutoscalerState(state.target, up_since=since)
    since = state.down_since if state.down_since is not None else now
    if now - since >= config.downscale_delay_s:
        return AutoscalerState(candidate)
    return AutoscalerState(state.target, down_since=since)


def next_change_at(config: AutoscalerConfig, state: AutoscalerState) -> float | None:
    """When the pending change would take effect if the load stays as it is (for wake-ups)."""
    if state.up_since is not None:
        return state.up_since + config.upscale_delay_s
    if state.down_since is not None:
        return state.down_since + config.downscale_delay_s
    return None
