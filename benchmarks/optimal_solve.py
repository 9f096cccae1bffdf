"""Solve time of the Optimal baseline's integer program on 24 h windows.

Run:  python benchmarks/optimal_solve.py [--windows 3] [--seed 0] [--json out/optimal_solve.json]
      [--uncapped]  (also solve the 30 s grid without aggregation: slower, up to ~15 s each)

Instances: synthetic traces shaped like the SkyServe paper's AWS1 (3 zones, 300 s, 0..4),
AWS3 (9 zones, 195 s, 0/unlimited), GCP1 (6 zones, 150 s, 0..4) and the SkyNomad GCP H100 trace
(13 zones, 600 s, 0..16); plus the real traces when `hedgeserve.traces.catalog.load_trace` finds
them (the bundled H100 trace always; AWS1/2/3 and GCP1 from the shared data folder). Each is
solved on random 24 h windows with N_tar = 3 and a 120 s cold start, in three variants:
- native:  the trace's own tick, availability 100 %;
- a=99%:   the same with a 99 % availability target (one binary per tick: harder);
- grid30:  the paper simulator's 30 s tick (each trace tick subdivided), capped at 720 plan
           ticks by aggregation (`max_ticks=720`, about 2 min ticks).
Prices: the trace's own where it has them (H100: GCP list prices), else spot 1 and on-demand 3
(k = 3, as in the paper). Cost is shown as % of N_tar on-demand replicas for the whole window.

Goal: every 24 h instance solves in a few seconds. Timings are wall time of `solve_optimal`
after one warm-up solve (the first call pays SciPy's import).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy
from rich.console import Console
from rich.table import Table

from hedgeserve.core.optimal_ilp import solve_optimal
from hedgeserve.errors import InputError

DAY_S = 86_400.0
TARGET = 3
COLD_START_S = 120.0
UNLIMITED = 1_000_000


@dataclass(frozen=True)
class Instance:
    name: str
    source: str  # "synthetic" or "real"
    gap_s: float
    capacity: np.ndarray  # (zones, ticks) of one 24 h window
    spot_price: np.ndarray | float
    on_demand_price: np.ndarray | float


def synthetic(name: str, zones: int, gap_s: float, top: int, rng: np.random.Generator) -> Instance:
    """Per zone, an on/off Markov chain (mean outage ~1 h, mean up-run 1-6 h) with a capacity
    level that drifts while up; `top == UNLIMITED` gives 0/unlimited like AWS3."""
    ticks = round(DAY_S / gap_s)
    cap = np.zeros((zones, ticks), dtype=np.int64)
    for z in range(zones):
        p_down = gap_s / rng.uniform(3600, 6 * 3600)
        p_up = gap_s / 3600
        up = rng.random() < 0.7
        level = int(rng.integers(1, top + 1)) if top < UNLIMITED else UNLIMITED
        for t in range(ticks):
            up = (rng.random() >= p_down) if up else (rng.random() < p_up)
            if top < UNLIMITED and rng.random() < 0.1:
                level = int(np.clip(level + rng.integers(-2, 3), 1, top))
            cap[z, t] = level if up else 0
    base = rng.uniform(0.8, 1.2, (zones, 1))
    spot = base * np.exp(np.cumsum(rng.normal(0, 0.01, (zones, ticks)), axis=1))
    return Instance(name, "synthetic", gap_s, cap, spot, 3.0 * float(base.mean()))


def real_instances(windows: int, rng: np.random.Generator) -> tuple[list[Instance], list[str]]:
    """24 h windows of the real traces that can be loaded here, and notes on the ones that
    could not."""
    try:
        from hedgeserve.traces.catalog import load_trace
    except ImportError:
        return [], ["hedgeserve.traces.catalog.load_trace not available: real traces skipped"]
    out: list[Instance] = []
    notes: list[str] = []
    # AWS3's artifact copy says 300 s; the probes really ran every 195 s (PROVENANCE.md).
    for ref, kwargs in (
        ("gcp-h100", {}),
        ("AWS1", {}),
        ("AWS2", {}),
        ("AWS3", {"gap_s": 195.0}),
        ("GCP1", {}),
    ):
        try:
            trace = load_trace(ref, **kwargs)
        except InputError as err:
            notes.append(f"{ref}: {err.one_line()}")
            continue
        ticks = min(round(DAY_S / trace.gap_s), trace.n_ticks)
        for _ in range(windows):
            w = trace.window(int(rng.integers(0, trace.n_ticks)), ticks)
            out.append(
                Instance(
                    f"{ref} (real)",
                    "real",
                    w.gap_s,
                    w.capacity,
                    1.0 if w.spot_price is None else w.spot_price,
                    3.0 if w.on_demand_price is None else w.on_demand_price,
                )
            )
    return out, notes


VARIANTS: dict[str, dict[str, Any]] = {
    "native": {},
    "a=99%": {"availability_target": 0.99, "time_limit_s": 30.0},
    "grid30": {"grid_s": 30.0, "max_ticks": 720},
}


def solve(inst: Instance, variant: dict[str, Any]) -> dict[str, Any]:
    kwargs = dict(variant)
    grid = kwargs.pop("grid_s", None)
    if grid is not None:
        kwargs["subdivide"] = max(1, round(inst.gap_s / grid))
    t0 = time.perf_counter()
    plan = solve_optimal(
        inst.capacity,
        gap_s=inst.gap_s,
        spot_price=inst.spot_price,
        on_demand_price=inst.on_demand_price,
        target=TARGET,
        cold_start_s=COLD_START_S,
        **kwargs,
    )
    seconds = time.perf_counter() - t0
    hours = inst.capacity.shape[1] * inst.gap_s / 3600
    reference = TARGET * float(np.min(inst.on_demand_price)) * hours
    return {
        "zones": int(inst.capacity.shape[0]),
        "plan_ticks": plan.n_ticks,
        "plan_gap_s": plan.gap_s,
        "int_vars": (inst.capacity.shape[0] + 1) * plan.n_ticks,
        "solve_s": seconds,
        "status": plan.status,
        "cost_pct_on_demand": 100 * plan.cost_usd / reference,
        "mip_gap_pct": 100 * plan.mip_gap,
        "availability_pct": 100 * plan.availability,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--windows", type=int, default=3, help="24 h windows per trace")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, default=Path("out/optimal_solve.json"))
    ap.add_argument("--uncapped", action="store_true", help="also the 30 s grid, no aggregation")
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    variants = dict(VARIANTS)
    if args.uncapped:
        variants["grid30-full"] = {"grid_s": 30.0}

    instances = []
    for name, zones, gap, top in (
        ("AWS1-like", 3, 300.0, 4),
        ("AWS3-like", 9, 195.0, UNLIMITED),
        ("GCP1-like", 6, 150.0, 4),
        ("H100-like", 13, 600.0, 16),
    ):
        instances += [synthetic(name, zones, gap, top, rng) for _ in range(args.windows)]
    real, notes = real_instances(args.windows, rng)
    instances += real

    solve(instances[0], {})  # warm-up: SciPy import and first HiGHS call
    console = Console(width=max(Console().width, 120))
    rows: list[dict[str, Any]] = []
    with console.status("solving") as status:
        for i, inst in enumerate(instances):
            for vname, variant in variants.items():
                status.update(f"{inst.name} {vname} ({i + 1}/{len(instances)})")
                rows.append(
                    {
                        "trace": inst.name,
                        "source": inst.source,
                        "variant": vname,
                        "window": i,
                        "gap_s": inst.gap_s,
                        **solve(inst, variant),
                    }
                )

    table = Table(
        title=f"Optimal ILP, 24 h windows, N_tar={TARGET}, cold start "
        f"{COLD_START_S:.0f} s ({args.windows} windows each)"
    )
    for col in (
        "trace",
        "variant",
        "zones",
        "ticks",
        "solve s med",
        "solve s max",
        "cost % OD",
        "gap %",
        "avail %",
        "status",
    ):
        table.add_column(col, justify="left" if col in ("trace", "variant", "status") else "right")
    summary = []
    for key in dict.fromkeys((r["trace"], r["variant"]) for r in rows):
        group = [r for r in rows if (r["trace"], r["variant"]) == key]
        times = [r["solve_s"] for r in group]
        statuses = [r["status"] for r in group]
        entry = {
            "trace": key[0],
            "variant": key[1],
            "zones": group[0]["zones"],
            "plan_ticks": group[0]["plan_ticks"],
            "int_vars": group[0]["int_vars"],
            "solve_s_median": statistics.median(times),
            "solve_s_max": max(times),
            "cost_pct_on_demand_mean": statistics.mean(r["cost_pct_on_demand"] for r in group),
            "mip_gap_pct_max": max(r["mip_gap_pct"] for r in group),
            "availability_pct_min": min(r["availability_pct"] for r in group),
            "statuses": {s: statuses.count(s) for s in sorted(set(statuses))},
        }
        summary.append(entry)
        table.add_row(
            key[0],
            key[1],
            str(entry["zones"]),
            str(entry["plan_ticks"]),
            f"{entry['solve_s_median']:.2f}",
            f"{entry['solve_s_max']:.2f}",
            f"{entry['cost_pct_on_demand_mean']:.1f}",
            f"{entry['mip_gap_pct_max']:.3f}",
            f"{entry['availability_pct_min']:.1f}",
            " ".join(f"{s} x{n}" for s, n in entry["statuses"].items()),
        )
    console.print(table)
    for note in notes:
        console.print(f"[yellow]skipped[/yellow] {note}")
    worst = max(r["solve_s"] for r in rows)
    console.print(f"slowest solve: {worst:.2f} s over {len(rows)} solves")

    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps(
            {
                "params": {
                    "windows": args.windows,
                    "seed": args.seed,
                    "target": TARGET,
                    "cold_start_s": COLD_START_S,
                    "variants": variants,
                },
                "machine": {
                    "python": platform.python_version(),
                    "scipy": scipy.__version__,
                    "numpy": np.__version__,
                    "cpus": os.cpu_count(),
                    "platform": platform.platform(),
                },
                "summary": summary,
                "rows": rows,
                "skipped": notes,
            },
            indent=2,
        )
    )
    console.print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
