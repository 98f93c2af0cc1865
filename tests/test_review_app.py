"""Tests for the review UI: every action through the keyboard, persistence, remaps, snapshots."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from reviewdata import hash_retriever as _retriever
from reviewdata import record_notes as _notes
from reviewdata import run_async as _run

from workbench.embed import HashingEmbedder
from workbench.ingest import ingest
from workbench.match import add_article, add_claim_records, match_claims
from workbench.retrieve import Retriever
from workbench.review.app import ReviewApp
from workbench.review.highlight import shared_spans, terms
from workbench.settings import Settings
from workbench.verdicts import get_state
from workbench.workspace import Workspace

SIZE = (120, 40)
CLAIMS = [
    {"text": "Trump and Putin spoke by phone on 3 May 2019.", "lang": "en", "score": 0.9},
    {"text": "Putin met Trump at the G20 summit in Osaka.", "lang": "en", "score": 0.7},
]


@pytest.fixture
def workspace(tmp_path: Path, evidence_file: Path, seed_article: Path) -> Path:
    """The seed article's 7 claims and 2 given claims, each matched to 3 passages."""
    root = tmp_path / "ws"
    with Workspace.open(root, create=True) as ws:
        ingest(ws, [evidence_file], [HashingEmbedder(64)])
        ids = add_article(ws, seed_article)
        ids += add_claim_records(ws, CLAIMS, "given.jsonl")
        match_claims(ws, _retriever(ws), ids, 3)
    return root


def _app(root: Path, reviewer: str = "alice", **settings: Any) -> ReviewApp:
    return ReviewApp(root, reviewer, Settings(**settings), retriever_factory=_retriever)


def _audit(root: Path, claim_id: int) -> list[tuple[str, str, Any, Any]]:
    with Workspace.open(root) as ws:
        rows = ws.conn.execute(
            "SELECT reviewer, action, old, new FROM audit_log WHERE claim_id = ? ORDER BY id",
            (claim_id,),
        ).fetchall()
    return [(r[0], r[1], json.loads(r[2]), json.loads(r[3])) for r in rows]


def _state(root: Path, claim_id: int):
    with Workspace.open(root) as ws:
        return get_state(ws, claim_id)


def _badge(app: ReviewApp, claim_id: int) -> str:
    return app.queue.cell(claim_id, "verdict")


@_run
async def test_verdict_key_saves_moves_and_audits(workspace: Path) -> None:
    app = _app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        first = app.claim.id
        second = app.queue.claim_at(1)
        overall = list(app.counts[""])
        await pilot.press("2")
        assert app.claim.id == second
        assert _badge(app, first) == "mostly-false"
        assert app.counts[""] == [overall[0] + 1, overall[1]]
        await pilot.press("x")
        assert _badge(app, second) == "not-a-claim"
    assert _state(workspace, first).verdict == "mostly-false"
    ((reviewer, action, old, new),) = _audit(workspace, first)
    assert (reviewer, action) == ("alice", "verdict")
    assert old["verdict"] == "" and new["verdict"] == "mostly-false"


@_run
async def test_cite_toggles_the_highlighted_evidence(workspace: Path) -> None:
    app = _app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        claim = app.claim.id
        await pilot.press("J")  # the second candidate
        second = app.evidence[1]["passage_id"]
        await pilot.press("c")
        assert app.state.cited_ids == (second,)
        assert str(app.query_one("EvidenceList").get_cell(str(second), "cited")) == "●"
        await pilot.press("left_square_bracket", "c")  # the first one too
        assert set(app.state.cited_ids) == {second, app.evidence[0]["passage_id"]}
        await pilot.press("right_square_bracket", "c")  # and the second one off again
        assert app.state.cited_ids == (app.evidence[0]["passage_id"],)
    assert _state(workspace, claim).cited_ids == (app.evidence[0]["passage_id"],)
    assert [a[1] for a in _audit(workspace, claim)] == ["cite", "cite", "uncite"]


@_run
async def test_note_is_saved_with_ctrl_s_and_enter_is_a_new_line(workspace: Path) -> None:
    app = _app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        claim = app.claim.id
        await pilot.press("n", *"Check", "ctrl+s")
        assert app.state.note == "Check"
        await pilot.press("n", "end", "enter", *"it", "ctrl+s")
        assert app.state.note == "Check\nit"
        await pilot.press("n", "x", "escape")
        assert app.state.note == "Check\nit"
    assert _state(workspace, claim).note == "Check\nit"


