"""Provides the focus of a claim: its reported content without the attribution frame around it.

"M. Poutine a félicité Robert Mueller pour son enquête, qui a confirmé l'absence de toute
collusion" is checked on its relative clause; "X a déclaré que Y" on Y. A multilingual model
given the whole sentence matches the frame (who praised whom) as much as the content; given
the focus as a second query, it matches the content. The frame keeps its say through the
whole-sentence query and the bridge tokens (names, places, dates).
"""

from __future__ import annotations

import re

# Where reported or embedded content starts: after a complementiser ("que", "that") or a
# relative pronoun that opens a clause with its own verb (", qui a confirmé", ", which").
_MARKER = re.compile(
    r"(?:,\s*(?:qui|lequel|laquelle|which|who)\s|\bqu(?:e\s|['’])|\bthat\s|:\s)", re.IGNORECASE
)
MIN_FOCUS_WORDS = 5


def focus_clause(text: str) -> str | None:
    """The first embedded clause of at least five words, or None when there is none."""
    for match in _MARKER.finditer(text):
        tail = text[match.end() :].strip()
        if len(tail.split()) >= MIN_FOCUS_WORDS and len(tail) < len(text) * 0.9:
            return tail
    return None
