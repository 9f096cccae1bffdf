"""`service.readiness_probe` and its resolved form, `ReadinessProbe`.

SkyServe's schema is accepted as-is: a path string, or an object with path,
initial_delay_seconds, timeout_seconds, post_data (object or JSON string) and headers; SkyServe's
`endpoint_probe_interval_seconds` and `consecutive_failure_threshold_timeout` are accepted as
aliases of our `period_seconds` and `failure_threshold_seconds`.

Invariant: timings the user leaves out are filled per provider by `resolve`. Local replicas are
processes on this machine that start in seconds, so they get short defaults; cloud replicas keep
SkyServe's (a VM plus a model download can take many minutes).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from pydantic import Field, JsonValue, field_validator, model_validator

from hedgeserve.spec.provider import ProviderName
from hedgeserve.spec.strict_model import PositiveSeconds, Seconds, StrictModel, rule_error


@dataclass(frozen=True, slots=True)
class ProbeTimings:
    # A replica not ready this long after its launch (the launch intent, so boot and model load
    # count) is replaced; probe failures before then do not count (`control.probe.judge`).
    initial_delay_s: float
    timeout_s: float  # per-probe HTTP timeout
    period_s: float  # time between probes
    failure_threshold_s: float  # a ready replica failing probes this long is replaced


LOCAL_PROBE_DEFAULTS = ProbeTimings(
    initial_delay_s=120.0, timeout_s=10.0, period_s=2.0, failure_threshold_s=10.0
)
SKYSERVE_PROBE_DEFAULTS = ProbeTimings(
    initial_delay_s=1200.0, timeout_s=15.0, period_s=10.0, failure_threshold_s=180.0
)

# SkyServe key -> our key. Both spellings mean the same; giving both is ambiguous.
SKYSERVE_PROBE_ALIASES = {
    "endpoint_probe_interval_seconds": "period_seconds",
    "consecutive_failure_threshold_timeout": "failure_threshold_seconds",
}
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


@dataclass(frozen=True, slots=True)
class ReadinessProbe:
    """What the controller probes: GET `path`, or POST `post_data` as JSON when it is set."""

    path: str
    timings: ProbeTimings
    headers: Mapping[str, str]
    post_data: Mapping[str, JsonValue] | None

    @property
    def method(self) -> str:
        return "GET" if self.post_data is None else "POST"


class ReadinessProbeConfig(StrictModel):
    path: str = Field(default="/", description="a URL path starting with /, e.g. /health")
    initial_delay_seconds: Seconds | None = None
    timeout_seconds: PositiveSeconds | None = None
    period_seconds: PositiveSeconds | None = None
    failure_threshold_seconds: Seconds | None = None
    post_data: dict[str, JsonValue] | None = Field(
        default=None, description="a JSON object (or a string holding one) to POST instead of GET"
    )
    headers: dict[str, str] = Field(
        default_factory=dict, description="a map of header name to string value"
    )

    @model_validator(mode="before")
    @classmethod
    def _normalize(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"path": data}
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for theirs, ours in SKYSERVE_PROBE_ALIASES.items():
            if theirs in data:
                if ours in data:
                    raise rule_error(
                        f"both {theirs} and {ours} are set; they mean the same",
                        fix=f"keep only {ours}",
                        field=theirs,
                    )
                data[ours] = data.pop(theirs)
        return data

    @field_validator("path")
    @classmethod
    def _path_is_absolute(cls, path: str) -> str:
        if not path.startswith("/"):
            raise rule_error(
                f"readiness path {path!r} does not start with '/'", fix=f"use '/{path}'"
            )
        return path

    @field_validator("post_data", mode="before")
    @classmethod
    def _parse_json_string(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as err:
            raise rule_error(
                f"post_data is not valid JSON ({err.msg} at char {err.pos})",
                fix="write post_data as a YAML mapping, or quote a valid JSON object",
            ) from None
        if not isinstance(parsed, dict):
            raise rule_error(
                f"post_data must be a JSON object, got {type(parsed).__name__}",
                fix='use an object, e.g. {"model": "m", "prompt": "hi", "max_tokens": 1}',
            )
        return parsed

    @field_validator("headers", mode="before")
    @classmethod
    def _header_values_as_text(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        out: dict[Any, Any] = {}
        for name, text in value.items():
            if not isinstance(name, str) or not _HEADER_NAME.match(name):
                raise rule_error(
                    f"{name!r} is not a valid HTTP header name",
                    fix="use letters, digits and '-', e.g. Authorization",
                    field=str(name),
                )
            if isinstance(text, int | float) and not isinstance(text, bool):
                text = str(text)
            if isinstance(text, str) and ("\n" in text or "\r" in text):
                raise rule_error(
                    "a header value contains a line break",
                    fix="put the value on one line",
                    field=name,
                )
            out[name] = text
        return out

    def resolve(self, provider: ProviderName) -> ReadinessProbe:
        base = LOCAL_PROBE_DEFAULTS if provider is ProviderName.LOCAL else SKYSERVE_PROBE_DEFAULTS
        timings = ProbeTimings(
            initial_delay_s=_or(self.initial_delay_seconds, base.initial_delay_s),
            timeout_s=_or(self.timeout_seconds, base.timeout_s),
            period_s=_or(self.period_seconds, base.period_s),
            failure_threshold_s=_or(self.failure_threshold_seconds, base.failure_threshold_s),
        )
        return ReadinessProbe(
            path=self.path,
            timings=timings,
            headers=MappingProxyType(dict(self.headers)),
            post_data=None if self.post_data is None else MappingProxyType(dict(self.post_data)),
        )


def _or(value: float | None, default: float) -> float:
    return default if value is None else float(value)