@_run
async def test_undo_and_redo_are_audited(workspace: Path) -> None:
    app = _app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        first = app.claim.id
        await pilot.press("1")  # verdict, moves to the next claim
        await pilot.press("u")
        assert app.claim.id == first  # undo goes back to the claim it changed
        assert _badge(app, first) == ""
        assert app.state.verdict == ""
        await pilot.press("U")
        assert _badge(app, first) == "false" and app.state.verdict == "false"
        await pilot.press("ctrl+z")
        assert app.state.verdict == ""
        await pilot.press("ctrl+y")
        await pilot.press("ctrl+y")  # nothing left to redo
    actions = [(a[1], a[3]["verdict"]) for a in _audit(workspace, first)]
    assert actions == [
        ("verdict", "false"),
        ("undo verdict", ""),
        ("redo verdict", "false"),
        ("undo verdict", ""),
        ("redo verdict", "false"),
    ]
    assert {a[0] for a in _audit(workspace, first)} == {"alice"}


@_run
async def test_edit_claim_rewords_and_rematches(workspace: Path) -> None:
    app = _app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("end")
        app._move_to(app.queue.row_count - 1)  # a given claim: "... G20 summit in Osaka."
        claim = app.claim.id
        await pilot.press("e")
        area = app.screen.query_one("TextArea")
        area.text = "Putin and Pompeo met in Sochi in May 2019."
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.claim.text == "Putin and Pompeo met in Sochi in May 2019."
        assert "Sochi" in app.queue.cell(claim, "claim")
        assert app.evidence[0]["evidence_id"] == "en-sochi"
    assert [a[1] for a in _audit(workspace, claim)] == ["edit"]
    with Workspace.open(workspace) as ws:
        (original,) = ws.conn.execute(
            "SELECT original_text FROM claims WHERE id = ?", (claim,)
        ).fetchone()
    assert original == CLAIMS[1]["text"]


