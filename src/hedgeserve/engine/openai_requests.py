"""Request bodies of the OpenAI API, validated once and turned into a `Generation`.

Pure: bytes in, a `PlannedRequest` or an `ApiError` (status + OpenAI-style error body) out.
Unknown fields are ignored, as OpenAI-compatible servers do; fields that would change the shape
of the answer and that the emulator cannot honour (n > 1, logprobs, echo, best_of > 1) are
refused with a 400 that names the parameter.

Resume protocol (the SpotServe seam): the committed text of an interrupted generation is either
the content of a trailing `assistant` message (chat) or the extension field `hedge_resume_from`
(both endpoints). The engine continues the same sequence from position
`count_tokens(committed)` and returns only the new text; `max_tokens` counts new tokens only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hedgeserve.engine.decoding import Generation
from hedgeserve.engine.tokens import count_tokens, sequence_key

# OpenAI's own accounting: every chat message costs its content plus ~3 framing tokens, and the
# reply is primed with 3 more. Our counts are approximate anyway; this keeps the shape familiar.
TOKENS_PER_MESSAGE = 3
TOKENS_REPLY_PRIMING = 3
MAX_STOP_STRINGS = 4


class ApiError(Exception):
    """An error answered to the client as `{"error": {...}}` with an HTTP status."""

    def __init__(self, status: int, message: str, *, param: str | None = None,
                 code: str | None = None, kind: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code
        self.kind = kind

    def body(self) -> dict[str, object]:
        return {"error": {"message": self.message, "type": self.kind, "param": self.param,
                          "code": self.code}}


class _StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    include_usage: bool = False


class _Body(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: str | None = None
    max_tokens: int | None = Field(default=None, ge=1)
    stop: str | list[str] | None = None
    seed: int | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)  # accepted; output ignores it
    top_p: float | None = Field(default=None, ge=0, le=1)
    n: int | None = None
    stream: bool = False
    stream_options: _StreamOptions | None = None
    hedge_resume_from: str | None = None


class _ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class _Message(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[_ContentPart] | None = None


class _ChatBody(_Body):
    messages: list[_Message] = Field(min_length=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    logprobs: bool | None = None


class _CompletionBody(_Body):
    prompt: str | list[str]
    echo: bool | None = None
    logprobs: int | None = None
    best_of: int | None = None


@dataclass(frozen=True, slots=True)
class PlannedRequest:
    generation: Generation
    prompt_tokens: int  # counted for usage and prefill: the prompt plus any committed text
    stream: bool
    include_usage: bool


@dataclass(frozen=True, slots=True)
class ServedModel:
    """What the server passes in: the model name it answers to and its limits."""

    name: str
    seed: int
    max_model_len: int
    default_max_tokens: int


def parse_json(raw: bytes) -> object:
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ApiError(400, f"We could not parse the JSON body of your request: {err}") from None


def _validated(model: type[_Body], body: object) -> Any:
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    try:
        return model.model_validate(body)
    except ValidationError as err:
        first = err.errors()[0]
        param = ".".join(str(part) for part in first["loc"]) or None
        if first["type"] == "missing":
            raise ApiError(400, f"Missing required parameter: '{param}'.", param=param) from None
        raise ApiError(400, f"Invalid value for '{param}': {first['msg']}.", param=param) from None


def _common_checks(body: _Body, served: ServedModel) -> tuple[str, ...]:
    if body.model is not None and body.model != served.name:
        raise ApiError(404, f"The model `{body.model}` does not exist; this server serves "
                       f"`{served.name}`.", param="model", code="model_not_found")
    if body.n not in (None, 1):
        raise ApiError(400, f"n={body.n} is not supported: this engine returns one choice (n=1).",
                       param="n")
    if body.stream_options is not None and not body.stream:
        raise ApiError(400, "The 'stream_options' parameter is only allowed when 'stream' is "
                       "enabled.", param="stream_options")
    stops = [body.stop] if isinstance(body.stop, str) else list(body.stop or [])
    if len(stops) > MAX_STOP_STRINGS:
        raise ApiError(400, f"At most {MAX_STOP_STRINGS} stop sequences are allowed, got "
                       f"{len(stops)}.", param="stop")
    return tuple(s for s in stops if s)


def _plan(body: _Body, served: ServedModel, *, prompt: str, prompt_tokens: int,
          committed: str, max_tokens: int | None) -> PlannedRequest:
    stops = _common_checks(body, served)
    committed_tokens = count_tokens(committed)
    total_prompt = prompt_tokens + committed_tokens
    room = served.max_model_len - total_prompt
    if room < 1 or (max_tokens is not None and max_tokens > room):
        raise ApiError(400, f"This model's maximum context length is {served.max_model_len} "
                       f"tokens. However, you requested {total_prompt + (max_tokens or 1)} tokens "
                       f"({total_prompt} in the messages, {max_tokens or 1} in the completion).",
                       param="max_tokens", code="context_length_exceeded")
    seed = served.seed if body.seed is None else body.seed
    generation = Generation(
        key=sequence_key(prompt, seed),
        start=committed_tokens,
        max_new_tokens=max_tokens if max_tokens is not None else min(served.default_max_tokens,
                                                                     room),
        stops=stops,
    )
    include_usage = body.stream_options is not None and body.stream_options.include_usage
    return PlannedRequest(generation, total_prompt, body.stream, include_usage)


def _message_text(message: _Message, index: int) -> str:
    if message.content is None or isinstance(message.content, str):
        return message.content or ""
    texts = []
    for part in message.content:
        if part.type != "text" or part.text is None:
            raise ApiError(400, f"Only text content parts are supported, got '{part.type}'.",
                           param=f"messages.{index}.content")
        texts.append(part.text)
    return "".join(texts)


def plan_chat(body: object, served: ServedModel) -> PlannedRequest:
    """Validate a /v1/chat/completions body; a trailing assistant message is resumed."""
    chat: _ChatBody = _validated(_ChatBody, body)
    if chat.logprobs:
        raise ApiError(400, "logprobs are not supported by the emulated engine.",
                       param="logprobs")
    texts = [_message_text(m, i) for i, m in enumerate(chat.messages)]
    messages = list(zip((m.role for m in chat.messages), texts, strict=True))
    committed = ""
    if messages[-1][0] == "assistant":
        if chat.hedge_resume_from is not None:
            raise ApiError(400, "Give the committed text either as a trailing assistant message "
                           "or as hedge_resume_from, not both.", param="hedge_resume_from")
        committed = messages.pop()[1]
    elif chat.hedge_resume_from is not None:
        committed = chat.hedge_resume_from
    if not messages:
        raise ApiError(400, "The messages must contain at least one message before a trailing "
                       "assistant message.", param="messages")
    prompt = "".join(f"<|{role}|>\n{text}\n" for role, text in messages)
    prompt_tokens = TOKENS_REPLY_PRIMING + sum(
        count_tokens(text) + TOKENS_PER_MESSAGE for _, text in messages)
    max_tokens = chat.max_completion_tokens or chat.max_tokens
    return _plan(chat, served, prompt=prompt, prompt_tokens=prompt_tokens, committed=committed,
                 max_tokens=max_tokens)


def plan_completion(body: object, served: ServedModel) -> PlannedRequest:
    """Validate a /v1/completions body; `hedge_resume_from` resumes."""
    completion: _CompletionBody = _validated(_CompletionBody, body)
    if completion.echo:
        raise ApiError(400, "echo is not supported by the emulated engine.", param="echo")
    if completion.logprobs is not None:
        raise ApiError(400, "logprobs are not supported by the emulated engine.",
                       param="logprobs")
    if completion.best_of not in (None, 1):
        raise ApiError(400, "best_of > 1 is not supported: this engine returns one choice.",
                       param="best_of")
    prompt = completion.prompt
    if isinstance(prompt, list):
        if len(prompt) != 1:
            raise ApiError(400, f"Exactly one prompt per request is supported, got "
                           f"{len(prompt)}.", param="prompt")
        prompt = prompt[0]
    return _plan(completion, served, prompt=prompt, prompt_tokens=count_tokens(prompt),
                 committed=completion.hedge_resume_from or "", max_tokens=completion.max_tokens)
