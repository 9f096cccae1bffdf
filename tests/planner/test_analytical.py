"""The analytical capacity model: arithmetic checks and monotonicity."""

from __future__ import annotations

import pytest

from hedgeserve.planner.analytical import Assumptions, auto_tensor_parallel, bucket_capacity
from hedgeserve.planner.buckets import Bucket
from hedgeserve.planner.capacity import Limit, Slo
from hedgeserve.planner.catalog import load_gpu_catalog
from hedgeserve.planner.models import load_model

CATALOG = load_gpu_catalog()
LLAMA7B = load_model("llama-2-7b")
A = Assumptions()


def test_l4_cannot_reach_40ms_tpot_on_llama_2_7b() -> None:
    # Reading 13.48 GB of weights at 300 GB/s * 0.75 takes 59.9 ms, plus 2 ms step overhead:
    # a lone request's TPOT is ~62 ms > 40 ms, so no rate meets the SLO.
    cell = bucket_capacity(CATALOG["L4"], LLAMA7B, 1, Bucket(25, 25), Slo(0.040), A)
    assert cell.rate_per_s == 0 and cell.limit is Limit.TPOT
    assert cell.best_tpot_s == pytest.approx(13.48e9 / 225e9 + 0.002, rel=0.01)


def test_capacity_sits_on_the_binding_limit() -> None:
    slo = Slo(0.120)
    cell = bucket_capacity(CATALOG["A100-80GB"], LLAMA7B, 1, Bucket(2000, 2000), slo, A)
    assert cell.limit is Limit.KV_MEMORY
    # KV room: 80e9 * 0.9 - 13.48e9 = 58.52e9 B = 111,618 tokens at 524,288 B/token; the
    # running requests (lam * O * tau) each hold c = 2000 + 1000 tokens at the capacity.
    a_mem = 13.48e9 / (2.039e12 * 0.75) + 0.002
    b_mem = 2000 * 3000 * 524288 / (2.039e12 * 0.75)
    lam = cell.rate_per_s
    tau = a_mem / (1 - b_mem * lam)
    assert lam * 2000 * tau * 3000 == pytest.approx(58.52e9 / 524288, rel=1e-6)


def test_weights_that_do_not_fit_give_zero_and_auto_tp_splits() -> None:
    # 13.48 GB of weights vs 16 GB * 0.9 = 14.4 GB usable on one T4: too little left for KV.
    assert auto_tensor_parallel(CATALOG["T4"], LLAMA7B, A) == 2
    llama70 = load_model("llama-2-70b")
    cell = bucket_capacity(CATALOG["L4"], llama70, 1, Bucket(25, 25), Slo(1.0), A)
    assert cell.rate_per_s == 0 and cell.limit is Limit.WEIGHTS
    assert auto_tensor_parallel(CATALOG["H100"], llama70, A) == 4


@pytest.mark.parametrize("gpu", ["A10G", "L40S", "A100-40GB", "H100"])
def test_capacity_falls_with_bucket_size_and_rises_with_slo(gpu: str) -> None:
    sizes = [(25, 25), (100, 100), (500, 250), (2000, 1000)]
    for slo_s in (0.04, 0.08, 0.2):
        rates = [bucket_capacity(CATALOG[gpu], LLAMA7B, 1, Bucket(i, o), Slo(slo_s), A).rate_per_s
                 for i, o in sizes]
        assert rates == sorted(rates, reverse=True)
    for i, o in sizes:
        rates = [bucket_capacity(CATALOG[gpu], LLAMA7B, 1, Bucket(i, o), Slo(s), A).rate_per_s
                 for s in (0.04, 0.08, 0.2)]
        assert rates == sorted(rates)


def test_ttft_slo_only_lowers_capacity() -> None:
    # A lone 2000-token prefill takes ~0.83 s on an A10G at 50% of 70 TFLOP/s; a 1.5 s TTFT SLO
    # leaves room for some queueing but binds before the TPOT SLO does.
    gpu, bucket = CATALOG["A10G"], Bucket(2000, 100)
    loose = bucket_capacity(gpu, LLAMA7B, 1, bucket, Slo(0.1), A)
    tight = bucket_capacity(gpu, LLAMA7B, 1, bucket, Slo(0.1, ttft_s=1.5), A)
    assert 0 < tight.rate_per_s < loose.rate_per_s and tight.limit is Limit.TTFT
