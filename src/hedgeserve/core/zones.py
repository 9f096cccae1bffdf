"""Failure domains (cloud/region/zone) and what a replica costs in each.

A zone id is the string "cloud/region/zone", e.g. "gcp/us-central1/us-central1-a". Keeping ids
as plain strings makes observations cheap to build and easy to persist; `Zone` parses one when
the parts are needed (filters, display, spreading over regions).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NewType

ZoneId = NewType("ZoneId", str)


@dataclass(frozen=True, slots=True)
class Zone:
    cloud: str
    region: str
    zone: str

    @property
    def id(self) -> ZoneId:
        return ZoneId(f"{self.cloud}/{self.region}/{self.zone}")

    @classmethod
    def parse(cls, zone_id: str) -> Zone:
        """Split "cloud/region/zone"; raises ValueError on any other shape."""
        parts = zone_id.split("/")
        if len(parts) != 3 or not all(parts):
            raise ValueError(f"zone id {zone_id!r} is not of the form cloud/region/zone")
        return cls(*parts)


@dataclass(frozen=True, slots=True)
class ZoneOffer:
    """A zone the service may use, with the current hourly price of one replica there."""

    zone: ZoneId
    spot_per_hour: float
    on_demand_per_hour: float
