"""Tests for the claimant guess and the expansion of short names from the article."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.extract.claimant import expand_name, guess_claimant

ARTICLE = (Path(__file__).parent / "fixtures/sotchi-poutine-pompeo.fr.txt").read_text("utf-8")


@pytest.mark.parametrize(
    ("claim", "claimant"),
    [
        ("M. Poutine a par ailleurs félicité le procureur Robert Mueller.", "Vladimir Poutine"),
        ("Avant une réunion, M. Poutine a déclaré qu'il était prêt.", "Vladimir Poutine"),
        ("Youri Ouchakov, un assistant, a indiqué que Trump viendrait.", "Youri Ouchakov"),
        ('"Nous voulons des relations", a indiqué M. Poutine à M. Pompeo.', "Vladimir Poutine"),
        ("M. Pompeo a souligné que Washington et Moscou pouvaient coopérer.", "Mike Pompeo"),
        ("Putin said the inquiry was objective.", "Putin"),
        ("Selon Youri Ouchakov, la réunion a été utile.", "Youri Ouchakov"),
        ("La Russie et les Etats-Unis ont des intérêts communs.", ""),
    ],
)  # fmt: skip
def test_claimant(claim: str, claimant: str) -> None:
    assert guess_claimant(claim, ARTICLE) == claimant


def test_expand_name_needs_the_full_name_in_the_article() -> None:
    assert expand_name("Poutine", ARTICLE) == "Vladimir Poutine"
    assert expand_name("Lavrov", ARTICLE) == "Lavrov"
