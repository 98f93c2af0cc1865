"""Tests for a reviewer's day in the review UI: small terminals, moving on, searches, exports."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from reviewdata import hash_retriever, run_async
from reviewdata import record_notes as _notes

from workbench.embed import HashingEmbedder
from workbench.errors import ConflictError
from workbench.export import write_atomic
from workbench.ingest import ingest
from workbench.match import add_article, match_claims
from workbench.queue import load_position
from workbench.review.app import ReviewApp
from workbench.review.widgets.claim import ClaimView
from workbench.review.widgets.evidence import distinct_labels
from workbench.review.widgets.queue import FULL, NARROW, visible_columns
from workbench.settings import Settings, load_settings
from workbench.verdicts import get_state, set_verdict
from workbench.workspace import Workspace

SMALL = (80, 24)


@pytest.fixture
def workspace(tmp_path: Path, evidence_file: Path, seed_article: Path) -> Path:
    root = tmp_path / "ws"
    with Workspace.open(root, create=True) as ws:
        ingest(ws, [evidence_file], [HashingEmbedder(64)])
        match_claims(ws, hash_retriever(ws), add_article(ws, seed_article), 3)
    return root


def _app(root: Path, **settings: object) -> ReviewApp:
    return ReviewApp(root, "alice", Settings(**settings), retriever_factory=hash_retriever)


def _screen_text(app: ReviewApp) -> str:
    return "\n".join(
        "".join(segment.text for segment in strip)
        for strip in app.screen._compositor.render_strips()
    )


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (120, 40), (160, 48)])
@run_async
async def test_the_claims_wording_and_help_key_show_at_every_size(
    workspace: Path, size: tuple[int, int]
) -> None:
    app = _app(workspace)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        text = " ".join(_screen_text(app).split())
        # The wording's first words, on screen (not only somewhere in a scrolled pane).
        assert " ".join(app.claim.text.split()[:8]) in text
        # The footer fills in after the first frame (its bindings are read on a refresh):
        # wait for it on a loaded machine rather than read a blank line.
        for _ in range(40):
            footer = _screen_text(app).splitlines()[-1]
            if footer.strip():
                break
            await pilot.pause(0.05)
        assert footer.lstrip().startswith("? Help")


@run_async
async def test_narrow_terminals_stack_the_panes_and_l_hides_the_queue(workspace: Path) -> None:
    app = _app(workspace)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        assert app.screen.has_class("-narrow")
        left, side = app.query_one("#left"), app.query_one("#side")
        assert left.region.bottom <= side.region.y  # stacked: the queue above the claim
        claim_top = app.query_one("#claim-pane").region.y
        await pilot.press("l")
        await pilot.pause()
        assert not left.display
        assert app.query_one("#claim-pane").region.y < claim_top  # the room went to the claim
        await pilot.press("l")
        await pilot.pause()
        assert left.display
    wide = _app(workspace)
    async with wide.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert wide.screen.has_class("-wide")
        assert wide.query_one("#left").region.right <= wide.query_one("#side").region.x


@run_async
async def test_the_claim_pane_scrolls_from_the_keyboard(workspace: Path) -> None:
    app = _app(workspace)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("h")  # hints make the pane longer than its room
        await app.workers.wait_for_complete()
        await pilot.pause()
        pane = app.query_one("#claim-pane")
        assert pane.max_scroll_y > 0
        await pilot.press("ctrl+d")
        assert pane.scroll_y > 0
        await pilot.press("ctrl+u", "ctrl+u")
        assert pane.scroll_y == 0


def test_the_queue_gives_narrow_widths_to_the_claim() -> None:
    assert visible_columns(40) == NARROW and visible_columns(120) == FULL


def test_evidence_ids_sharing_a_prefix_stay_distinct() -> None:
    ids = [
        "fr-rapport-mueller-conclusions-2019",
        "fr-rapport-mueller-conclusions-barr",
        "fr-rapport-mueller-conclusions-obstruction",
        "en-short",
    ]
    labels = distinct_labels(ids, 20)
    assert len(set(labels)) == len(ids)
    assert all(len(label) <= 20 for label in labels)
    assert labels[3] == "en-short"
    assert labels[0].startswith("fr-rappor") and labels[0].endswith("2019")


@run_async
async def test_a_verdict_moves_to_the_next_claim_without_one(workspace: Path) -> None:
    app = _app(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        ids = list(app.queue.claim_ids)
        with Workspace.open(workspace) as ws:
            set_verdict(ws, ids[1], "true", "bob")  # the second claim is already reviewed
        await pilot.press("r")
        app._move_to(0)
        await pilot.press("1")
        assert app.claim.id == ids[2]  # the reviewed one is skipped
        app._move_to(len(ids) - 1)
        await pilot.press("2")
        assert app.claim.id == ids[2]  # from the last row round to the first without one
    old = _app(workspace, after_verdict="next")
    async with old.run_test(size=(120, 40)) as pilot:
        old._move_to(0)
        await pilot.press("3")
        assert old.claim.id == ids[1]  # today's behaviour, by setting


def test_after_verdict_is_read_from_the_config(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('[review]\nafter_verdict = "next"\n')
    assert load_settings(tmp_path).after_verdict == "next"
    (tmp_path / "config.toml").write_text('[review]\nafter_verdict = "sideways"\n')
    with pytest.raises(Exception, match="after_verdict must be one of"):
        load_settings(tmp_path)


@run_async
async def test_clearing_a_search_that_found_nothing_comes_back_to_the_claim(
    workspace: Path,
) -> None:
    app = _app(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        app._move_to(4)
        here = app.claim.id
        await pilot.press("slash", *"zzzz-nothing", "enter")
        assert app.queue.row_count == 0 and app.claim is None
        await pilot.press("slash", "end", *["backspace"] * 12, "enter")
        await pilot.pause()
        assert app.queue_filter.search == ""
        assert app.claim.id == here
    with Workspace.open(workspace) as ws:
        assert load_position(ws, "alice") == here


@run_async
async def test_the_header_and_the_claim_follow_other_processes(workspace: Path) -> None:
    app = _app(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        seen = _notes(app)
        claim = app.claim.id
        assert app.counts[""][0] == 0
        with Workspace.open(workspace) as ws:
            set_verdict(ws, claim, "false", "bob")  # single mode: the claim's verdict
        app._watch_others()
        await pilot.pause()
        assert app.counts[""][0] == 1
        assert "reviewed 1/" in str(app.query_one("ReviewHeader").render())
        assert app.state.verdict == "false"
        assert any("changed in another window" in m for _, m in seen)
        # Another claim, not on screen: its badge follows, and changing it later counts once.
        other = app.queue.claim_at(3)
        with Workspace.open(workspace) as ws:
            set_verdict(ws, other, "true", "bob")
        app._watch_others()
        await pilot.pause()
        assert app.queue.cell(other, "verdict") == "true" and app.counts[""][0] == 2
        app._move_to(3)
        await pilot.press("1")  # a verdict on a claim that already had one
        assert app.counts[""][0] == 2


def test_a_report_keeps_the_mode_of_the_file_it_replaces(tmp_path: Path) -> None:
    target = tmp_path / "report.jsonl"
    target.write_text("old\n")
    os.chmod(target, 0o644)
    write_atomic("new\n", target)
    assert target.read_text() == "new\n"
    assert target.stat().st_mode & 0o777 == 0o644
    fresh = tmp_path / "fresh.jsonl"
    write_atomic("x\n", fresh)
    umask = os.umask(0)
    os.umask(umask)
    assert fresh.stat().st_mode & 0o777 == 0o666 & ~umask


def test_claim_view_shows_the_wording_before_anything_else(workspace: Path) -> None:
    with Workspace.open(workspace) as ws:
        claim = ws.claims([1])[0]
    view = ClaimView()
    from workbench.review.data import Context
    from workbench.verdicts import ReviewState

    rendered: list[str] = []
    view.update = lambda text: rendered.append(text.plain)  # type: ignore[method-assign]
    view.show(claim, Context("Avant. ", claim.text, " Après."), ReviewState(), stale=True)
    lines = rendered[0].splitlines()
    assert lines[0].startswith(f"Claim {claim.id}") and "re-match pending" in lines[0]
    assert lines[1] == claim.text


@run_async
async def test_a_shows_the_whole_article_and_enter_jumps_to_a_claim(workspace: Path) -> None:
    from workbench.review.article_view import ArticleScreen

    app = _app(workspace)
    async with app.run_test(size=SMALL) as pilot:
        first = app.claim.id
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, ArticleScreen)
        # The whole article: a sentence far from the claim is there too.
        assert "Ouchakov" in app.screen.text
        await pilot.press("n", "enter")
        await pilot.pause()
        assert not isinstance(app.screen, ArticleScreen)
        assert app.claim.id != first
        await pilot.press("a", "a")  # the key that opens it closes it
        assert not isinstance(app.screen, ArticleScreen)


@run_async
async def test_export_never_replaces_a_file_without_asking(workspace: Path, tmp_path: Path) -> None:
    target = tmp_path / "report.jsonl"
    target.write_text("last week's report\n")
    os.chmod(target, 0o644)
    app = _app(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+e")
        app.screen.query_one("Input").value = str(target)
        await pilot.press("enter")
        await pilot.pause()
        assert "exists: replace it?" in " ".join(
            str(label.render()) for label in app.screen.query("Label")
        )
        await pilot.press("n")
        await app.workers.wait_for_complete()
        assert target.read_text() == "last week's report\n"
        await pilot.press("ctrl+e")
        app.screen.query_one("Input").value = str(target)
        await pilot.press("enter", "y")
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert target.read_text().startswith("{")
    assert target.stat().st_mode & 0o777 == 0o644


# ----- edits, undo across restarts, re-matches that resume --------------------------------
def _audit_actions(root: Path, claim_id: int) -> list[str]:
    with Workspace.open(root) as ws:
        return [row["action"] for row in ws.audit_trail(claim_id)]


@run_async
async def test_the_same_verdict_again_writes_nothing(workspace: Path) -> None:
    app = _app(workspace, after_verdict="next")
    async with app.run_test(size=(120, 40)) as pilot:
        claim = app.claim.id
        await pilot.press("1")
        app._move_to(0)
        await pilot.press("1")  # the verdict it already has
        app._move_to(0)
        await pilot.press("1")
        assert len(app.changes.undo_stack) == 1
    assert _audit_actions(workspace, claim) == ["verdict"]


@run_async
async def test_u_undoes_an_edit_not_another_claims_verdict(workspace: Path) -> None:
    app = _app(workspace)
    async with app.run_test(size=SMALL) as pilot:
        first = app.claim.id
        await pilot.press("1")  # a verdict on the first claim, then on to the next
        claim = app.claim
        await pilot.press("e")
        app.screen.query_one("TextArea").text = "Reworded by the reviewer."
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.claim.text == "Reworded by the reviewer."
        # The new wording is what the claim pane shows first.
        assert "Reworded by the reviewer." in _screen_text(app).splitlines()[8]
        await pilot.press("u")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.claim.id == claim.id and app.claim.text == claim.text
        assert app.verdicts[first] == "false"  # the other claim's verdict is untouched
        await pilot.press("U")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.claim.text == "Reworded by the reviewer."
    assert _audit_actions(workspace, claim.id) == ["edit", "undo edit", "redo edit"]
    with Workspace.open(workspace) as ws:
        assert not ws.claims([claim.id])[0].stale  # each wording was matched again


@run_async
async def test_undo_survives_a_restart_and_reaches_only_own_actions(workspace: Path) -> None:
    app = _app(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        mine = app.claim.id
        await pilot.press("2")
    with Workspace.open(workspace) as ws:
        other = ws.claims()[-1].id
        set_verdict(ws, other, "true", "bob")  # bob's, later: not alice's to undo
    again = _app(workspace)
    async with again.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("u")
        assert again.verdicts[mine] == "" and again.verdicts[other] == "true"
        await pilot.press("u")  # nothing more of alice's
        assert again.verdicts[other] == "true"


@run_async
async def test_a_rematch_killed_midway_is_marked_stale_and_resumed(workspace: Path) -> None:
    from workbench.verdicts import edit_claim

    with Workspace.open(workspace) as ws:
        claim = ws.claims()[0]
        before = [m["passage_id"] for m in ws.matches(claim.id)]
        # What a process killed between the edit and its re-match leaves behind.
        edit_claim(ws, claim.id, "Pompeo warned Lavrov in Sochi on 14 May 2019.", "alice")
        assert ws.claims([claim.id])[0].stale
        assert [m["passage_id"] for m in ws.matches(claim.id)] == before
    view_lines: list[str] = []

    class Watching(ReviewApp):
        def _rematch_pending(self, claim_ids: list[int], k: int) -> None:  # type: ignore[override]
            # The claim pane as it is before the resumed re-match has run.
            view_lines.append(str(self.query_one(ClaimView).render()))
            super()._rematch_pending(claim_ids, k)

    app = Watching(workspace, "alice", Settings(), retriever_factory=hash_retriever)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not app.claim.stale
        assert "re-match pending" not in _screen_text(app)
    assert view_lines and "evidence stale: re-match pending" in view_lines[0]
    with Workspace.open(workspace) as ws:
        assert not ws.claims([claim.id])[0].stale
        assert ws.pending_rematches() == []


def test_history_load_replays_undo_and_redo(workspace: Path) -> None:
    from workbench.undo import History
    from workbench.verdicts import edit_claim, set_note

    with Workspace.open(workspace) as ws:
        a, b = ws.claims()[0].id, ws.claims()[1].id
        first = set_verdict(ws, a, "false", "alice")
        set_note(ws, b, "Source?", "alice")
        edit = edit_claim(ws, b, "Reworded.", "alice")
        live = History()
        for step in (first, edit):
            live.record(step)
        live.undo(ws, "alice")  # the edit
        set_verdict(ws, a, "true", "bob")
        loaded = History.load(ws, "alice")
        assert [s.claim_id for s in loaded.undo_stack] == [a, b]
        assert [s.action for s in loaded.undo_stack] == ["verdict", "note"]
        assert loaded.redo_stack == [edit]
        # Redo of the edit is alice's own; the verdict on a is bob's now: refused, not undone.
        loaded.redo(ws, "alice")
        assert ws.claim_text(b) == "Reworded."
        loaded.undo(ws, "alice")  # the edit again
        loaded.undo(ws, "alice")  # the note
        with pytest.raises(ConflictError):
            loaded.undo(ws, "alice")  # a's verdict: bob changed it since
        assert get_state(ws, a).verdict == "true"


def test_a_late_rematch_of_an_old_wording_never_overwrites_newer_evidence(
    workspace: Path,
) -> None:
    from workbench.match import compute_matches, store_matches
    from workbench.verdicts import edit_claim

    with Workspace.open(workspace) as ws:
        claim = ws.claims()[0].id
        edit_claim(ws, claim, "Pompeo met Putin in Sochi on 14 May 2019.", "alice")
        old_wording = compute_matches(ws, hash_retriever(ws), [claim], 3)  # a slow worker
        edit_claim(ws, claim, "Trump and Putin spoke by phone on 3 May 2019.", "alice")
        store_matches(ws, compute_matches(ws, hash_retriever(ws), [claim], 3))
        newer = [m["passage_id"] for m in ws.matches(claim)]
        assert not ws.claims([claim])[0].stale
        edit_claim(ws, claim, "Reworded a third time.", "alice")
        store_matches(ws, old_wording)  # the slow worker finishes last
        assert [m["passage_id"] for m in ws.matches(claim)] == newer
        assert ws.claims([claim])[0].stale  # still waiting for its own re-match


def test_every_change_is_audited_and_nothing_else(tmp_path: Path, workspace: Path) -> None:
    from workbench.history import describe
    from workbench.verdicts import apply_changes

    with Workspace.open(workspace) as ws:
        claim = ws.claims()[0].id
        set_verdict(ws, claim, "false", "ana")
        # Single mode: ben gives the verdict the claim has; his own review is new: audited.
        apply_changes(ws, claim, "ben", verdict="false")
        assert [(r["reviewer"], r["action"]) for r in ws.audit_trail(claim)] == [
            ("ana", "verdict"),
            ("ben", "verdict"),
        ]
        apply_changes(ws, claim, "ben", verdict="false")  # nothing new at all: nothing written
        assert len(ws.audit_trail(claim)) == 2
    (workspace / "config.toml").write_text('[review]\nmode = "double"\n')
    with Workspace.open(workspace) as ws:
        other = ws.claims()[1].id
        set_verdict(ws, other, "true", "cy")
        set_verdict(ws, other, "true", "cy")  # double mode: the same again writes nothing
        assert [r["action"] for r in ws.audit_trail(other)] == ["verdict"]
    assert describe("undo edit", "Old wording.", "New wording.").startswith('"Old wording."')


@run_async
async def test_the_replace_question_shows_a_file_name_as_typed(
    workspace: Path, tmp_path: Path
) -> None:
    target = tmp_path / "a[b]x.jsonl"  # markup a label would read: "[b]" is bold
    target.write_text("x\n")
    app = _app(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+e")
        app.screen.query_one("Input").value = str(target)
        await pilot.press("enter")
        await pilot.pause()
        texts = " ".join(str(label.render()) for label in app.screen.query("Label"))
        assert "a[b]x.jsonl exists: replace it?" in texts
        await pilot.press("n")


def test_undoing_an_edit_gives_back_the_extracted_standalone_wording(workspace: Path) -> None:
    from workbench.undo import History
    from workbench.verdicts import edit_claim

    with Workspace.open(workspace) as ws:
        claim = next(c for c in ws.claims() if c.standalone and c.standalone != c.text)
        history = History()
        history.record(edit_claim(ws, claim.id, "Reworded.", "alice"))
        assert ws.claims([claim.id])[0].standalone == "Reworded."
        history.undo(ws, "alice")
        again = ws.claims([claim.id])[0]
        assert (again.text, again.standalone) == (claim.text, claim.standalone)
