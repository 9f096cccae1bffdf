"""Where a replica may run: `infra: cloud[/region[/zone]]` or SkyPilot's cloud/region/zone keys.

`*` is a wildcard at any level (`gcp/*/us-central1-a`). For Kubernetes (`k8s` or `kubernetes`)
the part after the first `/` is the context name, which may itself contain `/`.
Invariant: a `Location` holds lower-cased cloud names and `None` for "any"; `matches` compares
it with a hedgeserve zone id "cloud/region/zone".
"""

from __future__ import annotations

from pydantic import Field

from hedgeserve.spec.strict_model import StrictModel, rule_error

_CLOUD_ALIASES = {"k8s": "kubernetes"}
_CONTEXT_CLOUDS = frozenset({"kubernetes", "ssh"})


class Location(StrictModel):
    cloud: str | None = Field(default=None, description="a cloud name, e.g. aws, gcp, local")
    region: str | None = Field(default=None, description="a region name, e.g. us-east-1")
    zone: str | None = Field(default=None, description="a zone name, e.g. us-east-1a")

    @property
    def is_anywhere(self) -> bool:
        return self.cloud is None and self.region is None and self.zone is None

    def matches(self, zone_id: str) -> bool:
        """Whether the zone "cloud/region/zone" lies inside this location."""
        parts = zone_id.split("/")
        if len(parts) != 3:
            return False
        cloud, region, zone = parts
        return (
            (self.cloud is None or self.cloud == cloud.lower())
            and (self.region is None or self.region == region)
            and (self.zone is None or self.zone == zone)
        )

    def __str__(self) -> str:
        parts = [self.cloud or "*", self.region or "*", self.zone or "*"]
        while len(parts) > 1 and parts[-1] == "*":
            parts.pop()
        return "/".join(parts)


def normalize_cloud(name: str) -> str:
    cloud = name.strip().lower()
    return _CLOUD_ALIASES.get(cloud, cloud)


def parse_infra(text: str) -> Location:
    """`"gcp/*/us-central1-a"` -> Location("gcp", None, "us-central1-a")."""
    cloud_text, _, rest = text.strip().partition("/")
    cloud = normalize_cloud(cloud_text)
    if cloud in _CONTEXT_CLOUDS:
        return Location(cloud=cloud, region=_part(rest, text) if rest else None)
    parts = [cloud, *rest.split("/")] if rest else [cloud]
    if len(parts) > 3:
        raise rule_error(
            f"infra {text!r} has {len(parts)} parts",
            fix="write cloud[/region[/zone]], e.g. aws/us-east-1 or gcp/*/us-central1-a",
        )
    cloud_part, region, zone = (parts + [None, None])[:3]
    return Location(
        cloud=_part(cloud_part, text),
        region=_part(region, text) if region is not None else None,
        zone=_part(zone, text) if zone is not None else None,
    )


def _part(part: str | None, text: str) -> str | None:
    if part is None or part == "*":
        return None
    if not part.strip() or part != part.strip():
        raise rule_error(
            f"infra {text!r} has an empty or padded part",
            fix="write cloud[/region[/zone]] without spaces; use * for 'any'",
        )
    return part
