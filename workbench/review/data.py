"""Provides the review UI's lookups: a claim's stored matches and its article context."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from workbench.chunk import sentence_spans
from workbench.workspace import Workspace


def claim_matches(workspace: Workspace, claim_id: int) -> list[dict[str, Any]]:
    """A claim's ranked evidence: rank, passage_id, score, signals and the passage's fields."""
    return workspace.matches(claim_id)


@dataclass(frozen=True)
class Context:
    """A claim in its article: the sentences around it, and the claim's span in between."""

    before: str
    claim: str
    after: str
    claimant: str = ""
    published: str = ""


class ArticleContexts:
    """Neighbouring sentences of claims, with each article's sentence split computed once."""

    def __init__(self, neighbours: int = 1) -> None:
        self.neighbours = neighbours
        self._articles: dict[int, tuple[str, list[tuple[int, int]], str]] = {}
        self._article_of: dict[int, int] = {}

    def clear(self) -> None:
        self._articles.clear()
        self._article_of.clear()

    def context(
        self, workspace: Workspace, claim_id: int, start: int, end: int, claimant: str = ""
    ) -> Context:
        """The claim's article span with `neighbours` sentences each side (empty if no text);
        `claimant` is the stored one (claims from before extraction stored it are guessed)."""
        if claim_id not in self._article_of:
            found = workspace.article_of(claim_id)
            if found is None:
                return Context("", "", "")
            article_id, text, published = found
            self._article_of[claim_id] = article_id
            if article_id not in self._articles:
                spans = sentence_spans(text) if text else []
                self._articles[article_id] = (text, spans, published)
        article_id = self._article_of[claim_id]
        text, spans, published = self._articles[article_id]
        if not text or not 0 <= start < end <= len(text):
            return Context("", "", "", published=published)
        if not claimant:
            # Only for claims stored before extraction kept a claimant: not on every start.
            from workbench.extract.claimant import guess_claimant

            claimant = guess_claimant(text[start:end], text)
        inside = [i for i, (s, e) in enumerate(spans) if s < end and e > start]
        if not inside:
            return Context("", text[start:end], "", claimant, published)
        first = max(0, inside[0] - self.neighbours)
        last = min(len(spans) - 1, inside[-1] + self.neighbours)
        begin, finish = min(spans[first][0], start), max(spans[last][1], end)
        return Context(text[begin:start], text[start:end], text[end:finish], claimant, published)
