"""`hedge engine` as a real process: drain on SIGTERM, identity from the environment, CLI errors."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Mapping

import aiohttp
import pytest
from engine_sse import read_events, streamed_text

pytestmark = pytest.mark.timeout(60)

LISTENING = re.compile(r"listening on (http://127\.0\.0\.1:\d+)")


class Engine:
    def __init__(self, process: asyncio.subprocess.Process, url: str) -> None:
        self.process = process
        self.url = url


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def launch(*flags: str, env: Mapping[str, str] | None = None) -> Engine:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hedgeserve", "engine", *flags,
        env={**os.environ, **(env or {})}, stderr=asyncio.subprocess.PIPE)
    assert process.stderr is not None
    line = await asyncio.wait_for(process.stderr.readline(), timeout=20)
    match = LISTENING.search(line.decode())
    assert match, f"unexpected first line: {line!r}"
    return Engine(process, match.group(1))


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


def chat(max_tokens: int) -> dict[str, object]:
    return {"model": "hedgeserve/emulated-llm", "max_tokens": max_tokens, "stream": True,
            "messages": [{"role": "user", "content": "drain me"}]}


async def test_sigterm_drains_in_flight_requests_then_exits_0(
        session: aiohttp.ClientSession) -> None:
    port = free_port()
    engine = await launch("--tpot-ms", "20", "--drain-timeout-s", "20",
                          env={"HEDGE_REPLICA_ID": "r1", "HEDGE_ZONE": "aws/us-east-1/use1-az1",
                               "HEDGE_SPOT": "true", "HEDGE_REPLICA_PORT": str(port)})
    try:
        assert engine.url.endswith(f":{port}")  # the port came from HEDGE_REPLICA_PORT
        health = await session.get(engine.url + "/health")
        assert health.headers["x-hedge-replica"] == "r1"
        assert (await health.json())["spot"] is True
        async with session.post(engine.url + "/v1/chat/completions", json=chat(40)) as stream:
            assert stream.status == 200
            first = await stream.content.readuntil(b"\n\n")  # the role chunk: it has begun
            assert first.startswith(b"data: ")
            engine.process.send_signal(signal.SIGTERM)
            for _ in range(100):
                health = await session.get(engine.url + "/health")
                if health.status == 503:
                    break
                await asyncio.sleep(0.01)
            assert (await health.json())["status"] == "draining"
            refused = await session.post(engine.url + "/v1/chat/completions", json=chat(1))
            assert refused.status == 503
            assert (await refused.json())["error"]["code"] == "draining"
            events = await read_events(stream)
        assert events[-1].data == "[DONE]"
        assert events[-2].data["choices"][0]["finish_reason"] == "length"
        assert len(streamed_text(events).split()) >= 20  # the rest of the 40 tokens arrived
        assert await asyncio.wait_for(engine.process.wait(), timeout=10) == 0
    finally:
        if engine.process.returncode is None:
            engine.process.kill()
            await engine.process.wait()


async def test_drain_timeout_cuts_long_requests_and_still_exits_0(
        session: aiohttp.ClientSession) -> None:
    engine = await launch("--port", "0", "--tpot-ms", "20", "--drain-timeout-s", "0.3")
    try:
        async with session.post(engine.url + "/v1/chat/completions", json=chat(1000)) as stream:
            await stream.content.readuntil(b"\n\n")
            cut_at = time.perf_counter()
            engine.process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(engine.process.wait(), timeout=10) == 0
            assert time.perf_counter() - cut_at < 5  # 1000 tokens would take 20 s
            with pytest.raises(aiohttp.ClientPayloadError):
                await read_events(stream)
    finally:
        if engine.process.returncode is None:
            engine.process.kill()
            await engine.process.wait()


async def run_cli(*args: str, env: Mapping[str, str] | None = None) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hedgeserve", "engine", *args, env={**os.environ, **(env or {})},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(process.communicate(), timeout=20)
    assert process.returncode is not None
    return process.returncode, err.decode()


async def test_bad_flag_is_one_line_and_exit_2() -> None:
    """The CLI contract; the validation table itself is in test_config.py (in process)."""
    code, err = await run_cli("--tpot-ms", "-1")
    assert code == 2
    assert "--tpot-ms" in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
