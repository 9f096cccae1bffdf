"""The processes benchmarks/gateway.py measures: upstream, our gateway, a bare aiohttp proxy
(the Python ceiling, benchmarks/gateway_bare_proxy.py), nginx and SkyServe's LB.

Everything binds 127.0.0.1 and runs as a child process in one temporary directory; `Fleet`
stops them all (SIGTERM, then SIGKILL) however the benchmark ends.

Upstream: nginx (1 worker) with the echo module from Debian's nginx-light:
  POST /v1/json  a 150-byte OpenAI-style completion with Content-Length
  POST /v1/sse   `events` OpenAI-style SSE chunks, each flushed, `delay_ms` apart, then [DONE]
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ECHO_MODULE = Path("/usr/lib/nginx/modules/ngx_http_echo_module.so")
SKYSERVE_PYTHONS = (
    Path(__file__).resolve().parent / ".venv-skyserve" / "bin" / "python",
    Path("/tmp/hedge-skyserve-venv/bin/python"),
)

JSON_BODY = (
    '{"id":"cmpl-1","object":"text_completion","created":1,"model":"m",'
    '"choices":[{"index":0,"text":"ok","finish_reason":"stop"}],'
    '"usage":{"prompt_tokens":1,"completion_tokens":1}}'
)
SSE_EVENT = (
    'data: {"id":"cmpl-1","object":"text_completion","created":1,"model":"m",'
    '"choices":[{"index":0,"text":" tok","logprobs":null,"finish_reason":null}]}\\n'
)

# Runs SkyServe's LB as `python -m sky.serve.load_balancer`, but on 127.0.0.1: it hard-codes
# host 0.0.0.0 in its uvicorn.run call, and this benchmark stays on loopback.
SKYSERVE_LAUNCHER = (
    "import runpy, uvicorn; _run = uvicorn.run; "
    "uvicorn.run = lambda app, **kw: _run(app, **{**kw, 'host': '127.0.0.1'}); "
    "runpy.run_module('sky.serve.load_balancer', run_name='__main__')"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def find_skyserve_python(explicit: str | None) -> Path | None:
    candidates = [Path(explicit)] if explicit else list(SKYSERVE_PYTHONS)
    return next((p for p in candidates if p.exists()), None)


def missing_tools() -> list[str]:
    missing = [tool for tool in ("wrk", "nginx") if shutil.which(tool) is None]
    if not ECHO_MODULE.exists():
        missing.append(f"nginx echo module ({ECHO_MODULE})")
    return missing


def _nginx_conf(workdir: Path, name: str, server_block: str, upstream: str = "") -> Path:
    tmp = workdir / f"{name}-tmp"
    tmp.mkdir(exist_ok=True)
    conf = workdir / f"{name}.conf"
    conf.write_text(
        f"""load_module {ECHO_MODULE};
