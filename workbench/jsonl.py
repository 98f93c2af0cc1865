"""Provides JSON Lines reading whose errors name the file and line, shared by every reader."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from workbench.errors import InputError


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


def json_objects(lines: Iterable[str], name: str) -> Iterator[tuple[int, str, dict[str, Any]]]:
    """(line number, "name:line", object) for each non-blank line; a line that is not a JSON
    object is an InputError saying where and why."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{name}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(record, dict):
            raise InputError(f"{where}: expected a JSON object, got {json_type(record)}")
        yield number, where, record
