"""Provides the review header: the reviewer, progress, and what the queue shows or hides."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


def _ratio(done: int, total: int) -> str:
    percent = round(100 * done / total) if total else 0
    return f"{done}/{total} ({percent}%)"


class ReviewHeader(Static):
    """One line: who reviews, how far they are, and what the queue shows."""

    def show(
        self,
        reviewer: str,
        overall: tuple[int, int],
        article: str,
        in_article: tuple[int, int],
        queue: str,
        low: str = "",
    ) -> None:
        """`low`: what the queue says of the claims under the check-worthiness threshold
        ("low check-worthiness: 3 more (L shows them)"), '' when there are none."""
        out = Text()
        out.append(" Fact-check review ", style="bold reverse")
        out.append("  reviewer ")
        out.append(reviewer, style="bold")
        out.append("  │  reviewed ")
        out.append(_ratio(*overall), style="bold")
        if article:
            out.append("  │  this article ")
            out.append(_ratio(*in_article), style="bold")
        out.append("  │  " + queue, style="dim")
        if low:
            out.append("  │  " + low, style="bold")
        self.update(out, layout=False)  # one line, docked: its size never changes
