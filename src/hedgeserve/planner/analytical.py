"""The analytical capacity model: a roofline estimate of one replica's rate per bucket.

A replica (one GPU type x tensor-parallel degree t) serves one model with continuous batching
and chunked prefill, as vLLM does. In steady state at arrival rate lam (req/s) of one bucket
(I input, O output tokens; average context c = I + O/2):

- each engine step takes  tau = max(tau_mem, tau_compute) + overhead, where
  tau_mem     = (weights + B * c * kv_bytes_per_token) / (t * bandwidth * eff_bw)   (decode reads
                the weights once per step and every running request's KV cache), and
  tau_compute = per-step FLOPs / (t * tensor_flops * eff_compute), the FLOPs being 2 * params per
                token plus attention (4 * layers * hidden * context per decode token, half that
                per prefill token), for the B decode tokens and the prefill tokens of the step;
- B, the number of running requests, follows Little's law: B = lam * O * tau, so tau is the
  fixed point tau = a / (1 - b * lam) of each roofline term;
- TPOT = tau; TTFT = tau + (the request's own prefill compute) / (1 - compute utilisation);
- the KV cache holds (memory * t * utilisation - weights) / kv_bytes_per_token tokens, and the
  running requests need B * c of them; the engine runs at most `max_running_requests` at once
  and the API server handles at most `max_requests_per_s`.

The capacity is the highest lam meeting the SLO and all limits (each grows with lam, so it is
found by bisection). Assumptions, all visible in `Assumptions`: bandwidth and compute
efficiencies are constants; tensor-parallel communication, CPU and detokenisation costs are
ignored except through the step overhead and the request cap; the model's context window is not
enforced (long buckets are costed as if the model accepted them); latencies are steady-state
means, not tail percentiles. docs/planner.md compares the model against published measurements.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hedgeserve.planner.buckets import Bucket, BucketGrid
from hedgeserve.planner.capacity import CapacityCell, CapacityTable, Limit, Slo
from hedgeserve.planner.catalog import GpuType
from hedgeserve.planner.models import ModelSpec

TENSOR_PARALLEL_CHOICES = (1, 2, 4, 8)


@dataclass(frozen=True, slots=True)
class Assumptions:
    bandwidth_efficiency: float = 0.75  # share of peak memory bandwidth decode achieves
    compute_efficiency: float = 0.5  # share of peak dense tensor FLOP/s prefill achieves
    memory_utilization: float = 0.9  # share of GPU memory the engine may use (vLLM default)
    step_overhead_s: float = 0.002  # scheduling and kernel-launch time per engine step
    max_running_requests: int = 256  # vLLM's default max_num_seqs
    max_requests_per_s: float = 100.0  # what one API server process handles (tokenise, stream)
    min_kv_share: float = 0.1  # auto tensor parallelism leaves at least this share for KV


@dataclass(frozen=True, slots=True)
class _Replica:
    """Per-replica hardware totals, after efficiencies (bytes, bytes/s, FLOP/s)."""

    usable_bytes: float
    bandwidth: float
    flops: float


def _replica(gpu: GpuType, tp: int, a: Assumptions) -> _Replica:
    return _Replica(usable_bytes=gpu.memory_gb * 1e9 * tp * a.memory_utilization,
                    bandwidth=gpu.bandwidth_tb_s * 1e12 * tp * a.bandwidth_efficiency,
                    flops=gpu.tensor_tflops * 1e12 * tp * a.compute_efficiency)


def auto_tensor_parallel(gpu: GpuType, model: ModelSpec, a: Assumptions) -> int | None:
    """Smallest degree in TENSOR_PARALLEL_CHOICES whose memory leaves room for a KV cache."""
    for tp in TENSOR_PARALLEL_CHOICES:
        usable = _replica(gpu, tp, a).usable_bytes
        if usable - model.weight_bytes >= a.min_kv_share * usable:
            return tp
    return None


def bucket_capacity(gpu: GpuType, model: ModelSpec, tp: int, bucket: Bucket, slo: Slo,
                    a: Assumptions) -> CapacityCell:
    """The highest rate (req/s) one replica sustains on `bucket` alone under `slo`."""
    hw = _replica(gpu, tp, a)
    kv_room = hw.usable_bytes - model.weight_bytes
    if kv_room <= 0:
        return CapacityCell(0.0, Limit.WEIGHTS, math.inf, math.inf)
    kv_per_token = model.kv_bytes_per_token
    kv_tokens = kv_room / kv_per_token
    n_in, n_out = bucket.input_tokens, bucket.output_tokens
    if n_in + n_out > kv_tokens:
        return CapacityCell(0.0, Limit.CONTEXT, math.inf, math.inf)
    context = n_in + n_out / 2
    two_p = 2 * model.params_b * 1e9
    attention = 2 * model.layers * model.hidden_size  # FLOPs per token per context token / 2
    prefill_flops = n_in * (two_p + attention * n_in)
    request_flops = prefill_flops + n_out * (two_p + 2 * attention * context)
    a_mem = model.weight_bytes / hw.bandwidth + a.step_overhead_s
    b_mem = n_out * context * kv_per_token / hw.bandwidth  # tau_mem = a_mem / (1 - b_mem*lam)
    b_compute = request_flops / hw.flops  # compute utilisation per unit rate

    def step_s(lam: float) -> float:
        tau_mem = a_mem / (1 - b_mem * lam)
        tau_compute = a.step_overhead_s / (1 - b_compute * lam)
        return max(tau_mem, tau_compute)

    def ttft_s(lam: float) -> float:
        return step_s(lam) + (prefill_flops / hw.flops) / (1 - b_compute * lam)

    best_tpot = a_mem + context * kv_per_token / hw.bandwidth
    best_ttft = ttft_s(0.0)

    def violated(lam: float) -> Limit | None:
        tau = step_s(lam)
        running = lam * n_out * tau
        if tau > slo.tpot_s:
            return Limit.TPOT
        if slo.ttft_s is not None and ttft_s(lam) > slo.ttft_s:
            return Limit.TTFT
        if running * context > kv_tokens:
            return Limit.KV_MEMORY
        if running > a.max_running_requests:
            return Limit.BATCH
        return None

    first = violated(0.0)
    if first is not None or best_tpot > slo.tpot_s:
        return CapacityCell(0.0, first or Limit.TPOT, best_tpot, best_ttft)
    # Both roofline terms diverge as utilisation -> 1; stay just below that pole.
    pole = min(1 / b_mem, 1 / b_compute) * (1 - 1e-9)
    hi = min(pole, a.max_requests_per_s)
    if violated(hi) is None:
        limit = Limit.REQUESTS if hi == a.max_requests_per_s else Limit.TPOT
        return CapacityCell(hi, limit, best_tpot, best_ttft)
    lo = 0.0
    for _ in range(80):  # bisection to ~1e-24 relative: far below anything that matters
        mid = (lo + hi) / 2
        if violated(mid) is None:
            lo = mid
        else:
            hi = mid
    return CapacityCell(lo, violated(hi) or Limit.TPOT, best_tpot, best_ttft)


def capacity_table(gpu: GpuType, model: ModelSpec, tp: int, grid: BucketGrid, slo: Slo,
                   a: Assumptions) -> CapacityTable:
    cells = tuple(bucket_capacity(gpu, model, tp, b, slo, a) for b in grid.buckets)
    return CapacityTable(gpu.name, tp, "analytical", cells)
