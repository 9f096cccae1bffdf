"""Logging for the long-running processes (`hedge gateway`, the controller): one format."""

from __future__ import annotations

import logging

from hedgeserve.errors import InputError


def setup_logging(level_name: str) -> None:
    """Log at `level_name` (debug, info, warning ...) to stderr; a bad name is an input error."""
    level = getattr(logging, level_name.upper(), None)
    if not isinstance(level, int):
        raise InputError(f"unknown log level {level_name!r}", where="--log-level")
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
