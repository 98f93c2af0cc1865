"""Provides tests for claim extraction: language detection, offsets, filters and scores."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from workbench.errors import InputError
from workbench.extract import detect_language, extract_claims, score_sentence
from workbench.models import ExtractedClaim

SEED = Path(__file__).parent / "fixtures" / "sotchi-poutine-pompeo.fr.txt"

ENGLISH_ARTICLE = """\
Updated 8:36 AM EDT, Tue May 14, 2019
By John Smith
SOCHI, Russia (Reuters) - Russian President Vladimir Putin and U.S. Secretary of State \
Mike Pompeo met in Sochi on Tuesday and said both countries were ready to mend relations.
Putin said he had spoken with President Donald Trump by phone on May 3.
Is this the start of a new era?
"I hope that the conditions for this are now being created," Putin told Pompeo.
Photo: Reuters / Maxim Shemetov
Unemployment in the United States fell to 3.6 percent in April, the lowest rate since 1969, \
according to the Labor Department.
"""

GERMAN_ARTICLE = (
    "Der russische Präsident Wladimir Putin hat am Dienstag in Sotschi den amerikanischen "
    "Außenminister Mike Pompeo empfangen. Beide Seiten wollen die Beziehungen verbessern."
)

# Distinctive fragments of the seed article's four key checkable claims.
KEY_CLAIMS = {
    "sochi": "ont indiqué mardi à Sotchi",
    "phone call": "conversation téléphonique du 3 mai",
    "mueller": "absence de toute collusion",
    "osaka": "sommet du G20 à Osaka",
}


@pytest.fixture(scope="module")
def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def seed_claims(seed_text: str) -> list[ExtractedClaim]:
    return extract_claims(seed_text)


def _claim_with(claims: list[ExtractedClaim], fragment: str) -> ExtractedClaim:
    found = [claim for claim in claims if fragment in claim.text]
    assert len(found) == 1, f"expected one claim containing {fragment!r}, got {found}"
    return found[0]


# --- language detection -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Le président russe a rencontré le secrétaire d'État américain.", "fr"),
        ("Il a dit que la reunion etait utile", "fr"),  # no accents
        ("The Russian president met the US secretary of state.", "en"),
        ("Putin said he spoke with Trump on May 3.", "en"),
    ],
)
def test_detect_language_on_short_sentences(text: str, expected: str) -> None:
    lang, confidence = detect_language(text)
    assert lang == expected
    assert 0.5 < confidence <= 1.0


def test_detect_language_on_the_whole_article_is_confident(seed_text: str) -> None:
    assert detect_language(seed_text) == ("fr", pytest.approx(1.0, abs=1e-3))


def test_detect_language_names_unsupported_languages() -> None:
    assert detect_language(GERMAN_ARTICLE)[0] == "de"


@pytest.mark.parametrize("text", ["", "   ", "12345 -- 42", "ok"])
def test_detect_language_without_evidence_is_undetermined(text: str) -> None:
    assert detect_language(text) == ("und", 0.0)


# --- the seed article ---------------------------------------------------------------------------


def test_offsets_point_into_the_article(seed_text: str, seed_claims: list[ExtractedClaim]) -> None:
    assert seed_claims
    for claim in seed_claims:
        assert seed_text[claim.start : claim.end] == claim.text
        assert claim.text == claim.text.strip()
        assert claim.lang == "fr"
        assert 0.0 <= claim.score <= 1.0
    starts = [claim.start for claim in seed_claims]
    assert starts == sorted(starts)


def test_update_stamp_is_dropped(seed_claims: list[ExtractedClaim]) -> None:
    assert not any("mise à jour" in claim.text for claim in seed_claims)
    assert not any("08h36" in claim.text for claim in seed_claims)


def test_key_claims_are_kept_with_their_reasons(seed_claims: list[ExtractedClaim]) -> None:
    sochi = _claim_with(seed_claims, KEY_CLAIMS["sochi"])
    assert sochi.text.startswith("Le président russe Vladimir Poutine")
    assert {"contains a date", "names a person or organisation", "attributed to a speaker"} <= set(
        sochi.reasons
    )

    call = _claim_with(seed_claims, KEY_CLAIMS["phone call"])
    assert call.text.startswith("Avant une réunion à huis clos avec M. Pompeo, M. Poutine")
    assert {"contains a date", "attributed to a speaker", "states an event"} <= set(call.reasons)

    mueller = _claim_with(seed_claims, KEY_CLAIMS["mueller"])
    assert mueller.text.startswith("M. Poutine a par ailleurs félicité")
    assert {"names a person or organisation", "states an event"} <= set(mueller.reasons)

    osaka = _claim_with(seed_claims, KEY_CLAIMS["osaka"])
    assert osaka.text.startswith("Après la réunion, Youri Ouchakov")
    assert {"contains a date", "attributed to a speaker", "states an event"} <= set(osaka.reasons)


def test_the_other_factual_sentences_are_kept(seed_claims: list[ExtractedClaim]) -> None:
    for fragment in ("des intérêts communs", "Washington et Moscou", "avancée décisive"):
        _claim_with(seed_claims, fragment)


def test_hope_scores_below_every_key_claim(seed_text: str) -> None:
    everything = extract_claims(seed_text, min_score=0.0)
    hope = _claim_with(everything, "J'espère")
    assert "hope or wish" in hope.reasons
    for fragment in KEY_CLAIMS.values():
        assert _claim_with(everything, fragment).score > hope.score
    assert hope not in extract_claims(seed_text)


def test_min_score_only_ever_removes_claims(seed_text: str) -> None:
    loose = extract_claims(seed_text, min_score=0.0)
    strict = extract_claims(seed_text, min_score=0.8)
    assert set(strict) <= set(extract_claims(seed_text)) <= set(loose)
    assert all(claim.score >= 0.8 for claim in strict)


def test_explicit_language_matches_detection(seed_text: str) -> None:
    assert extract_claims(seed_text, lang="fr-FR") == extract_claims(seed_text)


# --- an English article ------------------------------------------------------------------------


def test_english_article() -> None:
    claims = extract_claims(ENGLISH_ARTICLE)
    texts = [claim.text for claim in claims]
    for claim in claims:
        assert ENGLISH_ARTICLE[claim.start : claim.end] == claim.text
        assert claim.lang == "en"
    assert len(claims) == 3, texts

    meeting = _claim_with(claims, "met in Sochi on Tuesday")
    # The dateline is not part of the claim.
    assert meeting.text.startswith("Russian President Vladimir Putin")
    assert {"contains a date", "names a person or organisation", "states an event"} <= set(
        meeting.reasons
    )
    call = _claim_with(claims, "by phone on May 3")
    assert "attributed to a speaker" in call.reasons
    jobs = _claim_with(claims, "3.6 percent")
    assert {"contains a number", "contains a quantity or comparison"} <= set(jobs.reasons)

    for dropped in ("Updated", "John Smith", "new era", "I hope", "Shemetov"):
        assert not any(dropped in text for text in texts), dropped


def test_datelines_and_glued_stamps_are_cut_off_the_claim() -> None:
    text = (
        "Mis à jour le 15/05 à 08h36 par la rédaction de notre site, avec les agences de presse\n"
        "Le président russe a rencontré M. Pompeo mardi à Sotchi.\n\n"
        "PARIS, 15 mai (AFP) - Le président a signé la loi mardi."
    )
    claims = extract_claims(text)
    assert [claim.text for claim in claims] == [
        "Le président russe a rencontré M. Pompeo mardi à Sotchi.",
        "Le président a signé la loi mardi.",
    ]
    assert all(text[claim.start : claim.end] == claim.text for claim in claims)


# --- scoring rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "lang", "reason"),
    [
        ("Dernière mise à jour à 08h36 le 15/05", "fr", "update or publication stamp"),
        ("Mis à jour le 15 mai 2019 à 10h12", "fr", "update or publication stamp"),
        ("Publié le 14/05/2019 à 18h00", "fr", "update or publication stamp"),
        ("Updated 8:36 AM", "en", "update or publication stamp"),
        ("Last updated on May 15, 2019", "en", "update or publication stamp"),
        ("PARIS, 15 mai (AFP) -", "fr", "dateline"),
        ("Par Jean Dupont", "fr", "byline"),
        ("By John Smith", "en", "byline"),
        ("Photo : AFP / Alexander Nemenov", "fr", "photo credit"),
        ("Le sommet de Sotchi entre la Russie et les Etats-Unis", "fr", "heading without a verb"),
        ("Pourquoi Moscou veut-il réparer ses relations avec Washington ?", "fr", "question"),
        ("Did Putin meet Pompeo in Sochi on Tuesday?", "en", "question"),
        ("Il a souri.", "fr", "too short to be a claim"),
    ],
)
def test_non_claims_score_zero(sentence: str, lang: str, reason: str) -> None:
    assert score_sentence(sentence, lang) == (0.0, (reason,))


def test_opinion_and_hope_score_low() -> None:
    fact, _ = score_sentence("Le chômage a baissé de 2 % en 2018, selon l'Insee.", "fr")
    opinion, reasons = score_sentence("Je pense que cette politique est une erreur.", "fr")
    assert "first-person opinion" in reasons
    hope, reasons = score_sentence("I hope that the talks will go well for everyone.", "en")
    assert "hope or wish" in reasons
    assert max(opinion, hope) < 0.4 <= fact


def test_dates_are_not_counted_as_numbers() -> None:
    _, reasons = score_sentence("Le sommet a eu lieu le 3 mai à Osaka, au Japon.", "fr")
    assert "contains a date" in reasons
    assert "contains a number" not in reasons


def test_score_sentence_rejects_unsupported_language() -> None:
    with pytest.raises(InputError, match="supported: fr, en"):
        score_sentence("Der Präsident hat am Dienstag gesprochen.", "de")


# --- errors -----------------------------------------------------------------------------------


def test_unsupported_language_is_a_clear_error() -> None:
    with pytest.raises(InputError, match=r"looks like 'de'.*supported: fr, en"):
        extract_claims(GERMAN_ARTICLE)
    with pytest.raises(InputError, match=r"'de'.*supported: fr, en"):
        extract_claims("Le président a parlé mardi à Sotchi avec M. Pompeo.", lang="de")


@pytest.mark.parametrize("text", ["", "  \n\t "])
def test_empty_text_is_an_error(text: str) -> None:
    with pytest.raises(InputError, match="empty"):
        extract_claims(text)


def test_import_stays_light() -> None:
    code = (
        "import sys, workbench.extract; "
        "heavy = {'torch', 'faiss', 'sentence_transformers', 'py3langid'} & set(sys.modules); "
        "print(sorted(heavy))"
    )
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
