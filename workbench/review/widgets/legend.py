"""Provides the verdict legend: each verdict of the scale with the key that gives it."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from workbench.review.widgets.badge import badge

PER_LINE = 4


class VerdictKeys(Static):
    """The verdict keys as currently mapped, under the queue (the footer has no room for 8)."""

    def show(self, keys: list[tuple[str, str]]) -> None:
        """`keys`: (key display, verdict id) in scale order."""
        out = Text()
        for number, (key, verdict_id) in enumerate(keys):
            if number:
                # Two lines of four: a half-width column at 120 characters holds each whole.
                out.append("\n" if number == PER_LINE else "  ")
            out.append(key, style="bold")
            out.append(" ")
            out.append_text(badge(verdict_id))
        self.update(out)
