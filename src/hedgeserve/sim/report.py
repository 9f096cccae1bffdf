"""Turning experiment results into files: the JSON summary and the JSON-lines event log."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO

from hedgeserve.errors import InputError
from hedgeserve.sim.experiment import ExperimentResult

_EVENT_FIELDS = ("policy", "repeat", "t", "event", "zone", "replica", "spot", "capacity")
# "target" rows (autoscaling changed N_tar) carry the new N_tar in a "target" field instead


def write_json(path: Path, payload: dict[str, Any]) -> None:
    try:
        path.write_text(json.dumps(payload, indent=2, allow_nan=True) + "\n")
    except OSError as err:
        raise InputError(f"cannot write ({err.strerror})", where=str(path)) from None


def write_events(
    stream: TextIO, result: ExperimentResult, extra: dict[str, Any] | None = None
) -> int:
    """Write every capacity change and replica transition as one JSON object per line.

    Times are seconds from the run's start; `zone` is the zone id; `replica`, `spot` and
    `capacity` are null where they do not apply. With an autoscaler, "target" rows give the new
    N_tar. With a preemption notice, "notice" (the replica is leaving: no longer counted against
    capacity nor shown to the policy) and "draining" (no new requests) come before "preempted".
    Returns the number of lines written."""
    zones_of = {w.repeat: w.trace.zones for w in result.windows}
    count = 0
    for (policy, repeat), log in result.logs.items():
        zones = zones_of[repeat]
        for t, event, zone, replica, spot, capacity in log:
            target = event == "target"
            row: dict[str, Any] = dict(
                zip(
                    _EVENT_FIELDS,
                    (
                        policy,
                        repeat,
                        round(t, 6),
                        event,
                        None if zone < 0 else zones[zone],
                        None if replica < 0 else replica,
                        None if spot < 0 else bool(spot),
                        None if capacity < 0 or target else capacity,
                    ),
                    strict=True,
                )
            )
            if target:
                row["target"] = capacity
            if extra:
                row.update(extra)
            stream.write(json.dumps(row) + "\n")
            count += 1
    return count
