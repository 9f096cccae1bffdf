"""Simulator speed.

    python benchmarks/sim_speed.py [--json benchmarks/results/sim_speed.json]

Two cases from the decision-core issue, each timed in this process (best of --rounds):
  A. 24 h × 10 repeats × 4 policies (spothedge, even_spread, round_robin, on_demand) on AWS3
     (SkyServe paper trace, read from ../shared/data; skipped if absent)   — goal < 10 s
  B. 14 days × 13 zones (bundled GCP H100 trace) × 1 M requests, SpotHedge — goal < 60 s
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from hedgeserve.errors import InputError
from hedgeserve.sim.experiment import Experiment, run_experiment
from hedgeserve.sim.workload import Poisson, ServiceModel
from hedgeserve.traces.catalog import load_trace


def case_a() -> tuple[float, str]:
    trace = load_trace("AWS3")
    exp = Experiment(policies=("spothedge", "even_spread", "round_robin", "on_demand"), repeats=10)
    start = time.perf_counter()
    result = run_experiment(trace, exp)
    return (
        time.perf_counter() - start,
        f"{len(result.runs)} runs, {sum(r.requests for r in result.runs)} requests",
    )


def case_b() -> tuple[float, str]:
    trace = load_trace("gcp-h100")
    hours = 14 * 24
    exp = Experiment(
        policies=("spothedge",),
        hours=hours,
        repeats=1,
        workload=Poisson(1_000_000 / (hours * 3600)),
        service=ServiceModel(mean_s=2.0),
    )
    start = time.perf_counter()
    result = run_experiment(trace, exp)
    run = result.runs[0]
    return (
        time.perf_counter() - start,
        f"{run.requests} requests, availability {run.availability:.2f} %",
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/sim_speed.json"))
    args = parser.parse_args()
    rows = []
    for name, goal, case in (
        ("A: AWS3 24 h × 10 repeats × 4 policies", 10.0, case_a),
        ("B: H100 14 d × 13 zones × 1 M requests", 60.0, case_b),
    ):
        try:
            times, detail = [], ""
            for _ in range(args.rounds):
                seconds, detail = case()
                times.append(seconds)
        except InputError as err:
            print(f"{name}: skipped ({err.one_line()})")
            continue
        rows.append(
            {
                "case": name,
                "best_s": min(times),
                "median_s": sorted(times)[len(times) // 2],
                "goal_s": goal,
                "detail": detail,
            }
        )
    print(f"{'case':42s} {'best s':>8s} {'median s':>9s} {'goal s':>7s}  detail")
    for r in rows:
        times = f"{r['best_s']:8.2f} {r['median_s']:9.2f} {r['goal_s']:7.0f}"
        print(f"{r['case']:42s} {times}  {r['detail']}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"rows": rows}, indent=2) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
