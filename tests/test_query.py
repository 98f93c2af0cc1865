"""Tests for the focus clause of a claim (its reported content without the frame)."""

from __future__ import annotations

import pytest

from workbench.query import focus_clause


@pytest.mark.parametrize(
    ("claim", "focus"),
    [
        (
            'M. Poutine a félicité Robert Mueller pour son "enquête objective", qui a confirmé '
            "l'absence de toute collusion entre la Russie et le gouvernement américain.",
            "a confirmé l'absence de toute collusion entre la Russie et le gouvernement américain.",
        ),
        (
            "M. Poutine a déclaré qu'au cours de sa conversation téléphonique du 3 mai, "
            "Trump était prêt à rétablir des relations.",
            "au cours de sa conversation téléphonique du 3 mai, Trump était prêt à rétablir "
            "des relations.",
        ),
        (
            "Pompeo said that Washington and Moscow could work together on North Korea.",
            "Washington and Moscow could work together on North Korea.",
        ),
    ],
)
def test_focus_is_the_embedded_clause(claim: str, focus: str) -> None:
    assert focus_clause(claim) == focus


@pytest.mark.parametrize(
    "claim",
    [
        "Trump met Putin at the G20 summit in Osaka on 28 June 2019.",
        "Il a dit que oui.",  # a clause too short to stand for the claim
    ],
)
def test_no_focus_without_an_embedded_clause(claim: str) -> None:
    assert focus_clause(claim) is None
