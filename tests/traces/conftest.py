"""Fixtures for the trace tests: the shared data folder (skip when absent) and file writers."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from hedgeserve.traces.catalog import find_shared_data


@pytest.fixture(scope="session")
def shared_traces() -> Path:
    """`<shared data>/traces`, found like `load_trace` finds it; skips the test when absent."""
    root = find_shared_data()
    if root is None:
        pytest.skip("shared data folder not found "
                    "(set HEDGE_SHARED_DATA or put it at ../shared/data)")
    return root / "traces"


ZoneJsonWriter = Callable[..., Path]


@pytest.fixture
def write_zone_json(tmp_path: Path) -> ZoneJsonWriter:
    """Write one per-zone JSON trace file; returns its path."""

    def write(name: str, data: list[int], *, gap: int = 60, prices: list[float] | None = None,
              folder: Path | None = None, **metadata: object) -> Path:
        target = folder or tmp_path
        target.mkdir(parents=True, exist_ok=True)
        doc: dict[str, object] = {"metadata": {"gap_seconds": gap, **metadata}, "data": data}
        if prices is not None:
            doc["prices"] = prices
        path = target / name
        path.write_text(json.dumps(doc))
        return path

    return write
