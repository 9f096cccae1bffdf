"""`hedge profile` pieces: the rate search, profile files, and a run against a fake server."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from aiohttp import web

from hedgeserve.errors import InputError
from hedgeserve.planner.buckets import BucketGrid
from hedgeserve.planner.capacity import Slo
from hedgeserve.planner.loadgen import PointSettings
from hedgeserve.planner.profile_file import (
    LatencyStats,
    ProfileLabels,
    ProfilePoint,
    capacity_from_points,
    capacity_from_profile,
    read_profile,
    write_profile,
)
from hedgeserve.planner.profiler import (
    ProfileRequest,
    SearchSettings,
    api_base,
    profile_endpoint,
    record,
    start_search,
)


def run_search(capacity: float, settings: SearchSettings) -> tuple[list[float], float]:
    """Drive the pure search against a replica that passes every rate <= capacity."""
    search, tried = start_search(settings), []
    while search.next_rate_per_s is not None:
        rate = search.next_rate_per_s
        tried.append(rate)
        search = record(search, rate, rate <= capacity)
    return tried, search.capacity_per_s


@pytest.mark.parametrize(
    ("capacity", "tried", "found"),
    [
        # doubles 1, 2, 4 (pass) 8 (fail), bisects 6 (pass) 7 (fail): 14% apart, so once more
        # 6.5 (pass): 7% apart -> stop
        (6.5, [1, 2, 4, 8, 6, 7, 6.5], 6.5),
        # never fails: stops at the cap
        (1000, [1, 2, 4, 8, 16, 32, 64], 64),
        # fails at once: halves down to the floor (0.05) and gives 0
        (0.0, [1, 0.5, 0.25, 0.125, 0.0625], 0),
        # fails at 1, passes at 0.5, bisects 0.75 (pass) then 0.875 (fail): 14% apart, one
        # more step 0.8125 (fail): 7.7% apart -> stop at 0.75
        (0.8, [1, 0.5, 0.75, 0.875, 0.8125], 0.75),
    ],
    ids=["bracket-and-bisect", "cap", "infeasible", "shrink-then-bisect"])
def test_rate_search(capacity: float, tried: list[float], found: float) -> None:
    got_tried, got = run_search(capacity, SearchSettings())
    assert got_tried == pytest.approx(tried)
    assert got == pytest.approx(found)


def _point(rate: float, tpot: float, errors: int = 0) -> ProfilePoint:
    stats = LatencyStats(p50=tpot, p90=tpot * 1.5, p99=tpot * 2)
    return ProfilePoint(rate_per_s=rate, requests=10, errors=errors, throughput_per_s=rate,
                        ttft_s=LatencyStats(p50=0.1, p90=0.2, p99=0.3), tpot_s=stats)


def test_capacity_from_points_needs_every_lower_rate_to_pass() -> None:
    points = [_point(8, 0.05), _point(1, 0.01), _point(2, 0.02), _point(4, 0.05), _point(3, 0.02)]
    assert capacity_from_points(points, Slo(0.03)) == 3  # 4 fails, so 8 never counts
    # p90 = 1.5 x p50: 0.015 at 1 req/s passes, 0.03 at 2 req/s misses 25 ms
    assert capacity_from_points(points, Slo(0.025, percentile=90)) == 1
    assert capacity_from_points([_point(1, 0.01, errors=1)], Slo(1.0)) == 0  # errors fail


def test_profile_with_missing_bucket_is_refused(tmp_path: Path) -> None:
    from hedgeserve.planner.profile_file import Profile, ProfileBucket, ProfileSlo

    profile = Profile(labels=ProfileLabels(gpu="L4", model="m"), slo=ProfileSlo(tpot_s=0.05),
                      input_edges=[25], output_edges=[25],
                      buckets=[ProfileBucket(input_tokens=25, output_tokens=25,
                                             capacity_per_s=2, points=[_point(2, 0.01)])])
    path = tmp_path / "p.json"
    write_profile(path, profile)
    loaded = read_profile(path)
    table = capacity_from_profile(loaded, BucketGrid((25,), (25,)), Slo(0.05), str(path))
    assert table.rates_per_s == (2.0,) and table.gpu == "L4"
    with pytest.raises(InputError, match="no bucket 100x25"):
        capacity_from_profile(loaded, BucketGrid((25, 100), (25,)), Slo(0.05), str(path))


def test_api_base_accepts_v1_suffix() -> None:
    assert api_base("http://127.0.0.1:8000/v1/") == "http://127.0.0.1:8000"


TOKEN_S = 0.004  # the fake's time per token for a lone request; it slows with concurrency


def fake_openai_app() -> web.Application:
    """A tiny OpenAI-style streaming server whose speed is shared by the requests in flight."""
    active = 0

    async def models(_: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": "fake-llm"}]})

    async def completions(request: web.Request) -> web.StreamResponse:
        nonlocal active
        body = await request.json()
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        active += 1
        try:
            await asyncio.sleep(0.005)  # prefill
            for _ in range(int(body["max_tokens"])):
                await asyncio.sleep(TOKEN_S * active)
                await response.write(b'data: {"choices": [{"text": "x"}]}\n\n')
            usage = {"choices": [], "usage": {"completion_tokens": int(body["max_tokens"])}}
            await response.write(f"data: {json.dumps(usage)}\n\n".encode())
            await response.write(b"data: [DONE]\n\n")
        finally:
            active -= 1
        return response

    app = web.Application()
    app.router.add_get("/v1/models", models)
    app.router.add_post("/v1/completions", completions)
    return app


@pytest.mark.timeout(60)
async def test_profiler_finds_the_fake_servers_capacity(aiohttp_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server = await aiohttp_server(fake_openai_app())
    slo = Slo(tpot_s=0.012)  # ~3 requests in flight at most (3 x 4 ms)
    request = ProfileRequest(
        endpoint=str(server.make_url("/")), model_name=None,
        labels=ProfileLabels(gpu="L4", model="fake"), grid=BucketGrid((25,), (8,)), slo=slo,
        search=SearchSettings(start_rate_per_s=2, max_rate_per_s=256, refine_steps=2,
                              rel_tolerance=0.2),
        point=PointSettings(duration_s=0.4, min_requests=8, drain_s=5.0), seed=7)
    profile = await profile_endpoint(request)
    (bucket,) = profile.buckets
    rates = sorted(p.rate_per_s for p in bucket.points)
    # 8 tokens x 4 ms = 32 ms of work per request: the fake saturates near 30 req/s and the
    # 12 ms TPOT SLO binds well before that; it must pass at 2 req/s and fail by 256.
    assert 2 <= bucket.capacity_per_s < 256
    assert any(not_ok for not_ok in (p.tpot_s is None or p.tpot_s.p50 > slo.tpot_s
                                     for p in bucket.points))
    assert bucket.capacity_per_s == capacity_from_points(bucket.points, slo)
    assert rates[0] == 2 and profile.settings["served_model"] == "fake-llm"
    path = tmp_path / "profile.json"
    write_profile(path, profile)
    table = capacity_from_profile(read_profile(path), BucketGrid((25,), (8,)), slo, str(path))
    assert table.rates_per_s == (bucket.capacity_per_s,)
