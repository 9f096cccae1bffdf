"""`provider:` — where replicas run: `local` (default), `skypilot` or `kubernetes`.

Accepted as a bare name or as `{name: ..., <options>}`. Options belong to one provider each;
giving another provider's option is an error rather than a silently ignored setting.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field, model_validator

from hedgeserve.spec.strict_model import StrictModel, rule_error


class ProviderName(StrEnum):
    LOCAL = "local"  # replicas are processes on this machine (optionally under spot emulation)
    SKYPILOT = "skypilot"  # replicas are SkyPilot clusters on clouds
    KUBERNETES = "kubernetes"  # replicas are pods


_OPTIONS: dict[ProviderName, frozenset[str]] = {
    ProviderName.LOCAL: frozenset({"log_dir"}),
    ProviderName.SKYPILOT: frozenset(),
    ProviderName.KUBERNETES: frozenset({"namespace", "context"}),
}


class ProviderConfig(StrictModel):
    name: ProviderName = Field(
        default=ProviderName.LOCAL, description="one of local, skypilot, kubernetes"
    )
    log_dir: str | None = Field(
        default=None, description="a directory for per-replica logs (local; default: the state dir)"
    )
    namespace: str | None = Field(default=None, description="a Kubernetes namespace (kubernetes)")
    context: str | None = Field(default=None, description="a kubeconfig context name (kubernetes)")

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"name": data.strip().lower()}
        if isinstance(data, dict) and isinstance(data.get("name"), str):
            return {**data, "name": data["name"].strip().lower()}
        return data

    @model_validator(mode="after")
    def _options_match_name(self) -> ProviderConfig:
        allowed = _OPTIONS[self.name]
        for option in ("log_dir", "namespace", "context"):
            if getattr(self, option) is not None and option not in allowed:
                owner = next(p for p, opts in _OPTIONS.items() if option in opts)
                raise rule_error(
                    f"option {option!r} belongs to provider {owner.value!r}, "
                    f"not {self.name.value!r}",
                    fix=f"remove {option}, or set name: {owner.value}",
                    field=option,
                )
        return self
