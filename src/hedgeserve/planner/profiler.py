"""`hedge profile`: find each bucket's highest sustainable rate on a live endpoint.

For each bucket of the grid, a rate search (pure, `RateSearch`) picks the next rate to try:
it doubles from `start_rate_per_s` until a point misses the SLO (or `max_rate_per_s` passes),
halves from the start when the first point already misses (down to `min_rate_per_s`), then
bisects between the highest passing and the lowest failing rate for `refine_steps` steps or
until they are within `rel_tolerance`. The capacity is the highest passing rate. The shell
(`profile_endpoint`) measures each point with `loadgen.measure_point` and records every point.

The profiler talks only the OpenAI API (aiohttp), so it runs unchanged against `hedge engine`
or vLLM on a GPU.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import aiohttp

from hedgeserve.errors import InputError
from hedgeserve.planner.buckets import BucketGrid
from hedgeserve.planner.capacity import Slo
from hedgeserve.planner.loadgen import PointSettings, measure_point, request_body
from hedgeserve.planner.profile_file import (
    SCHEMA,
    Profile,
    ProfileBucket,
    ProfileLabels,
    ProfilePoint,
    ProfileSlo,
    capacity_from_points,
    point_meets,
)


@dataclass(frozen=True, slots=True)
class SearchSettings:
    start_rate_per_s: float = 1.0
    max_rate_per_s: float = 64.0
    min_rate_per_s: float = 0.05
    refine_steps: int = 4
    rel_tolerance: float = 0.1

    def __post_init__(self) -> None:
        if not 0 < self.min_rate_per_s <= self.start_rate_per_s <= self.max_rate_per_s:
            raise ValueError("need 0 < min rate <= start rate <= max rate")


@dataclass(frozen=True, slots=True)
class RateSearch:
    """Where the search stands: the best passing rate, the lowest failing one, what's next."""

    settings: SearchSettings
    passed_per_s: float = 0.0  # highest rate that met the SLO (0: none yet)
    failed_per_s: float | None = None  # lowest rate that missed it (None: none yet)
    next_rate_per_s: float | None = None  # None: the search is over
    refined: int = 0

    @property
    def capacity_per_s(self) -> float:
        return self.passed_per_s


def start_search(settings: SearchSettings) -> RateSearch:
    return RateSearch(settings, next_rate_per_s=settings.start_rate_per_s)


def record(search: RateSearch, rate_per_s: float, met_slo: bool) -> RateSearch:
    """The search after measuring `rate_per_s` (pure)."""
    s = search.settings
    passed = max(search.passed_per_s, rate_per_s) if met_slo else search.passed_per_s
    failed = search.failed_per_s
    if not met_slo:
        failed = rate_per_s if failed is None else min(failed, rate_per_s)
    if failed is None:  # still growing
        grown = min(rate_per_s * 2, s.max_rate_per_s)
        nxt = grown if grown > rate_per_s else None
        return RateSearch(s, passed, failed, nxt, search.refined)
    if passed == 0:  # nothing passed yet: shrink
        shrunk = rate_per_s / 2
        nxt = shrunk if shrunk >= s.min_rate_per_s else None
        return RateSearch(s, passed, failed, nxt, search.refined)
    close = (failed - passed) / failed <= s.rel_tolerance
    if close or search.refined >= s.refine_steps:
        return RateSearch(s, passed, failed, None, search.refined)
    return RateSearch(s, passed, failed, (passed + failed) / 2, search.refined + 1)


def api_base(endpoint: str) -> str:
    """'http://host:port' from 'http://host:port', '.../' or '.../v1'."""
    base = endpoint.rstrip("/")
    return base.removesuffix("/v1")


async def served_model_name(session: aiohttp.ClientSession, endpoint: str) -> str:
    """The first model id the endpoint lists at /v1/models."""
    url = f"{api_base(endpoint)}/v1/models"
    try:
        async with session.get(url) as response:
            body = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as err:
        raise InputError(f"cannot list models at {url}: {type(err).__name__}: {err}",
                         where="--endpoint",
                         fix="start the server (e.g. `hedge engine --port 8000`) or pass "
                             "--model-name") from None
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list) or not data or not isinstance(data[0], dict):
        raise InputError(f"{url} lists no models", where="--endpoint", fix="pass --model-name")
    return str(data[0].get("id"))


@dataclass(frozen=True, slots=True)
class ProfileRequest:
    endpoint: str
    model_name: str | None  # the name the server serves; None: ask /v1/models
    labels: ProfileLabels
    grid: BucketGrid
    slo: Slo
    search: SearchSettings = SearchSettings()
    point: PointSettings = PointSettings()
    seed: int = 0


ProgressFn = Callable[[str, ProfilePoint, bool], None]


async def _profile_bucket(session: aiohttp.ClientSession, url: str, body: dict[str, object],
                          request: ProfileRequest, rng: random.Random, name: str,
                          progress: ProgressFn | None) -> list[ProfilePoint]:
    search = start_search(request.search)
    points: list[ProfilePoint] = []
    while search.next_rate_per_s is not None:
        rate = search.next_rate_per_s
        point = await measure_point(session, url, body, rate, request.point, rng)
        met = point_meets(point, request.slo)
        points.append(point)
        if progress is not None:
            progress(name, point, met)
        search = record(search, rate, met)
    return points


async def profile_endpoint(request: ProfileRequest,
                           progress: ProgressFn | None = None) -> Profile:
    """Measure every bucket of the grid; returns the profile document."""
    rng = random.Random(request.seed)
    path = "chat/completions" if request.point.api == "chat" else "completions"
    url = f"{api_base(request.endpoint)}/v1/{path}"
    timeout = aiohttp.ClientTimeout(total=request.point.request_timeout_s)
    async with aiohttp.ClientSession(timeout=timeout,
                                     connector=aiohttp.TCPConnector(limit=0)) as session:
        model = request.model_name or await served_model_name(session, request.endpoint)
        buckets: list[ProfileBucket] = []
        for bucket in request.grid.buckets:
            body = request_body(model, bucket, request.point.api)
            points = await _profile_bucket(session, url, body, request, rng, bucket.name,
                                           progress)
            buckets.append(ProfileBucket(input_tokens=bucket.input_tokens,
                                         output_tokens=bucket.output_tokens,
                                         capacity_per_s=capacity_from_points(points, request.slo),
                                         points=points))
    settings: dict[str, float | int | str] = {
        "start_rate_per_s": request.search.start_rate_per_s,
        "max_rate_per_s": request.search.max_rate_per_s,
        "refine_steps": request.search.refine_steps,
        "duration_s": request.point.duration_s, "min_requests": request.point.min_requests,
        "warmup_share": request.point.warmup_share, "api": request.point.api,
        "served_model": model, "seed": request.seed,
    }
    return Profile(schema=SCHEMA, labels=stamped_labels(request.labels, request.endpoint),
                   slo=ProfileSlo(tpot_s=request.slo.tpot_s, ttft_s=request.slo.ttft_s,
                                  percentile=request.slo.percentile),
                   settings=settings, input_edges=list(request.grid.input_edges),
                   output_edges=list(request.grid.output_edges), buckets=buckets)


def stamped_labels(labels: ProfileLabels, endpoint: str) -> ProfileLabels:
    """The labels with the endpoint and (unless given) the creation time filled in."""
    created = labels.created_utc or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return labels.model_copy(update={"endpoint": endpoint, "created_utc": created})

