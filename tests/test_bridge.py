"""Tests for the language-neutral bridge tokens and their BM25 index across languages."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.index.bridge import bridge_tokens, transliterate_fr
from workbench.index.lexical import LexicalIndex


@pytest.mark.parametrize(
    ("french", "english"),
    [
        ("poutine", "putin"),
        ("ouchakov", "ushakov"),
        ("sotchi", "sochi"),
        ("khrouchtchev", "khrushchev"),
        ("gorbatchev", "gorbachev"),
        ("lavrov", "lavrov"),
    ],
)
def test_french_transliterations_of_russian_names(french: str, english: str) -> None:
    assert transliterate_fr(french) == english


def test_same_facts_give_same_tokens_in_both_languages() -> None:
    fr = bridge_tokens("M. Poutine a parlé avec Donald Trump le 3 mai, à Sotchi, en Russie.", "fr")
    en = bridge_tokens("Putin spoke with Donald Trump on May 3 in Sochi, Russia.", "en")
    for token in ("putin", "donald", "trump", "d05-03", "m05", "sochi", "@ru"):
        assert token in fr and token in en, token


@pytest.mark.parametrize(
    ("text", "lang", "expected", "absent"),
    [
        ("le 1er juin 2019", "fr", {"d06-01", "m06", "y2019"}, set()),
        ("14 May 2019", "en", {"d05-14", "m05", "y2019"}, set()),
        ("It may rain; they may go.", "en", set(), {"m05"}),
        ("1 550 ogives, 5,2 %", "fr", {"n1550", "n5.2"}, {"y1550"}),
        ("1,550 warheads, 5.2%", "en", {"n1550", "n5.2"}, set()),
        ("the G20 summit", "en", {"g20"}, {"n20"}),
        ("les Etats-Unis et la Corée du Nord", "fr", {"@us", "@kp"}, {"coree", "nord"}),
        ("the United States and North Korea", "en", {"@us", "@kp"}, {"united", "states"}),
        ("le président russe, mardi", "fr", {"@ru", "w2"}, set()),
    ],
)
def test_tokens(text: str, lang: str, expected: set[str], absent: set[str]) -> None:
    tokens = set(bridge_tokens(text, lang))
    assert expected <= tokens
    assert not absent & tokens


def test_bridge_index_ranks_the_english_fact_for_a_french_claim() -> None:
    passages = [
        ("Trump and Putin met in Helsinki on 16 July 2018.", "en"),
        ("Trump and Putin spoke by phone on 3 May 2019.", "en"),
        ("Poutine et Trump se sont rencontrés à Helsinki.", "fr"),
    ]
    index = LexicalIndex.build(
        np.array([1, 2, 3]), [p[0] for p in passages], [p[1] for p in passages], "bridge"
    )
    scores = index.scores("M. Poutine a eu une conversation avec M. Trump le 3 mai.", "fr")
    assert int(index.ids[np.argmax(scores)]) == 2
