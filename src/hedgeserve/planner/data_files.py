"""Reading the planner's YAML data files: the packaged ones and the user's replacements.

Packaged files live in `hedgeserve/data/planner/`. A user file that is missing, not text or not
YAML raises a one-line `InputError` naming the path (and line, via the spec's YAML reader, which
also refuses duplicate keys); schema checks belong to the callers (pydantic models).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from hedgeserve.errors import InputError
from hedgeserve.spec.yaml_source import parse_yaml


def read_yaml(path: Path | None, packaged: str) -> tuple[object, str]:
    """Parse `path`, or the packaged file `packaged` when `path` is None; returns (data, where)."""
    if path is None:
        ref = resources.files("hedgeserve").joinpath("data", "planner", packaged)
        where = f"hedgeserve/data/planner/{packaged}"
        return yaml.safe_load(ref.read_text(encoding="utf-8")), where
    if not path.is_file():
        raise InputError("no such file", where=str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError("not a text file (expected YAML in UTF-8)", where=str(path)) from None
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror}", where=str(path)) from None
    data, _lines = parse_yaml(text, source=str(path))
    return data, str(path)


def first_error(err: ValidationError) -> str:
    """The first pydantic error as 'field.path: message', for one-line CLI errors."""
    first = err.errors()[0]
    return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
