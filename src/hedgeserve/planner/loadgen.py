"""Open-loop load against an OpenAI-compatible endpoint: one rate point of one request size.

Requests arrive as a Poisson process (seeded), each asking for exactly `output_tokens` tokens
(`max_tokens` plus vLLM's `min_tokens`/`ignore_eos`, which other servers ignore) after a prompt
of `input_tokens` words ("hi hi hi ...", about one token per word, as Mélange's profiler does).
Responses stream (SSE); per request we record TTFT (first content chunk) and TPOT (time from the
first to the last token divided by the tokens after the first; the token count comes from the
`usage` chunk when the server sends one, else from the content chunks).

Time is bounded: requests are sent for about `duration_s`; then in-flight requests get
`drain_s` to finish and the rest are cancelled and counted as errors. The first `warmup_share`
of requests (by send order) is left out of the latency statistics.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass

import aiohttp
import numpy as np

from hedgeserve.planner.buckets import Bucket
from hedgeserve.planner.profile_file import LatencyStats, ProfilePoint


@dataclass(frozen=True, slots=True)
class PointSettings:
    duration_s: float = 10.0  # how long requests keep arriving at each rate
    min_requests: int = 20  # at least this many requests per point, however low the rate
    max_requests: int = 2000  # and at most this many
    drain_s: float = 30.0  # time allowed after the last send for requests to finish
    warmup_share: float = 0.1  # leading share of requests left out of the statistics
    request_timeout_s: float = 120.0
    api: str = "completions"  # or "chat"


@dataclass(frozen=True, slots=True)
class RequestResult:
    sent_at_s: float  # seconds after the point started
    ok: bool
    ttft_s: float | None
    tpot_s: float | None
    output_tokens: int
    error: str | None = None


def request_body(model: str, bucket: Bucket, api: str) -> dict[str, object]:
    prompt = " ".join(["hi"] * bucket.input_tokens)
    body: dict[str, object] = {
        "model": model, "max_tokens": bucket.output_tokens, "min_tokens": bucket.output_tokens,
        "ignore_eos": True, "temperature": 0.0, "stream": True,
        "stream_options": {"include_usage": True},
    }
    if api == "chat":
        body["messages"] = [{"role": "user", "content": prompt}]
    else:
        body["prompt"] = prompt
    return body


def _chunk_text(chunk: dict[str, object]) -> str:
    choices = chunk.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return ""
    choice = choices[0]
    if isinstance(choice.get("text"), str):
        return str(choice["text"])
    delta = choice.get("delta")
    if isinstance(delta, dict) and isinstance(delta.get("content"), str):
        return str(delta["content"])
    return ""


async def send_request(session: aiohttp.ClientSession, url: str, body: dict[str, object],
                       sent_at_s: float) -> RequestResult:
    """One streamed completion; errors are results, not exceptions."""
    start = time.perf_counter()
    first: float | None = None
    last: float | None = None
    chunks = 0
    usage_tokens: int | None = None
    try:
        async with session.post(url, json=body) as response:
            if response.status != 200:
                detail = (await response.text())[:200]
                return RequestResult(sent_at_s, False, None, None, 0,
                                     f"HTTP {response.status}: {detail}")
            async for raw in response.content:
                line = raw.decode("utf-8", "replace").strip()
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                chunk = json.loads(data)
                if not isinstance(chunk, dict):
                    continue
                if isinstance(chunk.get("usage"), dict):
                    tokens = chunk["usage"].get("completion_tokens")
                    usage_tokens = tokens if isinstance(tokens, int) else usage_tokens
                if _chunk_text(chunk):
                    now = time.perf_counter()
                    first = now if first is None else first
                    last = now
                    chunks += 1
    except (TimeoutError, aiohttp.ClientError, json.JSONDecodeError) as err:
        return RequestResult(sent_at_s, False, None, None, 0, f"{type(err).__name__}: {err}")
    if first is None or last is None:
        return RequestResult(sent_at_s, False, None, None, 0, "no tokens streamed")
    tokens = usage_tokens if usage_tokens is not None else chunks
    tpot = (last - first) / (tokens - 1) if tokens > 1 else None
    return RequestResult(sent_at_s, True, first - start, tpot, tokens)


def _stats(values: list[float]) -> LatencyStats | None:
    if not values:
        return None
    p50, p90, p99 = np.percentile(np.array(values), [50, 90, 99])
    return LatencyStats(p50=float(p50), p90=float(p90), p99=float(p99))


def summarize(rate_per_s: float, results: list[RequestResult], elapsed_s: float,
              warmup_share: float) -> ProfilePoint:
    """A measured point from request results (pure)."""
    ordered = sorted(results, key=lambda r: r.sent_at_s)
    steady = ordered[int(len(ordered) * warmup_share):]
    ok = [r for r in steady if r.ok]
    completed = sum(1 for r in results if r.ok)
    return ProfilePoint(
        rate_per_s=rate_per_s, requests=len(results),
        errors=sum(1 for r in results if not r.ok),
        throughput_per_s=completed / elapsed_s if elapsed_s > 0 else 0.0,
        ttft_s=_stats([r.ttft_s for r in ok if r.ttft_s is not None]),
        tpot_s=_stats([r.tpot_s for r in ok if r.tpot_s is not None]))


def arrival_offsets(rate_per_s: float, settings: PointSettings, rng: random.Random) -> list[float]:
    """Poisson arrival times (s after start) for one point."""
    count = int(min(settings.max_requests, max(settings.min_requests,
                                               round(rate_per_s * settings.duration_s))))
    offsets, now = [], 0.0
    for _ in range(count):
        now += rng.expovariate(rate_per_s)
        offsets.append(now)
    return offsets


async def measure_point(session: aiohttp.ClientSession, url: str, body: dict[str, object],
                        rate_per_s: float, settings: PointSettings,
                        rng: random.Random) -> ProfilePoint:
    """Send one point's requests at `rate_per_s` and summarise the latencies."""
    offsets = arrival_offsets(rate_per_s, settings, rng)
    start = time.perf_counter()
    tasks: list[asyncio.Task[RequestResult]] = []
    for offset in offsets:
        delay = start + offset - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(send_request(session, url, body, offset)))
    done, pending = await asyncio.wait(tasks, timeout=settings.drain_s) if tasks else (set(), set())
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    elapsed = time.perf_counter() - start
    results = [t.result() for t in done]
    results += [RequestResult(offsets[i], False, None, None, 0, "did not finish in time")
                for i, t in enumerate(tasks) if t in pending]
    return summarize(rate_per_s, results, elapsed, settings.warmup_share)
