"""From a spec to a provider: the local provider, under spot emulation when the spec asks.

`plan_zones(spec)` resolves where replicas may go before anything starts, so `hedge up` and
`hedge check` report a bad trace, zone or start hour as one line and exit 2:
- `spot_emulation`: the trace's zones (or `spot_emulation.zones`, in that order), narrowed to
  the locations `resources` names (infra/cloud/region/zone, any_of); prices from the trace;
  `start_hour` must lie inside the trace (a replay that runs past its end wraps around, but a
  start past the end is a mistake, not a wish to wrap);
- `zones:` as declared, prices as declared (spot 1.0 and on-demand 3.0 $/h when not given);
- neither: one zone, `local/local/default`.
SkyPilot and Kubernetes providers are not built yet; such a spec is refused with a clear error.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hedgeserve.control.clock import Wakeup
from hedgeserve.control.provider import Provider
from hedgeserve.control.state_dir import ServiceDir, read_json, write_json
from hedgeserve.core.zones import ZoneOffer
from hedgeserve.errors import InputError
from hedgeserve.providers.local import LocalProvider
from hedgeserve.providers.spot_emulator import CapacityTable, EmulatedSpotProvider, TraceClock
from hedgeserve.spec.provider import ProviderName
from hedgeserve.spec.service_spec import DEFAULT_LOCAL_ZONE, ServiceSpec
from hedgeserve.traces.catalog import load_trace
from hedgeserve.traces.model import Trace

DEFAULT_SPOT_PER_HOUR = 1.0
DEFAULT_ON_DEMAND_PER_HOUR = 3.0


@dataclass(frozen=True, slots=True)
class ZonePlan:
    offers: tuple[ZoneOffer, ...]  # static prices; under emulation, those at the start
    trace: Trace | None  # the emulated trace, narrowed to the zones


def plan_zones(spec: ServiceSpec) -> ZonePlan:
    if spec.provider.name is not ProviderName.LOCAL:
        raise InputError(
            f"provider {spec.provider.name.value!r} cannot run services yet",
            where="provider", fix="use provider: local (optionally with spot_emulation)",
        )
    emu = spec.spot_emulation
    if emu is None:
        if spec.zones is None:
            return ZonePlan((ZoneOffer(DEFAULT_LOCAL_ZONE, DEFAULT_SPOT_PER_HOUR,
                                       DEFAULT_ON_DEMAND_PER_HOUR),), None)
        offers = tuple(
            ZoneOffer(
                z.zone_id,
                DEFAULT_SPOT_PER_HOUR if z.spot_per_hour is None else z.spot_per_hour,
                DEFAULT_ON_DEMAND_PER_HOUR if z.on_demand_per_hour is None
                else z.on_demand_per_hour,
            )
            for z in spec.zones
        )
        return ZonePlan(offers, None)
    trace = load_trace(emu.trace)
    if emu.zones is not None:
        trace = trace.select(list(emu.zones))
    places = [c.location for c in spec.candidates if not c.location.is_anywhere]
    if places:
        keep = [z for z in trace.zones if any(p.matches(z) for p in places)]
        if not keep:
            raise InputError(
                "no zone of the emulated trace lies in the locations resources allow",
                where="resources", fix=f"allow one of: {', '.join(trace.zones)}",
            )
        trace = trace.select(keep)
    hours = trace.duration_s / 3600
    if emu.start_hour >= hours:
        raise InputError(
            f"start_hour {emu.start_hour:g} is past the end of trace {emu.trace} "
            f"({hours:g} hours)", where="spot_emulation.start_hour",
            fix=f"start between 0 and {hours:g}",
        )
    start_tick = int(emu.start_hour * 3600 // trace.gap_s)
    return ZonePlan(CapacityTable(trace).offers(start_tick), trace)


def instance_tag(folder: ServiceDir) -> str:
    """Unique per service folder, so two HEDGE_HOMEs never claim each other's replicas."""
    digest = hashlib.sha1(str(folder.root.resolve()).encode()).hexdigest()[:12]
    return f"{folder.name}-{digest}"


def build_provider(
    spec: ServiceSpec,
    folder: ServiceDir,
    *,
    wakeup: Wakeup,
    environ: Mapping[str, str],
    fresh: bool,
) -> Provider:
    """The provider for `spec`. `fresh`: a new run of the service (trace replay starts over at
    `start_hour`); otherwise a restart continues the stored trace time."""
    zones = plan_zones(spec)
    log_dir = Path(spec.provider.log_dir) if spec.provider.log_dir else folder.logs
    env = {**environ, **spec.resolved_envs(environ)}
    emu = spec.spot_emulation
    local = LocalProvider(
        tag=instance_tag(folder), run=spec.run, env=env, log_dir=log_dir, zones=zones.offers,
        wakeup=wakeup, workdir=spec.workdir,
        boot_delay_s=emu.cold_start_seconds if emu is not None else 0.0,
    )  # fmt: skip
    if emu is None or zones.trace is None:
        return local
    clock = _trace_clock(folder, spec, fresh=fresh)
    if fresh:  # a new run: notices of an earlier one are void
        folder.emulator_notices_file.unlink(missing_ok=True)
    return EmulatedSpotProvider(
        local, table=CapacityTable(zones.trace), clock=clock, notice_s=emu.notice_seconds,
        seed=emu.seed, wakeup=wakeup, notices_file=folder.emulator_notices_file,
    )  # fmt: skip


def _trace_clock(folder: ServiceDir, spec: ServiceSpec, *, fresh: bool) -> TraceClock:
    emu = spec.spot_emulation
    if emu is None:
        raise ValueError("no spot emulation in this spec")
    wanted = {"trace": emu.trace, "start_s": emu.start_hour * 3600.0,
              "time_scale": emu.time_scale}
    stored = read_json(folder.emulator_file)
    if not fresh and stored is not None and all(stored.get(k) == v for k, v in wanted.items()):
        epoch = stored.get("epoch_unix")
        if isinstance(epoch, int | float):
            return TraceClock(float(epoch), emu.start_hour * 3600.0, emu.time_scale)
    clock = TraceClock(time.time(), emu.start_hour * 3600.0, emu.time_scale)
    write_json(folder.emulator_file, {**wanted, "epoch_unix": clock.epoch_unix,
                                      "pid": os.getpid()})
    return clock
