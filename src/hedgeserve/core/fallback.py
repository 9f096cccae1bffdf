"""How many spot and on-demand replicas to keep (SpotHedge's over-provisioning + fallback).

With N_tar ready replicas needed, N_extra spare spot replicas and S_r ready spot replicas:

    spot wanted      = N_tar + N_extra - base_ondemand
    on-demand wanted = min(N_tar, base_ondemand + max(0, spot wanted - S_r))   (dynamic)
                     = base_ondemand                                           (static)

With base_ondemand = 0 this is the paper's O = max(0, min(N_tar, N_tar + N_extra - S_r)):
on-demand covers every missing *ready* spot replica, even a missing spare, and is released as
soon as spot replicas are ready again. `base_ondemand` replicas count towards the total, as
SkyServe's `base_ondemand_fallback_replicas` does, so a SkyServe spec means the same here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Mix:
    spot: int
    on_demand: int


def plan_mix(
    *, target: int, extra: int, ready_spot: int, base_ondemand: int = 0, dynamic: bool = True
) -> Mix:
    if min(target, extra, ready_spot, base_ondemand) < 0:
        raise ValueError("replica counts cannot be negative")
    base = min(base_ondemand, target + extra)
    spot = target + extra - base
    on_demand = base
    if dynamic:
        on_demand = max(base, min(target, base + max(0, spot - ready_spot)))
    return Mix(spot=spot, on_demand=on_demand)
