"""Tests for the review UI's team screens: an editor's adjudication, and agreement."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from reviewdata import hash_retriever as _retriever
from reviewdata import record_notes as _notes
from reviewdata import run_async as _run

from workbench import verdicts
from workbench.embed import HashingEmbedder
from workbench.ingest import ingest
from workbench.match import add_article, match_claims
from workbench.review.app import ReviewApp
from workbench.review.team import AdjudicationScreen, AgreementScreen
from workbench.settings import Settings
from workbench.workspace import Workspace

SIZE = (140, 44)
DOUBLE = '[review]\nmode = "double"\neditors = ["Eve"]\n'
# What a reviewer typed: markup and an action link, to be shown as text.
HOSTILE_NOTE = "[bold red]boom[/] [@click=app.quit]quit[/]"


@pytest.fixture
def desk(tmp_path: Path, evidence_file: Path, seed_article: Path) -> tuple[Path, int]:
    """Double review with Eve as editor; the first claim disputed by A (false, citing a
    passage) and B (mostly-false, with a hostile note). Returns the root and that claim."""
    root = tmp_path / "ws"
    with Workspace.open(root, create=True) as ws:
        ingest(ws, [evidence_file], [HashingEmbedder(64)])
        ids = add_article(ws, seed_article)
        match_claims(ws, _retriever(ws), ids, 2)
        (root / "config.toml").write_text(DOUBLE, encoding="utf-8")
        claim = min(ids)
        passage = ws.matches(claim)[0]["passage_id"]
        verdicts.apply_changes(ws, claim, "A", verdict="false", note="A's reading", cite=[passage])
        verdicts.apply_changes(ws, claim, "B", verdict="mostly-false", note=HOSTILE_NOTE)
        assert verdicts.claim_status(ws, claim) == "in dispute"
    return root, claim


def _app(root: Path, reviewer: str) -> ReviewApp:
    return ReviewApp(root, reviewer, Settings(), retriever_factory=_retriever)


def _final(root: Path, claim: int) -> dict[str, Any] | None:
    with Workspace.open(root) as ws:
        return ws.verdict_record(claim)


def _panels(screen: AdjudicationScreen) -> list[str]:
    return [str(s.render()) for s in screen.query(".review-text")]


@_run
async def test_editor_picks_a_review_then_approves(desk: tuple[Path, int]) -> None:
    root, claim = desk
    app = _app(root, "Eve")
    async with app.run_test(size=SIZE) as pilot:
        assert app.claim.id == claim
        await pilot.press("A")
        screen = app.screen
        assert isinstance(screen, AdjudicationScreen)
        panels = _panels(screen)
        assert len(panels) == 2
        assert "A" in panels[0] and "False" in panels[0] and "A's reading" in panels[0]
        assert "Cited (1)" in panels[0]
        # B's note is shown as typed: not styled, and no link that quits the app.
        assert "B" in panels[1] and "Mostly false" in panels[1] and HOSTILE_NOTE in panels[1]
        assert "in dispute" in str(screen.query_one("#adjudication-final").render())
        await pilot.press("b")
        final = _final(root, claim)
        assert final is not None
        assert (final["verdict"], final["decided_by"], final["reviewer"]) == (
            "mostly-false",
            "adjudication",
            "Eve",
        )
        assert final["note"] == f"B: {HOSTILE_NOTE}" and not final["approved_by"]
        assert isinstance(app.screen, AdjudicationScreen)  # still open, to approve
        assert "final" in str(app.screen.query_one("#adjudication-final").render())
        await pilot.press("p")
        final = _final(root, claim)
        assert final["approved_by"] == "Eve" and final["approved_at"]
        assert "Approved by Eve" in str(app.screen.query_one("#adjudication-final").render())
        await pilot.press("escape")
        assert not isinstance(app.screen, AdjudicationScreen)
    with Workspace.open(root) as ws:
        assert verdicts.claim_status(ws, claim) == "approved"


@_run
async def test_editor_overrides_with_a_verdict_key_or_arrows_and_enter(
    desk: tuple[Path, int],
) -> None:
    root, claim = desk
    app = _app(root, "Eve")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("A", "3")
        final = _final(root, claim)
        assert (final["verdict"], final["decided_by"]) == ("misleading", "adjudication")
        # The selection moves to B's panel (right) and back round to A's (right again).
        await pilot.press("right")
        assert app.screen.selected == 1
        await pilot.press("right", "enter")
        final = _final(root, claim)
        assert (final["verdict"], final["note"]) == ("false", "A: A's reading")
        # Approval withdrawn by any later change: approve, then override, then it is gone.
        await pilot.press("p", "6")
        final = _final(root, claim)
        assert final["verdict"] == "true" and final["approved_by"] == ""


@_run
async def test_a_reviewer_who_is_not_an_editor_is_refused(desk: tuple[Path, int]) -> None:
    root, claim = desk
    app = _app(root, "A")
    seen = _notes(app)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("A")
        assert not isinstance(app.screen, AdjudicationScreen)
        assert seen[-1][0] == "warning"
        assert seen[-1][1].startswith("Only editors adjudicate and approve")
        assert "Eve" in seen[-1][1] and "\n" not in seen[-1][1]
    assert _final(root, claim) is None


@_run
async def test_adjudication_needs_double_review(desk: tuple[Path, int]) -> None:
    root, _ = desk
    (root / "config.toml").write_text('[review]\neditors = ["Eve"]\n', encoding="utf-8")
    app = _app(root, "Eve")
    seen = _notes(app)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("A")
        assert not isinstance(app.screen, AdjudicationScreen)
        assert 'mode = "double"' in seen[-1][1]


@_run
async def test_a_failed_adjudication_is_a_notification(desk: tuple[Path, int]) -> None:
    root, _ = desk
    app = _app(root, "Eve")
    seen = _notes(app)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("j")  # a claim nobody reviewed: nothing to adjudicate
        other = app.claim.id
        await pilot.press("A", "1")
        assert isinstance(app.screen, AdjudicationScreen)
        assert seen[-1][0] == "error" and "has no review yet" in seen[-1][1]
        await pilot.press("c")  # no review c: a warning, nothing written
        assert seen[-1] == ("warning", "No review c on this claim.")
    assert _final(root, other) is None


@_run
async def test_agreement_screen_for_an_editor_shows_alpha_and_disputes(
    desk: tuple[Path, int],
) -> None:
    root, claim = desk
    app = _app(root, "Eve")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("G")
        screen = app.screen
        assert isinstance(screen, AgreementScreen)
        text = _figures(app)
        assert "Krippendorff's alpha, ordinal" in text and "Krippendorff's alpha, nominal" in text
        assert "A / B" in text and "Claims in dispute" in text
        assert f"│ {claim} " in text and "A: False, B: Mostly false" in text
        await pilot.press("escape")
        assert not isinstance(app.screen, AgreementScreen)


@_run
async def test_agreement_screen_for_a_reviewer_keeps_the_review_blind(
    desk: tuple[Path, int],
) -> None:
    root, claim = desk
    with Workspace.open(root) as ws:
        # A second claim B reviewed and A did not: its verdict must not show to A.
        other = min(c.id for c in ws.claims() if c.id != claim)
        verdicts.set_verdict(ws, other, "unverifiable", "B")
    app = _app(root, "A")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("G")
        text = _figures(app)
        assert "Krippendorff's alpha, ordinal" in text and "A / B" in text
        assert "Claims in dispute" not in text
        assert "Mostly false" not in text and "Unverifiable" not in text
        assert "for editors" in text


def _figures(app: ReviewApp) -> str:
    """The agreement screen's text as drawn (Rich renderables, rendered to plain text)."""
    from rich.console import Console

    console = Console(width=130, record=True, color_system=None)
    screen = app.screen
    assert isinstance(screen, AgreementScreen)
    console.print(screen.figures)
    return console.export_text()


