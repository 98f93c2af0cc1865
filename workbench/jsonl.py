"""Provides JSON Lines reading whose errors name the file and line, shared by every reader."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from typing import Any

from workbench.errors import InputError

# Longest value quoted in an error message: enough to recognise it, never a screenful.
_SHOWN = 40


def json_type(value: object) -> str:
    """How a JSON value reads in an error message: 'an array', 'a string', 'null', ..."""
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return names.get(type(value), type(value).__name__)


def json_objects(
    lines: Iterable[str], name: str, max_chars: int | None = None, hint: str = ""
) -> Iterator[tuple[int, str, dict[str, Any]]]:
    """(line number, "name:line", object) for each non-blank line; a line that is not a JSON
    object is an InputError saying where and why.

    A line longer than `max_chars` is refused before it is parsed (naming its size, the limit
    and `hint`, which says how to raise it): one record of tens of megabytes is a mistake
    (a whole file on one line) that would otherwise stall everything after it."""
    from workbench.textio import too_large

    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{name}:{number}"
        if max_chars is not None and len(line) > max_chars:
            raise too_large(where, len(line), max_chars, "the record", hint)
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from None
        except RecursionError:
            raise InputError(f"{where}: not valid JSON (nested too deeply)") from None
        if not isinstance(record, dict):
            raise InputError(f"{where}: expected a JSON object, got {json_type(record)}")
        yield number, where, record


def _shown(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def _wrong(where: str, key: str, expected: str, value: object) -> InputError:
    got = json_type(value)
    if not isinstance(value, (dict, list)) and value is not None:
        got += f" ({_shown(value)})"
    return InputError(f"{where}: field '{key}' must be {expected}, got {got}")


def int_field(
    record: dict[str, Any], key: str, where: str, default: int, minimum: int | None = 0
) -> int:
    """record[key] as an integer (default when absent or null), at least `minimum`.

    A whole-number float (3.0) is accepted, as JSON writers in other languages emit them;
    a boolean, a string or 3.5 is an InputError naming the field."""
    value = record.get(key)
    if value is None:
        return default
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    bound = f" ≥ {minimum}" if minimum is not None else ""
    if isinstance(value, bool) or not isinstance(value, int):
        raise _wrong(where, key, f"an integer{bound}", value)
    if minimum is not None and value < minimum:
        raise _wrong(where, key, f"an integer{bound}", value)
    return value


def number_field(
    record: dict[str, Any],
    key: str,
    where: str,
    default: float,
    low: float | None = None,
    high: float | None = None,
) -> float:
    """record[key] as a finite number within [low, high] (default when absent or null)."""
    value = record.get(key)
    if value is None:
        return default
    if low is not None and high is not None:
        expected = f"a number from {low:g} to {high:g}"
    elif low is not None:
        expected = f"a number ≥ {low:g}"
    else:
        expected = "a number"
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _wrong(where, key, expected, value)
    if (low is not None and value < low) or (high is not None and value > high):
        raise _wrong(where, key, expected, value)
    return float(value)


def str_field(record: dict[str, Any], key: str, where: str, default: str = "") -> str:
    """record[key] as a stripped string (default when absent or null)."""
    value = record.get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        raise _wrong(where, key, "a string", value)
    return value.strip()


def str_list_field(record: dict[str, Any], key: str, where: str, default: list[str]) -> list[str]:
    """record[key] as a list of strings (default when absent or null)."""
    value = record.get(key)
    if value is None:
        return list(default)
    if not isinstance(value, list):
        raise _wrong(where, key, "a list of strings", value)
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise _wrong(where, f"{key}[{index}]", "a string", item)
    return list(value)
