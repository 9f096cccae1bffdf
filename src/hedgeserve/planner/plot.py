"""Cost against request rate for the mix and each single GPU type (like Mélange's figures).

Matplotlib is imported inside `plot_cost_vs_rate` and `plot_formats` (Agg backend, no display)
so the rest of the planner stays light. Infeasible single-type points are left out of their
line. The file's suffix picks the format; `plot_formats` lists the ones matplotlib writes, so a
bad suffix is refused before any planning.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from hedgeserve.planner.planning import SweepPoint


def plot_formats() -> frozenset[str]:
    """File suffixes (without the dot) matplotlib can write: png, pdf, svg, ..."""
    from matplotlib.backend_bases import FigureCanvasBase

    return frozenset(FigureCanvasBase.get_supported_filetypes())


def plot_cost_vs_rate(points: Sequence[SweepPoint], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rates = [p.rate_per_s for p in points]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    gpus = list(points[0].baseline_cost_per_hour) if points else []
    for gpu in gpus:
        xy = [(p.rate_per_s, cost) for p in points
              if (cost := p.baseline_cost_per_hour[gpu]) is not None]
        if xy:
            ax.plot([x for x, _ in xy], [y for _, y in xy], marker="o", linewidth=1.2,
                    label=f"{gpu} only")
    ax.plot(rates, [p.mix_cost_per_hour for p in points], marker="s", linewidth=2.4,
            color="purple", label="mix (planner)")
    ax.set_xscale("log", base=2)
    ax.set_xticks(rates, [f"{r:g}" for r in rates])
    ax.set_xlabel("request rate (req/s)")
    ax.set_ylabel("cost ($/h)")
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
