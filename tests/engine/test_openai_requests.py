"""Request validation and planning: OpenAI-style 400s and the resume protocol (pure)."""

from __future__ import annotations

import pytest

from hedgeserve.engine.openai_requests import (
    TOKENS_PER_MESSAGE,
    TOKENS_REPLY_PRIMING,
    ApiError,
    ServedModel,
    parse_json,
    plan_chat,
    plan_completion,
)
from hedgeserve.engine.tokens import count_tokens, render

SERVED = ServedModel(name="m", seed=0, max_model_len=200, default_max_tokens=64)
USER = {"role": "user", "content": "hello there"}


def chat(**fields: object) -> dict[str, object]:
    return {"model": "m", "messages": [USER], **fields}


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        pytest.param({"model": "m"}, 400, "messages", id="missing-messages"),
        pytest.param(chat(messages=[]), 400, "messages", id="empty-messages"),
        pytest.param(chat(messages=[{"role": "wizard", "content": "x"}]), 400,
                     "messages.0.role", id="unknown-role"),
        pytest.param(chat(n=2), 400, "n", id="n-above-1"),
        pytest.param(chat(max_tokens=0), 400, "max_tokens", id="zero-max-tokens"),
        pytest.param(chat(temperature=3), 400, "temperature", id="temperature-range"),
        pytest.param(chat(stop=["a", "b", "c", "d", "e"]), 400, "stop", id="five-stops"),
        pytest.param(chat(stream_options={"include_usage": True}), 400, "stream_options",
                     id="stream-options-without-stream"),
        pytest.param(chat(logprobs=True), 400, "logprobs", id="logprobs"),
        pytest.param(chat(model="gpt-4o"), 404, "model", id="unknown-model"),
        pytest.param(chat(max_tokens=191), 400, "max_tokens", id="context-length"),
        pytest.param(chat(messages=[USER, {"role": "assistant", "content": "x"}],
                          hedge_resume_from="x"), 400, "hedge_resume_from",
                     id="two-resume-sources"),
        pytest.param(chat(messages=[{"role": "assistant", "content": "x"}]), 400, "messages",
                     id="only-assistant"),
        pytest.param(chat(messages=[{"role": "user", "content": [{"type": "image_url"}]}]), 400,
                     "messages.0.content", id="image-part"),
        pytest.param(["not", "an", "object"], 400, None, id="array-body"),
    ],
)
def test_bad_chat_requests(body: object, status: int, param: str | None) -> None:
    with pytest.raises(ApiError) as caught:
        plan_chat(body, SERVED)
    assert (caught.value.status, caught.value.param) == (status, param)
    error = caught.value.body()["error"]
    assert isinstance(error, dict) and error["message"] and error["type"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        pytest.param({"model": "m"}, "prompt", id="missing-prompt"),
        pytest.param({"prompt": ["a", "b"]}, "prompt", id="two-prompts"),
        pytest.param({"prompt": [1, 2, 3]}, "prompt", id="token-ids"),
        pytest.param({"prompt": "a", "echo": True}, "echo", id="echo"),
        pytest.param({"prompt": "a", "logprobs": 2}, "logprobs", id="logprobs"),
        pytest.param({"prompt": "a", "best_of": 3}, "best_of", id="best-of"),
    ],
)
def test_bad_completion_requests(body: dict[str, object], param: str) -> None:
    with pytest.raises(ApiError) as caught:
        plan_completion(body, SERVED)
    assert caught.value.status == 400
    assert (caught.value.param or "").startswith(param)


@pytest.mark.parametrize("raw", [b"{not json", b"", "caf\xe9".encode("latin-1")])
def test_unparseable_body(raw: bytes) -> None:
    with pytest.raises(ApiError) as caught:
        parse_json(raw)
    assert caught.value.status == 400 and "JSON" in caught.value.message


def test_defaults_and_usage_accounting() -> None:
    planned = plan_chat(chat(), SERVED)
    # 3 framing tokens per message + 3 reply priming + "hello there" (2 + 2)
    assert planned.prompt_tokens == TOKENS_REPLY_PRIMING + TOKENS_PER_MESSAGE + 4
    assert planned.generation.max_new_tokens == 64
    assert (planned.generation.start, planned.stream, planned.include_usage) == (0, False, False)


def test_default_max_tokens_is_capped_by_the_context_left() -> None:
    planned = plan_completion({"prompt": "word " * 180}, SERVED)
    assert planned.generation.max_new_tokens == 200 - 180


def test_max_completion_tokens_wins_and_stop_accepts_a_string() -> None:
    planned = plan_chat(chat(max_tokens=5, max_completion_tokens=9, stop="zz", stream=True,
                             stream_options={"include_usage": True}), SERVED)
    assert planned.generation.max_new_tokens == 9
    assert planned.generation.stops == ("zz",)
    assert (planned.stream, planned.include_usage) == (True, True)


def test_request_seed_overrides_the_server_seed() -> None:
    keys = {plan_chat(chat(seed=s), SERVED).generation.key for s in (None, 0, 1)}
    assert len(keys) == 2  # None falls back to the server's seed 0


def test_text_parts_equal_plain_content() -> None:
    parts = chat(messages=[{"role": "user", "content": [{"type": "text", "text": "hello "},
                                                        {"type": "text", "text": "there"}]}])
    assert plan_chat(parts, SERVED).generation == plan_chat(chat(), SERVED).generation


def test_trailing_assistant_message_resumes_the_same_sequence() -> None:
    fresh = plan_chat(chat(), SERVED).generation
    committed = render(fresh.key, 0, 6)
    resumed = plan_chat(chat(messages=[USER, {"role": "assistant", "content": committed}]),
                        SERVED)
    assert resumed.generation.key == fresh.key
    assert resumed.generation.start == 6
    assert resumed.prompt_tokens == plan_chat(chat(), SERVED).prompt_tokens + 6


def test_resume_field_works_on_both_endpoints() -> None:
    fresh = plan_completion({"prompt": "p"}, SERVED).generation
    committed = render(fresh.key, 0, 4)
    resumed = plan_completion({"prompt": "p", "hedge_resume_from": committed}, SERVED)
    assert (resumed.generation.key, resumed.generation.start) == (fresh.key, 4)
    via_field = plan_chat(chat(hedge_resume_from=committed), SERVED).generation
    assert via_field.start == count_tokens(committed) == 4


def test_unknown_fields_are_ignored() -> None:
    assert plan_chat(chat(user="abc", tools=[], frequency_penalty=0.5), SERVED).generation == \
        plan_chat(chat(), SERVED).generation
