"""Provides the review UI's read-only lookups: a claim's stored matches and its article context.

The core owns every write and almost every query; the two reads here have no public
Workspace method yet, so they are kept small, read-only and in this one module.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from workbench.chunk import sentence_spans
from workbench.workspace import Workspace


def claim_matches(workspace: Workspace, claim_id: int) -> list[dict[str, Any]]:
    """A claim's ranked evidence: rank, passage_id, score, signals and the passage's fields."""
    # TODO: keep only this branch once Workspace.matches(claim_id) has landed in the core.
    core = getattr(workspace, "matches", None)
    if callable(core):
        return list(core(claim_id))
    rows = workspace.conn.execute(
        "SELECT rank, passage_id, score, signals FROM matches WHERE claim_id = ? ORDER BY rank",
        (claim_id,),
    ).fetchall()
    passages = workspace.passages(row[1] for row in rows)
    out = []
    for rank, passage_id, score, signals in rows:
        passage = passages.get(passage_id)
        if passage is None:
            continue  # the passage was removed by a re-ingest after matching
        out.append(
            {
                "rank": rank,
                "passage_id": passage_id,
                "score": float(score),
                "signals": json.loads(signals),
                "evidence_id": passage.doc_key,
                "title": passage.title,
                "url": passage.url,
                "publisher": passage.publisher,
                "published": passage.published,
                "lang": passage.lang,
                "text": passage.text,
            }
        )
    return out


@dataclass(frozen=True)
class Context:
    """A claim in its article: the sentences around it, and the claim's span in between."""

    before: str
    claim: str
    after: str


class ArticleContexts:
    """Neighbouring sentences of claims, with each article's sentence split computed once."""

    def __init__(self, neighbours: int = 1) -> None:
        self.neighbours = neighbours
        self._articles: dict[int, tuple[str, list[tuple[int, int]]]] = {}

    def clear(self) -> None:
        self._articles.clear()

    def context(self, workspace: Workspace, claim_id: int, start: int, end: int) -> Context:
        """The claim's article span with `neighbours` sentences each side (empty if no text)."""
        # Read-only: the article text is stored by the core but has no accessor yet.
        row = workspace.conn.execute(
            "SELECT article_id FROM claims WHERE id = ?", (claim_id,)
        ).fetchone()
        if row is None:
            return Context("", "", "")
        article_id = int(row[0])
        if article_id not in self._articles:
            (text,) = workspace.conn.execute(
                "SELECT text FROM articles WHERE id = ?", (article_id,)
            ).fetchone()
            self._articles[article_id] = (text, sentence_spans(text) if text else [])
        text, spans = self._articles[article_id]
        if not text or not 0 <= start < end <= len(text):
            return Context("", "", "")
        inside = [i for i, (s, e) in enumerate(spans) if s < end and e > start]
        if not inside:
            return Context("", text[start:end], "")
        first = max(0, inside[0] - self.neighbours)
        last = min(len(spans) - 1, inside[-1] + self.neighbours)
        begin, finish = min(spans[first][0], start), max(spans[last][1], end)
        return Context(text[begin:start], text[start:end], text[end:finish])
