"""Tests that extraction loses no checkable statement: every candidate stored with its score and
threshold, low ones hidden behind one key (L in review, --low on the command line), and the
rules for dated future statements and public replies."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from reviewdata import hash_retriever, run_async
from typer.testing import CliRunner

from workbench.cli import app as cli
from workbench.embed import HashingEmbedder
from workbench.extract.checkworthy import (
    RULE_FEATURES,
    CheckworthyModel,
    Head,
    LearnedScorer,
)
from workbench.extract.claims import score_sentence
from workbench.extract.pipeline import RuleScorer, extract_article, extract_candidates
from workbench.ingest import ingest
from workbench.match import add_article, match_claims
from workbench.queue import count_low, list_queue, progress
from workbench.review.app import ReviewApp
from workbench.settings import Settings
from workbench.verdicts import set_note, set_verdict
from workbench.workspace import Workspace

ARTICLES = Path(__file__).parents[1] / "bench" / "data" / "xling-dev" / "articles"
MAPPING = json.loads((ARTICLES / "mapping.json").read_text(encoding="utf-8"))
# The issue's two lost statements, in their shape: a dated future with a modal verb, and a
# head of state's reported public reply.
DATED_FUTURE = "La réforme des retraites pourra entrer en vigueur le 1er septembre 2023."
PUBLIC_REPLY = (
    "Le président Emmanuel Macron a répondu à la contestation lors d'une allocution télévisée."
)
runner = CliRunner()


class _MisScorer:
    """A scorer wrong about everything: every sentence 0.01, under any threshold."""

    name = "wrong"
    min_score = 0.35

    def score(self, texts: Sequence[str], lang: str) -> list[float]:
        return [0.01] * len(texts)


def _checkable(name: str) -> list[str]:
    return [line["text"] for line in MAPPING[name] if line["checkable"]]


def _stored_texts(ws: Workspace) -> list[str]:
    return [c.text for c in ws.claims()]


# ----- extraction and storage ---------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(MAPPING))
@pytest.mark.parametrize("scorer", [RuleScorer(), _MisScorer()], ids=["rules", "mis-scored"])
def test_every_checkable_sentence_of_the_xling_dev_articles_is_stored(
    tmp_path: Path, name: str, scorer
) -> None:
    with Workspace.open(tmp_path / "ws", create=True) as ws:
        ids = add_article(ws, ARTICLES / name, scorer=scorer)
        stored = _stored_texts(ws)
        for sentence in _checkable(name):
            assert any(sentence in text or text in sentence for text in stored), sentence
        # Each claim records the threshold it was marked against.
        details = [json.loads(r[0]) for r in ws.conn.execute("SELECT details FROM claims")]
        assert {d["min_score"] for d in details} == {scorer.min_score}
        assert len(ids) == len(stored)


def test_low_claims_are_hidden_from_the_queue_until_asked_for(tmp_path: Path) -> None:
    name = "retraites-promulgation-2023.fr.txt"
    with Workspace.open(tmp_path / "ws", create=True) as ws:
        ids = add_article(ws, ARTICLES / name, scorer=_MisScorer())
        assert list_queue(ws) == [] and count_low(ws) == len(ids)
        everything = list_queue(ws, low=True)
        assert [r.claim_id for r in everything] == ids  # reading order
        assert all(r.low for r in everything)
        assert progress(ws)[""] == (0, 0)  # the work to do is the claims in view
        # A verdict given to a low claim keeps it in view and counts it.
        set_verdict(ws, ids[0], "true", "ana")
        assert [r.claim_id for r in list_queue(ws)] == [ids[0]]
        assert count_low(ws) == len(ids) - 1 and progress(ws)[""] == (1, 1)


@pytest.mark.parametrize("work", ["note", "citation", "edit"])
def test_a_note_a_citation_or_an_edit_takes_a_low_claim_up(
    tmp_path: Path, evidence_file: Path, work: str
) -> None:
    from workbench.verdicts import cite, edit_claim, uncite

    name = "retraites-promulgation-2023.fr.txt"
    with Workspace.open(tmp_path / "ws", create=True) as ws:
        ingest(ws, [evidence_file], [HashingEmbedder(64)])
        ids = add_article(ws, ARTICLES / name, scorer=_MisScorer())
        claim, passage = ids[1], 1
        extracted = ws.claim_text(claim)
        if work == "note":
            set_note(ws, claim, "Pas encore vérifié: à suivre.", "ana")
        elif work == "citation":
            cite(ws, claim, passage, "ana")
        else:
            edit_claim(ws, claim, "La réforme a été promulguée en avril 2023.", "ana")
        # A reviewer's work, even without a verdict: in view and counted, in the queue that
        # `claims` lists and the review UI shows.
        assert [r.claim_id for r in list_queue(ws)] == [claim]
        assert count_low(ws) == len(ids) - 1 and ws.hidden_claims() == set(ids) - {claim}
        assert progress(ws)[""] == (0, 1)
        # The work taken back (note cleared, citation removed, edit undone): hidden again.
        if work == "note":
            set_note(ws, claim, "", "ana")
        elif work == "citation":
            uncite(ws, claim, passage, "ana")
        else:
            edit_claim(ws, claim, extracted, "ana")
        assert list_queue(ws) == [] and count_low(ws) == len(ids)


def test_assign_hands_out_no_low_claim_nobody_took_up(tmp_path: Path) -> None:
    from workbench.assign import assign

    name = "retraites-promulgation-2023.fr.txt"
    with Workspace.open(tmp_path / "ws", create=True) as ws:
        ids = add_article(ws, ARTICLES / name, scorer=_MisScorer())
        set_verdict(ws, ids[0], "true", "ana")  # taken up: ordinary work now, but decided
        assign(ws, ["ana", "ben"])
        assigned = {r["claim_id"] for r in ws.open_claims_to_assign() if r["assigned"]}
        assert assigned == set()
        assert list_queue(ws) == [r for r in list_queue(ws) if r.claim_id == ids[0]]


def test_a_low_claim_made_again_in_another_article_takes_the_better_score(
    tmp_path: Path,
) -> None:
    first = ARTICLES / "retraites-promulgation-2023.fr.txt"
    again = tmp_path / "reprise.fr.txt"
    again.write_text(
        "Le débat continue au Parlement, ont indiqué plusieurs députés.\n"
        + first.read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    with Workspace.open(tmp_path / "ws", create=True) as ws:
        low = add_article(ws, first, scorer=_MisScorer())
        assert count_low(ws) == len(low)
        add_article(ws, again, scorer=RuleScorer())
        # The repeated claims are not stored twice; the rules' better score brings them in view.
        shown = {r.claim_id for r in list_queue(ws)}
    assert set(low) & shown


def test_check_worthy_claims_keep_the_ids_they_had_before_low_ones_were_stored(
    tmp_path: Path, seed_article: Path
) -> None:
    text = seed_article.read_text(encoding="utf-8")
    found = extract_candidates(text)
    assert found.low and found.checkworthy  # the seed article has both under the rules
    assert extract_article(text) == found.checkworthy
    with Workspace.open(tmp_path / "ws", create=True) as ws:
        ids = add_article(ws, seed_article)
        by_text = {c.text: c.id for c in ws.claims()}
    kept = [by_text[c.text] for c in found.checkworthy]
    assert kept == list(range(1, len(kept) + 1))
    assert sorted(by_text[c.text] for c in found.low) == list(range(len(kept) + 1, len(ids) + 1))


# ----- the scorer ---------------------------------------------------------------------------
def test_dated_future_and_public_replies_are_checkable_by_the_rules() -> None:
    score, reasons = score_sentence(DATED_FUTURE, "fr")
    assert "dated future statement" in reasons and "speculative or vague future" not in reasons
    assert score >= RuleScorer.min_score
    score, reasons = score_sentence(PUBLIC_REPLY, "fr")
    assert "public statement or reply" in reasons and score >= RuleScorer.min_score
    english = "The new rules will take effect on September 1, 2023, the ministry said."
    assert "dated future statement" in score_sentence(english, "en")[1]
    # Neither a pledge in the first person nor an undated "pourrait" is a dated statement.
    assert "dated future statement" not in score_sentence("We will cut taxes by 2030.", "en")[1]
    vague = score_sentence("La réforme pourrait entrer en vigueur un jour.", "fr")[1]
    assert "dated future statement" not in vague and "speculative or vague future" in vague


def _never_model(floor: float | None) -> CheckworthyModel:
    """A rules-only head that says 'not check-worthy' to everything (p ~ 0)."""
    width = len(RULE_FEATURES) + 3
    head = Head(
        "never", ("rules",), None, np.zeros(width, np.float32), np.ones(width, np.float32),
        ((np.zeros((width, 1), np.float32), np.array([-10.0], np.float32)),),
    )  # fmt: skip
    meta = {"threshold": 0.5, "min_score": 0.35} | ({"floor": floor} if floor else {})
    return CheckworthyModel((head,), meta)


def test_the_learned_scorer_floors_dated_statements_and_public_replies() -> None:
    texts = [DATED_FUTURE, PUBLIC_REPLY, "Les syndicats, eux, n'entendent pas baisser les bras."]
    plain = LearnedScorer(_never_model(None), {"use": HashingEmbedder(8)}).score(texts, "fr")
    assert max(plain) < 0.01
    floored = LearnedScorer(_never_model(0.5), {"use": HashingEmbedder(8)}).score(texts, "fr")
    assert floored[:2] == [0.5, 0.5] and floored[2] < 0.01


@pytest.mark.slow
def test_the_shipped_model_keeps_the_issues_two_statements() -> None:
    scorer = LearnedScorer()
    scores = scorer.score([DATED_FUTURE, PUBLIC_REPLY], "fr")
    assert min(scores) >= scorer.min_score, scores


# ----- the command line ---------------------------------------------------------------------
def _run(*args: str):
    return runner.invoke(cli, list(args))


def _jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_extract_prints_every_claim_marked(seed_article: Path) -> None:
    result = _run("extract", str(seed_article), "--scorer", "rules")
    assert result.exit_code == 0, result.output
    records = _jsonl(result.stdout)
    low = [r for r in records if not r["checkworthy"]]
    assert low and all(r["score"] < r["min_score"] == 0.4 for r in low)
    assert f"{len(low)} of {len(records)} claims under check-worthiness 0.4" in result.stderr
    only = _jsonl(
        _run("extract", str(seed_article), "--scorer", "rules", "--only-checkworthy").stdout
    )
    assert only == [r for r in records if r["checkworthy"]]


def test_match_stores_low_claims_and_claims_lists_them_with_low(
    evidence_file: Path, seed_article: Path
) -> None:
    assert _run("ingest", str(evidence_file), "--model", "hash:64").exit_code == 0
    # A threshold over every score: all claims are low, none is lost.
    result = _run("match", str(seed_article), "-k", "1", "--min-score", "1.0")
    assert result.exit_code == 0, result.output
    matched = _jsonl(result.stdout)
    assert matched and not any(r["checkworthy"] for r in matched)
    assert all(r["matches"] for r in matched)  # matched too: evidence is there when shown
    assert f"{len(matched)} of {len(matched)} claims under the check-worthiness" in result.stderr
    hidden = _run("claims")
    assert hidden.exit_code == 0 and hidden.stdout == ""
    assert f"low check-worthiness: {len(matched)} more claims hidden (--low" in hidden.stderr
    shown = _jsonl(_run("claims", "--low").stdout)
    assert [r["claim_id"] for r in shown] == [r["claim_id"] for r in matched]
    assert not any(r["checkworthy"] for r in shown)
    root = Path(os.environ["WORKBENCH_HOME"])
    with Workspace.open(root) as ws:
        details = [json.loads(r[0]) for r in ws.conn.execute("SELECT details FROM claims")]
    assert {d["min_score"] for d in details} == {1.0}


# ----- the review UI ------------------------------------------------------------------------
@run_async
async def test_l_shows_and_hides_low_check_worthiness_claims(
    tmp_path: Path, evidence_file: Path
) -> None:
    root = tmp_path / "ws"
    name = "retraites-promulgation-2023.fr.txt"
    with Workspace.open(root, create=True) as ws:
        ingest(ws, [evidence_file], [HashingEmbedder(64)])
        ids = add_article(ws, ARTICLES / name, scorer=RuleScorer())
        match_claims(ws, hash_retriever(ws), ids, 2)
        low = count_low(ws)
        shown = len(list_queue(ws))
        noted = min(ws.hidden_claims())
    assert low and shown
    app = ReviewApp(root, "alice", Settings(), retriever_factory=hash_retriever)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        header = str(app.query_one("ReviewHeader").render())
        assert app.queue.row_count == shown
        assert f"low check-worthiness: {low} more (L shows them)" in header
        await pilot.press("L")
        await pilot.pause()
        assert app.queue.row_count == shown + low == len(ids)
        header = str(app.query_one("ReviewHeader").render())
        assert f"low check-worthiness: {low} shown (L hides them)" in header
        await pilot.press("L")
        await pilot.pause()
        assert app.queue.row_count == shown
        # A note alone (no verdict) is a reviewer's work: that claim stays in view after L.
        set_note(app.ws, noted, "À vérifier: le décret est-il paru ?", "alice")
        await pilot.press("L")
        await pilot.pause()
        await pilot.press("L")
        await pilot.pause()
        assert app.queue.row_count == shown + 1
        header = str(app.query_one("ReviewHeader").render())
        assert f"low check-worthiness: {low - 1} more (L shows them)" in header


def test_extract_piped_into_match_keeps_low_claims_low(
    evidence_file: Path, seed_article: Path
) -> None:
    from typer.testing import CliRunner

    from workbench.cli import app

    assert _run("ingest", str(evidence_file), "--model", "hash:64").exit_code == 0
    extracted = _run("extract", str(seed_article), "--scorer", "rules").stdout
    low = sum(1 for r in _jsonl(extracted) if not r["checkworthy"])
    assert low
    piped = CliRunner().invoke(app, ["match", "-", "-k", "1"], input=extracted)
    assert piped.exit_code == 0, piped.output
    shown = _jsonl(_run("claims").stdout)
    everything = _jsonl(_run("claims", "--low").stdout)
    assert len(everything) - len(shown) == low
