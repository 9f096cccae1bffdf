"""The GPU catalog: specs per GPU type and hourly prices per cloud offer, loaded from YAML.

The shipped catalog is `hedgeserve/data/planner/gpus.yaml`; `--catalog FILE` replaces it. Files
are validated once here with pydantic and turned into frozen dataclasses the pure planner trusts.

Invariants: a GPU type has at least one offer; prices are per *instance* hour and
`gpus_per_instance` divides them into a per-GPU price; a missing spot price means "no spot".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt, ValidationError

from hedgeserve.errors import InputError
from hedgeserve.planner.data_files import first_error, read_yaml


@dataclass(frozen=True, slots=True)
class Offer:
    cloud: str
    region: str
    instance_type: str
    gpus_per_instance: int
    on_demand_per_hour: float  # USD per instance-hour
    spot_per_hour: float | None  # USD per instance-hour, None where the snapshot had no spot
    spot_zone: str | None
    date: str
    source: str

    def per_gpu_hour(self, *, spot: bool) -> float | None:
        price = self.spot_per_hour if spot else self.on_demand_per_hour
        return None if price is None else price / self.gpus_per_instance


@dataclass(frozen=True, slots=True)
class GpuType:
    name: str
    memory_gb: float
    bandwidth_tb_s: float
    tensor_tflops: float  # dense BF16 (FP16 on GPUs without BF16)
    tensor_dtype: str
    accelerator: str  # the name SkyPilot/Kubernetes use in `accelerators: NAME:COUNT`
    spec_source: str
    offers: tuple[Offer, ...]


@dataclass(frozen=True, slots=True)
class PricedGpu:
    """A GPU type with the offer chosen for a plan and its per-GPU hourly price."""

    gpu: GpuType
    offer: Offer
    price_per_gpu_hour: float


class _OfferFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cloud: str
    region: str
    instance_type: str
    gpus_per_instance: PositiveInt
    on_demand_per_hour: PositiveFloat
    spot_per_hour: PositiveFloat | None = None
    spot_zone: str | None = None
    date: str
    source: str


class _GpuFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    memory_gb: PositiveFloat
    bandwidth_tb_s: PositiveFloat
    tensor_tflops: PositiveFloat
    tensor_dtype: str = "bf16"
    accelerator: str
    spec_source: str
    offers: list[_OfferFile] = Field(min_length=1)


class _CatalogFile(BaseModel):
    model_config = ConfigDict(extra="ignore")  # top-level YAML anchors live beside `gpus`
    gpus: dict[str, _GpuFile] = Field(min_length=1)


def load_gpu_catalog(path: Path | None = None) -> dict[str, GpuType]:
    """Load and validate the GPU catalog (the packaged one by default)."""
    raw, where = read_yaml(path, "gpus.yaml")
    try:
        parsed = _CatalogFile.model_validate(raw)
    except ValidationError as err:
        raise InputError(f"bad GPU catalog: {first_error(err)}", where=where) from None
    return {
        name: GpuType(name, g.memory_gb, g.bandwidth_tb_s, g.tensor_tflops, g.tensor_dtype,
                      g.accelerator, g.spec_source,
                      tuple(Offer(**o.model_dump()) for o in g.offers))
        for name, g in parsed.gpus.items()
    }


def select_gpus(catalog: Mapping[str, GpuType], names: Sequence[str]) -> list[GpuType]:
    """The named GPU types, in the order given; unknown names raise `InputError`."""
    by_lower = {n.lower(): g for n, g in catalog.items()}
    chosen: list[GpuType] = []
    for name in names:
        gpu = by_lower.get(name.strip().lower())
        if gpu is None:
            raise InputError(f"unknown GPU type {name!r}", where="--gpus",
                             fix=f"choose from {', '.join(catalog)}")
        if gpu not in chosen:
            chosen.append(gpu)
    if not chosen:
        raise InputError("no GPU types given", where="--gpus", fix="e.g. --gpus L4,A10G,H100")
    return chosen


def price_gpus(gpus: Sequence[GpuType], *, spot: bool,
               clouds: Sequence[str] | None = None) -> list[PricedGpu]:
    """The cheapest per-GPU offer of each type among `clouds` (all when None).

    Raises `InputError` naming the first type with no usable offer.
    """
    wanted = {c.lower() for c in clouds} if clouds else None
    priced: list[PricedGpu] = []
    for gpu in gpus:
        candidates = [(price, o) for o in gpu.offers
                      if (wanted is None or o.cloud.lower() in wanted)
                      and (price := o.per_gpu_hour(spot=spot)) is not None]
        if not candidates:
            kind = "spot" if spot else "on-demand"
            where_clouds = ", ".join(sorted(wanted)) if wanted else "any cloud"
            raise InputError(f"no {kind} price for {gpu.name} in {where_clouds}",
                             where="--gpus",
                             fix="drop it from --gpus, pick another --cloud, or add an offer "
                                 "to the catalog (--catalog FILE)")
        price, offer = min(candidates, key=lambda c: c[0])
        priced.append(PricedGpu(gpu, offer, price))
    return priced
