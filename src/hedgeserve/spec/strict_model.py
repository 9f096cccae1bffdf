"""The base of every YAML-facing model, the number types they share, and `rule_error`.

Invariants: every model is frozen and rejects unknown keys (so a typo is an error, never a
silently ignored setting). Numbers and booleans are strict: YAML already types them, so `"3"`
or `yes`-as-a-string is a mistake to report, not to coerce. A rule that spans fields raises
`rule_error`, which carries the fix and the exact field so the loader can name both.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, Strict
from pydantic_core import PydanticCustomError

RULE_ERROR_TYPE = "spec_rule"

Count = Annotated[int, Strict(), Field(ge=0, description="an integer ≥ 0")]
PositiveCount = Annotated[int, Strict(), Field(ge=1, description="an integer ≥ 1")]
Seconds = Annotated[
    float, Strict(), Field(ge=0, allow_inf_nan=False, description="a number of seconds ≥ 0")
]
PositiveSeconds = Annotated[
    float, Strict(), Field(gt=0, allow_inf_nan=False, description="a number of seconds > 0")
]
Flag = Annotated[bool, Strict(), Field(description="true or false")]
Port = Annotated[int, Strict(), Field(ge=1, le=65535, description="a port number 1–65535")]
Price = Annotated[
    float, Strict(), Field(ge=0, allow_inf_nan=False, description="a price in $/h ≥ 0")
]


class StrictModel(BaseModel):
    """Frozen, unknown keys rejected. Mapping fields hold plain dicts: treat them as read-only."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=False)


def rule_error(what: str, *, fix: str, field: str = "") -> PydanticCustomError:
    """A validation error whose message is `what` and whose context carries the fix.

    Args:
        field: the offending key, relative to the model raising the error ("max_replicas",
            "replica_policy.spot_placer"), when the rule is checked on a parent model.
    """
    # The message goes through the context so braces in `what` (a JSON value) are not a template.
    return PydanticCustomError(
        RULE_ERROR_TYPE, "{what}", {"what": what, "fix": fix, "field": field}
    )
