"""Read spec YAML: `yaml.safe_load` semantics, plus duplicate-key detection and a map from each
key's path to its line, so validation errors can point at the line.

Invariant: errors leave as `InputError` naming file, line and column; nothing here validates the
schema. A duplicate key is an error because YAML would silently keep only the last value.
"""

from __future__ import annotations

from typing import Any

import yaml

from hedgeserve.errors import InputError

Path_ = tuple[str | int, ...]  # a key path as pydantic reports it: keys and list indexes
_MERGE_TAG = "tag:yaml.org,2002:merge"


def parse_yaml(text: str, *, source: str) -> tuple[Any, dict[Path_, int]]:
    """(document, {key path: 1-based line}) of one YAML document; `None` for an empty one."""
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as err:  # raised up front for a control character
        raise InputError(
            f"character {err.character:#06x} at position {err.position} is not allowed in YAML",
            where=source,
            fix="remove control characters; save the file as plain UTF-8 text",
        ) from None
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        lines: dict[Path_, int] = {(): node.start_mark.line + 1}
        _walk(node, (), lines, source)
        return loader.construct_document(node), lines
    except yaml.MarkedYAMLError as err:
        raise _syntax_error(err, source) from None
    except yaml.YAMLError as err:  # unmarked errors are rare; keep the message
        raise InputError(f"YAML error: {err}", where=source) from None
    finally:
        loader.dispose()


def _walk(node: yaml.Node, path: Path_, lines: dict[Path_, int], source: str) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG or not isinstance(key_node, yaml.ScalarNode):
                continue
            key, line = key_node.value, key_node.start_mark.line + 1
            if key in seen:
                where = ".".join(str(p) for p in path + (key,))
                raise InputError(
                    f"key {key!r} appears twice (lines {seen[key]} and {line})",
                    where=f"{source}:{line}: {where}",
                    fix="keep one of them; YAML would silently use only the last",
                )
            seen[key] = line
            lines[path + (key,)] = line
            _walk(value_node, path + (key,), lines, source)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[path + (i,)] = item.start_mark.line + 1
            _walk(item, path + (i,), lines, source)


def _syntax_error(err: yaml.MarkedYAMLError, source: str) -> InputError:
    mark = err.problem_mark or err.context_mark
    problem = err.problem or err.context or "invalid YAML"
    where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
    if "'\\t'" in problem:
        fix = "indent with spaces, not tabs"
    elif "mapping values are not allowed" in problem:
        fix = "quote a value that contains ': ', or fix the indentation of this line"
    elif "alias" in (err.context or "") or "anchor" in (err.context or ""):
        fix = "quote a value that starts with * or &, e.g. infra: '*/us-east-1'"
    elif "expected a single document" in problem:
        fix = "put one service in the file (remove the second '---' document)"
    else:
        fix = "check the indentation and quoting on that line and the one before"
    context = f" ({err.context})" if err.context and err.problem else ""
    return InputError(f"YAML syntax error: {problem}{context}", where=where, fix=fix)