@_run
async def test_rematch_failure_is_shown(workspace: Path) -> None:
    def broken(ws: Workspace) -> Retriever:
        raise RuntimeError("no model here")

    app = ReviewApp(workspace, "alice", Settings(), retriever_factory=broken)
    async with app.run_test(size=SIZE) as pilot:
        seen = _notes(app)
        await pilot.press("e", "end", *" ok", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.claim.text.endswith(" ok")  # the edit is kept
    assert any(s == "error" and "no model here" in m for s, m in seen)


def _choose(app: ReviewApp, option_id: str) -> None:
    options = app.screen.query_one("OptionList")
    ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
    options.highlighted = ids.index(option_id)


@_run
async def test_filter_and_search(workspace: Path) -> None:
    app = _app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        total = app.queue.row_count
        await pilot.press("1", "1")  # two claims reviewed
        await pilot.press("f", "down", "enter")  # "Unreviewed"
        assert app.queue.row_count == total - 2
        assert app.queue_filter.status == "unreviewed"
        assert "9 shown: unreviewed claims" in str(app.query_one("ReviewHeader").render())
        await pilot.press("f")
        _choose(app, "verdict:false")
        await pilot.press("enter")
        assert app.queue.row_count == 2
        await pilot.press("f")
        _choose(app, "article:given.jsonl")
        await pilot.press("enter")
        assert app.queue.row_count == 0  # the false claims are in the article
        assert app.claim is None
        await pilot.press("f", "enter")  # "All claims" (the article stays)
        assert app.queue.row_count == 2
        await pilot.press("slash")
        app.screen.query_one("Input").value = "summit in Osaka"
        await pilot.press("enter")
        assert app.queue.row_count == 1
        assert "Osaka" in app.claim.text


@_run
async def test_help_screen_lists_the_keys(workspace: Path) -> None:
    app = _app(workspace, keys={"next_claim": "l,down"})
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        help_screen = app.screen
        assert type(help_screen).__name__ == "HelpScreen"
        rows = dict((d, k) for k, d in help_screen.rows)
        assert rows["Next"] == "l ↓"
        assert rows["False"] == "1" and rows["Not a claim"] == "x"
        assert rows["Undo"] == "^z u"
        await pilot.press("escape")
        assert type(app.screen).__name__ != "HelpScreen"
        await pilot.press("question_mark", "question_mark")  # the same key closes it
        assert type(app.screen).__name__ != "HelpScreen"


@_run
async def test_open_passage_and_hints(workspace: Path) -> None:
    app = _app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        detail = app.query_one("EvidenceDetail")
        assert "Hints:" not in str(detail.render())
        await pilot.press("h")
        assert "Hints:" in str(detail.render())
        await pilot.press("j", "k")  # hidden again on another claim
        assert "Hints:" not in str(detail.render())
        await pilot.press("o")
        assert type(app.screen).__name__ == "PassageScreen"
        assert app.screen.match["passage_id"] == app.evidence[0]["passage_id"]
        await pilot.press("o")  # the key that opened it closes it
        assert type(app.screen).__name__ != "PassageScreen"
        await pilot.press("enter")
        assert type(app.screen).__name__ == "PassageScreen"


@_run
async def test_hints_after_verdict(workspace: Path) -> None:
    app = _app(workspace, hints="after-verdict")
    async with app.run_test(size=SIZE) as pilot:
        detail = app.query_one("EvidenceDetail")
        await pilot.press("h")
        assert "Hints:" not in str(detail.render())
        await pilot.press("3", "k")  # a verdict, then back to that claim
        assert "Hints:" in str(detail.render())


@_run
async def test_export_writes_a_file(workspace: Path, tmp_path: Path) -> None:
    app = _app(workspace)
    target = tmp_path / "out.jsonl"
    async with app.run_test(size=SIZE) as pilot:
        seen = _notes(app)
        await pilot.press("1", "ctrl+e")
        app.screen.query_one("Input").value = str(target)
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
    records = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    # Every stored claim, the 2 under the check-worthiness threshold (hidden in the queue) too.
    assert len(records) == 13
    assert sum(1 for r in records if r["details"].get("min_score", 0) > r["score"]) == 2
    assert sum(1 for r in records if r["verdict"]) == 1
    assert ("information", f"Exported 13 claims to {target}") in seen


@_run
async def test_position_is_restored_after_a_restart(workspace: Path) -> None:
    app = _app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("ClaimQueue", offset=(2, 4))  # the header line, then rows 0, 1, 2
        assert app.queue.cursor_row == 3
        await pilot.press("k", "k", "down")
        where = app.claim.id
        await pilot.press("q")
    again = _app(workspace)
    async with again.run_test(size=SIZE):
        assert again.claim.id == where
        assert again.queue.cursor_row == 2
    other = _app(workspace, reviewer="bob")
    async with other.run_test(size=SIZE):
        assert other.queue.cursor_row == 0


@_run
async def test_keys_remapped_from_settings(workspace: Path) -> None:
    app = _app(workspace, keys={"verdict_false": "a", "next-claim": "l", "bogus": "z"})
    seen = _notes(app)
    async with app.run_test(size=SIZE) as pilot:
        assert ("warning", "Unknown actions in [keys]: bogus") in seen
        assert "a False" in str(app.query_one("VerdictKeys").render())
        first = app.claim.id
        await pilot.press("1", "j")  # no longer bound
        assert app.claim.id == first and app.state.verdict == ""
        await pilot.press("l")
        assert app.queue.cursor_row == 1
        await pilot.press("k", "a")
        assert _badge(app, first) == "false"
    assert _state(workspace, first).verdict == "false"


@_run
async def test_locked_database_keeps_the_state(workspace: Path) -> None:
    app = _app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        seen = _notes(app)
        first = app.claim.id
        app.ws.conn.execute("PRAGMA busy_timeout = 50")
        other = sqlite3.connect(workspace / "workbench.db", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            await pilot.press("1")
            assert app.claim.id == first and _badge(app, first) == ""
            assert any(s == "error" and "locked" in m for s, m in seen)
        finally:
            other.execute("ROLLBACK")
            other.close()
        await pilot.press("1")
        assert _badge(app, first) == "false"
        other = sqlite3.connect(workspace / "workbench.db", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            await pilot.press("u")  # fails: the change stays undoable
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert _badge(app, first) == "false"
        await pilot.press("u")
        assert _badge(app, first) == ""
    assert [a[1] for a in _audit(workspace, first)] == ["verdict", "undo verdict"]


@_run
async def test_refresh_shows_claims_added_elsewhere(workspace: Path) -> None:
    app = _app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        total = app.queue.row_count
        with Workspace.open(workspace) as ws:
            add_claim_records(ws, [{"text": "Pompeo visited Sochi.", "lang": "en"}], "later")
        await pilot.press("r")
        assert app.queue.row_count == total + 1
        assert app.counts[""][1] == total + 1


def test_shared_terms_cross_languages() -> None:
    claim = "M. Poutine a rencontré Mike Pompeo à Sotchi le 14 mai 2019."
    passage = "Mike Pompeo met Vladimir Putin in Sochi on 14 May 2019 to discuss relations."
    spans = shared_spans(passage, "en", terms(claim, "fr"))
    assert [passage[a:b] for a, b in spans] == ["Mike Pompeo", "Putin", "Sochi", "14 May 2019"]


# ----- snapshots -------------------------------------------------------------------------
# The laptop / SSH default, a common window and a large one: the layout stacks under 120.
SNAPSHOT_SIZES = [(80, 24), (120, 40), (160, 48)]


@pytest.mark.parametrize("size", SNAPSHOT_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_first_screen(workspace: Path, snap_compare, size) -> None:
    assert snap_compare(_app(workspace), terminal_size=size)


@pytest.mark.parametrize("size", SNAPSHOT_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_after_verdicts_with_hints(workspace: Path, snap_compare, size) -> None:
    async def run_before(pilot) -> None:
        await pilot.press("1", "4", "J", "c", "h")
        await pilot.app.workers.wait_for_complete()  # the claim's hints, from a worker
        await pilot.pause()

    assert snap_compare(_app(workspace), run_before=run_before, terminal_size=size)


@pytest.mark.parametrize("size", SNAPSHOT_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_help(workspace: Path, snap_compare, size) -> None:
    assert snap_compare(_app(workspace), press=["question_mark"], terminal_size=size)


@pytest.mark.parametrize("size", SNAPSHOT_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_note(workspace: Path, snap_compare, size) -> None:
    assert snap_compare(_app(workspace), press=["n", *"Source?"], terminal_size=size)


def test_snapshot_filter_dialog(workspace: Path, snap_compare) -> None:
    assert snap_compare(_app(workspace), press=["f"], terminal_size=SIZE)


@_run
async def test_two_reviewers_never_overwrite_each_other(workspace: Path) -> None:
    # Issue 16's two-terminal scenario: A's UI and B's commands on one workspace.
    from workbench import verdicts

    app = _app(workspace, reviewer="ana")
    notes = _notes(app)
    async with app.run_test(size=SIZE) as pilot:
        first = app.claim.id
        await pilot.press("1")  # A: False, moves on
        with Workspace.open(workspace) as other:  # B, in the other terminal
            verdicts.set_verdict(other, first, "mostly-false", "ben")
        await pilot.press("u")  # A's undo would wipe B's verdict: refused
        assert _state(workspace, first).verdict == "mostly-false"
        assert any(
            severity == "error" and f"claim {first} was changed since (verdict by ben at" in text
            for severity, text in notes
        ), notes
        # A's screen still shows what A saw; a verdict key from that stale view is refused too.
        app._select(first)
        await pilot.pause()
        with Workspace.open(workspace) as other:
            verdicts.set_note(other, first, "B's note", "ben")
        stale = app.state
        await pilot.press("3")
        assert _state(workspace, first).verdict == "mostly-false"
        assert _state(workspace, first).note == "B's note"
        assert stale.note != "B's note"
        await pilot.press("r")  # reload: A now sees B's work and can act on it
        await pilot.pause()
        if app.claim.id != first:
            app._select(first)
            await pilot.pause()
        assert app.state.note == "B's note" and app.state.verdict == "mostly-false"
        await pilot.press("3")
        assert _state(workspace, first).verdict == "misleading"
    rows = [(who, action) for who, action, _, _ in _audit(workspace, first)]
    assert rows == [
        ("ana", "verdict"),
        ("ben", "verdict"),
        ("ben", "note"),
        ("ana", "verdict"),
    ]
