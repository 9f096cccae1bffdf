"""Property: whatever a user writes, loading a spec either succeeds or raises one `InputError`
line with a fix — never another exception, never a traceback-worthy crash."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hedgeserve.errors import InputError
from hedgeserve.spec import ServiceSpec, parse_spec
from hedgeserve.spec.describe import describe_spec

# A few hundred cases keep the suite fast; HEDGE_FUZZ_EXAMPLES=5000 for a deeper run.
N_EXAMPLES = int(os.environ.get("HEDGE_FUZZ_EXAMPLES", "150"))
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BASES = [yaml.safe_load(p.read_text()) for p in sorted(EXAMPLES.glob("*.yaml"))]
KEY_NAMES = [
    "service",
    "resources",
    "replica_policy",
    "min_replicas",
    "max_replicas",
    "use_spot",
    "any_of",
    "infra",
    "accelerators",
    "ports",
    "readiness_probe",
    "path",
    "post_data",
    "spot_emulation",
    "zones",
    "trace",
    "provider",
    "name",
    "envs",
    "planner",
    "split",
]

leaves = (
    st.none()
    | st.booleans()
    | st.integers(-3, 70_000)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(["/health", "H100:1", "gcp/*/us-central1-a", "dynamic_fallback", "{"])
)
values = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(KEY_NAMES) | st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, prefix + (i,))
    return out


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    copy = dict(doc) if isinstance(doc, dict) else list(doc)
    copy[head] = _set(copy[head], rest, value)
    return copy


def _check(text: str) -> None:
    try:
        spec = parse_spec(text, source="fuzz.yaml")
    except InputError as err:
        assert "\n" not in err.one_line()
        assert err.fix, err.one_line()
        return
    assert isinstance(spec, ServiceSpec)
    # Resolved views must not fail on a spec that validated.
    assert spec.policy.max_replicas >= spec.policy.min_replicas >= 0
    assert spec.probe.path.startswith("/")
    assert spec.candidates
    spec.warnings()
    assert all(label and isinstance(text, str) for label, text in describe_spec(spec))


@settings(max_examples=N_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_examples_fail_only_with_input_errors(data: st.DataObject) -> None:
    doc = data.draw(st.sampled_from(BASES))
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(_paths(doc)))
        if data.draw(st.booleans()) or not path:
            doc = _set(doc, path, data.draw(values))
        else:  # add a sibling key next to an existing one
            parent = path[:-1]
            target: Any = doc
            for part in parent:
                target = target[part]
            if isinstance(target, dict):
                key = data.draw(st.sampled_from(KEY_NAMES) | st.text(max_size=6))
                doc = _set(doc, parent, {**target, key: data.draw(values)})
    _check(yaml.safe_dump(doc, allow_unicode=True))


@settings(max_examples=N_EXAMPLES, deadline=None)
@given(text=st.text(max_size=80))
def test_arbitrary_text_fails_only_with_input_errors(text: str) -> None:
    _check(text)
