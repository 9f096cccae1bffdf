"""File paths inside a spec are relative to the spec file's folder, not to the caller's cwd.

`load_spec` passes that folder as validation context (`base_dir`); a path field's validator calls
`resolve_path`, so consumers always get absolute paths. Without a context (a spec built from a
dict in a test) paths are only `~`-expanded. Nothing here touches the file system.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationInfo

BASE_DIR_KEY = "base_dir"


def resolve_path(value: Any, info: ValidationInfo) -> Any:
    """For use in `mode="before"` validators: leaves non-strings to the type check."""
    if not isinstance(value, str) or not value.strip():
        return value
    path = Path(value).expanduser()
    base = info.context.get(BASE_DIR_KEY) if isinstance(info.context, dict) else None
    if not path.is_absolute() and isinstance(base, Path):
        path = base / path
    return str(path)
