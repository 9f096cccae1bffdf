"""`ServiceSpec`: the whole service YAML, validated, plus its resolved views.

The YAML-facing models mirror the file (SkyServe's keys as-is, ours under clearly named keys:
`provider`, `zones`, `spot_emulation`, `gateway`, `controller`, `planner`). Rules that span
sections live here: spot options need `use_spot`, emulation needs the local provider, the
ingress port must be one every candidate opens, GPU names in per-GPU maps must be accelerators
the resources allow.

Invariant: consumers read the resolved views — `policy` (ReplicaPolicy), `probe`
(ReadinessProbe), `candidates` (ResourceCandidates), `zone_ids` — and never re-interpret
shorthand. Everything here is pure: no clock, no file system, no environment.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cached_property
from typing import Any

from pydantic import Field, ValidationInfo, field_validator, model_validator

from hedgeserve.core.zones import ZoneId
from hedgeserve.errors import InputError
from hedgeserve.spec.control_plane import ControllerConfig, GatewayConfig
from hedgeserve.spec.local_zones import LocalZoneConfig, SpotEmulationConfig, check_distinct_zones
from hedgeserve.spec.paths import resolve_path
from hedgeserve.spec.planner_section import PlannerConfig
from hedgeserve.spec.probe import ReadinessProbe
from hedgeserve.spec.provider import ProviderConfig, ProviderName
from hedgeserve.spec.replica_policy import ReplicaPolicy
from hedgeserve.spec.resources import ResourceCandidate, ResourcesConfig
from hedgeserve.spec.service_section import LoadBalancingPolicy, ServiceConfig
from hedgeserve.spec.strict_model import PositiveCount, StrictModel, rule_error

# Set by the local provider for every replica; a spec may not override them.
REPLICA_ENV_VARS = ("HEDGE_REPLICA_PORT", "HEDGE_ZONE", "HEDGE_REPLICA_ID", "HEDGE_SPOT")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SERVICE_NAME = re.compile(r"^[a-zA-Z]([-_.a-zA-Z0-9]{0,61}[a-zA-Z0-9])?$")
DEFAULT_LOCAL_ZONE = ZoneId("local/local/default")  # local provider, no zones declared
_SPOT_ONLY_OPTIONS = ("base_ondemand_fallback_replicas", "dynamic_ondemand_fallback", "spot_placer")


class ServiceSpec(StrictModel):
    name: str | None = Field(
        default=None, description="a service name: a letter, then letters, digits, '-', '_', '.'"
    )
    service: ServiceConfig = Field(default_factory=lambda: ServiceConfig())
    resources: ResourcesConfig = Field(default_factory=lambda: ResourcesConfig())
    provider: ProviderConfig = Field(default_factory=lambda: ProviderConfig())
    envs: dict[str, str | None] = Field(
        default_factory=dict, description="a map NAME -> value (null: taken from hedge up's env)"
    )
    secrets: dict[str, str | None] = Field(
        default_factory=dict, description="like envs, but never shown in output"
    )
    workdir: str | None = Field(
        default=None, description="a folder the setup and run commands start in"
    )
    setup: str | None = Field(default=None, description="a shell command run once before run")
    run: str = Field(description="the shell command that starts the model server")
    num_nodes: PositiveCount = 1
    zones: tuple[LocalZoneConfig, ...] | None = Field(
        default=None,
        description="a list of zone names or {name, spot_per_hour, on_demand_per_hour}",
    )
    spot_emulation: SpotEmulationConfig | None = Field(
        default=None, description="a mapping with trace, time_scale, notice_seconds ..."
    )
    gateway: GatewayConfig = Field(default_factory=lambda: GatewayConfig())
    controller: ControllerConfig = Field(default_factory=lambda: ControllerConfig())
    planner: PlannerConfig | None = None

    # --- field checks ------------------------------------------------------------------------

    @field_validator("name")
    @classmethod
    def _name(cls, name: str | None) -> str | None:
        if name is not None and not _SERVICE_NAME.match(name):
            raise rule_error(
                f"service name {name!r} is not allowed",
                fix="start with a letter; use letters, digits, '-', '_', '.'; at most 63 chars",
            )
        return name

    @field_validator("envs", "secrets", mode="before")
    @classmethod
    def _env_values_as_text(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        out: dict[Any, Any] = {}
        for key, text in value.items():
            if not isinstance(key, str) or not _ENV_NAME.match(key):
                raise rule_error(
                    f"{key!r} is not an environment variable name",
                    fix="use letters, digits and '_', not starting with a digit",
                    field=str(key),
                )
            if key in REPLICA_ENV_VARS:
                raise rule_error(
                    f"{key} is set by hedgeserve for each replica",
                    fix=f"remove {key} and read it in run: (e.g. --port ${key})",
                    field=key,
                )
            if isinstance(text, bool):
                text = "true" if text else "false"
            elif isinstance(text, int | float):
                text = str(text)
            out[key] = text
        return out

    @field_validator("run", "setup")
    @classmethod
    def _command(cls, command: str | None) -> str | None:
        if command is not None and not command.strip():
            raise rule_error("the command is empty", fix="give a shell command, or remove the key")
        return command

    @field_validator("num_nodes")
    @classmethod
    def _one_node(cls, n: int) -> int:
        if n != 1:
            raise rule_error(
                f"num_nodes is {n}; multi-node replicas are not supported",
                fix="use num_nodes: 1 (one machine per replica)",
            )
        return n

    @field_validator("workdir", mode="before")
    @classmethod
    def _resolve(cls, value: Any, info: ValidationInfo) -> Any:
        return resolve_path(value, info)

    @field_validator("zones")
    @classmethod
    def _distinct(cls, zones: tuple[LocalZoneConfig, ...] | None) -> Any:
        if zones is not None:
            check_distinct_zones(zones)
        return zones

    # --- cross-section rules -----------------------------------------------------------------

    @model_validator(mode="after")
    def _cross_section_rules(self) -> ServiceSpec:
        self._check_local_only_sections()
        self._check_spot_options()
        self._check_ports()
        self._check_gpu_names()
        return self

    def _check_local_only_sections(self) -> None:
        local = self.provider.name is ProviderName.LOCAL
        for key in ("zones", "spot_emulation"):
            if getattr(self, key) is not None and not local:
                raise rule_error(
                    f"{key} works only with the local provider, not {self.provider.name.value!r}",
                    fix=f"remove {key}, or set provider: local",
                    field=key,
                )
        if self.zones is not None and self.spot_emulation is not None:
            raise rule_error(
                "both zones and spot_emulation are set",
                fix="with spot_emulation, choose zones under spot_emulation.zones (prices come "
                "from the trace); without it, declare zones by hand",
                field="zones",
            )

    def _check_spot_options(self) -> None:
        policy = self.service.replica_policy
        if policy is None or self.resources.is_spot:
            return
        for option in _SPOT_ONLY_OPTIONS:
            if getattr(policy, option) not in (None, 0, False):
                raise rule_error(
                    f"{option} needs spot replicas, but resources.use_spot is not true",
                    fix="set resources.use_spot: true, or remove the option",
                    field=f"service.replica_policy.{option}",
                )

    def _check_ports(self) -> None:
        ingress = self.service.ports
        entries = "any_of" if self.resources.any_of else "ordered"
        listed = self.resources.any_of or self.resources.ordered
        for i, cand in enumerate(self.candidates):
            where = f"resources.{entries}.{i}.ports" if listed else "resources.ports"
            if ingress is not None and cand.ports and ingress not in cand.ports:
                raise rule_error(
                    f"service.ports {ingress} is not among the replica's ports "
                    f"{_ports_text(cand.ports)}",
                    fix=f"add {ingress} to resources.ports, or change service.ports",
                    field="service.ports",
                )
            if ingress is None and len(cand.ports) > 1:
                raise rule_error(
                    f"replicas open several ports ({_ports_text(cand.ports)}) and "
                    "service.ports does not say which one serves",
                    fix="set service.ports to the serving port",
                    field=where,
                )

    def _check_gpu_names(self) -> None:
        allowed = {a.name.lower() for c in self.candidates for a in c.accelerators}
        if not allowed:
            return
        known = ", ".join(sorted({a.name for c in self.candidates for a in c.accelerators}))
        qps = self.service.replica_policy and self.service.replica_policy.target_qps_per_replica
        per_gpu: list[tuple[str, str]] = []
        if isinstance(qps, dict):
            per_gpu += [(g, f"service.replica_policy.target_qps_per_replica.{g}") for g in qps]
        if self.planner is not None:
            per_gpu += [(g, f"planner (GPU {g})") for g in sorted(self.planner.gpus)]
        for gpu, field in per_gpu:
            if gpu.split(":")[0].lower() not in allowed:
                raise rule_error(
                    f"GPU {gpu!r} is not among the accelerators in resources ({known})",
                    fix=f"use one of {known}, or add {gpu} to resources.accelerators",
                    field=field if field.startswith("service.") else "planner",
                )
        lb = self.service.load_balancing_policy
        if lb is LoadBalancingPolicy.INSTANCE_AWARE and not (
            isinstance(qps, dict) or (self.planner is not None and self.planner.weights)
        ):
            raise rule_error(
                "instance_aware load balancing needs a per-GPU target_qps_per_replica map "
                "or planner weights",
                fix="give target_qps_per_replica as {GPU: qps}, or use least_load",
                field="service.load_balancing_policy",
            )

    # --- resolved views ----------------------------------------------------------------------

    @cached_property
    def policy(self) -> ReplicaPolicy:
        return self.service.resolve_policy(use_spot=self.resources.is_spot)

    @cached_property
    def probe(self) -> ReadinessProbe:
        return self.service.readiness_probe.resolve(self.provider.name)

    @cached_property
    def candidates(self) -> tuple[ResourceCandidate, ...]:
        return self.resources.candidates()

    @property
    def zone_ids(self) -> tuple[ZoneId, ...] | None:
        """The local provider's zones when known from the spec alone: the declared ones, or
        the single default zone. None when they come from a trace or a cloud provider."""
        if self.provider.name is not ProviderName.LOCAL or self.spot_emulation is not None:
            return None
        if self.zones is None:
            return (DEFAULT_LOCAL_ZONE,)
        return tuple(z.zone_id for z in self.zones)

    def resolved_envs(self, environ: Mapping[str, str]) -> dict[str, str]:
        """`envs` and `secrets` with null values taken from `environ` (hedge up's environment).

        Raises InputError naming the first variable that is null here and unset there.
        """
        out: dict[str, str] = {}
        for section in ("envs", "secrets"):
            for key, value in getattr(self, section).items():
                if value is None:
                    if key not in environ:
                        raise InputError(
                            f"{key} has no value in the spec and is not set in the environment",
                            where=f"{section}.{key}",
                            fix=f"export {key}=... before running, or give it a value",
                        )
                    value = environ[key]
                out[key] = value
        return out

    def warnings(self) -> tuple[str, ...]:
        """Valid but probably unintended settings, for `hedge check` and `hedge up` to show."""
        notes: list[str] = []
        local = self.provider.name is ProviderName.LOCAL
        if local and "HEDGE_REPLICA_PORT" not in self.run:
            notes.append(
                "run does not use $HEDGE_REPLICA_PORT: local replicas share one machine, so "
                "each must listen on the port hedgeserve gives it"
            )
        if local and self.policy.use_spot and self.spot_emulation is None:
            notes.append("use_spot without spot_emulation: local spot replicas are never preempted")
        n_zones = self._known_zone_count()
        if self.policy.spot_placer is not None and n_zones is not None and n_zones < 2:
            notes.append(
                f"spot_placer spreads replicas over zones, but only {n_zones} zone is available"
            )
        if (
            local
            and any(not c.location.is_anywhere for c in self.candidates)
            and (self.spot_emulation is None)
        ):
            notes.append(
                "resources name clouds/regions/zones, which the local provider uses only to "
                "filter emulated zones; they have no effect here"
            )
        return tuple(notes)

    def _known_zone_count(self) -> int | None:
        if self.spot_emulation is not None and self.spot_emulation.zones is not None:
            return len(self.spot_emulation.zones)
        return None if self.zone_ids is None else len(self.zone_ids)


def _ports_text(ports: tuple[int, ...]) -> str:
    if len(ports) > 4:
        return f"{ports[0]}…{ports[-1]}"
    return ", ".join(map(str, ports))