worker_processes 1;
daemon off;
pid {workdir}/{name}.pid;
error_log {workdir}/{name}-error.log warn;
events {{ worker_connections 8192; }}
http {{
  access_log off;
  client_body_temp_path {tmp}; proxy_temp_path {tmp}; fastcgi_temp_path {tmp};
  uwsgi_temp_path {tmp}; scgi_temp_path {tmp};
  keepalive_requests 10000000;
  {upstream}
  {server_block}
}}
"""
    )
    return conf


def upstream_conf(workdir: Path, port: int, *, events: int, delay_ms: int) -> Path:
    # echo_sleep takes seconds with millisecond resolution.
    step = f"echo '{SSE_EVENT}'; echo_flush;" + (
        f" echo_sleep {delay_ms / 1000:.3f};" if delay_ms > 0 else ""
    )
    sse = " ".join([step] * events) + " echo 'data: [DONE]\\n'; echo_flush;"
    server = f"""server {{
    listen 127.0.0.1:{port} backlog=4096;
    location = /v1/json {{ default_type application/json; return 200 '{JSON_BODY}'; }}
    location = /v1/sse {{ default_type text/event-stream; {sse} }}
  }}"""
    return _nginx_conf(workdir, "upstream", server)


def nginx_proxy_conf(workdir: Path, port: int, upstream_port: int) -> Path:
    # The usual streaming reverse-proxy setup: keep-alive pool to the upstream, no buffering.
    upstream = f"upstream replica {{ server 127.0.0.1:{upstream_port}; keepalive 512; }}"
    server = f"""server {{
    listen 127.0.0.1:{port} backlog=4096;
    location / {{
      proxy_pass http://replica;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }}
  }}"""
    return _nginx_conf(workdir, "nginx-proxy", server, upstream)


@dataclass
class Fleet:
    workdir: Path
    procs: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> None:
        log = (self.workdir / f"{name}.log").open("wb")
        proc = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        self.procs.append((name, proc))

    def nginx(self, name: str, conf: Path) -> None:
        self.start(name, ["nginx", "-p", str(self.workdir), "-c", str(conf), "-e",
                          str(self.workdir / f"{name}-startup.log")])  # fmt: skip

    def check_alive(self) -> None:
        for name, proc in self.procs:
            if proc.poll() is not None:
                log = (self.workdir / f"{name}.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{log}")

    def cpu_seconds(self, name: str) -> float:
        """CPU time used so far by the named child and everything in its process group."""
        pgid = next(proc.pid for n, proc in self.procs if n == name)
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # the process just exited
            if int(fields[2]) == pgid:  # fields after the name: state, ppid, pgrp, ...
                total += int(fields[11]) + int(fields[12])  # utime + stime, in ticks
        return total / os.sysconf("SC_CLK_TCK")

    def wait_idle(self, name: str, timeout_s: float = 60.0) -> float:
        """Wait until the named target stops burning CPU (an overloaded proxy keeps working
        off abandoned requests after the load generator stops, which would slow the next
        run). Returns seconds waited."""
        start = time.monotonic()
        before = self.cpu_seconds(name)
        while time.monotonic() - start < timeout_s:
            time.sleep(0.5)
            now = self.cpu_seconds(name)
            if now - before < 0.01:
                break
            before = now
        return time.monotonic() - start

    def stop(self) -> None:
        for _, proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for _, proc in self.procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.procs.clear()


def wait_ready(url: str, fleet: Fleet, timeout_s: float) -> float:
    """POST until the target answers 200; returns seconds waited."""
    start = time.monotonic()
    while True:
        fleet.check_alive()
        try:
            req = urllib.request.Request(url, data=b"{}", method="POST")
            with urllib.request.urlopen(req, timeout=2) as resp:
                if resp.status == 200:
                    resp.read()
                    return time.monotonic() - start
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() - start > timeout_s:
            raise RuntimeError(f"{url} not ready after {timeout_s:.0f} s")
        time.sleep(0.2)


def gateway_argv(port: int, upstream_port: int) -> list[str]:
    return [sys.executable, "-m", "hedgeserve", "gateway", "--port", str(port),
            "--replica", f"http://127.0.0.1:{upstream_port}"]  # fmt: skip


def bare_argv(port: int, upstream_port: int) -> list[str]:
    bare = Path(__file__).resolve().parent / "gateway_bare_proxy.py"
    return [sys.executable, str(bare), "--port", str(port),
            "--upstream", f"http://127.0.0.1:{upstream_port}"]  # fmt: skip


def skyserve_argv(python: Path, port: int, controller_port: int) -> list[str]:
    return [str(python), "-c", SKYSERVE_LAUNCHER, "--controller-addr",
            f"http://127.0.0.1:{controller_port}", "--load-balancer-port", str(port)]  # fmt: skip


def stub_argv(port: int, upstream_port: int) -> list[str]:
    stub = Path(__file__).resolve().parent / "gateway_skyserve_stub.py"
    return [sys.executable, str(stub), "--port", str(port),
            "--replica", f"http://127.0.0.1:{upstream_port}"]  # fmt: skip
