"""Plots of a simulation: availability and cost per policy, and a per-zone timeline of ready
replicas against spot capacity. matplotlib is imported lazily (Agg backend, PNG output)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from hedgeserve.errors import InputError
from hedgeserve.sim.cloud import LogRow
from hedgeserve.sim.experiment import ExperimentResult


def zone_timeline(log: list[LogRow], n_zones: int) -> dict[str, np.ndarray]:
    """Step functions from an event log: times, capacity and ready replicas per zone."""
    times = sorted({row[0] for row in log})
    index = {t: i for i, t in enumerate(times)}
    capacity = np.zeros((n_zones, len(times)), dtype=np.int64)
    ready = np.zeros((n_zones, len(times)), dtype=np.int64)
    ready_ids: set[int] = set()
    cap_now = [0] * n_zones
    ready_now = [0] * n_zones
    rows_at: dict[int, list[LogRow]] = {}
    for row in log:
        rows_at.setdefault(index[row[0]], []).append(row)
    for i in range(len(times)):
        for _, event, zone, replica, _, cap in rows_at.get(i, []):
            if event == "capacity":
                cap_now[zone] = cap
            elif event == "ready":
                ready_ids.add(replica)
                ready_now[zone] += 1
            elif event in ("draining", "preempted", "terminated") and replica in ready_ids:
                ready_ids.discard(replica)
                ready_now[zone] -= 1
        capacity[:, i] = cap_now
        ready[:, i] = ready_now
    return {"t": np.asarray(times), "capacity": capacity, "ready": ready}


def plot_experiment(path: Path, result: ExperimentResult, *, timeline_policy: str | None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    means = result.means()
    window = result.windows[0].trace if result.windows else None
    log = result.logs.get((timeline_policy, 0)) if timeline_policy else None
    n_zones = len(window.zones) if window is not None and log is not None else 0
    fig = plt.figure(figsize=(11, 3.2 + 0.55 * n_zones), constrained_layout=True)
    grid = fig.add_gridspec(1 + n_zones, 2, height_ratios=[5] + [1] * n_zones)
    names = [str(m["policy"]) for m in means]
    colors = [_color(n) for n in names]
    for col, (key, label) in enumerate(
        [
            ("availability", "availability (% of time ≥ N_tar ready)"),
            ("cost_vs_on_demand", "cost (% of on-demand)"),
        ]
    ):
        ax = fig.add_subplot(grid[0, col])
        values = [float(m[key]) for m in means]
        bars = ax.bar(names, values, color=colors)
        ax.bar_label(bars, fmt="%.1f", fontsize=8)
        ax.set_ylabel(label)
        ax.set_ylim(0, 110)
        ax.tick_params(axis="x", labelrotation=20)
    fig.suptitle(
        f"{result.params.get('trace', '')}: {result.params.get('hours')} h × "
        f"{result.params.get('repeats')} repeats, N_tar={result.params.get('target')}"
    )
    if window is not None and log is not None:
        _timeline(
            fig,
            grid,
            window.zones,
            zone_timeline(log, n_zones),
            timeline_policy or "",
            int(result.params.get("target", 3)) + int(result.params.get("extra", 0)),
        )
    _save(fig, path)


def _timeline(
    fig: Any, grid: Any, zones: tuple[str, ...], tl: dict[str, np.ndarray], policy: str, clip: int
) -> None:
    hours = tl["t"] / 3600.0
    for z, zone in enumerate(zones):
        ax = fig.add_subplot(grid[1 + z, :])
        ax.step(
            hours,
            np.minimum(tl["capacity"][z], clip + 1),
            where="post",
            color="0.6",
            lw=1,
            label="spot capacity",
        )
        ax.step(
            hours,
            tl["ready"][z],
            where="post",
            color=_color(policy),
            lw=1.4,
            label=f"ready ({policy})",
        )
        ax.set_ylim(-0.3, clip + 1.5)
        ax.set_yticks([0, clip])
        ax.text(
            1.002, 0.5, zone.rsplit("/", 1)[-1], transform=ax.transAxes, fontsize=7, va="center"
        )
        if z == 0:
            ax.legend(loc="upper left", fontsize=7, ncol=2, frameon=False)
        if z < len(zones) - 1:
            ax.set_xticklabels([])
        else:
            ax.set_xlabel("hours (repeat 0)")


def plot_sweep(path: Path, parameter: str, results: list[tuple[float, ExperimentResult]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), constrained_layout=True)
    policies = list(dict.fromkeys(str(m["policy"]) for _, r in results for m in r.means()))
    for policy in policies:
        xs, avail, cost = [], [], []
        for value, res in results:
            m = next((m for m in res.means() if m["policy"] == policy), None)
            if m is not None:
                xs.append(value)
                avail.append(float(m["availability"]))
                cost.append(float(m["cost_vs_on_demand"]))
        axes[0].plot(xs, avail, marker="o", color=_color(policy), label=policy)
        axes[1].plot(xs, cost, marker="o", color=_color(policy), label=policy)
    axes[0].set_ylabel("availability (%)")
    axes[1].set_ylabel("cost (% of on-demand)")
    for ax in axes:
        ax.set_xlabel(parameter)
    axes[0].legend(fontsize=8)
    _save(fig, path)


def _save(fig: Any, path: Path) -> None:
    import matplotlib.pyplot as plt

    try:
        fig.savefig(path, dpi=110)
    except OSError as err:
        raise InputError(f"cannot write the plot ({err.strerror})", where=str(path)) from None
    finally:
        plt.close(fig)


def _color(policy: str) -> str:
    return {
        "spothedge": "#1f77b4",
        "even_spread": "#d62728",
        "round_robin": "#ff7f0e",
        "on_demand": "#7f7f7f",
        "optimal": "#2ca02c",
    }.get(policy, "#9467bd")
