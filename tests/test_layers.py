"""Imports point downward only: a layer may import from lower ranks and from itself.

core (0) <- traces (1), spec (1) <- sim (2), control (2) <- providers, gateway, engine,
planner (3) <- cli (4). `errors` is shared by every layer. Third-party imports are not checked
here, except that `core` stays free of I/O frameworks.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "hedgeserve"

RANK = {
    "errors": -1,
    "core": 0,
    "traces": 1,
    "spec": 1,
    "sim": 2,
    "control": 2,
    "providers": 3,
    "gateway": 3,
    "engine": 3,
    "planner": 3,
    "cli": 4,
    "__main__": 5,
    "__init__": -1,
}

CORE_FORBIDDEN = {"aiohttp", "asyncio", "sqlite3", "subprocess", "socket", "time", "logging",
                  "requests", "httpx", "os", "pathlib"}


def _layer(module_path: Path) -> str:
    rel = module_path.relative_to(SRC)
    return rel.parts[0].removesuffix(".py")


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def test_every_package_has_a_rank() -> None:
    for path in SRC.iterdir():
        if path.name.startswith((".", "_")) and path.name not in ("__init__.py", "__main__.py"):
            continue
        if path.is_dir() and not (path / "__init__.py").exists():
            continue
        if path.suffix not in (".py", "") or path.name == "data":
            continue
        assert _layer(path) in RANK, f"{path.name} has no layer rank in tests/test_layers.py"


def test_imports_point_downward() -> None:
    bad = []
    for path in SRC.rglob("*.py"):
        layer = _layer(path)
        for name in _imports(path):
            if not name.startswith("hedgeserve."):
                continue
            target = name.split(".")[1]
            if target == layer or RANK.get(target, 99) < RANK[layer]:
                continue
            bad.append(f"{path.relative_to(SRC)} imports {name}")
    assert not bad, "upward or sideways imports:\n" + "\n".join(bad)


def test_core_does_no_io() -> None:
    bad = []
    for path in (SRC / "core").rglob("*.py"):
        for name in _imports(path):
            if name.split(".")[0] in CORE_FORBIDDEN:
                bad.append(f"core/{path.name} imports {name}")
    assert not bad, "\n".join(bad)
