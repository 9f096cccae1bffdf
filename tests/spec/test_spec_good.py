"""Good specs: every accepted form resolves to the normalized views the controller reads."""

from __future__ import annotations

from pathlib import Path

import pydantic
import pytest

from hedgeserve.errors import InputError
from hedgeserve.spec import (
    DEFAULT_LOCAL_ZONE,
    LoadBalancingPolicy,
    ProviderName,
    ServiceSpec,
    SpotPlacer,
    load_spec,
    parse_spec,
)
from hedgeserve.spec.probe import LOCAL_PROBE_DEFAULTS, SKYSERVE_PROBE_DEFAULTS

RUN = "run: hedge engine --port $HEDGE_REPLICA_PORT\n"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def spec(text: str) -> ServiceSpec:
    return parse_spec(text + RUN, source="test.yaml")


def test_minimal_spec_gets_one_local_on_demand_replica() -> None:
    s = spec("")
    assert (s.policy.min_replicas, s.policy.max_replicas) == (1, 1)
    assert not s.policy.use_spot and not s.policy.is_autoscaling
    assert s.provider.name is ProviderName.LOCAL
    assert s.zone_ids == (DEFAULT_LOCAL_ZONE,)
    assert s.probe.path == "/" and s.probe.method == "GET"
    assert s.probe.timings == LOCAL_PROBE_DEFAULTS
    assert s.service.load_balancing_policy is LoadBalancingPolicy.LEAST_LOAD
    assert s.controller.tick_seconds == 2.0
    assert (s.gateway.host, s.gateway.port) == ("127.0.0.1", 0)


def test_string_probe_is_a_path() -> None:
    s = spec("service:\n  readiness_probe: /v1/models\n")
    assert s.probe.path == "/v1/models" and s.probe.method == "GET"


def test_object_probe_with_post_data_headers_and_skyserve_aliases() -> None:
    s = spec(
        """
provider: skypilot
service:
  readiness_probe:
    path: /v1/chat/completions
    post_data: '{"model": "m", "max_tokens": 1}'
    headers: {Authorization: Bearer $TOKEN, X-Retries: 3}
    initial_delay_seconds: 600
    endpoint_probe_interval_seconds: 5
    consecutive_failure_threshold_timeout: 60
"""
    )
    probe = s.probe
    assert probe.method == "POST"
    assert dict(probe.post_data or {}) == {"model": "m", "max_tokens": 1}
    assert dict(probe.headers) == {"Authorization": "Bearer $TOKEN", "X-Retries": "3"}
    # Given values win; the rest are SkyServe's defaults because the provider is a cloud one.
    assert probe.timings.initial_delay_s == 600
    assert probe.timings.period_s == 5
    assert probe.timings.failure_threshold_s == 60
    assert probe.timings.timeout_s == SKYSERVE_PROBE_DEFAULTS.timeout_s


def test_post_data_as_mapping() -> None:
    s = spec("service:\n  readiness_probe:\n    path: /p\n    post_data: {prompt: hi}\n")
    assert dict(s.probe.post_data or {}) == {"prompt": "hi"}


def test_fixed_replicas() -> None:
    s = spec("service:\n  replicas: 4\n")
    assert (s.policy.min_replicas, s.policy.max_replicas) == (4, 4)
    assert s.policy.label == "on-demand only"


def test_replica_policy_autoscaling_with_skyserve_defaults() -> None:
    s = spec(
        "service:\n  replica_policy:\n    min_replicas: 1\n    max_replicas: 5\n"
        "    target_qps_per_replica: 2.5\n"
    )
    p = s.policy
    assert p.is_autoscaling and p.target_qps_per_replica == 2.5
    assert (p.upscale_delay_s, p.downscale_delay_s) == (300, 1200)
    assert p.num_overprovision == 0 and p.base_ondemand_replicas == 0


def test_scale_to_zero_is_allowed_with_a_target_qps() -> None:
    s = spec(
        "service:\n  replica_policy:\n    min_replicas: 0\n    max_replicas: 2\n"
        "    target_qps_per_replica: 1\n"
    )
    assert (s.policy.min_replicas, s.policy.max_replicas) == (0, 2) and s.policy.is_autoscaling


