"""`resources:` — what a replica needs and where it may run, and its resolved candidates.

SkyPilot's keys are accepted as-is: use_spot, accelerators, ports, infra or cloud/region/zone,
cpus, memory, disk_size, instance_type, image_id, and `any_of` / `ordered` lists whose entries
override the top-level keys. Invariants: every candidate agrees on `use_spot` (SkyServe's rule:
mixing comes from the fallback options, not from the resource list); `candidates()` always
returns at least one `ResourceCandidate`, in the user's order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import Field, field_validator, model_validator

from hedgeserve.spec.accelerators import Accelerator, parse_accelerators
from hedgeserve.spec.locations import Location, normalize_cloud, parse_infra
from hedgeserve.spec.strict_model import Flag, PositiveCount, StrictModel, rule_error

_LOCATION_KEYS = ("cloud", "region", "zone")


@dataclass(frozen=True, slots=True)
class ResourceCandidate:
    """One acceptable replica shape and place: the top-level keys merged with one any_of entry."""

    location: Location
    accelerators: tuple[Accelerator, ...]  # any one of these; empty means no GPU asked for
    use_spot: bool
    ports: tuple[int, ...]
    cpus: str | None
    memory: str | None
    disk_size_gb: int | None
    instance_type: str | None
    image_id: str | None


class ResourceFields(StrictModel):
    """The keys allowed both at the top of `resources:` and in each any_of/ordered entry."""

    use_spot: Flag | None = None
    accelerators: tuple[Accelerator, ...] | None = Field(
        default=None, description='a GPU spec like "H100:1", or a set/list of them'
    )
    ports: tuple[int, ...] | None = Field(
        default=None, description='a port, a range "8000-8010", or a list of them'
    )
    infra: Location | None = Field(
        default=None, description="cloud[/region[/zone]] with * wildcards, e.g. gcp/*/us-central1-a"
    )
    cloud: str | None = Field(default=None, description="a cloud name, e.g. aws")
    region: str | None = Field(default=None, description="a region name, e.g. us-east-1")
    zone: str | None = Field(default=None, description="a zone name, e.g. us-east-1a")
    cpus: str | None = Field(default=None, description='vCPUs, e.g. 4 or "4+"')
    memory: str | None = Field(default=None, description='memory in GB, e.g. 16 or "16+"')
    disk_size: PositiveCount | None = None
    instance_type: str | None = Field(default=None, description="a cloud instance type name")
    image_id: str | None = Field(default=None, description="a machine or container image id")

    @field_validator("accelerators", mode="before")
    @classmethod
    def _parse_accelerators(cls, value: Any) -> Any:
        return None if value is None else parse_accelerators(value)

    @field_validator("ports", mode="before")
    @classmethod
    def _parse_ports(cls, value: Any) -> Any:
        return None if value is None else parse_ports(value)

    @field_validator("infra", mode="before")
    @classmethod
    def _parse_infra(cls, value: Any) -> Any:
        return parse_infra(value) if isinstance(value, str) else value

    @field_validator("cloud", mode="before")
    @classmethod
    def _cloud_lower(cls, value: Any) -> Any:
        return normalize_cloud(value) if isinstance(value, str) else value

    @field_validator("cpus", "memory", mode="before")
    @classmethod
    def _number_as_text(cls, value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        return value

    @model_validator(mode="after")
    def _one_way_to_say_where(self) -> ResourceFields:
        given = [k for k in _LOCATION_KEYS if getattr(self, k) is not None]
        if self.infra is not None and given:
            raise rule_error(
                f"both infra and {'/'.join(given)} are set",
                fix="use only infra: cloud[/region[/zone]] (or only cloud/region/zone)",
                field=given[0],
            )
        return self

    @property
    def location(self) -> Location:
        if self.infra is not None:
            return self.infra
        return Location(cloud=self.cloud, region=self.region, zone=self.zone)


class ResourcesConfig(ResourceFields):
    any_of: tuple[ResourceFields, ...] | None = Field(
        default=None, description="a list of resource mappings, any of which will do"
    )
    ordered: tuple[ResourceFields, ...] | None = Field(
        default=None, description="a list of resource mappings, in order of preference"
    )

    @model_validator(mode="after")
    def _candidates_agree(self) -> ResourcesConfig:
        if self.any_of is not None and self.ordered is not None:
            raise rule_error(
                "both any_of and ordered are set",
                fix="use any_of (any will do) or ordered (first preferred), not both",
                field="ordered",
            )
        for key in ("any_of", "ordered"):
            entries = getattr(self, key)
            if entries is not None and not entries:
                raise rule_error(
                    f"{key} is an empty list", fix=f"list candidates or remove {key}", field=key
                )
        candidates = self.candidates()
        for i, cand in enumerate(candidates[1:], start=1):
            if cand.use_spot != candidates[0].use_spot:
                listed = "any_of" if self.any_of is not None else "ordered"
                raise rule_error(
                    "some resource candidates use spot and others do not",
                    fix="set the same use_spot everywhere; for a spot + on-demand mix use "
                    "service.replica_policy.base_ondemand_fallback_replicas or "
                    "dynamic_ondemand_fallback",
                    field=f"{listed}.{i}.use_spot",
                )
        return self

    @property
    def is_ordered(self) -> bool:
        return self.ordered is not None

    @property
    def is_spot(self) -> bool:
        """`use_spot` resolved over all candidates (they agree, see above)."""
        return self.candidates()[0].use_spot

    def candidates(self) -> tuple[ResourceCandidate, ...]:
        entries = self.any_of or self.ordered or (ResourceFields(),)
        return tuple(self._merge(entry) for entry in entries)

    def _merge(self, entry: ResourceFields) -> ResourceCandidate:
        def pick(key: str) -> Any:
            return getattr(entry if key in entry.model_fields_set else self, key)

        return ResourceCandidate(
            location=_merge_location(self.location, entry),
            accelerators=pick("accelerators") or (),
            use_spot=bool(pick("use_spot")),
            ports=pick("ports") or (),
            cpus=pick("cpus"),
            memory=pick("memory"),
            disk_size_gb=pick("disk_size"),
            instance_type=pick("instance_type"),
            image_id=pick("image_id"),
        )


def _merge_location(base: Location, entry: ResourceFields) -> Location:
    """An entry's infra replaces the location; its cloud/region/zone override one part each."""
    if entry.infra is not None:
        return entry.infra
    parts = {
        k: getattr(entry, k) if k in entry.model_fields_set else getattr(base, k)
        for k in _LOCATION_KEYS
    }
    return Location(**parts)


def parse_ports(value: Any) -> tuple[int, ...]:
    """`8000`, `"8000"`, `"8000-8002"` or a list of these -> sorted distinct ports."""
    ports: set[int] = set()
    for item in value if isinstance(value, list) else [value]:
        lo, hi = _port_range(item)
        ports.update(range(lo, hi + 1))
    if not ports:
        raise rule_error("ports is an empty list", fix="give at least one port, e.g. 8000")
    return tuple(sorted(ports))


def _port_range(item: Any) -> tuple[int, int]:
    fix = 'use a port 1–65535, a range like "8000-8010", or a list of them'
    if isinstance(item, int) and not isinstance(item, bool):
        lo = hi = item
    elif isinstance(item, str):
        first, _, last = item.strip().partition("-")
        try:
            lo = int(first)
            hi = int(last) if last else lo
        except ValueError:
            raise rule_error(f"{item!r} is not a port or port range", fix=fix) from None
    else:
        raise rule_error(f"{item!r} is not a port or port range", fix=fix)
    if not 1 <= lo <= hi <= 65535:
        raise rule_error(f"port {item!r} is outside 1–65535 or an empty range", fix=fix)
    return lo, hi
