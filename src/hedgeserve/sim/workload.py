"""Request workloads for the simulator: when requests arrive and how long each one takes.

Sources (`parse_workload` reads them from a CLI string):
- `poisson:RATE` — Poisson arrivals, RATE req/s (the paper: 0.15).
- `counts:PATH[:scale=S][:cap=C]` — a per-minute request-count CSV such as the Azure Functions
  (MAF) trace, scaled by S (default 1e-4) and capped at C requests/min (default 90), as the
  SkyServe simulator does; arrivals are spread uniformly inside each minute.
- `log:PATH` — a request log (CSV with a header, or JSON lines) with an arrival time in
  seconds and, optionally, input and output token counts.

Service time is exponential with a mean (the paper: 10 s), or token-based when the workload
carries token counts: ttft + input × prefill + output × tpot.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hedgeserve.errors import InputError
from hedgeserve.sim.workload_files import read_per_minute_counts, read_request_log


@dataclass(frozen=True, slots=True)
class ServiceModel:
    mean_s: float = 10.0  # exponential service time when requests carry no tokens
    ttft_s: float = 0.2  # token-based: time to first token
    prefill_s_per_token: float = 0.0002
    tpot_s: float = 0.04  # time per output token
    use_tokens: bool = True  # token-based whenever the workload has token counts


@dataclass(frozen=True, slots=True)
class Workload:
    arrival_s: np.ndarray  # sorted, seconds from the run's start
    service_s: np.ndarray


@dataclass(frozen=True, slots=True)
class Poisson:
    rate: float

    def describe(self) -> str:
        return f"poisson:{self.rate:g}"

    def arrivals(self, rng: np.random.Generator, horizon_s: float) -> tuple[np.ndarray, None]:
        n = int(rng.poisson(self.rate * horizon_s))
        return np.sort(rng.uniform(0.0, horizon_s, n)), None


@dataclass(frozen=True, slots=True)
class PerMinuteCounts:
    path: str
    counts: np.ndarray  # requests per minute, after scale and cap
    scale: float
    cap: float

    def describe(self) -> str:
        return f"counts:{self.path}:scale={self.scale:g}:cap={self.cap:g}"

    def arrivals(self, rng: np.random.Generator, horizon_s: float) -> tuple[np.ndarray, None]:
        minutes = int(np.ceil(horizon_s / 60.0))
        start = int(rng.integers(0, len(self.counts)))  # random offset, wrapping like traces
        per_min = self.counts[(start + np.arange(minutes)) % len(self.counts)]
        n = rng.poisson(per_min) if (per_min % 1).any() else per_min.astype(np.int64)
        minute_of = np.repeat(np.arange(minutes), n)
        t = (minute_of + rng.uniform(0.0, 1.0, minute_of.size)) * 60.0
        return np.sort(t[t < horizon_s]), None


@dataclass(frozen=True, slots=True)
class RequestLog:
    path: str
    arrival_s: np.ndarray
    tokens: np.ndarray | None  # (n, 2): input, output

    def describe(self) -> str:
        return f"log:{self.path}"

    def arrivals(
        self, rng: np.random.Generator, horizon_s: float
    ) -> tuple[np.ndarray, np.ndarray | None]:
        keep = self.arrival_s < horizon_s  # replayed as recorded, from its own start
        return self.arrival_s[keep], None if self.tokens is None else self.tokens[keep]


WorkloadSource = Poisson | PerMinuteCounts | RequestLog


def make_workload(
    source: WorkloadSource, service: ServiceModel, rng: np.random.Generator, horizon_s: float
) -> Workload:
    arrival, tokens = source.arrivals(rng, horizon_s)
    if tokens is not None and service.use_tokens:
        service_s = (
            service.ttft_s
            + tokens[:, 0] * service.prefill_s_per_token
            + tokens[:, 1] * service.tpot_s
        )
    else:
        service_s = rng.exponential(service.mean_s, arrival.size)
    return Workload(arrival_s=arrival, service_s=np.asarray(service_s, dtype=np.float64))


def parse_workload(text: str) -> WorkloadSource:
    kind, _, rest = text.partition(":")
    if kind == "poisson":
        return Poisson(_positive(rest, "poisson rate (req/s)", text))
    if kind in ("counts", "maf"):
        path, options = _path_and_options(rest, text)
        scale = _positive(options.pop("scale", "1e-4"), "scale", text)
        cap = _positive(options.pop("cap", "90"), "cap (req/min)", text)
        _no_more(options, text)
        counts = np.minimum(read_per_minute_counts(Path(path)) * scale, cap)
        return PerMinuteCounts(path, counts, scale, cap)
    if kind == "log":
        path, options = _path_and_options(rest, text)
        _no_more(options, text)
        arrival, tokens = read_request_log(Path(path))
        return RequestLog(path, arrival, tokens)
    raise InputError(
        f"unknown workload {text!r}",
        where="--workload",
        fix="use poisson:RATE, counts:PATH[:scale=S][:cap=C] or log:PATH",
    )


def _path_and_options(rest: str, text: str) -> tuple[str, dict[str, str]]:
    path, *opts = rest.split(":")
    if not path:
        raise InputError(f"workload {text!r} names no file", where="--workload")
    options: dict[str, str] = {}
    for opt in opts:
        key, eq, value = opt.partition("=")
        if not eq:
            raise InputError(f"option {opt!r} is not key=value", where="--workload")
        options[key] = value
    return path, options


def _no_more(options: dict[str, str], text: str) -> None:
    if options:
        raise InputError(f"unknown option(s) {sorted(options)} in {text!r}", where="--workload")


def _positive(value: str, what: str, text: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise InputError(f"{what} {value!r} is not a number", where="--workload") from None
    if not number > 0 or not np.isfinite(number):
        raise InputError(f"{what} must be positive, got {value}", where=f"--workload {text}")
    return number
