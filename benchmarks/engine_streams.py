"""The emulated engine under concurrent SSE streams: does it keep its own time model, cheaply?

    python benchmarks/engine_streams.py [--levels 1,16,64,256] [--tokens 32]
                                        [--json benchmarks/results/engine_streams.json]

Starts `hedge engine` as a real process (max batch 256) and, for each concurrency level, opens that
many streaming chat completions at once from this process. For each level it prints:
- the measured mean TTFT and TPOT;
- the TPOT the step-time model predicts for that batch (`StepTimeModel.decode_s`);
- their ratio: above 1.0 also because prefill steps of arriving streams delay everyone (that is
  the model: prefill is not chunked), so it is not a fidelity measure on its own;
- the steps run and their actual over modelled time, from /health: 1.0 when the emulator keeps
  its own timing, above 1 when the event loop falls behind;
- the engine's CPU time per streamed token, from /proc (Linux).

The client shares the machine's cores with the engine, so treat the ratios, not absolute times.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import time
from pathlib import Path

import aiohttp

from hedgeserve.engine.config import EngineConfig

TPOT_MS, SLOWDOWN, TTFT_MS = 20.0, 0.01, 20.0


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


async def one_stream(session: aiohttp.ClientSession, url: str, i: int,
                     tokens: int) -> tuple[float, float]:
    body = {"model": "hedgeserve/emulated-llm", "max_tokens": tokens, "stream": True,
            "messages": [{"role": "user", "content": f"benchmark stream {i}"}]}
    sent = time.perf_counter()
    times = []
    async with session.post(url + "/v1/chat/completions", json=body) as response:
        async for line in response.content:
            if line.startswith(b"data: {") and b'"content":"' in line:
                times.append(time.perf_counter())
    if len(times) != tokens + 1:  # the role chunk has "content":"" too
        raise RuntimeError(f"stream {i}: {len(times) - 1} tokens, expected {tokens}")
    return times[1] - sent, (times[-1] - times[1]) / (tokens - 1)


async def run(levels: list[int], tokens: int) -> list[dict[str, float]]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hedgeserve", "engine", "--port", "0", "--max-batch", "256",
        "--tpot-ms", str(TPOT_MS), "--batch-slowdown", str(SLOWDOWN), "--ttft-ms", str(TTFT_MS),
        "--prefill-ms-per-token", "0", stderr=asyncio.subprocess.PIPE)
    assert process.stderr is not None
    line = (await process.stderr.readline()).decode()
    match = re.search(r"(http://\S+)", line)
    if not match:
        raise RuntimeError(f"engine did not start: {line}")
    url = match.group(1)
    model = EngineConfig(tpot_ms=TPOT_MS, batch_slowdown=SLOWDOWN).step_time
    rows = []
    try:
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as session:
            for level in levels:
                before = await (await session.get(url + "/health")).json()
                cpu_before, wall_before = cpu_s(process.pid), time.perf_counter()
                results = await asyncio.gather(
                    *(one_stream(session, url, i, tokens) for i in range(level)))
                wall = time.perf_counter() - wall_before
                cpu = cpu_s(process.pid) - cpu_before
                after = await (await session.get(url + "/health")).json()
                steps = after["steps"] - before["steps"]
                step_ratio = ((after["step_actual_s"] - before["step_actual_s"])
                              / (after["step_model_s"] - before["step_model_s"]))
                tpot = sum(r[1] for r in results) / level
                rows.append({
                    "streams": level, "ttft_ms": 1000 * sum(r[0] for r in results) / level,
                    "tpot_ms": 1000 * tpot, "model_tpot_ms": 1000 * model.decode_s(level),
                    "ratio": tpot / model.decode_s(level), "steps": steps,
                    "step_time_ratio": step_ratio, "wall_s": wall,
                    "engine_cpu_us_per_token": 1e6 * cpu / (level * tokens),
                })
    finally:
        process.terminate()
        await process.wait()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--levels", default="1,16,64,256")
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/engine_streams.json"))
    args = parser.parse_args()
    rows = asyncio.run(run([int(x) for x in args.levels.split(",")], args.tokens))
    print(f"hedge engine, {args.tokens} tokens per stream, tpot {TPOT_MS} ms, "
          f"batch_slowdown {SLOWDOWN}, ttft {TTFT_MS} ms")
    print(f"{'streams':>8} {'TTFT ms':>9} {'TPOT ms':>9} {'decode_s':>9} {'ratio':>6} "
          f"{'steps':>6} {'step actual/model':>18} {'wall s':>7} {'engine CPU µs/token':>20}")
    for r in rows:
        print(f"{r['streams']:>8} {r['ttft_ms']:>9.1f} {r['tpot_ms']:>9.1f} "
              f"{r['model_tpot_ms']:>9.1f} {r['ratio']:>6.2f} {r['steps']:>6} "
              f"{r['step_time_ratio']:>18.3f} {r['wall_s']:>7.2f} "
              f"{r['engine_cpu_us_per_token']:>20.0f}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"command": "python benchmarks/engine_streams.py",
                                     "rows": rows}, indent=2))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
