"""Fixtures of the end-to-end tests: a private HEDGE_HOME, cleaned up even when a test fails."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.e2e.harness import hedge, service_processes


@pytest.fixture
def hedge_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "home"
    monkeypatch.setenv("HEDGE_HOME", str(home))
    yield home
    # Whatever happened in the test, leave no process behind.
    for folder in home.iterdir() if home.is_dir() else []:
        if (folder / "state.db").exists() and service_processes(folder.name):
            hedge("down", folder.name, check=False, timeout=120)
