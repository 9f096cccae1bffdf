"""A short human summary of a resolved spec, as (label, text) rows.

Pure: the CLI (`hedge check`, `hedge up`) renders the rows. It shows the resolved values —
defaults filled in, shorthand expanded — so a user sees what will actually run. Secrets and
env values are never shown, only their names.
"""

from __future__ import annotations

from hedgeserve.spec.provider import ProviderName
from hedgeserve.spec.replica_policy import ReplicaPolicy
from hedgeserve.spec.service_spec import ServiceSpec

Row = tuple[str, str]


def describe_spec(spec: ServiceSpec) -> tuple[Row, ...]:
    rows: list[Row] = [
        ("name", spec.name or "(from the file name, or hedge up --name)"),
        ("provider", _provider(spec)),
        ("replicas", _replicas(spec.policy)),
        ("spot policy", _spot(spec.policy)),
        ("zones", _zones(spec)),
        ("resources", _resources(spec)),
        ("readiness", _probe(spec)),
        ("load balancing", spec.service.load_balancing_policy.value),
        ("gateway", _gateway(spec)),
        ("controller", f"tick every {_s(spec.controller.tick_seconds)}, "
         f"drain grace {_s(spec.controller.grace_seconds)}"),
    ]
    if spec.envs or spec.secrets:
        names = [*spec.envs, *(f"{k} (secret)" for k in spec.secrets)]
        rows.append(("env", ", ".join(names)))
    if spec.planner is not None:
        rows.append(("planner", _planner(spec)))
    return tuple(rows)


def _s(seconds: float) -> str:
    return f"{seconds:g} s"


def _provider(spec: ServiceSpec) -> str:
    p = spec.provider
    options = [f"{k}={v}" for k in ("log_dir", "namespace", "context") if (v := getattr(p, k))]
    return p.name.value + (f" ({', '.join(options)})" if options else "")


def _replicas(policy: ReplicaPolicy) -> str:
    if not policy.is_autoscaling:
        text = f"{policy.min_replicas} (fixed)"
    else:
        if policy.target_qps_per_replica is not None:
            target = f"{policy.target_qps_per_replica:g} QPS per replica"
        else:
            target = ", ".join(f"{g}: {q:g}" for g, q in policy.target_qps_per_accelerator.items())
            target = f"QPS per GPU type {{{target}}}"
        text = (
            f"{policy.min_replicas}–{policy.max_replicas}, autoscaling at {target} "
            f"(up after {_s(policy.upscale_delay_s)}, down after {_s(policy.downscale_delay_s)})"
        )
    if policy.num_overprovision:
        text += f", +{policy.num_overprovision} overprovisioned"
    return text


def _spot(policy: ReplicaPolicy) -> str:
    if not policy.use_spot:
        return policy.label
    details = [
        f"placer {policy.spot_placer.value if policy.spot_placer else 'none'}",
        f"dynamic on-demand fallback {'on' if policy.dynamic_ondemand_fallback else 'off'}",
        f"base on-demand {policy.base_ondemand_replicas}",
    ]
    return f"{policy.label} ({', '.join(details)})"


def _zones(spec: ServiceSpec) -> str:
    emu = spec.spot_emulation
    if emu is not None:
        chosen = ", ".join(emu.zones) if emu.zones else "all zones"
        minutes = 60 / emu.time_scale
        return (
            f"emulated from trace {emu.trace} ({chosen}); 1 trace-hour = {minutes:g} min wall, "
            f"from hour {emu.start_hour:g}, notice {_s(emu.notice_seconds)}, seed {emu.seed}"
            + (f", cold start {_s(emu.cold_start_seconds)}" if emu.cold_start_seconds else "")
        )
    if spec.zone_ids is not None:
        parts = []
        for zone_id, zone in zip(spec.zone_ids, spec.zones or (None,), strict=True):
            prices = []
            if zone is not None and zone.spot_per_hour is not None:
                prices.append(f"spot ${zone.spot_per_hour:g}/h")
            if zone is not None and zone.on_demand_per_hour is not None:
                prices.append(f"on-demand ${zone.on_demand_per_hour:g}/h")
            parts.append(zone_id + (f" ({', '.join(prices)})" if prices else ""))
        return "; ".join(parts)
    if spec.provider.name is ProviderName.LOCAL:
        return "local"
    return "chosen by the provider within the resources' locations"


def _resources(spec: ServiceSpec) -> str:
    kind = "ordered" if spec.resources.is_ordered else "any of"
    texts = []
    for cand in spec.candidates:
        parts = [str(cand.location) if not cand.location.is_anywhere else "anywhere"]
        if cand.accelerators:
            parts.append(" | ".join(map(str, cand.accelerators)))
        for label, value in (("cpus", cand.cpus), ("memory", cand.memory)):
            if value:
                parts.append(f"{label} {value}")
        if cand.ports:
            parts.append(f"ports {','.join(map(str, cand.ports[:4]))}")
        texts.append(" ".join(parts))
    spot = "spot" if spec.resources.is_spot else "on-demand"
    if len(texts) == 1:
        return f"{spot}: {texts[0]}"
    return f"{spot}, {kind}: " + "; ".join(texts)


def _probe(spec: ServiceSpec) -> str:
    probe, t = spec.probe, spec.probe.timings
    return (
        f"{probe.method} {probe.path} every {_s(t.period_s)}, timeout {_s(t.timeout_s)}, "
        f"initial delay {_s(t.initial_delay_s)}, replaced after {_s(t.failure_threshold_s)} failing"
    )


def _gateway(spec: ServiceSpec) -> str:
    g = spec.gateway
    port = str(g.port) if g.port else "a free port"
    keys = []
    if g.api_keys_env:
        keys.append(f"${g.api_keys_env}")
    if g.api_keys_file:
        keys.append(g.api_keys_file)
    auth = f"API keys from {' and '.join(keys)}" if keys else "no API keys"
    tls = ", TLS" if spec.service.tls else ""
    return f"{g.host} on {port}{tls}, {auth}, queue timeout {_s(g.queue_timeout_seconds)}"


def _planner(spec: ServiceSpec) -> str:
    plan = spec.planner
    if plan is None:
        return ""
    parts = []
    if plan.replicas:
        parts.append("replicas " + ", ".join(f"{g}×{n}" for g, n in plan.replicas.items()))
    if plan.weights:
        shares = plan.load_shares()
        if shares:
            parts.append("planned share of load " +
                         ", ".join(f"{g} {s:.1%}" for g, s in shares.items()))
        else:
            parts.append("relative req/s per replica " +
                         ", ".join(f"{g} {w:g}" for g, w in plan.weights.items()))
    if plan.split:
        parts.append(f"{len(plan.split)} request classes")
    if not parts:
        return "empty"
    return "; ".join(parts) + " (planned only: hedge up runs one replica type)"
