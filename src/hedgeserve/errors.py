"""The one error type that crosses layers: bad input from a user.

An `InputError` says what is wrong, where, and how to fix it. The CLI prints it as one line
and exits with status 2 — no traceback. Everything else that escapes is a bug.
"""

from __future__ import annotations


class InputError(ValueError):
    """Bad user input: a missing file, a malformed trace, an unknown name, a negative number."""

    def __init__(self, what: str, *, where: str | None = None, fix: str | None = None) -> None:
        self.what = what
        self.where = where
        self.fix = fix
        super().__init__(self.one_line())

    def one_line(self) -> str:
        parts = [f"{self.where}: {self.what}" if self.where else self.what]
        if self.fix:
            parts.append(f"fix: {self.fix}")
        return " — ".join(parts)
