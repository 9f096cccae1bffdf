"""The aiohttp app of the emulated engine: OpenAI-compatible routes over the batch scheduler.

Routes: GET /v1/models, POST /v1/completions, POST /v1/chat/completions (JSON or SSE with
`stream: true`), GET /health (200 serving, 503 loading or draining). Every response carries
`x-hedge-replica` (and `x-hedge-zone`) from the replica's environment.

This is an EMULATOR: there is no model; text comes from `tokens` and timing from `step_time`.
Handlers validate (`openai_requests`), submit to the one `BatchScheduler` and relay its steps;
they never sleep themselves. A streaming client that goes away is dropped from the batch at the
next step. Nothing is logged per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from hedgeserve.engine.config import DEFAULT_MAX_TOKENS, EngineConfig, ReplicaIdentity
from hedgeserve.engine.lifecycle import Lifecycle, Phase
from hedgeserve.engine.openai_requests import (
    ApiError,
    PlannedRequest,
    ServedModel,
    parse_json,
    plan_chat,
    plan_completion,
)
from hedgeserve.engine.openai_responses import (
    DONE_FRAME,
    Endpoint,
    ResponseMeta,
    Usage,
    chunk,
    full_body,
    id_prefix,
    sse_frame,
    token_frames,
    usage_chunk,
)
from hedgeserve.engine.scheduler import ActiveRequest, BatchScheduler

OWNED_BY = "hedgeserve-emulator (emulated LLM: no real model behind it)"

CONFIG = web.AppKey("config", EngineConfig)
IDENTITY = web.AppKey("identity", ReplicaIdentity)
LIFECYCLE = web.AppKey("lifecycle", Lifecycle)
SCHEDULER = web.AppKey("scheduler", BatchScheduler)
FAILURES = web.AppKey("failures", random.Random)
STARTED = web.AppKey("started", int)

Planner = Callable[[object, ServedModel], PlannedRequest]


def _error_response(err: ApiError, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(err.body(), status=err.status, headers=headers)


async def _models(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    return web.json_response({"object": "list", "data": [{
        "id": config.model_name, "object": "model", "created": request.app[STARTED],
        "owned_by": OWNED_BY, "max_model_len": config.max_model_len, "emulated": True,
    }]})


async def _health(request: web.Request) -> web.Response:
    app = request.app
    identity, scheduler = app[IDENTITY], app[SCHEDULER]
    phase = app[LIFECYCLE].phase(asyncio.get_running_loop().time())
    return web.json_response({
        "status": str(phase), "emulated": True, "model": app[CONFIG].model_name,
        "replica_id": identity.replica_id, "zone": identity.zone, "spot": identity.is_spot,
        "running": scheduler.running, "waiting": scheduler.waiting,
        "steps": scheduler.steps, "step_model_s": round(scheduler.model_s, 6),
        "step_actual_s": round(scheduler.actual_s, 6),
        "step_time_ratio": round(scheduler.step_time_ratio, 4),
    }, status=200 if phase is Phase.SERVING else 503)


def _refusal(phase: Phase) -> ApiError:
    if phase is Phase.LOADING:
        return ApiError(503, "The model is still loading; retry shortly.", code="loading",
                        kind="service_unavailable")
    return ApiError(503, "This replica is draining (preemption notice or scale-down); send the "
                    "request to another replica.", code="draining", kind="service_unavailable")


async def _generate(request: web.Request, endpoint: Endpoint,
                    planner: Planner) -> web.StreamResponse:
    app = request.app
    lifecycle = app[LIFECYCLE]
    phase = lifecycle.phase(asyncio.get_running_loop().time())
    if phase is not Phase.SERVING:
        return _error_response(_refusal(phase), headers={"Retry-After": "1"})
    lifecycle.enter()
    try:
        config = app[CONFIG]
        served = ServedModel(config.model_name, config.seed, config.max_model_len,
                             DEFAULT_MAX_TOKENS)
        try:
            planned = planner(parse_json(await request.read()), served)
        except ApiError as err:
            return _error_response(err)
        if config.fail_rate and app[FAILURES].random() < config.fail_rate:
            return _error_response(ApiError(500, "Injected failure (--fail-rate).",
                                            code="injected_failure", kind="server_error"))
        meta = ResponseMeta(endpoint, id_prefix(endpoint) + uuid.uuid4().hex, int(time.time()),
                            config.model_name, f"hedge-emulated-seed{config.seed}")
        active = app[SCHEDULER].submit(planned.generation, planned.prompt_tokens)
        try:
            if planned.stream:
                return await _stream(request, active, meta, planned)
            return await _collect(active, meta, planned)
        finally:
            active.is_cancelled = active.state.finish is None  # leave the batch if cut short
    finally:
        lifecycle.leave()


async def _collect(active: ActiveRequest, meta: ResponseMeta,
                   planned: PlannedRequest) -> web.Response:
    parts = []
    while True:
        step = await active.steps.get()
        parts.append(step.delta)
        if step.state.finish is not None:
            usage = Usage(planned.prompt_tokens, step.state.produced)
            return web.json_response(full_body(meta, "".join(parts), step.state.finish, usage))


async def _stream(request: web.Request, active: ActiveRequest, meta: ResponseMeta,
                  planned: PlannedRequest) -> web.StreamResponse:
    response = web.StreamResponse(headers={
        "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache"})
    with_usage = planned.include_usage
    frames = token_frames(meta, include_usage=with_usage)
    try:
        step = await active.steps.get()
        # Headers go out with the first token, so time-to-first-byte is the emulated TTFT.
        await response.prepare(request)
        out = b""  # frames of one step go out in one write
        if meta.endpoint is Endpoint.CHAT:
            out = sse_frame(chunk(meta, text=None, finish=None, include_usage=with_usage,
                                  role=True))
        while True:
            if step.delta:
                out += frames.frame(step.delta)
            if step.state.finish is not None:
                break
            if out:
                await response.write(out)
                out = b""
            step = await active.steps.get()
        out += sse_frame(chunk(meta, text=None, finish=step.state.finish,
                               include_usage=with_usage))
        if with_usage:
            out += sse_frame(usage_chunk(meta, Usage(planned.prompt_tokens, step.state.produced)))
        await response.write(out + DONE_FRAME)
        await response.write_eof()
    except ConnectionResetError:
        pass  # the client went away; the caller takes the request out of the batch
    return response


async def _chat(request: web.Request) -> web.StreamResponse:
    return await _generate(request, Endpoint.CHAT, plan_chat)


async def _completions(request: web.Request) -> web.StreamResponse:
    return await _generate(request, Endpoint.COMPLETION, plan_completion)


async def _identify(request: web.Request, response: web.StreamResponse) -> None:
    identity = request.app[IDENTITY]
    response.headers["x-hedge-replica"] = identity.header
    if identity.zone:
        response.headers["x-hedge-zone"] = identity.zone


async def _run_scheduler(app: web.Application) -> AsyncIterator[None]:
    app[LIFECYCLE].start_clock(asyncio.get_running_loop().time())
    task = asyncio.create_task(app[SCHEDULER].run(), name="hedge-engine-batch-loop")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def build_app(config: EngineConfig, identity: ReplicaIdentity) -> web.Application:
    """The engine's aiohttp app for a checked config (see `EngineConfig.checked`)."""
    app = web.Application()
    app[CONFIG] = config
    app[IDENTITY] = identity
    app[LIFECYCLE] = Lifecycle(config.startup_delay_s)
    app[SCHEDULER] = BatchScheduler(config.step_time, config.max_batch)
    app[FAILURES] = random.Random(config.seed)
    app[STARTED] = int(time.time())
    app.router.add_get("/v1/models", _models)
    app.router.add_get("/health", _health)
    app.router.add_post("/v1/chat/completions", _chat)
    app.router.add_post("/v1/completions", _completions)
    app.on_response_prepare.append(_identify)
    app.cleanup_ctx.append(_run_scheduler)
    return app
