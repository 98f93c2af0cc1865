"""Tests for verdict memory: earlier verdicts on similar claims across articles and languages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fakes import ConceptEmbedder

from workbench import verdicts
from workbench.embed import HashingEmbedder
from workbench.hints.memory import (
    LEXICAL,
    OTHER_MODEL_THRESHOLD,
    EarlierReview,
    describe,
    earlier_reviews,
)
from workbench.index import store
from workbench.ingest import ingest
from workbench.match import add_article, add_claim_records, match_claims
from workbench.retrieve import Retriever
from workbench.workspace import Workspace

# Article B (English) says what the seed article (A, French) reports about Mueller, in other
# words; its second claim is unrelated to anything in A.
ARTICLE_B = (
    "Russian President Vladimir Putin praised special counsel Robert Mueller, saying his "
    "objective inquiry had confirmed the absence of any collusion between Russia and the "
    "American government.\n\n"
    "Inflation in Japan rose to 3 percent in 2018, the central bank said on Friday.\n"
)


def _workspace(root: Path, evidence: Path, embedder: object) -> tuple[Workspace, Retriever]:
    ws = Workspace.open(root, create=True)
    ingest(ws, [evidence], [embedder])
    return ws, Retriever([embedder], store.load(ws, ws.get_meta("models")))


def _claim(ws: Workspace, ids: list[int], word: str) -> int:
    found = [c.id for c in ws.claims(ids) if word.lower() in c.query.lower()]
    assert found, f"no claim with {word!r} in {[c.query for c in ws.claims(ids)]}"
    return found[0]


@pytest.fixture
def two_articles(tmp_path: Path, evidence_file: Path, seed_article: Path):
    ws, retriever = _workspace(tmp_path / "ws", evidence_file, ConceptEmbedder())
    a_ids = add_article(ws, seed_article, published="2019-05-15")
    match_claims(ws, retriever, a_ids, 3)
    article_b = tmp_path / "putin-mueller.en.txt"
    article_b.write_text(ARTICLE_B, encoding="utf-8")
    b_ids = add_article(ws, article_b, published="2019-05-20")
    match_claims(ws, retriever, b_ids, 3)
    yield ws, retriever, a_ids, b_ids
    ws.close()


def test_verdict_memory_across_two_articles_and_languages(two_articles) -> None:
    ws, _, a_ids, b_ids = two_articles
    a_mueller, a_osaka = _claim(ws, a_ids, "Mueller"), _claim(ws, a_ids, "Osaka")
    b_mueller, b_japan = _claim(ws, b_ids, "Mueller"), _claim(ws, b_ids, "Japan")
    assert a_mueller not in b_ids  # reworded in another language: not merged as a duplicate
    verdicts.set_verdict(ws, a_mueller, "misleading", "ana")
    verdicts.set_note(ws, a_mueller, "Mueller did not establish collusion: not the same.", "ana")
    verdicts.set_verdict(ws, a_osaka, "true", "ben")

    found = earlier_reviews(ws, b_mueller)
    assert [r.claim_id for r in found] == [a_mueller]
    first = found[0]
    assert (first.source, first.verdict, first.reviewer) == ("workspace", "misleading", "ana")
    assert first.note == "Mueller did not establish collusion: not the same."
    stamp = ws.conn.execute("SELECT updated_at FROM verdicts WHERE claim_id = ?", (a_mueller,))
    assert first.date == stamp.fetchone()[0]
    assert first.method == "st:fake:concepts" and first.similarity >= OTHER_MODEL_THRESHOLD
    assert "Robert Mueller" in first.text
    line = describe(first)
    assert line.startswith(f"Reviewed before: Misleading ({first.date[:10]}, by ana): 'Mueller")
    assert "— 'M. Poutine a par ailleurs" in line
    assert describe(first, "fr").startswith("Reviewed before: Trompeur")

    # An unrelated claim has no earlier verdict, however many verdicts the workspace holds.
    assert earlier_reviews(ws, b_japan) == []


def test_a_claim_never_sees_its_own_verdict(two_articles, tmp_path: Path, seed_article) -> None:
    ws, retriever, a_ids, b_ids = two_articles
    a_mueller, b_mueller = _claim(ws, a_ids, "Mueller"), _claim(ws, b_ids, "Mueller")
    verdicts.set_verdict(ws, a_mueller, "misleading", "ana")
    assert earlier_reviews(ws, a_mueller) == []
    verdicts.set_verdict(ws, b_mueller, "false", "ben")
    assert [r.claim_id for r in earlier_reviews(ws, a_mueller)] == [b_mueller]
    assert [r.claim_id for r in earlier_reviews(ws, b_mueller)] == [a_mueller]
    # The same sentence in a third article is A's claim again (one of its sources): it brings
    # no "earlier" verdict of its own.
    article_c = tmp_path / "reprise.fr.txt"
    sentence = ws.claims([a_mueller])[0].text
    article_c.write_text(f"Reprise de l'AFP.\n\n{sentence}\n", encoding="utf-8")
    c_ids = add_article(ws, article_c, published="2019-05-16")
    assert a_mueller in c_ids
    match_claims(ws, retriever, c_ids, 3)
    assert [r.claim_id for r in earlier_reviews(ws, a_mueller)] == [b_mueller]
    # A cleared verdict is no verdict.
    verdicts.set_verdict(ws, b_mueller, "", "ben")
    assert earlier_reviews(ws, a_mueller) == []


def test_reworded_claim_is_recognised_lexically_and_vetoes_hold(
    tmp_path: Path, evidence_file: Path
) -> None:
    # The hashing embedder is not calibrated: its vectors only count when near-identical, so
    # this rewording is found by the lexical near-duplicate similarity.
    ws, retriever = _workspace(tmp_path / "ws", evidence_file, HashingEmbedder(64))
    first = add_claim_records(
        ws,
        [{"text": "Unemployment in France fell to 7 percent in 2019, the lowest in a decade.",
          "lang": "en", "article": "a.txt"}],
        "a",
    )  # fmt: skip
    later = add_claim_records(
        ws,
        [
            {"text": "In 2019 French unemployment fell to 7 percent, a ten-year low.",
             "lang": "en", "article": "b.txt"},
            {"text": "Unemployment in France fell to 9 percent in 2019, the lowest in a decade.",
             "lang": "en", "article": "b.txt", "start": 100},
        ],
        "b",
    )  # fmt: skip
    match_claims(ws, retriever, first + later, 3)
    verdicts.set_verdict(ws, first[0], "mostly-true", "ana")
    found = earlier_reviews(ws, later[0])
    assert [(r.claim_id, r.method) for r in found] == [(first[0], LEXICAL)]
    assert found[0].note == "" and "Reviewed before: Mostly true" in describe(found[0])
    # Another number is another fact, however similar the wording (the near-duplicate veto).
    assert earlier_reviews(ws, later[1]) == []
    # Stricter thresholds can be asked for.
    assert earlier_reviews(ws, later[0], thresholds={LEXICAL: 0.99}) == []
    ws.close()


def test_monolingual_model_vectors_are_not_compared_across_languages(
    tmp_path: Path, evidence_file: Path
) -> None:
    ws, _ = _workspace(tmp_path / "ws", evidence_file, HashingEmbedder(64))
    ids = add_claim_records(
        ws,
        [
            {"text": "Le chômage a reculé en France.", "lang": "fr", "article": "a"},
            {"text": "Le chômage a reculé en France.", "lang": "en", "article": "b"},
        ],
        "x",
    )
    # Identical vectors, but the hashing model only compares texts of one language, and the
    # texts share too few words for the lexical test to matter here: forced apart by
    # thresholds, only the vector test could pass.
    vector = np.ones(64, dtype=np.float32) / 8.0
    ws.save_claim_vectors("hash:64", ids, np.vstack([vector, vector]))
    verdicts.set_verdict(ws, ids[0], "false", "ana")
    assert earlier_reviews(ws, ids[1], thresholds={LEXICAL: 1.01}) == []
    ws.close()


def test_describe_archive_and_unrated_reviews() -> None:
    review = EarlierReview(
        source="archive",
        text="Putin and Trump spoke for only five minutes on the phone on 3 May 2019.",
        verdict="false",
        rating="Pants on Fire!",
        date="2019-05-06",
        note="https://factdesk.example.org/checks/phone-call",
        reviewer="Fact Desk",
        similarity=0.9,
        method="usem3",
        evidence_id="https://factdesk.example.org/checks/phone-call",
        passage_id=7,
    )
    assert describe(review) == (
        "Fact-checked before: False ('Pants on Fire!') (2019-05-06, by Fact Desk): "
        "'https://factdesk.example.org/checks/phone-call' — 'Putin and Trump spoke for only "
        "five minutes on the phone on 3 May 2019.'"
    )
    unrated = EarlierReview(
        "archive", "x " * 80, "", "", "", "", "", 0.8, LEXICAL, evidence_id="review:1"
    )
    line = describe(unrated)
    assert line.startswith("Fact-checked before: rating not recorded — 'x x") and line.endswith(
        "…'"
    )


def test_vector_matches_keep_the_factual_vetoes(tmp_path: Path, evidence_file: Path) -> None:
    ws, retriever = _workspace(tmp_path / "ws", evidence_file, ConceptEmbedder())
    records = [
        {"text": "Putin spoke with Pompeo in Sochi for 3 hours.", "article": "a", "lang": "en"},
        {"text": "Poutine a parlé avec Pompeo à Sotchi durant 3 heures.", "article": "b"},
        {"text": "Poutine a parlé avec Pompeo à Sotchi durant 5 heures.", "article": "c"},
        {"text": "Poutine n'a pas parlé avec Pompeo à Sotchi.", "article": "d"},
    ]
    earlier, same, other_number, negated = add_claim_records(ws, records, "x")
    match_claims(ws, retriever, [earlier, same, other_number, negated], 3)
    verdicts.set_verdict(ws, earlier, "true", "ana")
    assert [r.claim_id for r in earlier_reviews(ws, same)] == [earlier]
    # The vectors agree (same concepts), but another number or a negation is another fact.
    assert earlier_reviews(ws, other_number) == []
    assert earlier_reviews(ws, negated) == []
    ws.close()
