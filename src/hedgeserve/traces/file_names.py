"""Per-zone trace file names: `<zone>_<instance tag>.<ext>`, e.g. `us-east-1a_v100_1.json`.

The Can't Be Late / SkyServe / SkyNomad traces name each zone's file this way. The tag says which
instance was probed; only tags whose instance type is documented upstream map to one.
"""

from __future__ import annotations

from pathlib import Path

# Tags whose instance type the upstream READMEs state; the K80 tags are left out on purpose
# (the README names p2 sizes that do not match the tags).
_INSTANCE_BY_TAG = {
    "v100_1": "p3.2xlarge",
    "v100_8": "p3.16xlarge",
    "h100_16": "a3-highgpu-1g",  # SkyNomad probe: 16 x a3-highgpu-1g per zone per round
}


def split_file_name(path: Path) -> tuple[str, str]:
    """`us-east-1a_v100_1.json` -> ("us-east-1a", "v100_1"); no tag gives ("name", "")."""
    stem = path.name.split(".", 1)[0]
    zone, _, tag = stem.partition("_")
    return zone, tag


def instance_for_tag(tag: str) -> str | None:
    """The instance type a file tag stands for, or None when upstream does not say."""
    return _INSTANCE_BY_TAG.get(tag)
