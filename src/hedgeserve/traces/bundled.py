"""Traces shipped inside the package (permissively licensed data only).

`gcp-h100`: SkyNomad's GCP H100 spot probe (Apache-2.0), Oct 2025: every 10 minutes, 16 x
a3-highgpu-1g requested in each of 13 zones in 8 regions; capacity = instances created. It is
stored as a capacity table (`data/traces/gcp-h100/capacity.csv`) derived from the probe CSV by
`derive_gcp_h100`; the one prober outage (2025-10-09 04:20 -> 06:10 UTC, 10 rounds) is filled
by carrying the last value forward and marked in `Trace.filled`. Prices come from the catalog
(GCP list prices of a3-highgpu-8g / 8), constant over time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import as_file, files
from pathlib import Path

from hedgeserve.traces.capacity_csv import load_capacity_csv, write_capacity_csv
from hedgeserve.traces.model import Trace
from hedgeserve.traces.prices import attach_catalog_prices
from hedgeserve.traces.probe_csv import read_probe_observations

GCP_H100_RESOURCE = "data/traces/gcp-h100/capacity.csv"

# The leading "# key: value" lines of the bundled table; part of the derivation, so that
# re-deriving from the shared probe CSV reproduces the shipped file byte for byte.
GCP_H100_NOTES = {
    "instance": "a3-highgpu-1g",
    "cloud": "gcp",
    "source": "andylizf/skynomad-artifact data/h100_16_runs (commit 62b9aaa1), Apache-2.0, "
    "via gcp_h100_16_probe_counts.csv",
    "derived": "hedgeserve.traces.bundled.derive_gcp_h100: one row per probe round, one column "
    "per zone; cell = instances_created of 16 requested; rounds not run are absent",
}


@dataclass(frozen=True, slots=True)
class BundledTrace:
    name: str
    description: str
    load: Callable[[], Trace]


def derive_gcp_h100(probe_csv: Path, out: Path) -> None:
    """Write the bundled capacity table from SkyNomad's `gcp_h100_16_probe_counts.csv`."""
    write_capacity_csv(read_probe_observations(probe_csv), out, notes=GCP_H100_NOTES)


def load_gcp_h100() -> Trace:
    with as_file(files("hedgeserve").joinpath(GCP_H100_RESOURCE)) as path:
        trace = load_capacity_csv(path, name="gcp-h100")
    return attach_catalog_prices(trace)


BUNDLED: dict[str, BundledTrace] = {
    "gcp-h100": BundledTrace(
        name="gcp-h100",
        description="GCP H100 spot, 13 zones / 8 regions, 600 s ticks, 14.7 days (Oct 2025), "
        "0..16 launchable per zone; SkyNomad, Apache-2.0",
        load=load_gcp_h100,
    ),
}
DEFAULT_TRACE = "gcp-h100"
