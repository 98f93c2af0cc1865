"""Provides the plain records that flow between the core modules."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Document:
    """One evidence document as read from a source file, before chunking.

    `offset` is where `text` starts in the source file's decoded text, so that
    passage offsets can point back into the file a person can open.
    """

    id: str
    text: str
    title: str = ""
    url: str = ""
    publisher: str = ""
    published: str = ""
    lang: str = ""
    source: str = ""
    offset: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Span:
    """A half-open character range [start, end) into some text."""

    start: int
    end: int


@dataclass(frozen=True)
class ExtractedClaim:
    """A claim found in an article: where it is, why it was kept, and how it reads alone.

    `text` is `article[start:end]`; `standalone` the same claim with names, pronouns and
    relative dates resolved (`resolutions` says how); `content` the claim without its
    reporting frame; `spans` every (start, end) where the article makes this claim (more
    than one when near-duplicates were merged); `entities`, `numbers` and `dates` carry
    spans relative to `text` and normalised values."""

    text: str
    start: int
    end: int
    lang: str
    score: float
    reasons: tuple[str, ...] = ()
    claimant: str = ""
    standalone: str = ""
    resolutions: tuple[str, ...] = ()
    content: str = ""
    speakers: tuple[str, ...] = ()
    spans: tuple[tuple[int, int], ...] = ()
    entities: tuple[dict[str, Any], ...] = ()
    numbers: tuple[dict[str, Any], ...] = ()
    dates: tuple[dict[str, Any], ...] = ()
    rule_score: float | None = None

    def details(self) -> dict[str, Any]:
        """The fields beyond the span and score, as stored with the claim in a workspace."""
        return {
            "content": self.content,
            "speakers": list(self.speakers),
            "resolutions": list(self.resolutions),
            "spans": [list(span) for span in self.spans],
            "entities": list(self.entities),
            "numbers": list(self.numbers),
            "dates": list(self.dates),
            "rule_score": self.rule_score,
        }


@dataclass(frozen=True)
class Hit:
    """One retrieved passage for a query, with the fused score and per-retriever scores."""

    passage_id: int
    score: float
    signals: dict[str, float] = field(default_factory=dict)
