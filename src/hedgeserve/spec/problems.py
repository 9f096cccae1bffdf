"""Turn pydantic's `ValidationError` into `Problem`s: one line each, naming the field path, the
bad value and the fix.

How a fix is found, in order: the fix a rule raised with (`rule_error`); for an unknown key, a
"did you mean", the section where that key belongs, or why a SkyPilot key is not supported; for
a missing key or a wrong type, the field's description ("set max_replicas to an integer ≥ 0").
Invariant: every problem has a non-empty fix; nothing here names a Python class.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from hedgeserve.spec.probe import SKYSERVE_PROBE_ALIASES
from hedgeserve.spec.strict_model import RULE_ERROR_TYPE

Loc = tuple[str | int, ...]

# SkyPilot task keys with no equivalent here: say why, rather than just "unknown key".
UNSUPPORTED_KEYS: dict[str, tuple[str, str]] = {
    "file_mounts": (
        "hedgeserve does not copy files to replicas",
        "fetch files in setup:, or remove file_mounts",
    ),
    "job_recovery": (
        "preempted replicas are replaced by the service itself (SkyServe rejects this key too)",
        "remove job_recovery",
    ),
    "spot_recovery": (
        "preempted replicas are replaced by the service itself",
        "remove spot_recovery",
    ),
    "pool": ("job pools are not supported; hedgeserve serves models", "remove pool"),
    "workers": ("job pools are not supported; hedgeserve serves models", "remove workers"),
    "autostop": ("service replicas must not stop themselves", "remove autostop"),
    "volumes": ("volumes are not supported", "remove volumes"),
    "accelerator_args": (
        "accelerator_args (TPU options) are not supported",
        "remove accelerator_args",
    ),
}

_TYPE_PHRASES = {
    "model_type": "expected a mapping (key: value lines)",
    "model_attributes_type": "expected a mapping (key: value lines)",
    "dict_type": "expected a mapping (key: value lines)",
    "tuple_type": "expected a list",
    "list_type": "expected a list",
    "string_type": "expected text",
    "int_type": "expected a whole number",
    "float_type": "expected a number",
    "bool_type": "expected true or false",
    "finite_number": "expected a finite number",
}
_BOUND_PHRASES = {
    "greater_than_equal": "must be ≥ {ge}",
    "greater_than": "must be > {gt}",
    "less_than_equal": "must be ≤ {le}",
    "less_than": "must be < {lt}",
}


@dataclass(frozen=True, slots=True)
class Problem:
    loc: Loc  # key path from the document root
    what: str
    fix: str
    line: int | None = None
    is_missing_key: bool = False  # "you forgot X" sorts after "X is wrong" on the same line

    @property
    def field(self) -> str:
        """`service.replica_policy.max_replicas`, `resources.any_of[1].region`."""
        out = ""
        for part in self.loc:
            text = _printable(str(part))
            out += f"[{part}]" if isinstance(part, int) else (f".{text}" if out else text)
        return out or "(top level)"

    def where(self, source: str) -> str:
        at = f"{source}:{self.line}" if self.line is not None else source
        return f"{at}: {self.field}" if self.loc else at


def problems_from(
    err: ValidationError, root: type[BaseModel], lines: Mapping[Loc, int]
) -> list[Problem]:
    """One `Problem` per pydantic error, ordered by line (then as pydantic reported them).

    A misspelt required key shows up twice (unknown 'min_replica', missing 'min_replicas');
    only the unknown key is kept, since its "did you mean" is the whole story.
    """
    errors = err.errors(include_url=False)
    misspelt = {
        tuple(e["loc"][:-1]) + (close,)
        for e in errors
        if e["type"] == "extra_forbidden"
        for close in _close_keys(str(e["loc"][-1]), tuple(e["loc"][:-1]), root)
    }
    found = [
        _problem(e, root)
        for e in errors
        if not (e["type"] == "missing" and tuple(e["loc"]) in misspelt)
    ]
    placed = [
        Problem(
            p.loc, _printable(p.what), _printable(p.fix), _line_of(p.loc, lines), p.is_missing_key
        )
        for p in found
    ]
    return sorted(placed, key=lambda p: (1 << 30 if p.line is None else p.line, p.is_missing_key))


def _problem(error: Any, root: type[BaseModel]) -> Problem:
    loc: Loc = tuple(error["loc"])
    kind: str = error["type"]
    ctx: dict[str, Any] = error.get("ctx") or {}
    value = error.get("input")
    key = str(loc[-1]) if loc else ""
    if kind == RULE_ERROR_TYPE:
        extra = tuple(int(p) if p.isdigit() else p for p in ctx["field"].split(".") if p)
        return Problem(loc + extra, ctx["what"], ctx["fix"])
    if kind == "extra_forbidden":
        return Problem(loc, f"unknown key {key!r}", _unknown_key_fix(key, loc[:-1], root))
    if kind == "missing":
        described = _description(root, loc)
        expects = described[1] if described else "a value"
        return Problem(
            loc, f"required key {key!r} is missing", f"add {key}: <{expects}>", is_missing_key=True
        )
    if kind in ("enum", "literal_error"):
        choices = re.findall(r"'([^']*)'", ctx.get("expected", ""))
        label = f"{loc[-2]} {key}" if key == "name" and len(loc) > 1 else key
        return Problem(loc, f"{value!r} is not a valid {label}", _choice_fix(str(value), choices))
    bounds = {k: f"{v:g}" if isinstance(v, int | float) else v for k, v in ctx.items()}
    phrase = _TYPE_PHRASES.get(kind) or _BOUND_PHRASES.get(kind, "").format(**bounds)
    what = f"{phrase or error['msg']}, got {_show(value)}"
    described = _description(root, loc)
    fix = f"set {described[0]} to {described[1]}" if described else _generic_fix(kind)
    return Problem(loc, what, fix)


def _printable(text: str) -> str:
    """Keys and values may hold line breaks or control characters; a problem is one line."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _line_of(loc: Loc, lines: Mapping[Loc, int]) -> int | None:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _generic_fix(kind: str) -> str:
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return "write this section as indented key: value lines"
    if kind in ("list_type", "tuple_type"):
        return "write a list: one '- item' per line, or [a, b]"
    return "see docs/spec.md for this key"