def test_spothedge_policy_resolves_every_knob() -> None:
    s = spec(
        """
service:
  replica_policy:
    min_replicas: 3
    num_overprovision: 1
    base_ondemand_fallback_replicas: 1
    dynamic_ondemand_fallback: true
    spot_placer: Dynamic_Fallback
resources:
  use_spot: true
"""
    )
    p = s.policy
    assert p.use_spot and p.is_spothedge and p.label == "SpotHedge"
    assert p.spot_placer is SpotPlacer.DYNAMIC_FALLBACK  # case-insensitive, as in SkyServe
    assert (p.num_overprovision, p.base_ondemand_replicas) == (1, 1)
    assert not p.is_autoscaling and p.min_replicas == p.max_replicas == 3


def test_per_gpu_target_qps_with_instance_aware_alias() -> None:
    s = spec(
        """
service:
  load_balancing_policy: instance_aware_least_load
  replica_policy:
    min_replicas: 1
    max_replicas: 4
    target_qps_per_replica: {H100: 8, L4: 1.5}
resources:
  accelerators: [H100, L4]
"""
    )
    assert s.service.load_balancing_policy is LoadBalancingPolicy.INSTANCE_AWARE
    assert s.policy.target_qps_per_replica is None
    assert dict(s.policy.target_qps_per_accelerator) == {"H100": 8.0, "L4": 1.5}
    assert s.policy.is_autoscaling


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param('"H100:1"', ["H100:1"], id="string-with-count"),
        pytest.param("H100", ["H100:1"], id="bare-name"),
        pytest.param("{H100: 8}", ["H100:8"], id="mapping"),
        pytest.param("{L4, A100-80GB}", ["L4:1", "A100-80GB:1"], id="yaml-set"),
        pytest.param('["L4:1", {A100: 2}]', ["L4:1", "A100:2"], id="list-of-forms"),
    ],
)
def test_accelerator_forms(text: str, expected: list[str]) -> None:
    s = spec(f"resources:\n  accelerators: {text}\n")
    assert [str(a) for a in s.candidates[0].accelerators] == expected


def test_any_of_entries_override_top_level_fields() -> None:
    s = spec(
        """
resources:
  use_spot: true
  accelerators: L4:1
  cloud: aws
  any_of:
    - region: us-east-1
    - infra: gcp/*/us-central1-a
      accelerators: A100:1
"""
    )
    first, second = s.candidates
    assert (first.location.cloud, first.location.region) == ("aws", "us-east-1")
    assert [str(a) for a in first.accelerators] == ["L4:1"]
    assert str(second.location) == "gcp/*/us-central1-a"
    assert [str(a) for a in second.accelerators] == ["A100:1"]
    assert first.use_spot and second.use_spot


@pytest.mark.parametrize(
    ("infra", "cloud", "region", "zone"),
    [
        pytest.param("aws", "aws", None, None, id="cloud"),
        pytest.param("AWS/us-east-1", "aws", "us-east-1", None, id="region-cloud-lowercased"),
        pytest.param("gcp/*/us-central1-a", "gcp", None, "us-central1-a", id="wildcard-region"),
        pytest.param("'*/us-east-1'", None, "us-east-1", None, id="wildcard-cloud"),
        pytest.param("k8s/my/ctx", "kubernetes", "my/ctx", None, id="k8s-context-with-slash"),
    ],
)
def test_infra_forms(infra: str, cloud: str | None, region: str | None, zone: str | None) -> None:
    loc = spec(f"resources:\n  infra: {infra}\n").candidates[0].location
    assert (loc.cloud, loc.region, loc.zone) == (cloud, region, zone)


def test_location_matches_zone_ids() -> None:
    loc = spec("resources:\n  infra: gcp/*/us-central1-a\n").candidates[0].location
    assert loc.matches("gcp/us-central1/us-central1-a")
    assert not loc.matches("gcp/us-central1/us-central1-b")
    assert not loc.matches("aws/us-east-1/us-east-1a")


def test_ports_and_ingress_port() -> None:
    s = spec('service:\n  ports: 8001\nresources:\n  ports: [8000, "8001-8002"]\n')
    assert s.candidates[0].ports == (8000, 8001, 8002)
    assert s.service.ports == 8001


def test_declared_zones_with_prices() -> None:
    s = spec("zones:\n  - a\n  - {name: east/b, spot_per_hour: 0.9, on_demand_per_hour: 3}\n")
    assert s.zone_ids == ("local/local/a", "local/east/b")
    assert s.zones is not None and s.zones[1].spot_per_hour == 0.9


