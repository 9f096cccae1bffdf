"""Model sizes for the analytical capacity model, from the packaged catalog or a YAML file.

`--model NAME` looks NAME up in `hedgeserve/data/planner/models.yaml`; `--model FILE.yaml`
reads one model with the same keys (a top-level `models:` map is accepted too).

Invariants: sizes are positive; the KV cache per token is 2 (K and V) x layers x kv_heads x
head_dim x bytes_per_value; weights take params x bytes_per_param.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, PositiveFloat, PositiveInt, ValidationError

from hedgeserve.errors import InputError
from hedgeserve.planner.data_files import first_error, read_yaml


@dataclass(frozen=True, slots=True)
class ModelSpec:
    name: str
    params_b: float  # parameters, in billions
    layers: int
    hidden_size: int
    kv_heads: int
    head_dim: int
    max_context_tokens: int
    hf_id: str
    source: str
    bytes_per_param: float = 2.0  # BF16/FP16 weights
    bytes_per_kv_value: float = 2.0  # BF16/FP16 KV cache

    @property
    def weight_bytes(self) -> float:
        return self.params_b * 1e9 * self.bytes_per_param

    @property
    def kv_bytes_per_token(self) -> float:
        return 2 * self.layers * self.kv_heads * self.head_dim * self.bytes_per_kv_value


class _ModelFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    params_b: PositiveFloat
    layers: PositiveInt
    hidden_size: PositiveInt
    kv_heads: PositiveInt
    head_dim: PositiveInt
    max_context_tokens: PositiveInt
    hf_id: str
    source: str = "user file"
    bytes_per_param: PositiveFloat = 2.0
    bytes_per_kv_value: PositiveFloat = 2.0


def _spec(name: str, raw: object, where: str) -> ModelSpec:
    try:
        parsed = _ModelFile.model_validate(raw)
    except ValidationError as err:
        raise InputError(f"bad model description: {first_error(err)}", where=where) from None
    return ModelSpec(name=name, **parsed.model_dump())


def load_model(name_or_path: str) -> ModelSpec:
    """A packaged model by name, or the model described by a YAML file."""
    path = Path(name_or_path)
    if name_or_path.endswith((".yaml", ".yml")) or path.is_file():
        raw, where = read_yaml(path, "")
        if isinstance(raw, dict) and isinstance(raw.get("models"), dict) and raw["models"]:
            name, body = next(iter(raw["models"].items()))
            return _spec(str(name), body, where)
        return _spec(path.stem, raw, where)
    raw, where = read_yaml(None, "models.yaml")
    models = raw.get("models", {}) if isinstance(raw, dict) else {}
    if name_or_path not in models:
        raise InputError(f"unknown model {name_or_path!r}", where="--model",
                         fix=f"choose from {', '.join(models)} or pass a YAML file")
    return _spec(name_or_path, models[name_or_path], where)
