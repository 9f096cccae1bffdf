"""Response bodies and SSE chunks in the exact shapes of the OpenAI API.

Pure builders: ids, timestamps and texts come in, JSON-ready dicts and SSE frames come out.
Chat streams open with a `{"role": "assistant", "content": ""}` delta, then one chunk per token,
then a chunk with an empty delta and the finish reason; with `stream_options.include_usage`
every chunk carries `"usage": null` and one last chunk with `"choices": []` carries the usage.
Every stream ends with `data: [DONE]`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum

from hedgeserve.engine.decoding import FinishReason

DONE_FRAME = b"data: [DONE]\n\n"


class Endpoint(StrEnum):
    CHAT = "chat"
    COMPLETION = "completion"


@dataclass(frozen=True, slots=True)
class ResponseMeta:
    """What every body and chunk of one response shares."""

    endpoint: Endpoint
    id: str
    created: int  # unix seconds
    model: str
    system_fingerprint: str


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int

    def as_dict(self) -> dict[str, int]:
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                "total_tokens": self.prompt_tokens + self.completion_tokens}


def id_prefix(endpoint: Endpoint) -> str:
    return "chatcmpl-" if endpoint is Endpoint.CHAT else "cmpl-"


def _head(meta: ResponseMeta, *, chunk: bool) -> dict[str, object]:
    if meta.endpoint is Endpoint.CHAT:
        obj = "chat.completion.chunk" if chunk else "chat.completion"
    else:
        obj = "text_completion"
    return {"id": meta.id, "object": obj, "created": meta.created, "model": meta.model,
            "system_fingerprint": meta.system_fingerprint}


def full_body(meta: ResponseMeta, text: str, finish: FinishReason,
              usage: Usage) -> dict[str, object]:
    """The non-streaming answer."""
    choice: dict[str, object]
    if meta.endpoint is Endpoint.CHAT:
        choice = {"index": 0, "message": {"role": "assistant", "content": text, "refusal": None},
                  "logprobs": None, "finish_reason": str(finish)}
    else:
        choice = {"index": 0, "text": text, "logprobs": None, "finish_reason": str(finish)}
    return {**_head(meta, chunk=False), "choices": [choice], "usage": usage.as_dict()}


def chunk(meta: ResponseMeta, *, text: str | None, finish: FinishReason | None,
          include_usage: bool, role: bool = False) -> dict[str, object]:
    """One streamed chunk: a token (`text`), the opening role delta, or the finish chunk."""
    choice: dict[str, object]
    if meta.endpoint is Endpoint.CHAT:
        delta: dict[str, object] = {}
        if role:
            delta = {"role": "assistant", "content": ""}
        elif text is not None:
            delta = {"content": text}
        choice = {"index": 0, "delta": delta, "logprobs": None,
                  "finish_reason": None if finish is None else str(finish)}
    else:
        choice = {"index": 0, "text": text or "", "logprobs": None,
                  "finish_reason": None if finish is None else str(finish)}
    body: dict[str, object] = {**_head(meta, chunk=True), "choices": [choice]}
    if include_usage:
        body["usage"] = None
    return body


def usage_chunk(meta: ResponseMeta, usage: Usage) -> dict[str, object]:
    """The last chunk when `stream_options.include_usage` is set: no choices, only usage."""
    return {**_head(meta, chunk=True), "choices": [], "usage": usage.as_dict()}


def sse_frame(payload: dict[str, object]) -> bytes:
    return b"data: " + json.dumps(payload, separators=(",", ":")).encode() + b"\n\n"


@dataclass(frozen=True, slots=True)
class TokenFrames:
    """The token chunks of one stream, serialised once: per token only the text is encoded.

    `frame(text)` is byte for byte `sse_frame(chunk(meta, text=text, ...))`; it saves a full
    JSON encode per token per stream, the hot path with hundreds of concurrent streams.
    """

    prefix: bytes
    suffix: bytes

    def frame(self, text: str) -> bytes:
        return self.prefix + json.dumps(text).encode() + self.suffix


def token_frames(meta: ResponseMeta, *, include_usage: bool) -> TokenFrames:
    marker = "\u0000hedge-token\u0000"  # cannot occur in the encoded id, model or fingerprint
    whole = sse_frame(chunk(meta, text=marker, finish=None, include_usage=include_usage))
    prefix, suffix = whole.split(json.dumps(marker).encode())
    return TokenFrames(prefix, suffix)
