"""Provides the verdict scale: the ratings fact-checkers publish, with keys and labels."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rating:
    """One verdict of the scale. `value` is the ClaimReview ratingValue (None: not rated)."""

    id: str
    label_en: str
    label_fr: str
    value: int | None
    key: str


# 1 = worst ... 6 = best, as ClaimReview's reviewRating; then the two verdicts that are not
# ratings. The keys are the review UI's defaults (remappable in the config file).
SCALE: tuple[Rating, ...] = (
    Rating("false", "False", "Faux", 1, "1"),
    Rating("mostly-false", "Mostly false", "Plutôt faux", 2, "2"),
    Rating("misleading", "Misleading", "Trompeur", 3, "3"),
    Rating("half-true", "Half true", "En partie vrai", 4, "4"),
    Rating("mostly-true", "Mostly true", "Plutôt vrai", 5, "5"),
    Rating("true", "True", "Vrai", 6, "6"),
    Rating("unverifiable", "Unverifiable", "Invérifiable", None, "0"),
    Rating("not-a-claim", "Not a claim", "Pas une affirmation", None, "x"),
)
BY_ID = {rating.id: rating for rating in SCALE}
BEST_RATING = 6
WORST_RATING = 1


def parse_verdict(text: str) -> Rating:
    """A verdict from its id, English or French label, or key ('mostly-false', 'Faux', '2')."""
    from workbench.errors import InputError

    wanted = text.strip().lower().replace("_", "-")
    for rating in SCALE:
        names = {rating.id, rating.label_en.lower(), rating.label_fr.lower(), rating.key}
        if wanted in names or wanted.replace(" ", "-") in names:
            return rating
    choices = ", ".join(r.id for r in SCALE)
    raise InputError(f"unknown verdict {text!r}; use one of: {choices}")
