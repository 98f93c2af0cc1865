"""Provides a claim's hints as the review UI shows them: earlier verdicts first, then the
suggested verdict with its reasons."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from workbench.hints.suggest import Suggestion, suggest_verdict
from workbench.workspace import Workspace


@dataclass(frozen=True)
class ClaimHints:
    """What the machine would say about a claim, for the reviewer to check, never applied."""

    memory: tuple[Any, ...]  # memory.EarlierReview, most similar first
    suggestion: Suggestion

    def lines(self, lang: str = "en") -> list[str]:
        """One line per hint, earlier verdicts first; verdict labels in `lang`."""
        from workbench.hints.memory import describe
        from workbench.scale import BY_ID

        out = [describe(review, lang) for review in self.memory]
        rating = BY_ID.get(self.suggestion.label)
        label = self.suggestion.label
        if rating is not None:
            label = rating.label_fr if lang == "fr" else rating.label_en
        out.append(f"Suggested verdict: {label} (confidence {self.suggestion.confidence:.2f})")
        out += [f"  · {reason}" for reason in self.suggestion.reasons]
        return out


def claim_hints(
    workspace: Workspace, claim_id: int, matches: Sequence[dict[str, Any]] | None = None
) -> ClaimHints:
    """Earlier reviews of claims like this one, and a verdict suggested from them and from
    the stored matches' signals."""
    from workbench.hints.memory import earlier_reviews

    if matches is None:
        matches = workspace.matches(claim_id)
    memory = tuple(earlier_reviews(workspace, claim_id, list(matches)))
    return ClaimHints(memory, suggest_verdict(matches, memory))
