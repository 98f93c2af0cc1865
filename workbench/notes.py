"""Provides the one way the core and the CLI tell people something on stderr."""

from __future__ import annotations

import sys

PREFIX = "workbench: "


def say(message: str) -> None:
    """One line for people on stderr, prefixed like every line the workbench writes there
    (stdout stays machine-readable JSONL)."""
    print(PREFIX + message, file=sys.stderr, flush=True)
