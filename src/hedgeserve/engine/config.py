"""The emulated engine's settings and the replica identity it reports.

`EngineConfig.checked()` validates once, at the edge (the CLI), raising `InputError` that names
the flag; the server trusts a checked config. `ReplicaIdentity` comes from the environment the
provider sets (`HEDGE_REPLICA_ID`, `HEDGE_ZONE`, `HEDGE_SPOT`) and is echoed in `/health` and in
the `x-hedge-replica` response header, so routing tests can see which replica answered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hedgeserve.engine.step_time import StepTimeModel
from hedgeserve.errors import InputError

DEFAULT_MODEL_NAME = "hedgeserve/emulated-llm"
DEFAULT_MAX_TOKENS = 64  # when a request gives no max_tokens (capped by the context left)


@dataclass(frozen=True, slots=True)
class EngineConfig:
    host: str = "127.0.0.1"
    port: int = 8000
    model_name: str = DEFAULT_MODEL_NAME
    seed: int = 0
    ttft_ms: float = 50.0
    prefill_ms_per_token: float = 0.1
    tpot_ms: float = 20.0
    max_batch: int = 64
    batch_slowdown: float = 0.02
    max_model_len: int = 8192
    startup_delay_s: float = 0.0
    drain_timeout_s: float = 30.0
    fail_rate: float = 0.0

    def checked(self) -> EngineConfig:
        """Return self, or raise `InputError` naming the first bad flag."""
        non_negative = {
            "ttft-ms": self.ttft_ms,
            "prefill-ms-per-token": self.prefill_ms_per_token,
            "tpot-ms": self.tpot_ms,
            "batch-slowdown": self.batch_slowdown,
            "startup-delay-s": self.startup_delay_s,
            "drain-timeout-s": self.drain_timeout_s,
        }
        for flag, value in non_negative.items():
            if not value >= 0:  # also rejects NaN
                raise InputError(f"must be >= 0, got {value}", where=f"--{flag}")
        if not 0 <= self.port <= 65535:
            raise InputError(f"port {self.port} is out of range", where="--port",
                             fix="use 0..65535 (0 picks a free port)")
        if self.max_batch < 1:
            raise InputError(f"must be >= 1, got {self.max_batch}", where="--max-batch")
        if self.max_model_len < 2:
            raise InputError(f"must be >= 2, got {self.max_model_len}", where="--max-model-len")
        if not 0 <= self.fail_rate <= 1:
            raise InputError(f"must be within 0..1, got {self.fail_rate}", where="--fail-rate")
        if not self.model_name.strip():
            raise InputError("must not be empty", where="--model-name")
        return self

    @property
    def step_time(self) -> StepTimeModel:
        return StepTimeModel(
            ttft_s=self.ttft_ms / 1000,
            prefill_s_per_token=self.prefill_ms_per_token / 1000,
            tpot_s=self.tpot_ms / 1000,
            batch_slowdown=self.batch_slowdown,
        )


@dataclass(frozen=True, slots=True)
class ReplicaIdentity:
    replica_id: str = ""
    zone: str = ""
    is_spot: bool | None = None  # None when the environment does not say

    @property
    def header(self) -> str:
        """Value of `x-hedge-replica`: the replica id, or "unknown" outside a provider."""
        return self.replica_id or "unknown"


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def identity_from_env(env: Mapping[str, str]) -> ReplicaIdentity:
    """Read HEDGE_REPLICA_ID, HEDGE_ZONE and HEDGE_SPOT (a boolean word) from `env`."""
    spot_word = env.get("HEDGE_SPOT", "").strip().lower()
    if spot_word and spot_word not in _TRUE | _FALSE:
        raise InputError(f"HEDGE_SPOT={spot_word!r} is not a boolean", where="environment",
                         fix="set HEDGE_SPOT to 1/0, true/false or yes/no")
    return ReplicaIdentity(
        replica_id=env.get("HEDGE_REPLICA_ID", ""),
        zone=env.get("HEDGE_ZONE", ""),
        is_spot=(spot_word in _TRUE) if spot_word else None,
    )
