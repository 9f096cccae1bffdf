"""Bad specs: each gives one clear line naming the field and the fix, and `hedge check` exits 2.

Every case is a complete file with exactly one mistake (or, where noted, two, to show the
"+N more" count). `field` must appear in the error's location and `fix` in its fix.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from hedgeserve.cli.app import main
from hedgeserve.errors import InputError
from hedgeserve.spec import SpecError, load_spec

RUN = "run: hedge engine --port $HEDGE_REPLICA_PORT\n"
SPOT = "resources:\n  use_spot: true\n"


@dataclass(frozen=True)
class Bad:
    text: str | bytes | None  # None: the file does not exist
    field: str  # must appear in the located part of the message
    fix: str  # must appear in the fix


CASES: dict[str, Bad] = {
    # --- the file itself ----------------------------------------------------------------------
    "missing-file": Bad(None, "spec.yaml", "check the path"),
    "empty-file": Bad("# nothing yet\n", "spec.yaml", "examples/quickstart.yaml"),
    "not-a-mapping": Bad("- run: x\n", "spec.yaml", "top-level keys"),
    "yaml-syntax-tab": Bad("service:\n\treplicas: 2\n" + RUN, "spec.yaml:2:1", "not tabs"),
    "yaml-bad-indent": Bad(
        "service:\n  replicas: 2\n   ports: 8000\n" + RUN, "spec.yaml:3", "indentation"
    ),
    "yaml-unquoted-wildcard": Bad("resources:\n  infra: */x\n" + RUN, "spec.yaml:2", "quote"),
    "duplicate-key": Bad(RUN + "run: other\n", "spec.yaml:2: run", "keep one"),
    "not-utf8": Bad(b"run: \xff\xfe\n", "spec.yaml", "UTF-8"),
    # --- keys ---------------------------------------------------------------------------------
    "typo-top-level": Bad("servce:\n  replicas: 2\n" + RUN, "spec.yaml:1: servce", "'service'"),
    "typo-in-replica-policy": Bad(
        "service:\n  replica_policy:\n    min_replica: 2\n" + RUN,
        "service.replica_policy.min_replica",
        "did you mean 'min_replicas'",
    ),
    "key-in-wrong-section": Bad(
        "service:\n  use_spot: true\n" + RUN, "service.use_spot", "resources.use_spot"
    ),
    "skypilot-file-mounts": Bad("file_mounts: {/data: s3://b}\n" + RUN, "file_mounts", "setup"),
    "missing-run": Bad("service:\n  replicas: 2\n", "run", "add run:"),
    # --- service ------------------------------------------------------------------------------
    "probe-path-no-slash": Bad(
        "service:\n  readiness_probe: health\n" + RUN,
        "service.readiness_probe.path",
        "'/health'",
    ),
    "probe-post-data-bad-json": Bad(
        "service:\n  readiness_probe:\n    path: /v1/completions\n    post_data: '{model: m'\n"
        + RUN,
        "service.readiness_probe.post_data",
        "YAML mapping",
    ),
    "probe-alias-and-name": Bad(
        "service:\n  readiness_probe:\n    path: /h\n    period_seconds: 2\n"
        "    endpoint_probe_interval_seconds: 5\n" + RUN,
        "endpoint_probe_interval_seconds",
        "keep only period_seconds",
    ),
    "replicas-and-policy": Bad(
        "service:\n  replicas: 2\n  replica_policy:\n    min_replicas: 1\n" + RUN,
        "service.replicas",
        "not both",
    ),
    "replicas-not-a-number": Bad(
        "service:\n  replicas: two\n" + RUN, "service.replicas", "integer ≥ 1"
    ),
    "max-below-min": Bad(
        "service:\n  replica_policy:\n    min_replicas: 3\n    max_replicas: 1\n"
        "    target_qps_per_replica: 1\n" + RUN,
        "service.replica_policy.max_replicas",
        "at least 3",
    ),
    "range-without-target-qps": Bad(
        "service:\n  replica_policy:\n    min_replicas: 1\n    max_replicas: 3\n" + RUN,
        "service.replica_policy.target_qps_per_replica",
        "set target_qps_per_replica",
    ),
    "target-qps-without-max": Bad(
        "service:\n  replica_policy:\n    min_replicas: 1\n    target_qps_per_replica: 5\n" + RUN,
        "service.replica_policy.max_replicas",
        "set max_replicas",
    ),
    "never-runs-a-replica": Bad(
        "service:\n  replica_policy:\n    min_replicas: 0\n" + RUN,
        "service.replica_policy.max_replicas",
        "at least 1",
    ),
    "negative-overprovision": Bad(
        "service:\n  replica_policy:\n    min_replicas: 1\n    num_overprovision: -1\n" + RUN,
        "service.replica_policy.num_overprovision",
        "integer ≥ 0",
    ),
    "fallback-without-spot": Bad(
        "service:\n  replica_policy:\n    min_replicas: 2\n    dynamic_ondemand_fallback: true\n"
        + RUN,
        "service.replica_policy.dynamic_ondemand_fallback",
        "use_spot: true",
    ),
    "unknown-spot-placer": Bad(
        "service:\n  replica_policy:\n    min_replicas: 2\n    spot_placer: dynamic\n" + SPOT + RUN,
        "service.replica_policy.spot_placer",
        "did you mean 'dynamic_fallback'",
    ),
    "unknown-lb-policy": Bad(
        "service:\n  load_balancing_policy: least_loaded\n" + RUN,
        "service.load_balancing_policy",
        "did you mean 'least_load'",
    ),
    "per-gpu-qps-without-instance-aware": Bad(
        "service:\n  replica_policy:\n    min_replicas: 1\n    max_replicas: 2\n"
        "    target_qps_per_replica: {H100: 4}\n" + RUN,
        "service.load_balancing_policy",
        "instance_aware",
    ),
    "ingress-port-out-of-range": Bad(
        "service:\n  ports: 70000\n" + RUN, "service.ports", "port number 1–65535"
    ),
    "tls-missing-certfile": Bad(
        "service:\n  tls:\n    keyfile: key.pem\n" + RUN, "service.tls.certfile", "add certfile"
    ),
    "tls-file-not-found": Bad(
        "service:\n  tls: {keyfile: nope.pem, certfile: nope.pem}\n" + RUN,
        "service.tls.keyfile",
        "fix the path",
    ),
    # --- resources ----------------------------------------------------------------------------
    "gpu-count-zero": Bad(
        "resources:\n  accelerators: H100:0\n" + RUN, "resources.accelerators", '"H100:1"'
    ),
    "infra-too-many-parts": Bad(
        "resources:\n  infra: aws/us-east-1/us-east-1a/x\n" + RUN,
        "resources.infra",
        "cloud[/region[/zone]]",
    ),
    "infra-and-cloud": Bad(
        "resources:\n  infra: aws\n  cloud: gcp\n" + RUN, "resources.cloud", "use only infra"
    ),
    "any-of-mixes-spot": Bad(
        "resources:\n  any_of:\n    - {use_spot: true}\n    - {use_spot: false}\n" + RUN,
        "resources.any_of[1].use_spot",
        "base_ondemand_fallback_replicas",
    ),
    "ingress-port-not-opened": Bad(
        "service:\n  ports: 9000\nresources:\n  ports: 8000\n" + RUN,
        "service.ports",
        "add 9000 to resources.ports",
    ),
    "qps-gpu-not-an-accelerator": Bad(
        "service:\n  load_balancing_policy: instance_aware\n  replica_policy:\n"
        "    min_replicas: 1\n    max_replicas: 2\n    target_qps_per_replica: {A10: 4}\n"
        "resources:\n  accelerators: H100:1\n" + RUN,
        "service.replica_policy.target_qps_per_replica.A10",
        "use one of H100",
    ),
    # --- our sections -------------------------------------------------------------------------
    "unknown-provider": Bad("provider: aws\n" + RUN, "provider.name", "local, skypilot"),
    "provider-option-of-another": Bad(
        "provider: {name: local, namespace: x}\n" + RUN, "provider.namespace", "kubernetes"
    ),
    "emulation-needs-local": Bad(
        "provider: skypilot\nspot_emulation: {trace: gcp-h100}\n" + RUN,
        "spot_emulation",
        "provider: local",
    ),
    "emulation-time-scale-zero": Bad(
        "spot_emulation:\n  trace: gcp-h100\n  time_scale: 0\n" + RUN,
        "spot_emulation.time_scale",
        "trace seconds per wall second",
    ),
    "emulation-without-trace": Bad(
        "spot_emulation:\n  time_scale: 60\n" + RUN, "spot_emulation.trace", "add trace:"
    ),
    "zones-and-emulation": Bad(
        "zones: [a, b]\nspot_emulation: {trace: gcp-h100}\n" + RUN,
        "zones",
        "spot_emulation.zones",
    ),
    "duplicate-zone": Bad("zones: [a, b, local/local/a]\n" + RUN, "zones[2]", "each zone once"),
    "env-overrides-replica-port": Bad(
        "envs: {HEDGE_REPLICA_PORT: 8000}\n" + RUN, "envs.HEDGE_REPLICA_PORT", "remove"
    ),
    "env-value-is-a-list": Bad("envs: {A: [1, 2]}\n" + RUN, "envs.A", "set envs to"),
    "gateway-port-negative": Bad("gateway: {port: -1}\n" + RUN, "gateway.port", "0 = pick"),
    "controller-tick-zero": Bad(
        "controller: {tick_seconds: 0}\n" + RUN, "controller.tick_seconds", "> 0"
    ),
    "controller-grace-negative": Bad(
        "controller: {grace_seconds: -5}\n" + RUN, "controller.grace_seconds", ">= 0"
    ),
    "planner-split-not-one": Bad(
        "planner:\n  split: {short: {A10G: 0.5, H100: 0.2}}\n" + RUN,
        "planner.split.short",
        "sum to 1",
    ),
    "multi-node": Bad("num_nodes: 2\n" + RUN, "num_nodes", "num_nodes: 1"),
    "two-mistakes-counted": Bad(
        "service:\n  replicas: 0\ngateway:\n  port: x\n" + RUN, "service.replicas", "≥ 1"
    ),
}


def write_case(tmp_path: Path, case: Bad) -> Path:
    path = tmp_path / "spec.yaml"
    if isinstance(case.text, bytes):
        path.write_bytes(case.text)
    elif case.text is not None:
        path.write_text(case.text)
    return path


def test_table_is_large_enough() -> None:
    assert len(CASES) >= 15


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_bad_spec_names_field_and_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: Bad
) -> None:
    monkeypatch.chdir(tmp_path)  # sources print as "spec.yaml"
    with pytest.raises(InputError) as caught:
        load_spec(write_case(tmp_path, case).name)
    err = caught.value
    line = err.one_line()
    assert "\n" not in line
    assert case.field in (err.where or ""), line
    assert case.fix in (err.fix or ""), line


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_hedge_check_exits_2_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], case: Bad
) -> None:
    path = write_case(tmp_path, case)
    monkeypatch.setattr(sys, "argv", ["hedge", "check", str(path)])
    with pytest.raises(SystemExit) as exited:
        main()
    out, err = capsys.readouterr()
    assert exited.value.code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("hedge: error: "), err
    assert "Traceback" not in err and "pydantic" not in err.lower()


def test_more_problems_are_counted_and_all_listed(tmp_path: Path) -> None:
    path = write_case(tmp_path, CASES["two-mistakes-counted"])
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert "(+1 more problem: hedge check --all)" in caught.value.what
    lines = caught.value.lines()
    assert len(lines) == 2
    assert ":2: service.replicas" in lines[0] and ":4: gateway.port" in lines[1]
