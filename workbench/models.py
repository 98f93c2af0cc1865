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
    """A claim found in an article: its sentence, where it is, and why it was kept."""

    text: str
    start: int
    end: int
    lang: str
    score: float
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class Hit:
    """One retrieved passage for a query, with the fused score and per-retriever scores."""

    passage_id: int
    score: float
    signals: dict[str, float] = field(default_factory=dict)
