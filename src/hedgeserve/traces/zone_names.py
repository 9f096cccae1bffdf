"""Turn a bare zone name from a trace file into a "cloud/region/zone" id.

AWS zones look like us-east-1a (region us-east-1); GCP zones like us-central1-a (region
us-central1). Anything else keeps an "unknown" cloud so it still works as a failure domain.
"""

from __future__ import annotations

import re

from hedgeserve.core.zones import ZoneId

_AWS = re.compile(r"^([a-z]{2}(?:-gov)?-[a-z]+-\d+)([a-z])$")
_GCP = re.compile(r"^([a-z]+-[a-z]+\d+)-([a-z])$")


def infer_zone_id(name: str, cloud: str | None = None) -> ZoneId:
    if name.count("/") == 2:
        return ZoneId(name)
    if m := _AWS.match(name):
        return ZoneId(f"{cloud or 'aws'}/{m.group(1)}/{name}")
    if m := _GCP.match(name):
        return ZoneId(f"{cloud or 'gcp'}/{m.group(1)}/{name}")
    return ZoneId(f"{cloud or 'unknown'}/{name}/{name}")
