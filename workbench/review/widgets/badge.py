"""Provides verdict badges: a short coloured label per verdict of the scale."""

from __future__ import annotations

from functools import lru_cache

from rich.style import Style
from rich.text import Text

from workbench.scale import BY_ID

# From red (false) to green (true); the two non-ratings in neutral colours.
_STYLES = {
    "false": "bold red",
    "mostly-false": "red",
    "misleading": "dark_orange",
    "half-true": "yellow",
    "mostly-true": "green",
    "true": "bold green",
    "unverifiable": "blue",
    "not-a-claim": "bright_black",
}


def badge(verdict_id: str) -> Text:
    """The verdict's English label in its colour; a dim dot for a claim not yet reviewed."""
    rating = BY_ID.get(verdict_id)
    if rating is None:
        return Text("·", style="dim")
    return Text(rating.label_en, style=_STYLES.get(verdict_id, ""))


@lru_cache(maxsize=16)
def badge_style(verdict_id: str) -> Style:
    """The badge's style as a Rich Style (parsed once: the queue draws it on every line)."""
    return Style.parse(_STYLES.get(verdict_id, "dim"))
