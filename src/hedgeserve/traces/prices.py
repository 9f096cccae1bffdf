"""The price catalog: list prices per instance type and region, for traces that carry none.

The data lives in `hedgeserve/data/traces/price-catalog.yaml`, each entry with its source and
date. `attach_catalog_prices` fills a trace's `on_demand_price` (and a spot price constant over
time, where the catalog has one and the trace has none) from its zones' regions. It never
overwrites prices a trace already has: per-tick prices from the source beat list prices.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
import yaml  # type: ignore[import-untyped]  # no stubs in our dev deps

from hedgeserve.core.zones import Zone
from hedgeserve.errors import InputError
from hedgeserve.traces.model import Trace

CATALOG_RESOURCE = "data/traces/price-catalog.yaml"


@dataclass(frozen=True, slots=True)
class RegionPrice:
    on_demand_per_hour: float
    spot_per_hour: float | None  # None: spot moves with time; take it from the trace


@dataclass(frozen=True)
class InstancePrices:
    instance: str
    cloud: str
    fetched: str
    source: str
    regions: Mapping[str, RegionPrice]


def load_price_catalog(path: Path | None = None) -> dict[str, InstancePrices]:
    """The catalog, by instance type; default is the one shipped with hedgeserve."""
    where = str(path) if path is not None else CATALOG_RESOURCE
    try:
        text = path.read_text() if path is not None else (
            files("hedgeserve").joinpath(CATALOG_RESOURCE).read_text()
        )
        doc = yaml.safe_load(text)
    except FileNotFoundError:
        raise InputError("price catalog not found", where=where) from None
    except yaml.YAMLError as err:
        raise InputError(f"price catalog is not valid YAML ({err})", where=where) from None
    if not isinstance(doc, dict):
        raise InputError("price catalog must map instance types to entries", where=where)
    return {str(k): _entry(str(k), v, where) for k, v in doc.items()}


def _entry(instance: str, raw: Any, where: str) -> InstancePrices:
    at = f"{where} [{instance}]"
    try:
        regions = {
            str(r): RegionPrice(
                on_demand_per_hour=float(p["on_demand"]),
                spot_per_hour=None if p.get("spot") is None else float(p["spot"]),
            )
            for r, p in raw["regions"].items()
        }
        entry = InstancePrices(instance, str(raw["cloud"]), str(raw["fetched"]),
                               str(raw["source"]), regions)
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise InputError(f"malformed entry ({type(err).__name__}: {err})", where=at) from None
    for r, p in regions.items():
        if p.on_demand_per_hour <= 0 or (p.spot_per_hour is not None and p.spot_per_hour <= 0):
            raise InputError(f"prices of region {r} must be positive", where=at)
    return entry


def attach_catalog_prices(
    trace: Trace,
    catalog: Mapping[str, InstancePrices] | None = None,
    *,
    instance: str | None = None,
) -> Trace:
    """`trace` with missing prices filled from the catalog for its instance type.

    Raises InputError when the catalog lacks the instance type or one of the trace's regions.
    """
    kind = instance or trace.instance
    table = catalog if catalog is not None else load_price_catalog()
    if kind is None or kind not in table:
        raise InputError(
            f"no catalog prices for instance type {kind!r}", where=f"trace {trace.name}",
            fix=f"known types: {', '.join(sorted(table))}",
        )
    entry = table[kind]
    per_zone = [_region_price(entry, z, trace.name) for z in trace.zones]
    on_demand = trace.on_demand_price
    if on_demand is None:
        on_demand = np.array([p.on_demand_per_hour for p in per_zone], dtype=np.float64)
    spot = trace.spot_price
    if spot is None and all(p.spot_per_hour is not None for p in per_zone):
        column = np.array([p.spot_per_hour for p in per_zone], dtype=np.float64)
        spot = np.repeat(column[:, None], trace.n_ticks, axis=1)
    return replace(trace, on_demand_price=on_demand, spot_price=spot, instance=kind)


def region_of(zone_id: str) -> str:
    """The region part of a "cloud/region/zone" id (the id itself if it has another shape)."""
    try:
        return Zone.parse(zone_id).region
    except ValueError:
        return zone_id


def _region_price(entry: InstancePrices, zone_id: str, trace_name: str) -> RegionPrice:
    region = region_of(zone_id)
    if region not in entry.regions:
        raise InputError(
            f"no {entry.instance} price for region {region}", where=f"trace {trace_name}",
            fix=f"catalog regions: {', '.join(sorted(entry.regions))}",
        )
    return entry.regions[region]
