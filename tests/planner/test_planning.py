"""Planning end to end in process: catalog + analytical model -> plan, report and spec."""

from __future__ import annotations

import pytest
import yaml

from hedgeserve.errors import InputError
from hedgeserve.planner.analytical import Assumptions, capacity_table
from hedgeserve.planner.buckets import BucketGrid
from hedgeserve.planner.capacity import CapacityCell, CapacityTable, Limit, Slo
from hedgeserve.planner.catalog import load_gpu_catalog
from hedgeserve.planner.models import load_model
from hedgeserve.planner.planning import PlanRequest, ReplicaType, make_plan, sweep_rates
from hedgeserve.planner.report import plan_document, routing_weights
from hedgeserve.planner.service_spec import service_spec
from hedgeserve.planner.workload import named_workload, workload_from_samples
from hedgeserve.spec import parse_spec

GRID = BucketGrid((100, 1000, 4000), (100, 500))
CATALOG = load_gpu_catalog()
MODEL = load_model("llama-2-7b")


def replica_types(names: list[str], slo: Slo) -> tuple[ReplicaType, ...]:
    types = []
    for name in names:
        gpu = CATALOG[name]
        offer = gpu.offers[0]
        table = capacity_table(gpu, MODEL, 1, GRID, slo, Assumptions())
        types.append(ReplicaType(name, gpu.accelerator,
                                 offer.on_demand_per_hour / offer.gpus_per_instance,
                                 offer.instance_type, table))
    return tuple(types)


def test_plan_document_has_the_issue_keys_and_consistent_numbers() -> None:
    slo = Slo(0.12)
    request = PlanRequest(named_workload("arena-like", GRID, 6.0), slo,
                          replica_types(["L4", "A10G", "A100-80GB", "H100"], slo), headroom=0.1)
    outcome = make_plan(request)
    doc = plan_document(outcome)
    for key in ("replicas", "cost_per_hour", "prices", "headroom", "load", "capacity", "split",
                "baselines"):
        assert key in doc
    replicas = doc["replicas"]
    prices = doc["prices"]
    assert isinstance(replicas, dict) and isinstance(prices, dict)
    assert doc["cost_per_hour"] == pytest.approx(sum(replicas[g] * prices[g] for g in replicas))
    baselines = doc["baselines"]
    assert isinstance(baselines, dict)
    assert all(b is None or doc["cost_per_hour"] <= b + 1e-6 for b in baselines.values())
    split = doc["split"]
    assert isinstance(split, dict)
    assert all(sum(shares.values()) == pytest.approx(1.0) for shares in split.values())


def test_routing_weights_are_req_per_s_per_replica() -> None:
    slo = Slo(0.12)
    request = PlanRequest(workload_from_samples(GRID, [(50, 50)] * 3 + [(3000, 400)], 8.0, "t"),
                          slo, replica_types(["L4", "A100-80GB"], slo), headroom=0.0)
    outcome = make_plan(request)
    served = outcome.mix.served_per_s(outcome.problem)
    weights = routing_weights(outcome)
    counts = outcome.mix.replicas
    per_replica = {t.gpu: s / n for t, s, n in zip(request.types, served, counts, strict=True)
                   if n}
    low = min(per_replica.values())
    assert weights == {g: pytest.approx(v / low, rel=1e-3) for g, v in per_replica.items()}


def test_unservable_bucket_names_the_bucket_and_the_closest_gpu() -> None:
    slo = Slo(0.030)  # 30 ms TPOT: L4 and A10G stream their weights too slowly
    request = PlanRequest(named_workload("arena-like", GRID, 4.0), slo,
                          replica_types(["L4", "A10G"], slo))
    with pytest.raises(InputError) as err:
        make_plan(request)
    text = err.value.one_line()
    # Every bucket misses (A10G: 13.48 GB / 450 GB/s + 2 ms = 32 ms > 30 ms); the message names
    # the one with the most requests and counts the rest.
    shares = request.workload.shares
    biggest = GRID.buckets[max(range(GRID.size), key=lambda b: shares[b])]
    assert f"bucket {biggest.name}" in text and "5 more bucket(s)" in text
    assert "closest is A10G" in text  # 600 GB/s beats L4's 300 GB/s
    assert "TPOT" in text


def test_closest_gpu_for_a_bucket_that_does_not_fit_in_memory() -> None:
    cell = CapacityCell(0.0, Limit.CONTEXT, float("inf"), float("inf"))
    tables = (CapacityTable("T4", 1, "analytical", (cell,)),)
    request = PlanRequest(workload_from_samples(BucketGrid((8000,), (100,)), [(5000, 50)], 1.0,
                                                "t"), Slo(0.1),
                          (ReplicaType("T4", "T4", 0.5, "x", tables[0]),))
    with pytest.raises(InputError, match="does not fit"):
        make_plan(request)


def test_spec_realises_the_plan_and_validates_against_the_spec_schema() -> None:
    slo = Slo(0.12)
    request = PlanRequest(named_workload("arena-like", GRID, 12.0), slo,
                          replica_types(["L4", "A10G", "A100-80GB"], slo))
    outcome = make_plan(request)
    document = service_spec(outcome, MODEL, spot=True)
    text = yaml.safe_dump(document, sort_keys=False)
    spec = parse_spec(text, source="<plan>")
    planned = {t.accelerator: n
               for t, n in zip(request.types, outcome.mix.replicas, strict=True) if n}
    assert spec.planner.replicas == planned
    assert document["service"]["replica_policy"]["min_replicas"] == sum(planned.values())
    any_of = {a["accelerators"].split(":")[0] for a in document["resources"]["any_of"]}
    assert any_of == set(planned)


def test_spec_weights_give_back_the_plans_share_of_load() -> None:
    """`hedge check` shows weight × replicas normalised; `hedge plan` prints the same numbers
    as "share of load"."""
    slo = Slo(0.12)
    request = PlanRequest(named_workload("arena-like", GRID, 16.0), slo,
                          replica_types(["A10G", "A100-80GB"], slo))
    outcome = make_plan(request)
    assert outcome.mix.replicas == (5, 3)  # a real mix, or the test shows nothing
    spec = parse_spec(yaml.safe_dump(service_spec(outcome, MODEL, spot=False)), source="<plan>")
    served = outcome.mix.served_per_s(outcome.problem)
    shares = {t.accelerator: x / sum(served) for t, x in zip(request.types, served, strict=True)}
    assert spec.planner is not None
    assert dict(spec.planner.load_shares()) == pytest.approx(shares, abs=1e-3)


def test_sweep_costs_rise_with_rate() -> None:
    slo = Slo(0.12)
    request = PlanRequest(named_workload("arena-like", GRID, 1.0), slo,
                          replica_types(["A10G", "A100-80GB"], slo))
    points = sweep_rates(request, [1, 4, 16])
    costs = [p.mix_cost_per_hour for p in points]
    assert costs == sorted(costs)
    for p in points:
        feasible = [c for c in p.baseline_cost_per_hour.values() if c is not None]
        assert all(p.mix_cost_per_hour <= c + 1e-6 for c in feasible)
