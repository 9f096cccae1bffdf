"""The price catalog: its numbers match the shipped source files, and it fills only gaps."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest

from hedgeserve.core.zones import ZoneId
from hedgeserve.errors import InputError
from hedgeserve.traces.model import Trace
from hedgeserve.traces.prices import attach_catalog_prices, load_price_catalog


def test_h100_prices_are_the_shipped_a3_highgpu_8g_prices_divided_by_8() -> None:
    entry = load_price_catalog()["a3-highgpu-1g"]
    folder = files("hedgeserve").joinpath("data/traces/gcp-h100/gcp-prices")
    sources = [json.loads(f.read_text()) for f in folder.iterdir() if f.name.endswith(".json")]
    assert {s["region"] for s in sources} == set(entry.regions)
    for s in sources:
        assert s["machine_type"] == "a3-highgpu-8g" and s["fetched_at"].startswith(entry.fetched)
        price = entry.regions[s["region"]]
        assert price.spot_per_hour == pytest.approx(s["price"] / 8, abs=5e-7)
        assert price.on_demand_per_hour == pytest.approx(s["on_demand_price"] / 8, abs=5e-7)


def test_every_entry_names_its_source_and_date() -> None:
    for entry in load_price_catalog().values():
        assert entry.source and len(entry.fetched) == 10  # YYYY-MM-DD


def _trace(zones: tuple[str, ...], instance: str | None, spot: bool = False) -> Trace:
    capacity = np.ones((len(zones), 3), dtype=np.int64)
    return Trace(name="t", zones=tuple(ZoneId(z) for z in zones), gap_s=60, capacity=capacity,
                 spot_price=np.full(capacity.shape, 0.5) if spot else None, instance=instance)


def test_attach_fills_constant_spot_and_on_demand_per_zone() -> None:
    t = attach_catalog_prices(_trace(("gcp/us-east4/us-east4-a", "gcp/us-west1/us-west1-b"),
                                     "a3-highgpu-1g"))
    assert t.on_demand_price is not None and t.spot_price is not None
    assert t.on_demand_price.tolist() == [10.31568, 10.315679]
    assert t.spot_price.tolist() == [[1.85668] * 3, [2.372376] * 3]


def test_attach_keeps_prices_the_trace_already_has() -> None:
    t = attach_catalog_prices(_trace(("aws/us-east-1/us-east-1a",), "p3.2xlarge", spot=True))
    assert t.spot_price is not None and t.spot_price.tolist() == [[0.5, 0.5, 0.5]]
    assert t.on_demand_price is not None and t.on_demand_price.tolist() == [3.06]


@pytest.mark.parametrize(
    ("zones", "instance", "message"),
    [(("aws/eu-west-1/eu-west-1a",), "p3.2xlarge", "no p3.2xlarge price for region eu-west-1"),
     (("aws/us-east-1/us-east-1a",), "p9.huge", "no catalog prices for instance type 'p9.huge'"),
     (("aws/us-east-1/us-east-1a",), None, "no catalog prices for instance type None")],
    ids=["region", "instance", "no-instance"],
)
def test_attach_without_a_catalog_entry_is_an_input_error(
    zones: tuple[str, ...], instance: str | None, message: str
) -> None:
    with pytest.raises(InputError, match=message):
        attach_catalog_prices(_trace(zones, instance))


@pytest.mark.parametrize(
    ("text", "message"),
    [("x: [1, 2", "not valid YAML"),
     ("- a\n- b\n", "must map instance types"),
     ("p3.2xlarge: {cloud: aws}\n", "malformed entry"),
     ("p3.2xlarge: {cloud: aws, fetched: '2023-01-01', source: s, regions: {us-east-1: "
      "{on_demand: -1}}}\n", "must be positive")],
    ids=["yaml", "shape", "missing-keys", "negative"],
)
def test_a_bad_catalog_file_is_an_input_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "prices.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        load_price_catalog(path)
