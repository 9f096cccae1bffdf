"""The service spec: one YAML file describes a service; `load_spec` validates it.

SkyServe's service YAML is accepted as-is where the meaning is the same; our additions live
under their own keys (`provider`, `zones`, `spot_emulation`, `gateway`, `controller`, `planner`).
Consumers (controller, providers, gateway, simulator) read the resolved views on `ServiceSpec`
— `policy`, `probe`, `candidates`, `zone_ids` — rather than the raw sections. The full schema is
in docs/spec.md.
"""

from hedgeserve.spec.accelerators import Accelerator
from hedgeserve.spec.control_plane import ControllerConfig, GatewayConfig
from hedgeserve.spec.loader import SpecError, load_spec, parse_spec
from hedgeserve.spec.local_zones import LocalZoneConfig, SpotEmulationConfig
from hedgeserve.spec.locations import Location
from hedgeserve.spec.planner_section import PlannerConfig
from hedgeserve.spec.probe import ProbeTimings, ReadinessProbe
from hedgeserve.spec.problems import Problem
from hedgeserve.spec.provider import ProviderConfig, ProviderName
from hedgeserve.spec.replica_policy import ReplicaPolicy, SpotPlacer
from hedgeserve.spec.resources import ResourceCandidate
from hedgeserve.spec.service_section import LoadBalancingPolicy
from hedgeserve.spec.service_spec import DEFAULT_LOCAL_ZONE, REPLICA_ENV_VARS, ServiceSpec

__all__ = [
    "DEFAULT_LOCAL_ZONE",
    "REPLICA_ENV_VARS",
    "Accelerator",
    "ControllerConfig",
    "GatewayConfig",
    "LoadBalancingPolicy",
    "LocalZoneConfig",
    "Location",
    "PlannerConfig",
    "ProbeTimings",
    "Problem",
    "ProviderConfig",
    "ProviderName",
    "ReadinessProbe",
    "ReplicaPolicy",
    "ResourceCandidate",
    "ServiceSpec",
    "SpecError",
    "SpotEmulationConfig",
    "SpotPlacer",
    "load_spec",
    "parse_spec",
]
