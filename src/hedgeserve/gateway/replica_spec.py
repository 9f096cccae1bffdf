"""The replica set as the controller describes it, validated once at the edge.

Wire format (admin `PUT /replicas`, pull-mode responses, `--replica` flags):

    {"replicas": [{"id": 3, "url": "http://10.0.0.5:8080", "weight": 2.0,
                   "draining": false, "suspect": null}, ...]}

A bare JSON list of entries is accepted too. `id` is an int or a string, unique in the set;
`url` is an absolute http(s) URL (a path prefix is kept, query and fragment are not allowed),
unique as well; `weight` is the replica's relative capacity (> 0, default 1) used by
`instance_aware`; `draining` stops new requests while in-flight ones finish; `suspect` is
usually left out (null): the gateway keeps its own judgment, `false` tells it the replica is
healthy again, `true` stops traffic until a probe passes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError
from yarl import URL

from hedgeserve.errors import InputError

ReplicaKey = int | str


@dataclass(frozen=True, slots=True)
class ReplicaSpec:
    id: ReplicaKey
    url: str  # normalised: no trailing slash, so url + request path is the upstream URL
    weight: float = 1.0
    draining: bool = False
    suspect: bool | None = None


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: StrictInt | StrictStr
    url: StrictStr
    weight: float = Field(default=1.0, gt=0, allow_inf_nan=False)
    draining: StrictBool = False
    suspect: StrictBool | None = None


class _ReplicaSet(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    replicas: list[_Entry]


def normalise_url(url: str, *, where: str) -> str:
    """Check a replica URL and drop its trailing slash; InputError if it cannot be proxied to."""
    try:
        parsed = URL(url)
    except (ValueError, TypeError) as err:
        raise InputError(f"replica URL {url!r} does not parse: {err}", where=where) from err
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise InputError(
            f"replica URL {url!r} is not an absolute http(s) URL",
            where=where,
            fix="write it like http://127.0.0.1:8080",
        )
    if parsed.query_string or parsed.fragment:
        raise InputError(f"replica URL {url!r} has a query or fragment", where=where)
    return str(parsed).rstrip("/")


def parse_replica_set(payload: object, *, where: str) -> tuple[ReplicaSpec, ...]:
    """Validate a replica-set document (object with "replicas" or a bare list)."""
    if isinstance(payload, list):
        payload = {"replicas": payload}
    try:
        doc = _ReplicaSet.model_validate(payload)
    except ValidationError as err:
        first = err.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise InputError(
            f"bad replica set at {loc or 'top level'}: {first['msg']}",
            where=where,
            fix='send {"replicas": [{"id": 1, "url": "http://127.0.0.1:8080"}]}',
        ) from err
    specs = tuple(
        ReplicaSpec(
            id=e.id,
            url=normalise_url(e.url, where=f"{where}: replica {e.id!r}"),
            weight=e.weight,
            draining=e.draining,
            suspect=e.suspect,
        )
        for e in doc.replicas
    )
    _check_unique(specs, where=where)
    return specs


def specs_from_urls(urls: Sequence[str], *, where: str) -> tuple[ReplicaSpec, ...]:
    """Replicas given as plain URLs (`--replica`): ids are their positions 0, 1, ..."""
    specs = tuple(ReplicaSpec(id=i, url=normalise_url(u, where=where)) for i, u in enumerate(urls))
    _check_unique(specs, where=where)
    return specs


def _check_unique(specs: tuple[ReplicaSpec, ...], *, where: str) -> None:
    ids = [s.id for s in specs]
    urls = [s.url for s in specs]
    for name, values in (("id", ids), ("url", urls)):
        seen: set[object] = set()
        for v in values:
            if v in seen:
                raise InputError(f"replica {name} {v!r} appears twice", where=where)
            seen.add(v)
