"""The emulated engine over real HTTP (aiohttp test server on loopback)."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from engine_sse import Event, read_events, streamed_text

from hedgeserve.engine.config import DEFAULT_MAX_TOKENS, EngineConfig, ReplicaIdentity
from hedgeserve.engine.decoding import decode_all
from hedgeserve.engine.openai_requests import ServedModel, plan_chat, plan_completion
from hedgeserve.engine.server import build_app

pytestmark = pytest.mark.timeout(60)

FAST = EngineConfig(model_name="m", ttft_ms=5, prefill_ms_per_token=0, tpot_ms=2)
IDENTITY = ReplicaIdentity("r7", "gcp/us-central1/us-central1-a", True)
SERVED = ServedModel("m", 0, FAST.max_model_len, DEFAULT_MAX_TOKENS)
Client = TestClient[Any, Any]
MakeClient = Callable[..., Awaitable[Client]]


@pytest.fixture
async def start(aiohttp_client: Any) -> MakeClient:
    async def make(**overrides: Any) -> Client:
        config = dataclasses.replace(FAST, **overrides).checked()
        client: Client = await aiohttp_client(build_app(config, IDENTITY))
        return client
    return make


def chat_body(content: str = "hello", **fields: Any) -> dict[str, Any]:
    return {"model": "m", "messages": [{"role": "user", "content": content}], **fields}


def expected_chat(body: dict[str, Any]) -> str:
    return decode_all(plan_chat(body, SERVED).generation)[1]


async def post_stream(client: Client, path: str, body: dict[str, Any]) -> list[Event]:
    async with client.post(path, json={**body, "stream": True}) as response:
        assert response.status == 200, await response.text()
        assert response.headers["Content-Type"].startswith("text/event-stream")
        return await read_events(response)


async def test_models_and_health_say_what_serves(start: MakeClient) -> None:
    client = await start()
    models = await (await client.get("/v1/models")).json()
    assert models["object"] == "list"
    [model] = models["data"]
    assert model["id"] == "m" and model["object"] == "model" and "emulated" in model["owned_by"]
    response = await client.get("/health")
    assert response.status == 200
    assert response.headers["x-hedge-replica"] == "r7"
    assert response.headers["x-hedge-zone"] == IDENTITY.zone
    health = await response.json()
    assert (health["status"], health["replica_id"], health["zone"], health["spot"]) == \
        ("ok", "r7", IDENTITY.zone, True)


async def test_chat_completion_body(start: MakeClient) -> None:
    client = await start()
    body = chat_body(max_tokens=12)
    response = await client.post("/v1/chat/completions", json=body)
    assert response.status == 200 and response.headers["x-hedge-replica"] == "r7"
    data = await response.json()
    assert set(data) == {"id", "object", "created", "model", "system_fingerprint", "choices",
                         "usage"}
    assert data["id"].startswith("chatcmpl-") and data["object"] == "chat.completion"
    [choice] = data["choices"]
    assert choice["index"] == 0 and choice["finish_reason"] == "length"
    assert choice["message"]["role"] == "assistant"
    assert choice["message"]["content"] == expected_chat(body)
    usage = data["usage"]
    assert usage["completion_tokens"] == 12
    assert usage["total_tokens"] == usage["prompt_tokens"] + 12
    health = await (await client.get("/health")).json()
    assert health["steps"] == 12  # a lone request: one prefill step, then 11 decode steps
    assert health["step_model_s"] == pytest.approx(0.005 + 11 * 0.002)
    assert health["step_time_ratio"] >= 1.0  # sleeps never end early


async def test_chat_stream_chunks(start: MakeClient) -> None:
    client = await start()
    body = chat_body(max_tokens=10)
    events = await post_stream(client, "/v1/chat/completions", body)
    assert events[-1].data == "[DONE]"
    chunks = [e.data for e in events[:-1]]
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
    assert len({c["id"] for c in chunks}) == 1
    assert all("usage" not in c for c in chunks)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert [c["choices"][0]["finish_reason"] for c in chunks[1:-1]] == [None] * 10
    assert all(set(c["choices"][0]["delta"]) == {"content"} for c in chunks[1:-1])
    assert chunks[-1]["choices"][0] == {"index": 0, "delta": {}, "logprobs": None,
                                        "finish_reason": "length"}
    assert streamed_text(events) == expected_chat(body)


async def test_stream_usage_when_asked(start: MakeClient) -> None:
    client = await start()
    body = chat_body(max_tokens=5, stream_options={"include_usage": True})
    events = await post_stream(client, "/v1/chat/completions", body)
    chunks = [e.data for e in events[:-1]]
    assert all(c["usage"] is None for c in chunks[:-1])
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["completion_tokens"] == 5


async def test_text_completions_stream_and_body_agree(start: MakeClient) -> None:
    client = await start()
    body = {"model": "m", "prompt": "Once upon a time", "max_tokens": 9}
    data = await (await client.post("/v1/completions", json=body)).json()
    assert data["object"] == "text_completion" and data["id"].startswith("cmpl-")
    assert data["choices"][0]["finish_reason"] == "length"
    assert data["usage"]["completion_tokens"] == 9
    expected = decode_all(plan_completion(body, SERVED).generation)[1]
    assert data["choices"][0]["text"] == expected
    events = await post_stream(client, "/v1/completions", body)
    assert {e.data["object"] for e in events[:-1]} == {"text_completion"}
    assert events[-2].data["choices"][0]["finish_reason"] == "length"
    assert streamed_text(events) == expected


async def test_deterministic_per_prompt(start: MakeClient) -> None:
    client = await start()

    async def text(content: str) -> str:
        response = await client.post("/v1/chat/completions", json=chat_body(content))
        return str((await response.json())["choices"][0]["message"]["content"])

    first, again, other = await asyncio.gather(text("a"), text("a"), text("b"))
    assert first == again != other
    assert len(first.split()) >= DEFAULT_MAX_TOKENS // 2  # default max_tokens applied


async def test_resume_continues_the_identical_sequence(start: MakeClient) -> None:
    client = await start()
    full = await post_stream(client, "/v1/chat/completions", chat_body("story", max_tokens=24))
    tokens = [e.data["choices"][0]["delta"].get("content") for e in full[1:-2]]
    assert len(tokens) == 24  # one chunk per token (no stop strings to hold text back)
    committed = "".join(tokens[:9])
    by_message = chat_body("story", max_tokens=15)
    by_message["messages"].append({"role": "assistant", "content": committed})
    resumed = await post_stream(client, "/v1/chat/completions", by_message)
    assert streamed_text(resumed) == "".join(tokens[9:])
    by_field = chat_body("story", max_tokens=15, hedge_resume_from=committed)
    data = await (await client.post("/v1/chat/completions", json=by_field)).json()
    assert data["choices"][0]["message"]["content"] == "".join(tokens[9:])

    completion = {"model": "m", "prompt": "story", "max_tokens": 20}
    whole = (await (await client.post("/v1/completions", json=completion)).json())
    text = whole["choices"][0]["text"]
    head = " ".join(text.split(" ")[:5])
    rest = await post_stream(client, "/v1/completions",
                             {**completion, "max_tokens": 20 - 5, "hedge_resume_from": head})
    assert head + streamed_text(rest) == text


async def test_stop_string_and_max_tokens(start: MakeClient) -> None:
    client = await start()
    body = chat_body("stop me", max_tokens=30)
    full = expected_chat(body)
    stop = " " + full.split(" ")[10]
    data = await (await client.post("/v1/chat/completions", json={**body, "stop": [stop]})).json()
    assert data["choices"][0]["finish_reason"] == "stop"
    assert data["choices"][0]["message"]["content"] == full[: full.index(stop)]
    events = await post_stream(client, "/v1/chat/completions", {**body, "stop": stop})
    assert streamed_text(events) == full[: full.index(stop)]
    assert events[-2].data["choices"][0]["finish_reason"] == "stop"


@pytest.mark.parametrize(
    ("raw", "status", "param"),
    [
        pytest.param(b"{oops", 400, None, id="invalid-json"),
        pytest.param(b'{"model": "m"}', 400, "messages", id="missing-messages"),
        pytest.param(b'{"model": "m", "n": 2, "messages": [{"role": "user", "content": "x"}]}',
                     400, "n", id="n-2"),
        pytest.param(b'{"model": "other", "messages": [{"role": "user", "content": "x"}]}',
                     404, "model", id="wrong-model"),
    ],
)
async def test_bad_requests_get_openai_errors(start: MakeClient, raw: bytes, status: int,
                                              param: str | None) -> None:
    client = await start()
    response = await client.post("/v1/chat/completions", data=raw,
                                 headers={"Content-Type": "application/json"})
    assert response.status == status
    error = (await response.json())["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["param"] == param and error["type"] == "invalid_request_error"


async def test_fail_rate_answers_500(start: MakeClient) -> None:
    client = await start(fail_rate=1.0)
    response = await client.post("/v1/chat/completions", json=chat_body())
    assert response.status == 500
    assert (await response.json())["error"]["code"] == "injected_failure"


async def test_startup_delay_emulates_model_load(start: MakeClient) -> None:
    client = await start(startup_delay_s=0.3)
    assert (await client.get("/health")).status == 503
    assert (await (await client.get("/health")).json())["status"] == "loading"
    refused = await client.post("/v1/chat/completions", json=chat_body())
    assert refused.status == 503 and refused.headers["Retry-After"] == "1"
    await asyncio.sleep(0.35)
    assert (await client.get("/health")).status == 200
    assert (await client.post("/v1/chat/completions", json=chat_body())).status == 200


async def timed_stream(client: Client, content: str, max_tokens: int) -> tuple[float, float]:
    """(TTFT, mean time per output token) of one streamed chat request, measured here."""
    sent = time.perf_counter()
    events = await post_stream(client, "/v1/chat/completions",
                               chat_body(content, max_tokens=max_tokens))
    token_times = [e.at for e in events[1:-2]]
    assert len(token_times) == max_tokens
    return token_times[0] - sent, (token_times[-1] - token_times[0]) / (max_tokens - 1)


async def test_ttft_and_tpot_follow_the_model(start: MakeClient) -> None:
    client = await start(ttft_ms=40, prefill_ms_per_token=0, tpot_ms=10)
    ttft_s, tpot_s = await timed_stream(client, "x", 20)
    # Sleeps never end early, so the model's times are lower bounds; upper bounds are loose.
    assert 0.04 <= ttft_s < 0.5
    assert 0.0095 <= tpot_s < 0.05


async def test_batching_slows_tpot(start: MakeClient) -> None:
    client = await start(ttft_ms=5, prefill_ms_per_token=0, tpot_ms=10, batch_slowdown=0.5)
    _, alone_s = await timed_stream(client, "alone", 15)
    results = await asyncio.gather(*(timed_stream(client, f"p{i}", 15) for i in range(8)))
    batched_s = sum(tpot for _, tpot in results) / len(results)
    # Arrivals spread over the first steps, so not every step decodes all 8: ask for batch 4.
    assert batched_s >= 0.010 * (1 + 0.5 * 3)
    assert batched_s > 2.5 * alone_s


async def test_requests_beyond_max_batch_queue(start: MakeClient) -> None:
    client = await start(ttft_ms=10, prefill_ms_per_token=0, tpot_ms=10, batch_slowdown=0,
                         max_batch=2)
    runs = [asyncio.create_task(timed_stream(client, f"q{i}", 40)) for i in range(4)]
    saw_queue = False
    for _ in range(30):
        await asyncio.sleep(0.01)
        health = await (await client.get("/health")).json()
        if (health["running"], health["waiting"]) == (2, 2):
            saw_queue = True
            break
    ttfts = sorted(ttft for ttft, _ in await asyncio.gather(*runs))
    assert saw_queue
    # The last two start only after the first two finished: 10 ms prefill + 39 decode steps.
    assert ttfts[2] >= 0.95 * (0.010 + 39 * 0.010)
    assert ttfts[1] < 0.2


async def test_a_client_that_goes_away_leaves_the_batch(start: MakeClient) -> None:
    client = await start(tpot_ms=5)
    response = await client.post("/v1/chat/completions",
                                 json=chat_body(max_tokens=5000, stream=True))
    await response.content.readuntil(b"\n\n")
    response.close()  # drop the connection mid-stream
    for _ in range(200):
        health = await (await client.get("/health")).json()
        if health["running"] == 0:
            break
        await asyncio.sleep(0.01)
    assert (health["running"], health["waiting"]) == (0, 0)
    assert health["steps"] < 1000  # it stopped long before its 5000 tokens
