"""Bearer-token checks for the public port (API keys) and the admin port (admin token).

Keys are compared as SHA-256 digests with `hmac.compare_digest`, against every configured key
without stopping at a match, so neither the key's length nor which key matched shows in the
timing. Keys come from an environment variable (comma- or whitespace-separated) or a file
(one per line, `#` comments); they are never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterable
from pathlib import Path

from hedgeserve.errors import InputError


class BearerKeys:
    __slots__ = ("_digests",)

    def __init__(self, keys: Iterable[str]) -> None:
        digests = tuple(hashlib.sha256(k.encode()).digest() for k in keys if k)
        if not digests:
            raise ValueError("BearerKeys needs at least one non-empty key")
        self._digests = digests

    def allows(self, authorization: str | None) -> bool:
        """True if an `Authorization` header value carries one of the keys."""
        if not authorization:
            return False
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer":
            return False
        digest = hashlib.sha256(token.strip().encode()).digest()
        ok = False
        for known in self._digests:
            ok |= hmac.compare_digest(known, digest)
        return ok


def split_keys(text: str) -> list[str]:
    """Keys from free text: one per line or separated by commas/whitespace; `#` starts a comment."""
    keys: list[str] = []
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        keys += [k for k in line.replace(",", " ").split() if k]
    return keys


def keys_from_env(var: str) -> list[str]:
    value = os.environ.get(var)
    if value is None:
        raise InputError(
            f"environment variable {var} is not set", where="--api-key-env", fix=f"export {var}=..."
        )
    keys = split_keys(value)
    if not keys:
        raise InputError(f"environment variable {var} holds no key", where="--api-key-env")
    return keys


def keys_from_file(path: Path, *, where: str) -> list[str]:
    try:
        text = path.read_text()
    except OSError as err:
        raise InputError(f"cannot read key file: {err.strerror}", where=f"{where} {path}") from err
    keys = split_keys(text)
    if not keys:
        raise InputError("key file holds no key", where=f"{where} {path}", fix="one key per line")
    return keys
