"""`load_spec(path)`: the one way a spec file becomes a `ServiceSpec`.

Every failure — missing file, unreadable bytes, YAML syntax, a document that is not a mapping,
schema violations — leaves as an `InputError` whose one line names the file and line, the field
path, the bad value and the fix. With several schema problems the first (by line) is reported
and the count of the rest is appended; `SpecError.problems` keeps them all for `hedge check --all`.
After validation, files the spec names (TLS, API keys) must exist.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from hedgeserve.errors import InputError
from hedgeserve.spec.paths import BASE_DIR_KEY
from hedgeserve.spec.problems import Problem, problems_from
from hedgeserve.spec.service_spec import ServiceSpec
from hedgeserve.spec.yaml_source import parse_yaml


class SpecError(InputError):
    """A spec that fails validation; `problems` lists every problem found, first one first."""

    def __init__(self, problems: list[Problem], *, source: str) -> None:
        first = problems[0]
        rest = len(problems) - 1
        more = (
            f" (+{rest} more problem{'s' if rest > 1 else ''}: hedge check --all)" if rest else ""
        )
        self.problems = tuple(problems)
        self.source = source
        super().__init__(first.what + more, where=first.where(source), fix=first.fix)

    def lines(self) -> list[str]:
        return [
            InputError(p.what, where=p.where(self.source), fix=p.fix).one_line()
            for p in self.problems
        ]


def load_spec(path: str | Path) -> ServiceSpec:
    """Read, parse and validate a spec file; relative paths inside resolve against its folder."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(
            "spec file not found", where=str(file), fix="check the path (see examples/)"
        ) from None
    except IsADirectoryError:
        raise InputError(
            "is a folder, not a spec file", where=str(file), fix="name a .yaml file"
        ) from None
    except UnicodeDecodeError:
        raise InputError("is not UTF-8 text", where=str(file), fix="save it as UTF-8") from None
    except OSError as err:
        raise InputError(f"cannot read ({err.strerror})", where=str(file)) from None
    spec = parse_spec(text, source=str(file), base_dir=file.resolve().parent)
    _check_named_files(spec, source=str(file))
    return spec


def parse_spec(text: str, *, source: str = "<spec>", base_dir: Path | None = None) -> ServiceSpec:
    """Parse and validate spec text. Pure apart from reading nothing: no file checks here."""
    data, lines = parse_yaml(text, source=source)
    if data is None:
        raise InputError(
            "the spec is empty", where=source, fix="start from examples/quickstart.yaml"
        )
    if not isinstance(data, dict):
        raise InputError(
            f"the spec must be a mapping of sections, got {_kind(data)}",
            where=source,
            fix="write top-level keys like service:, resources:, run:",
        )
    context: dict[str, Any] = {BASE_DIR_KEY: base_dir} if base_dir is not None else {}
    try:
        return ServiceSpec.model_validate(data, context=context)
    except ValidationError as err:
        raise SpecError(problems_from(err, ServiceSpec, lines), source=source) from None


def _check_named_files(spec: ServiceSpec, *, source: str) -> None:
    named: list[tuple[str, str | None]] = [
        ("gateway.api_keys_file", spec.gateway.api_keys_file),
    ]
    if spec.service.tls is not None:
        named += [
            ("service.tls.keyfile", spec.service.tls.keyfile),
            ("service.tls.certfile", spec.service.tls.certfile),
        ]
    for field, value in named:
        if value is not None and not Path(value).is_file():
            raise InputError(
                f"file {value} does not exist",
                where=f"{source}: {field}",
                fix="fix the path (relative paths start at the spec's folder)",
            )


def _kind(data: Any) -> str:
    if isinstance(data, list):
        return "a list"
    return f"{type(data).__name__} {data!r}"[:60]
