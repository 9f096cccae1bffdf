"""Response shapes: the pre-serialised token frames equal the plain chunk encoding (pure)."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from hedgeserve.engine.openai_responses import (
    Endpoint,
    ResponseMeta,
    chunk,
    sse_frame,
    token_frames,
)


@given(text=st.text(), endpoint=st.sampled_from(Endpoint), include_usage=st.booleans(),
       model=st.text(min_size=1))
def test_token_frames_equal_plain_chunks(text: str, endpoint: Endpoint, include_usage: bool,
                                         model: str) -> None:
    meta = ResponseMeta(endpoint, "id-1", 1700000000, model, "fp")
    expected = sse_frame(chunk(meta, text=text, finish=None, include_usage=include_usage))
    assert token_frames(meta, include_usage=include_usage).frame(text) == expected
    payload = json.loads(expected.removeprefix(b"data: "))
    choice = payload["choices"][0]
    assert (choice["delta"]["content"] if endpoint is Endpoint.CHAT else choice["text"]) == text
