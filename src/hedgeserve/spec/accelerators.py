"""`resources.accelerators`: which GPU shapes a replica may use.

Accepted forms (SkyPilot's): `"H100:1"`, `"H100"` (one GPU), `{H100: 1}`, a set of acceptable
shapes `{L4: 1, A100: 1}` or `{L4, A100}` (YAML reads that as a map to null), or a list of any of
these. Invariant: the result is a tuple of distinct `Accelerator`s, any one of which suffices;
names keep the user's spelling and compare case-insensitively.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field

from hedgeserve.spec.strict_model import StrictModel, rule_error

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_FIX = 'write GPU[:count], e.g. "H100:1", or a map {H100: 1, A100: 1}'


class Accelerator(StrictModel):
    name: str = Field(description="a GPU type, e.g. H100")
    count: int = Field(description="GPUs per replica, an integer ≥ 1")

    def __str__(self) -> str:
        return f"{self.name}:{self.count}"

    def is_named(self, name: str) -> bool:
        return self.name.lower() == name.lower()


def parse_accelerators(value: Any) -> tuple[Accelerator, ...]:
    """Normalize any accepted form; raises a `rule_error` naming the bad entry."""
    items: list[Accelerator] = []
    for entry in value if isinstance(value, list) else [value]:
        if isinstance(entry, str):
            items.append(_from_text(entry))
        elif isinstance(entry, dict) and entry:
            items += [_checked(str(name), count) for name, count in entry.items()]
        else:
            raise rule_error(f"{entry!r} is not an accelerator", fix=_FIX)
    seen: set[str] = set()
    for acc in items:
        if acc.name.lower() in seen:
            raise rule_error(f"accelerator {acc.name} is listed twice", fix="list each GPU once")
        seen.add(acc.name.lower())
    return tuple(items)


def _from_text(text: str) -> Accelerator:
    name, sep, count = text.strip().partition(":")
    if not sep:
        return _checked(name, None)
    try:
        number: Any = int(count)
    except ValueError:
        number = count
    return _checked(name, number)


def _checked(name: str, count: Any) -> Accelerator:
    if not _NAME.match(name):
        raise rule_error(f"{name!r} is not a GPU name", fix=_FIX)
    if count is None:
        count = 1
    if isinstance(count, float) and count.is_integer():
        count = int(count)
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise rule_error(
            f"GPU count {count!r} for {name} is not a whole number ≥ 1",
            fix=f'use e.g. "{name}:1" (fractional GPUs are not supported)',
        )
    return Accelerator(name=name, count=count)
