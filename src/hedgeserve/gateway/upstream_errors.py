"""How an exchange with a replica can fail: one `UpstreamError` subclass per stage it reached.

`proxy.py` maps each onto a `Cause` (what the retry rules and metrics speak of): failures before
the response head may be retried on another replica, failures inside the body may not.
"""

from __future__ import annotations


class UpstreamError(Exception):
    """A replica exchange failed; the subclass says how far it got."""


class ConnectFailed(UpstreamError):
    pass


class ConnectTimedOut(UpstreamError):
    pass


class ResetBeforeAnswer(UpstreamError):
    """The connection closed before a complete response head."""


class FirstByteTimedOut(UpstreamError):
    pass


class BadResponse(UpstreamError):
    """The replica's head or framing is malformed."""


class BodyBroken(UpstreamError):
    """The connection closed, or the framing broke, inside the body."""