def _choice_fix(value: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(value.lower(), choices, n=1, cutoff=0.5)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"{hint}use one of: {', '.join(choices)}"


def _unknown_key_fix(key: str, parent: Loc, root: type[BaseModel]) -> str:
    if key in UNSUPPORTED_KEYS:
        why, fix = UNSUPPORTED_KEYS[key]
        return f"{fix} ({why})"
    close = _close_keys(key, parent, root)
    if close:
        return f"did you mean {close[0]!r}?"
    elsewhere = [path for path in _paths_of_key(root, key) if path[:-1] != parent]
    if elsewhere:
        return f"move it: {key} belongs at {'.'.join(map(str, elsewhere[0]))}"
    known = _known_keys(root, parent)
    return f"remove it; keys allowed here: {', '.join(known)}" if known else "remove it"


def _known_keys(root: type[BaseModel], parent: Loc) -> list[str]:
    model = _model_at(root, parent)
    if model is None:
        return []
    known = sorted(model.model_fields)
    if model.__name__ == "ReadinessProbeConfig":
        known += sorted(SKYSERVE_PROBE_ALIASES)
    return known


def _close_keys(key: str, parent: Loc, root: type[BaseModel]) -> list[str]:
    return difflib.get_close_matches(key, _known_keys(root, parent), n=1, cutoff=0.6)


# --- walking the model tree ------------------------------------------------------------------


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        return
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated or origin in (typing.Union, types.UnionType, tuple, list, dict):
        for arg in typing.get_args(annotation):
            yield from _models_in(arg)


def _model_at(root: type[BaseModel], loc: Loc) -> type[BaseModel] | None:
    model: type[BaseModel] | None = root
    for part in loc:
        if isinstance(part, int):
            continue  # a list index: the item has the list's model type
        if model is None or part not in model.model_fields:
            return None
        model = next(_models_in(model.model_fields[part].annotation), None)
    return model


def _field_at(root: type[BaseModel], loc: Loc) -> tuple[str, FieldInfo] | None:
    """The innermost model field on `loc` (a dict key or list index resolves to its field)."""
    for idx in range(len(loc) - 1, -1, -1):
        part = loc[idx]
        if isinstance(part, int):
            continue
        parent = _model_at(root, loc[:idx])
        if parent is not None and part in parent.model_fields:
            return part, parent.model_fields[part]
    return None


def _description(root: type[BaseModel], loc: Loc) -> tuple[str, str] | None:
    """(field name, what it expects) for the field at `loc`, when it says."""
    found = _field_at(root, loc)
    if found is None:
        return None
    name, info = found
    text = info.description or _nested_description(info.annotation)
    return (name, text) if text else None


def _nested_description(annotation: Any) -> str | None:
    """Descriptions of `Seconds | None`-style fields live on the Annotated alias inside."""
    for arg in typing.get_args(annotation):
        for meta in getattr(arg, "__metadata__", ()):
            if isinstance(meta, FieldInfo) and meta.description:
                return meta.description
        found = _nested_description(arg)
        if found:
            return found
    return None


def _paths_of_key(root: type[BaseModel], key: str, prefix: Loc = (), depth: int = 0) -> list[Loc]:
    if depth > 4:
        return []
    found: list[Loc] = []
    for name, info in root.model_fields.items():
        if name == key:
            found.append(prefix + (name,))
        for sub in _models_in(info.annotation):
            found += _paths_of_key(sub, key, prefix + (name,), depth + 1)
    return found
