"""Tests for near-duplicate detection of French and English claims."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.extract.dedup import (
    DEFAULT_THRESHOLD,
    best_duplicates,
    claim_key,
    conflict,
    group_duplicates,
    is_near_duplicate,
    similarity,
)

# Rewordings that keep every fact: they must merge at the default threshold.
REWORDINGS = [
    ("M. Poutine a déclaré que la Russie était prête à rétablir les relations", "fr",
     "Vladimir Poutine a affirmé que la Russie était prête à rétablir des relations", "fr"),
    ("Trump will meet Putin at the G20 in Osaka in June", "en",
     "Trump to meet Putin at Osaka G20 in June", "en"),
    ('"Trump will meet Putin in June," officials said.', "en",
     "TRUMP WILL MEET PUTIN IN JUNE, OFFICIALS SAID", "en"),
    ("Le chômage a baissé de 2 % en 2019.", "fr", "« En 2019, le chômage a baissé de 2% »", "fr"),
    ("La Russie a déployé 1 550 ogives nucléaires.", "fr",
     "Selon le rapport, la Russie a déployé 1550 ogives nucléaires.", "fr"),
    ("Russia has deployed 1,550 nuclear warheads.", "en",
     "According to the report, Russia has 1550 nuclear warheads deployed.", "en"),
    ("President Putin will meet Donald Trump.", "en", "Vladimir Putin will meet Trump.", "en"),
    ("Vaccines do not cause autism.", "en", "Vaccines don't cause autism, scientists say.", "en"),
    ("Les vaccins ne provoquent pas l'autisme.", "fr",
     "Les vaccins ne provoquent jamais l'autisme, selon les scientifiques.", "fr"),
    ("More than 100 people died in the floods in Libya.", "en",
     "Over 100 people have died in Libya's floods.", "en"),
]  # fmt: skip

# The same words around a different fact, with the veto that must stop the merge.
NEAR_MISSES = [
    ("Trump will meet Putin in June", "en", "Trump will meet Putin in July", "en", "month"),
    ("Le chômage a baissé de 2 %", "fr", "Le chômage a baissé de 3 %", "fr", "number"),
    ("X confirmed there was collusion", "en", "X confirmed there was no collusion", "en",
     "negation"),
    ("La Russie est prête à négocier", "fr", "La Russie n'est pas prête à négocier", "fr",
     "negation"),
    ("Le vaccin n'a jamais été testé", "fr", "Le vaccin a été testé", "fr", "negation"),
    ("Aucun soldat français n'a été tué", "fr", "Un soldat français a été tué", "fr",
     "negation"),
    ("Personne n'est mort du coronavirus", "fr", "Des personnes sont mortes du coronavirus",
     "fr", "negation"),
    ("Russia has never used chemical weapons", "en", "Russia has used chemical weapons", "en",
     "negation"),
    ("Mice fail to reveal increased sensitivity", "en", "Mice reveal increased sensitivity",
     "en", "negation"),
    ("Trump will meet Putin in June", "en", "Biden will meet Putin in June", "en", "entity"),
    ("Macron a rencontré Poutine à Moscou", "fr", "Scholz a rencontré Poutine à Moscou", "fr",
     "entity"),
    ("La Chine a construit une île", "fr", "Le Japon a construit une île", "fr", "entity"),
    ("Unemployment rose by 2% in 2019", "en", "Unemployment fell by 2% in 2019", "en",
     "direction"),
    ("Le chômage a baissé en 2019", "fr", "Le chômage a augmenté en 2019", "fr", "direction"),
    ("Germany will phase out coal by 2038", "en", "Germany will phase out coal by 2030", "en",
     "year"),
    ("Poutine a rencontré Macron le 3 mai", "fr", "Poutine a rencontré Macron le 4 mai", "fr",
     "day"),
    ("The summit will take place on Monday", "en", "The summit will take place on Tuesday",
     "en", "weekday"),
    ("Men are bullied more than women.", "en", "Women are bullied more than men.", "en",
     "order"),
    ("Le vaccin est efficace à 95 %", "fr", "The vaccine is 65% effective", "en", "number"),
]  # fmt: skip


@pytest.mark.parametrize(("a", "a_lang", "b", "b_lang"), REWORDINGS)
def test_rewordings_merge(a: str, a_lang: str, b: str, b_lang: str) -> None:
    ka, kb = claim_key(a, a_lang), claim_key(b, b_lang)
    assert conflict(ka, kb) is None
    assert similarity(ka, kb) >= DEFAULT_THRESHOLD
    assert is_near_duplicate(a, a_lang, b, b_lang)
    assert is_near_duplicate(b, b_lang, a, a_lang)


@pytest.mark.parametrize(("a", "a_lang", "b", "b_lang", "reason"), NEAR_MISSES)
def test_near_misses_are_vetoed(a: str, a_lang: str, b: str, b_lang: str, reason: str) -> None:
    ka, kb = claim_key(a, a_lang), claim_key(b, b_lang)
    assert conflict(ka, kb) == reason
    assert conflict(kb, ka) == reason
    # The veto holds however low the similarity threshold.
    assert not is_near_duplicate(a, a_lang, b, b_lang, threshold=0.0)


def test_key_folds_case_accents_punctuation_and_drops_function_words() -> None:
    key = claim_key("« Le CHÔMAGE a baissé », a déclaré le ministre.", "fr")
    other = claim_key("le chomage a baisse, a declare le ministre", "fr")
    assert similarity(key, other) == pytest.approx(1.0)
    assert conflict(key, other) is None
    assert not key & {"le", "a", "declare", "declar"}


@pytest.mark.parametrize(
    ("text", "lang"),
    [("1 550 ogives", "fr"), ("1,550 warheads", "en"), ("1550 warheads", "en"),
     ("1\u202f550 ogives", "fr")],
)  # fmt: skip
def test_numbers_normalised(text: str, lang: str) -> None:
    assert "#n1550" in claim_key(text, lang)


def test_scaled_amounts_are_the_same_number() -> None:
    fr = claim_key("une facture de 27,5 milliards de dollars", "fr")
    en = claim_key("a bill of $27.5 billion", "en")
    assert {t for t in fr if t.startswith("#n")} == {t for t in en if t.startswith("#n")}


def test_bridge_tokens_join_languages() -> None:
    fr = claim_key("Poutine ira en Russie le 3 mai", "fr")
    en = claim_key("Putin will go to Russia on May 3", "en")
    assert {"putin", "@ru", "#d05-03", "#m05"} <= fr & en


def test_hyphenated_codes_are_not_numbers() -> None:
    key = claim_key("COVID-19 and the G20", "en")
    assert not any(t.startswith("#n") for t in key)


def test_restrictive_ne_que_is_not_negation() -> None:
    assert "#neg" not in claim_key("Il n'a que trois enfants", "fr")
    assert "#neg" in claim_key("Il n'a pas trois enfants", "fr")
    assert "#neg" in claim_key("He didn't win", "en")


def test_dropped_detail_is_not_a_conflict() -> None:
    # A paraphrase may leave out a date or a figure; it may not change one.
    a = claim_key("Trump will meet Putin at the G20 on June 28, 2019", "en")
    b = claim_key("Trump will meet Putin at the G20 in June", "en")
    assert conflict(a, b) is None


def test_comparison_with_shared_words_on_both_sides_is_not_reversed() -> None:
    a = claim_key("British female students are bullied more than British male students.", "en")
    b = claim_key("British female students are bullied more than British male students, "
                  "a study found.", "en")  # fmt: skip
    assert conflict(a, b) is None


def test_headline_case_names_nobody() -> None:
    title = claim_key("Did 122 Prisoners Released From Guantanamo Return To The Battlefield?", "en")
    assert not any(t.startswith("*") for t in title)


def test_similarity_bounds_and_symmetry() -> None:
    a = claim_key("Trump will meet Putin at the G20 in Osaka", "en")
    b = claim_key("Trump will meet Putin", "en")
    assert similarity(a, a) == pytest.approx(1.0)
    assert similarity(a, b) == pytest.approx(similarity(b, a))
    assert 0.0 < similarity(a, b) < 1.0
    assert similarity(a, claim_key("Bananas are berries", "en")) == 0.0
    assert similarity(frozenset(), frozenset()) == 0.0


def test_short_claim_is_not_a_duplicate_of_a_long_sentence() -> None:
    long = (
        "La vente a été faite pour payer la facture fiscale de Yukos, Yuganskneftegaz a été "
        "vendu à une entreprise peu connue, Baikalfinansgroup, rachetée ensuite par la "
        "compagnie pétrolière publique russe Rosneft."
    )
    assert not is_near_duplicate(long, "fr", "Baikalfinansgroup a été vendu à Rosneft.", "fr")


def test_group_duplicates_shape() -> None:
    items = [
        ("Bananas are berries.", "en"),
        ("Trump will meet Putin in June", "en"),
        ("Le chômage a baissé de 2 %", "fr"),
        ("Trump to meet Putin in June, officials said.", "en"),
        ("BANANAS ARE BERRIES", "en"),
    ]
    assert group_duplicates(items) == [[0, 4], [1, 3], [2]]
    assert group_duplicates([]) == []
    assert group_duplicates([("Une seule affirmation", "fr")]) == [[0]]


def test_group_never_joins_conflicting_claims_through_a_vaguer_one() -> None:
    # "Trump will meet Putin" is close to both dated claims; it may join one group, but the
    # June and July claims must stay apart (complete-link veto).
    items = [
        ("Trump will meet Putin in June", "en"),
        ("Trump will meet Putin in July", "en"),
        ("Trump will meet Putin", "en"),
    ]
    groups = group_duplicates(items, threshold=0.3)
    assert [0, 2] in groups
    assert [1] in groups


def test_group_threshold_is_applied() -> None:
    items = [("Trump will meet Putin at the G20 in Osaka", "en"), ("Trump will meet Putin", "en")]
    assert group_duplicates(items, threshold=0.99) == [[0], [1]]
    assert group_duplicates(items, threshold=0.1) == [[0, 1]]


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_vectors_link_translations_but_vetoes_still_hold() -> None:
    items = [
        ("Trump rencontrera Poutine en juin", "fr"),
        ("Trump will meet Putin in June", "en"),
        ("Trump will meet Putin in July", "en"),
        ("Les bananes sont des baies", "fr"),
    ]
    assert group_duplicates(items) == [[0], [1], [2], [3]]
    rng = np.random.default_rng(0)
    base = rng.normal(size=(4, 16))
    base[1] = base[0] + 0.01  # the translation
    base[2] = base[0] + 0.02  # as close, but another month
    vectors = _unit(base)
    assert group_duplicates(items, vectors=vectors) == [[0, 1], [2], [3]]
    assert group_duplicates(items, vectors=vectors, vector_threshold=1.01) == [[0], [1], [2], [3]]


def test_vectors_must_match_items() -> None:
    with pytest.raises(ValueError, match="vectors"):
        group_duplicates([("a claim", "en"), ("another", "en")], vectors=np.eye(3))


def test_best_duplicates_finds_the_stored_claim_a_new_one_repeats() -> None:
    stored = [
        claim_key("Le chômage a baissé de 3 % en mai en Espagne.", "fr"),
        claim_key("Le chômage a baissé de 2 % en mai en France, selon l'Insee.", "fr"),
        claim_key("Trump will meet Putin at the G20 in Osaka in June.", "en"),
    ]
    new = [
        claim_key("Selon l'Insee, le chômage a baissé de 2 % en mai en France.", "fr"),
        claim_key("Le chômage a baissé de 4 % en mai en France.", "fr"),  # another number
        claim_key("La Bourse de Paris a fini en hausse vendredi.", "fr"),
    ]
    assert best_duplicates(new, stored) == {0: 1}
    assert best_duplicates(new, []) == {}
