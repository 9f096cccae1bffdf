"""A folder (or glob) of per-zone JSON files as one trace, with the known zone offsets applied.

Files of one multi-zone experiment in skypilot-org/spot-traces did not all start at the same
time. Where the SkyServe artifact's trimmed copies reveal the offset, `KNOWN_OFFSETS` records it
and the loader skips that many leading ticks so that tick t means the same moment in every zone;
the experiment is recognised by folder name *and* exact file lengths, so an edited copy falls
back to the plain rule. Every other folder is aligned at the start and cut to the shortest file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hedgeserve.errors import InputError
from hedgeserve.traces.file_names import split_file_name
from hedgeserve.traces.model import Trace
from hedgeserve.traces.skypilot_json import load_json_traces, read_zone_file


@dataclass(frozen=True, slots=True)
class ZoneOffsets:
    """Leading ticks to skip per file stem, valid only for files of exactly these lengths."""

    lengths: Mapping[str, int]
    skip_ticks: Mapping[str, int]
    evidence: str


# Derived by matching spothedge_ae data/AWS1 and data/AWS2 against the raw files (exact equality
# of the overlapping arrays); see docs/traces.md.
KNOWN_OFFSETS: dict[str, ZoneOffsets] = {
    "aws-08-03-2023": ZoneOffsets(
        lengths={"us-east-1f_v100_1": 3664, "us-east-2a_v100_1": 5131, "us-west-2c_v100_1": 5131},
        skip_ticks={"us-east-2a_v100_1": 1975, "us-west-2c_v100_1": 1975},
        evidence="AWS1 = us-east-1f[:3156] and us-east-2a/us-west-2c[1975:5131]",
    ),
    "aws-08-27-2023": ZoneOffsets(
        lengths={"us-east-2b_v100_1": 3247, "us-west-2a_v100_1": 4736, "us-west-2c_v100_1": 4736},
        skip_ticks={"us-west-2a_v100_1": 1462, "us-west-2c_v100_1": 1462},
        evidence="AWS2 = us-east-2b[:] and us-west-2a/us-west-2c[1462:]",
    ),
}

# Folders of 1-node availability probes: a 1 there means "obtainable", not "one instance".
_AVAILABILITY_1_NODE = ("availability", "1-node")


def json_trace_files(folder: Path) -> list[Path]:
    """The per-zone trace files in a folder: *.json except companion price files."""
    return sorted(p for p in folder.glob("*.json") if not p.name.endswith("spot_prices.json"))


def is_one_node_availability(folder: Path) -> bool:
    """True for skypilot-org/spot-traces' availability/1-node/* folders (and copies of them)."""
    return tuple(folder.parts[-3:-1]) == _AVAILABILITY_1_NODE


def load_json_folder(
    folder: Path,
    *,
    files: list[Path] | None = None,
    name: str | None = None,
    unlimited_when_positive: bool | None = None,
    gap_s: float | None = None,
) -> Trace:
    """Load `files` (default: every trace JSON in `folder`) as one trace.

    Args:
        unlimited_when_positive: None picks it from the folder: True for availability/1-node.
    """
    chosen = files if files is not None else json_trace_files(folder)
    if not chosen:
        raise InputError(
            "no per-zone JSON trace files here", where=str(folder),
            fix="point at a folder of <zone>_<tag>.json files",
        )
    tags = sorted({split_file_name(f)[1] for f in chosen})
    if len(tags) > 1:
        raise InputError(
            f"folder mixes instance tags {', '.join(tags)}", where=str(folder),
            fix=f"pick one with a quoted glob, e.g. '{folder}/*_{tags[0]}.json'",
        )
    if unlimited_when_positive is None:
        unlimited_when_positive = is_one_node_availability(folder)
    return load_json_traces(
        chosen,
        name=name or folder.name,
        unlimited_when_positive=unlimited_when_positive,
        gap_s=gap_s,
        skip_ticks=known_skip_ticks(folder, chosen),
    )


def known_skip_ticks(folder: Path, files: list[Path]) -> Mapping[str, int] | None:
    """The recorded offsets for this experiment, if the files are exactly the recorded ones."""
    known = KNOWN_OFFSETS.get(folder.name)
    if known is None:
        return None
    # Reading these files twice is cheap (< 100 kB each) and keeps one parser.
    lengths = {f.name.split(".", 1)[0]: int(read_zone_file(f)[1].size) for f in files}
    if lengths != dict(known.lengths):
        return None
    return known.skip_ticks
