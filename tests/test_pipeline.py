"""Tests for the extraction pipeline: attributed, split, standalone, merged claims in FR and EN."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from workbench.errors import InputError
from workbench.extract.pipeline import NAMED_SPEAKER, REPEATED, RuleScorer, extract_article
from workbench.match import add_article
from workbench.models import ExtractedClaim
from workbench.workspace import Workspace

SEED = Path(__file__).parent / "fixtures" / "sotchi-poutine-pompeo.fr.txt"
ARTICLE = SEED.read_text(encoding="utf-8")

ENGLISH = """\
Updated 8:36 AM EDT, Tue May 14, 2019
SOCHI, Russia (Reuters) - Russian President Vladimir Putin and U.S. Secretary of State \
Mike Pompeo met in Sochi on Tuesday and said both countries were ready to mend relations.
Putin said he had spoken with President Donald Trump by phone on May 3.
He said the Mueller report had found no collusion between Russia and the U.S. government.
Unemployment in the United States fell to 3.6 percent in April, and inflation rose to 2 \
percent, according to the Labor Department.
"""


def _with(claims: Sequence[ExtractedClaim], fragment: str) -> ExtractedClaim:
    found = [c for c in claims if fragment in c.text]
    assert len(found) == 1, f"{fragment!r}: {[c.text for c in claims]}"
    return found[0]


@pytest.fixture(scope="module")
def seed() -> list[ExtractedClaim]:
    return extract_article(ARTICLE, published="2019-05-15", min_score=0.0)


def test_every_claim_points_back_into_the_article(seed: list[ExtractedClaim]) -> None:
    for claim in seed:
        assert ARTICLE[claim.start : claim.end] == claim.text
        assert claim.spans[0] == (claim.start, claim.end)
        for item in (*claim.numbers, *claim.dates, *claim.entities):
            assert claim.text[item["start"] : item["end"]] == item["text"]
    assert [c.start for c in seed] == sorted(c.start for c in seed)
    assert not any("mise à jour" in c.text for c in seed)


def test_key_claims_carry_claimant_standalone_text_and_dates(seed: list[ExtractedClaim]) -> None:
    sochi = _with(seed, "ont indiqué mardi à Sotchi")
    assert sochi.claimant == "Vladimir Poutine et Mike Pompeo"
    assert "mardi 14 mai 2019 à Sotchi" in sochi.standalone
    assert {"value": "2019-05-14", "rule": "weekday up to the article date"}.items() <= next(
        d for d in sochi.dates if d["text"] == "mardi"
    ).items()
    assert NAMED_SPEAKER in sochi.reasons

    call = _with(seed, "conversation téléphonique du 3 mai")
    assert call.claimant == "Vladimir Poutine"
    assert "Vladimir Poutine avait eu l'impression que Donald Trump était prêt" in call.standalone
    assert [d["value"] for d in call.dates] == ["2019-05-03"]

    mueller = _with(seed, "absence de toute collusion")
    assert mueller.claimant == "Vladimir Poutine"
    assert mueller.standalone.startswith("Vladimir Poutine a par ailleurs félicité")
    assert {"Robert Mueller", "Russia"} <= {e["normal"] for e in mueller.entities}

    osaka = _with(seed, "sommet du G20 à Osaka")
    assert osaka.claimant == "Youri Ouchakov"
    assert osaka.speakers == ("Youri Ouchakov", "Mike Pompeo")
    assert osaka.content.startswith("Donald Trump était prêt à rencontrer")
    assert "Mike Pompeo avait déclaré à Vladimir Poutine" in osaka.standalone
    assert [d["value"] for d in osaka.dates] == ["2019-06"]
    assert {"G20", "Osaka", "Japan"} <= {e["normal"] for e in osaka.entities}


def test_a_sentence_of_three_statements_gives_three_claims(seed: list[ExtractedClaim]) -> None:
    pieces = [c for c in seed if c.speakers == ("Youri Ouchakov",)]
    assert [p.text[:30] for p in pieces] == [
        "la réunion de mardi n'avait pa",
        "la discussion avait tout de mê",
        "la partie américaine avait fai",
    ]
    for piece in pieces:
        # Each piece stands alone with its frame: who said it.
        assert piece.standalone.startswith("Youri Ouchakov a expliqué à la presse que ")


def test_a_quotation_takes_the_speaker_named_where_it_closes(seed: list[ExtractedClaim]) -> None:
    opening = _with(seed, "Pour notre part")
    assert opening.claimant == "Vladimir Poutine"
    assert "quotation closed by Vladimir Poutine" in opening.resolutions


def test_english_article() -> None:
    claims = extract_article(ENGLISH, min_score=0.0)
    assert {c.lang for c in claims} == {"en"}
    call = _with(claims, "by phone on May 3")
    assert call.claimant == "Vladimir Putin"
    assert [d["value"] for d in call.dates] == ["2019-05-03"]  # the stamp's year
    mueller = _with(claims, "no collusion")
    # "He said" takes the speaker of the sentence before.
    assert mueller.claimant == "Vladimir Putin"
    assert mueller.standalone.startswith("Vladimir Putin said")
    unemployment = _with(claims, "Unemployment")
    inflation = _with(claims, "inflation rose")
    assert unemployment.claimant == inflation.claimant == "Labor Department"
    assert [n["value"] for n in unemployment.numbers] == [3.6]
    sochi = _with(claims, "met in Sochi on Tuesday")
    assert "Tuesday May 14, 2019" in sochi.standalone


def test_near_duplicates_in_an_article_merge_keeping_every_span() -> None:
    text = (
        "M. Poutine a déclaré que la Russie était prête à rétablir les relations avec les "
        "Etats-Unis.\nLe chômage a baissé de 2 % en mai en France.\n"
        "Vladimir Poutine a affirmé que la Russie était prête à rétablir des relations avec "
        "les Etats-Unis.\n"
    )
    claims = extract_article(text, lang="fr", min_score=0.0)
    ready = _with(claims, "M. Poutine a déclaré")
    assert len(ready.spans) == 2 and REPEATED in ready.reasons
    second = ready.spans[1]
    assert text[second[0] : second[1]].startswith("Vladimir Poutine a affirmé")
    assert len(claims) == 2
    unmerged = extract_article(text, lang="fr", min_score=0.0, merge=False)
    assert len(unmerged) == 3


class _LengthScorer:
    """A scorer that prefers long texts, to see scores and thresholds flow through."""

    name = "length"
    min_score = 0.5

    def score(self, texts: Sequence[str], lang: str) -> list[float]:
        return [min(1.0, len(t) / 300) for t in texts]


def test_the_scorer_decides_scores_and_its_threshold_is_the_default() -> None:
    claims = extract_article(ARTICLE, published="2019-05-15", scorer=_LengthScorer())
    assert claims and all(c.score >= 0.5 for c in claims)
    assert all(c.score == round(min(1.0, len(c.standalone) / 300), 4) for c in claims)
    # The rule score stays beside the learned one, as an explanation.
    assert all(c.rule_score is not None for c in claims)
    assert len(extract_article(ARTICLE, scorer=RuleScorer(), min_score=0.0)) >= len(claims)


def test_unsupported_language_and_empty_text_are_clear_errors() -> None:
    with pytest.raises(InputError, match="supported: fr, en"):
        extract_article(
            "Der russische Präsident Wladimir Putin hat am Dienstag in Sotschi den amerikanischen "
            "Außenminister Mike Pompeo empfangen. Beide Seiten wollen die Beziehungen verbessern."
        )
    with pytest.raises(InputError, match="empty"):
        extract_article("  \n")


def test_a_claim_repeated_by_another_article_is_one_claim_with_two_sources(
    tmp_path: Path,
) -> None:
    first = tmp_path / "a.txt"
    first.write_text(
        "Le chômage a baissé de 2 % en mai en France, selon l'Insee.\n"
        "Le président Emmanuel Macron a visité Marseille mardi avec trois ministres.\n",
        encoding="utf-8",
    )
    second = tmp_path / "b.txt"
    second.write_text(
        "Selon l'Insee, le chômage a baissé de 2 % en mai en France.\n"
        "Le chômage a baissé de 3 % en mai en Espagne, selon l'institut espagnol.\n",
        encoding="utf-8",
    )
    ws = Workspace.open(tmp_path / "ws", create=True)
    ids_a = add_article(ws, first)
    ids_b = add_article(ws, second)
    assert ids_b[0] == ids_a[0]  # the same claim
    assert ids_b[1] not in ids_a  # a different number: a different claim
    sources = ws.claim_sources(ids_a[0])
    assert [(s["article"], s["text"][:20]) for s in sources] == [("b.txt", "Selon l'Insee, le ch")]
    # Adding the same article again changes nothing.
    assert add_article(ws, second) == ids_b
    assert len(ws.claim_sources(ids_a[0])) == 1
    stored = {c.id: c for c in ws.claims()}
    assert stored[ids_a[1]].claimant == "" or stored[ids_a[1]].claimant
    assert stored[ids_a[0]].query == stored[ids_a[0]].standalone


def test_a_pronoun_under_two_speakers_is_not_given_to_either() -> None:
    text = (
        "Le président russe Vladimir Poutine a reçu mardi le secrétaire d'Etat américain Mike "
        "Pompeo à Sotchi. Vladimir Poutine et Mike Pompeo ont indiqué mardi qu'il faudrait "
        "rétablir un dialogue sur le contrôle des armements avant la fin de l'année 2019. "
        "M. Poutine a déclaré qu'il avait eu une conversation téléphonique avec Donald Trump "
        "le 3 mai."
    )
    claims = extract_article(text, lang="fr", published="2019-05-15", min_score=0.0)
    (both,) = [c for c in claims if "contrôle des armements" in c.text]
    assert not any(r.startswith("il ->") for r in both.resolutions), both.resolutions
    (alone,) = [c for c in claims if "conversation téléphonique" in c.text]
    assert any(r.startswith("il -> Vladimir Poutine") for r in alone.resolutions), alone.resolutions