# ----- decisions from a stale screen -------------------------------------------------------
def _audit_rows(root: Path, claim: int) -> int:
    with Workspace.open(root) as ws:
        return len(ws.audit_trail(claim))


@_run
async def test_a_review_changed_while_the_editor_decides_is_not_decided_over(
    desk: tuple[Path, int],
) -> None:
    root, claim = desk
    app = _app(root, "Eve")
    seen = _notes(app)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("A")
        assert "A's reading" in _panels(app.screen)[0]
        # A, in another terminal, changes their review while Eve's screen is open.
        with Workspace.open(root) as ws:
            verdicts.set_note(ws, claim, "A: the transcript says otherwise", "A")
            changed_at = ws.audit_trail(claim)[-1]["at"]
        rows = _audit_rows(root, claim)
        await pilot.press("a")  # take A's review, as Eve saw it
        errors = [m for s, m in seen if s == "error"]
        assert errors, seen
        assert errors[-1].startswith(f"Could not adjudicate claim {claim}: claim {claim} was ")
        assert f"(note by A at {changed_at})" in errors[-1] and "nothing done" in errors[-1]
        assert "\n" not in errors[-1]
        assert _final(root, claim) is None and _audit_rows(root, claim) == rows
        # The screen now shows A's review as it stands, and a decision from it is taken.
        assert isinstance(app.screen, AdjudicationScreen)
        assert "the transcript says otherwise" in _panels(app.screen)[0]
        assert seen[-1][0] == "warning" and "decide again" in seen[-1][1]
        await pilot.press("a")
        final = _final(root, claim)
        assert (final["verdict"], final["decided_by"]) == ("false", "adjudication")
        assert final["note"] == "A: A: the transcript says otherwise"


@_run
async def test_approval_from_a_stale_screen_is_refused(desk: tuple[Path, int]) -> None:
    root, claim = desk
    app = _app(root, "Eve")
    seen = _notes(app)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("A", "3")  # Misleading, decided on this screen
        assert _final(root, claim)["verdict"] == "misleading"
        # Eve, from the command line meanwhile, decides otherwise.
        with Workspace.open(root) as ws:
            verdicts.adjudicate(ws, claim, "true", "Eve")
        await pilot.press("p")  # approves what the screen shows: Misleading
        assert seen[-2][0] == "error" and "(adjudicate by Eve at " in seen[-2][1]
        final = _final(root, claim)
        assert (final["verdict"], final["approved_by"]) == ("true", "")
        assert "True" in str(app.screen.query_one("#adjudication-final").render())
        await pilot.press("p")  # now what it shows is what is approved
        final = _final(root, claim)
        assert (final["verdict"], final["approved_by"]) == ("true", "Eve")
