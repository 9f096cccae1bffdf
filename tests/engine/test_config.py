"""Engine settings and replica identity: bad input is an `InputError` naming the flag."""

from __future__ import annotations

import dataclasses
import socket

import pytest

from hedgeserve.engine.config import EngineConfig, ReplicaIdentity, identity_from_env
from hedgeserve.engine.process import serve
from hedgeserve.errors import InputError


@pytest.mark.parametrize(
    ("field", "value", "flag"),
    [
        pytest.param("ttft_ms", -1.0, "--ttft-ms", id="negative-ttft"),
        pytest.param("prefill_ms_per_token", -0.1, "--prefill-ms-per-token", id="neg-prefill"),
        pytest.param("tpot_ms", float("nan"), "--tpot-ms", id="nan-tpot"),
        pytest.param("batch_slowdown", -0.5, "--batch-slowdown", id="negative-slowdown"),
        pytest.param("startup_delay_s", -1.0, "--startup-delay-s", id="negative-startup"),
        pytest.param("drain_timeout_s", -1.0, "--drain-timeout-s", id="negative-drain"),
        pytest.param("max_batch", 0, "--max-batch", id="zero-batch"),
        pytest.param("max_model_len", 1, "--max-model-len", id="tiny-context"),
        pytest.param("fail_rate", 1.5, "--fail-rate", id="fail-rate-above-1"),
        pytest.param("port", 70000, "--port", id="port-range"),
        pytest.param("model_name", " ", "--model-name", id="blank-model"),
    ],
)
def test_bad_flags(field: str, value: object, flag: str) -> None:
    with pytest.raises(InputError) as caught:
        dataclasses.replace(EngineConfig(), **{field: value}).checked()
    assert caught.value.where == flag


def test_defaults_are_valid_and_map_to_the_step_model() -> None:
    config = EngineConfig().checked()
    model = config.step_time
    assert model.tpot_s == config.tpot_ms / 1000 and model.ttft_s == config.ttft_ms / 1000


@pytest.mark.parametrize(
    ("env", "identity"),
    [
        pytest.param({}, ReplicaIdentity("", "", None), id="outside-a-provider"),
        pytest.param({"HEDGE_REPLICA_ID": "7", "HEDGE_ZONE": "gcp/r/z", "HEDGE_SPOT": "1"},
                     ReplicaIdentity("7", "gcp/r/z", True), id="spot"),
        pytest.param({"HEDGE_SPOT": "False"}, ReplicaIdentity("", "", False), id="on-demand"),
    ],
)
def test_identity_from_env(env: dict[str, str], identity: ReplicaIdentity) -> None:
    assert identity_from_env(env) == identity


def test_garbage_spot_flag_is_input_error() -> None:
    with pytest.raises(InputError, match="HEDGE_SPOT"):
        identity_from_env({"HEDGE_SPOT": "maybe"})


async def test_busy_port_is_input_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        config = EngineConfig(port=taken.getsockname()[1]).checked()
        with pytest.raises(InputError) as caught:
            await serve(config, ReplicaIdentity())
    assert caught.value.where == "--port"
