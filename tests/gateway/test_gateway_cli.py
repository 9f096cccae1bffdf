"""`hedge gateway` as a real process: announce, serve, admin, graceful SIGTERM, bad flags."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request

import pytest
from gateway_fake_replica import FakeReplica

from hedgeserve.cli.app import main

pytestmark = pytest.mark.timeout(30)


def hedge(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "hedgeserve", "gateway", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


async def test_gateway_process_serves_and_stops_cleanly() -> None:
    replica = await FakeReplica("r").start()
    proc = hedge(
        "--port", "0", "--replica", replica.url, "--admin-port", "0", "--log-level", "WARNING",
        env={"HEDGE_GATEWAY_ADMIN_TOKEN": "t0ken"},
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = await asyncio.to_thread(proc.stdout.readline)
        # "hedge gateway: listening on http://127.0.0.1:P, admin on http://127.0.0.1:A"
        assert line.startswith("hedge gateway: listening on http://127.0.0.1:"), line
        url = line.split()[4].rstrip(",")
        admin = line.split()[-1]

        def get(u: str, headers: dict[str, str] | None = None) -> bytes:
            with urllib.request.urlopen(urllib.request.Request(u, headers=headers or {})) as r:
                return bytes(r.read())

        body = await asyncio.to_thread(get, url + "/echo")
        assert json.loads(body)["replica"] == "r"
        stats = await asyncio.to_thread(get, admin + "/stats", {"Authorization": "Bearer t0ken"})
        assert json.loads(stats)["requests_total"] == 1
        proc.send_signal(signal.SIGTERM)
        out, err = await asyncio.to_thread(proc.communicate, timeout=10)
        assert proc.returncode == 0, err
        assert "Traceback" not in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        await replica.stop()


@pytest.mark.parametrize(
    ("args", "env", "fragment"),
    [
        (["--replica", "http://127.0.0.1:1", "--policy", "fastest"], {}, "unknown load balancing"),
        (["--replica", "ftp://x"], {}, "not an absolute http(s) URL"),
        ([], {}, "no way to learn its replicas"),
        (["--admin-port", "0"], {"HEDGE_GATEWAY_ADMIN_TOKEN": ""}, "needs a token"),
        (["--replica", "http://127.0.0.1:1", "--api-key-env", "HEDGE_NO_SUCH_VAR"], {}, "not set"),
        (["--replica", "http://127.0.0.1:1", "--tls-cert", "/nonexistent.pem"], {}, "both"),
        (
            ["--replica", "http://127.0.0.1:1", "--tls-cert", "/no.pem", "--tls-key", "/no.pem"],
            {},
            "cannot load TLS",
        ),
    ],
    ids=["policy", "url", "no-replicas", "admin-token", "api-key-env", "half-tls", "tls-files"],
)
def test_bad_input_is_one_line_and_exit_2(
    args: list[str],
    env: dict[str, str],
    fragment: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    err = run_main(monkeypatch, capsys, "--port", "0", *args)
    assert fragment in err


def run_main(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> str:
    """`hedge gateway ARGS` in process; asserts exit 2 with one line on stderr, returns it."""
    monkeypatch.setattr(sys, "argv", ["hedge", "gateway", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    err = capsys.readouterr().err
    assert exit_info.value.code == 2, err
    assert err.count("\n") == 1 and err.startswith("hedge: error: "), err
    assert "Traceback" not in err
    return err


def test_port_in_use_is_an_input_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        err = run_main(monkeypatch, capsys, "--port", str(port), "--replica", "http://127.0.0.1:1")
    assert "cannot listen on 127.0.0.1" in err


def test_cli_defaults_are_the_config_defaults() -> None:
    # The CLI spells its defaults out (importing the gateway would slow every `hedge` call);
    # they must stay the ones GatewayConfig documents.
    import dataclasses
    import inspect

    from hedgeserve.cli.gateway import gateway
    from hedgeserve.gateway.config import GatewayConfig

    fields = {f.name: f.default for f in dataclasses.fields(GatewayConfig)}
    compared = 0
    for name, param in inspect.signature(gateway).parameters.items():
        field = name if name in fields else f"{name}_s"
        if field in fields and param.default is not None:
            assert param.default == fields[field], name
            compared += 1
    assert compared >= 12