def test_spot_emulation_defaults_and_trace_path_resolution(tmp_path: Path) -> None:
    s = spec("resources: {use_spot: true}\nspot_emulation: {trace: gcp-h100}\n")
    emu = s.spot_emulation
    assert emu is not None and not emu.trace_is_path and emu.trace == "gcp-h100"
    assert (emu.time_scale, emu.notice_seconds, emu.start_hour, emu.seed) == (60, 2, 0, 0)
    assert s.zone_ids is None  # zones come from the trace

    file = tmp_path / "svc.yaml"
    file.write_text("spot_emulation: {trace: traces/mine.json}\n" + RUN)
    loaded = load_spec(file)
    assert loaded.spot_emulation is not None
    assert loaded.spot_emulation.trace == str(tmp_path / "traces" / "mine.json")


def test_envs_are_text_and_nulls_come_from_the_environment() -> None:
    s = spec("envs: {N: 3, DEBUG: true, TOKEN: null}\nsecrets: {KEY: null}\n")
    assert s.envs == {"N": "3", "DEBUG": "true", "TOKEN": None}
    env = s.resolved_envs({"TOKEN": "t", "KEY": "k"})
    assert env == {"N": "3", "DEBUG": "true", "TOKEN": "t", "KEY": "k"}
    with pytest.raises(InputError, match="TOKEN") as err:
        s.resolved_envs({"KEY": "k"})
    assert err.value.where == "envs.TOKEN" and "export TOKEN" in (err.value.fix or "")


def test_provider_as_mapping_with_options() -> None:
    s = spec("provider: {name: Kubernetes, namespace: serving}\n")
    assert s.provider.name is ProviderName.KUBERNETES and s.provider.namespace == "serving"
    assert s.probe.timings == SKYSERVE_PROBE_DEFAULTS


def test_gateway_controller_and_relative_paths(tmp_path: Path) -> None:
    (tmp_path / "keys.txt").write_text("k1\n")
    file = tmp_path / "svc.yaml"
    file.write_text(
        "gateway: {port: 8080, api_keys_file: keys.txt, api_keys_env: HEDGE_KEYS}\n"
        "controller: {tick_seconds: 0.5, grace_seconds: 90, state_dir: state}\n" + RUN
    )
    s = load_spec(file)
    assert s.gateway.port == 8080 and s.gateway.api_keys_env == "HEDGE_KEYS"
    assert s.gateway.api_keys_file == str(tmp_path / "keys.txt")
    assert s.controller.tick_seconds == 0.5 and s.controller.grace_seconds == 90.0
    assert s.controller.state_dir == str(tmp_path / "state")


def test_planner_section_load_shares_are_weight_times_replicas() -> None:
    s = spec(
        """
resources:
  accelerators: {A10G: 1, H100: 1}
planner:
  replicas: {A10G: 3, H100: 1}
  weights: {a10g: 1, H100: 3}
  split: {short: {A10G: 0.75, H100: 0.25}}
"""
    )
    assert s.planner is not None
    # Weights are req/s per replica: 3 A10G x 1 and 1 H100 x 3 carry the load half and half.
    assert dict(s.planner.load_shares()) == {"A10G": 0.5, "H100": 0.5}


def test_models_are_frozen() -> None:
    s = spec("")
    with pytest.raises(pydantic.ValidationError):
        s.name = "x"  # type: ignore[misc]


def test_warnings_flag_probable_mistakes() -> None:
    s = parse_spec(
        "resources: {use_spot: true, infra: aws}\n"
        "service:\n  replica_policy: {min_replicas: 1, spot_placer: dynamic_fallback}\n"
        "run: vllm serve m --port 8000\n"
    )
    text = " ".join(s.warnings())
    assert "HEDGE_REPLICA_PORT" in text
    assert "never preempted" in text
    assert "only 1 zone" in text
    assert "filter emulated zones" in text


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_every_example_is_valid(path: Path) -> None:
    s = load_spec(path)
    assert s.run.strip()


def test_examples_are_the_documented_ones() -> None:
    names = {p.name for p in EXAMPLES.glob("*.yaml")}
    assert {"quickstart.yaml", "spothedge.yaml", "real-model.yaml"} <= names
    quick = load_spec(EXAMPLES / "quickstart.yaml")
    assert quick.policy.is_spothedge and quick.policy.min_replicas == 3
    assert quick.spot_emulation is not None and len(quick.spot_emulation.zones or ()) >= 3
    assert quick.warnings() == ()
    hedge = load_spec(EXAMPLES / "spothedge.yaml")
    assert hedge.policy.is_spothedge and hedge.policy.num_overprovision == 1
    assert (hedge.policy.min_replicas, hedge.policy.max_replicas) == (1, 3)
    assert len(hedge.candidates) >= 3
