"""Tests for the reviewer's core actions: verdicts, notes, citations, edits, undo, queue."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from reviewdata import build_workspace

from workbench import verdicts
from workbench.errors import ConflictError, InputError
from workbench.queue import list_queue, load_position, progress, save_position
from workbench.scale import SCALE, parse_verdict
from workbench.settings import load_settings, resolve_reviewer
from workbench.undo import History
from workbench.workspace import SCHEMA_VERSION, Workspace


@pytest.fixture
def ws(tmp_path: Path, evidence_file: Path, seed_article: Path) -> Workspace:
    return build_workspace(tmp_path / "ws", evidence_file, seed_article)


def _audit(ws: Workspace, claim_id: int) -> list[tuple]:
    return ws.conn.execute(
        "SELECT reviewer, action, old, new FROM audit_log WHERE claim_id = ? ORDER BY id",
        (claim_id,),
    ).fetchall()


def test_scale_parses_ids_labels_and_keys() -> None:
    assert [r.value for r in SCALE[:6]] == [1, 2, 3, 4, 5, 6]
    assert parse_verdict("Mostly false").id == "mostly-false"
    assert parse_verdict("Faux").id == "false"
    assert parse_verdict("x").id == "not-a-claim"
    with pytest.raises(InputError, match="unknown verdict"):
        parse_verdict("kinda")


def test_verdict_is_stored_and_audited(ws: Workspace) -> None:
    change = verdicts.set_verdict(ws, 1, "misleading", "ana")
    assert (change.old.verdict, change.new.verdict) == ("", "misleading")
    verdicts.set_verdict(ws, 1, "false", "ben")
    rows = _audit(ws, 1)
    assert [(r[0], r[1]) for r in rows] == [("ana", "verdict"), ("ben", "verdict")]
    assert json.loads(rows[1][2])["verdict"] == "misleading"
    assert json.loads(rows[1][3])["verdict"] == "false"
    assert verdicts.get_state(ws, 1).verdict == "false"


def test_note_and_citations_keep_a_copy_of_the_passage(ws: Workspace) -> None:
    passage_id = ws.matches(1)[0]["passage_id"]
    verdicts.set_note(ws, 1, "Le rapport dit autre chose.", "ana")
    verdicts.toggle_cite(ws, 1, passage_id, "ana")
    state = verdicts.get_state(ws, 1)
    assert state.note == "Le rapport dit autre chose."
    assert state.cited_ids == (passage_id,)
    assert state.cited[0]["text"] and state.cited[0]["evidence_id"]
    verdicts.toggle_cite(ws, 1, passage_id, "ana")
    assert verdicts.get_state(ws, 1).cited_ids == ()
    with pytest.raises(InputError, match="no evidence passage"):
        verdicts.cite(ws, 1, 99999, "ana")
    with pytest.raises(InputError, match="no claim"):
        verdicts.set_verdict(ws, 99999, "true", "ana")


def test_undo_and_redo_are_audited(ws: Workspace) -> None:
    history = History()
    history.record(verdicts.set_verdict(ws, 2, "true", "ana"))
    history.record(verdicts.set_note(ws, 2, "checked", "ana"))
    history.undo(ws, "ana")
    assert verdicts.get_state(ws, 2) == verdicts.ReviewState("true", "", ())
    history.undo(ws, "ana")
    assert verdicts.get_state(ws, 2).verdict == ""
    assert history.undo(ws, "ana") is None
    history.redo(ws, "ana")
    assert verdicts.get_state(ws, 2).verdict == "true"
    actions = [r[1] for r in _audit(ws, 2)]
    assert actions == ["verdict", "note", "undo note", "undo verdict", "redo verdict"]
    # A new action after an undo drops the redo branch, as in every editor.
    history.record(verdicts.set_verdict(ws, 2, "false", "ana"))
    assert history.redo(ws, "ana") is None


def test_edit_claim_keeps_the_original(ws: Workspace) -> None:
    original = ws.claims([1])[0].text
    verdicts.edit_claim(ws, 1, "Pompeo a rencontré Poutine à Sotchi le 14 mai 2019.", "ana")
    assert ws.claims([1])[0].text.startswith("Pompeo a rencontré")
    (kept,) = ws.conn.execute("SELECT original_text FROM claims WHERE id = 1").fetchone()
    assert kept == original
    with pytest.raises(InputError):
        verdicts.edit_claim(ws, 1, "  ", "ana")


def test_queue_filters_progress_and_position(ws: Workspace) -> None:
    total = len(list_queue(ws))
    verdicts.set_verdict(ws, 1, "true", "ana")
    assert len(list_queue(ws, "reviewed")) == 1
    assert len(list_queue(ws, "unreviewed")) == total - 1
    assert [r.claim_id for r in list_queue(ws, verdict="true")] == [1]
    assert all("Pompeo" in r.text for r in list_queue(ws, search="Pompeo"))
    assert progress(ws)[""] == (1, total)
    assert load_position(ws, "ana") is None
    save_position(ws, "ana", 3)
    assert load_position(ws, "ana") == 3
    with pytest.raises(InputError):
        list_queue(ws, "done")


def test_settings_and_reviewer_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    (tmp_path / "config.toml").write_text(
        'reviewer = "Ana"\n[review]\nhints = "after-verdict"\n[keys]\nnext_claim = "l"\n'
    )
    settings = load_settings(tmp_path)
    assert (settings.reviewer, settings.hints, settings.keys) == (
        "Ana", "after-verdict", {"next_claim": "l"}
    )  # fmt: skip
    monkeypatch.delenv("WORKBENCH_REVIEWER", raising=False)
    assert resolve_reviewer(None, settings) == "Ana"
    monkeypatch.setenv("WORKBENCH_REVIEWER", "Ben")
    assert resolve_reviewer(None, settings) == "Ben"
    assert resolve_reviewer("Cleo", settings) == "Cleo"
    (tmp_path / "config.toml").write_text("[review]\nhints = 'never'\n")
    with pytest.raises(InputError, match=r"review\.hints"):
        load_settings(tmp_path)


def test_version_1_workspace_is_migrated_without_loss(tmp_path: Path) -> None:
    db = tmp_path / "workbench.db"
    conn = sqlite3.connect(db)
    from workbench.workspace import _SCHEMA

    conn.executescript(_SCHEMA)
    conn.execute("INSERT INTO articles VALUES (1, 'a', '', 'h', 'fr', '', 't')")
    conn.execute("INSERT INTO claims VALUES (1, 1, 'c', 0, 1, 'fr', 0.5, '[]', 't')")
    conn.execute("INSERT INTO verdicts VALUES (1, 'false', 'n', 'ana', '[]', 't')")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    ws = Workspace.open(tmp_path)
    assert ws.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert ws.conn.execute("SELECT url, published FROM articles").fetchone() == ("", "")
    # v4: extraction fields, empty for old claims (the claimant is guessed on export).
    assert ws.claims()[0].claimant == "" and ws.claims()[0].query == "c"
    assert ws.claim_sources(1) == []
    assert verdicts.get_state(ws, 1).verdict == "false"
    verdicts.edit_claim(ws, 1, "claim reworded", "ana")


_CRASH_SCRIPT = """
import os, signal, sys
from pathlib import Path
from workbench import verdicts
from workbench.workspace import Workspace
ws = Workspace.open(Path({root!r}))
verdicts.set_verdict(ws, 1, "misleading", "ana")
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_verdict_survives_the_process_being_killed(ws: Workspace) -> None:
    root = str(ws.root)
    ws.close()
    done = subprocess.run([sys.executable, "-c", _CRASH_SCRIPT.format(root=root)])
    assert done.returncode == -signal.SIGKILL
    with Workspace.open(Path(root)) as reopened:
        assert verdicts.get_state(reopened, 1).verdict == "misleading"
    assert os.path.exists(os.path.join(root, "workbench.db"))


def _snapshot(ws: Workspace, claim_id: int) -> tuple:
    """Everything a change may touch: the stored review state, its row and the audit trail."""
    row = ws.conn.execute("SELECT * FROM verdicts WHERE claim_id = ?", (claim_id,)).fetchone()
    return verdicts.get_state(ws, claim_id), row, _audit(ws, claim_id)


def _reviewed(ws: Workspace) -> tuple[int, int]:
    """Claim 1 with a verdict, a note and one citation by ana; a second stored passage."""
    first, second = (m["passage_id"] for m in ws.matches(1)[:2])
    verdicts.apply_changes(ws, 1, "ana", verdict="true", note="checked", cite=[first])
    return first, second


def test_a_change_set_is_one_transaction_with_an_audit_row_per_part(ws: Workspace) -> None:
    first, second = (m["passage_id"] for m in ws.matches(1)[:2])
    history = History()
    change = history.record(
        verdicts.apply_changes(
            ws, 1, "ana", verdict="Plutôt faux", note="voir source", cite=[first, second, first]
        )
    )
    assert change.old == verdicts.ReviewState()
    assert change.new == verdicts.get_state(ws, 1)
    assert (change.new.verdict, change.new.note, change.new.cited_ids) == (
        "mostly-false", "voir source", (first, second)
    )  # fmt: skip
    rows = _audit(ws, 1)
    assert [r[1] for r in rows] == ["verdict", "note", "cite", "cite"]
    # The rows chain: each part's "before" is the previous part's "after".
    assert all(rows[i][3] == rows[i + 1][2] for i in range(len(rows) - 1))
    assert verdicts.ReviewState.from_json(rows[-1][3]) == change.new
    # One command is one undo step.
    history.undo(ws, "ana")
    assert verdicts.get_state(ws, 1) == verdicts.ReviewState()
    assert _audit(ws, 1)[-1][1] == "undo verdict, note, cite"


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"verdict": "false", "note": "new", "cite": [99999]}, "no evidence passage with id 99999"),
        ({"verdict": "false", "cite": [2**70, 88888]}, f"passages with ids {2**70}, 88888"),
        ({"verdict": "kinda", "note": "new"}, "unknown verdict"),
        ({"note": "new", "cite": [1], "uncite": [1]}, "cannot both cite and uncite"),
        ({}, "nothing to change"),
    ],
)
def test_an_invalid_change_set_writes_nothing(ws: Workspace, changes: dict, error: str) -> None:
    _reviewed(ws)
    before = _snapshot(ws, 1)
    with pytest.raises(InputError, match=error):
        verdicts.apply_changes(ws, 1, "ben", **changes)
    assert _snapshot(ws, 1) == before


def test_ids_beyond_sqlite_integers_are_missing_not_a_crash(ws: Workspace) -> None:
    for claim_id in (2**63, -(2**63) - 1, 99999999999999999999999):
        with pytest.raises(InputError, match=f"no claim with id {claim_id} in"):
            verdicts.set_verdict(ws, claim_id, "true", "ana")
    with pytest.raises(InputError, match=f"no evidence passage with id {2**64} in"):
        verdicts.cite(ws, 1, 2**64, "ana")
    assert _audit(ws, 1) == []


def test_clearing_a_verdict_is_an_audited_undoable_change(ws: Workspace) -> None:
    _reviewed(ws)
    history = History()
    history.record(verdicts.apply_changes(ws, 1, "ben", verdict=""))
    state = verdicts.get_state(ws, 1)
    assert (state.verdict, state.note, len(state.cited)) == ("", "checked", 1)
    reviewer, action, old, new = _audit(ws, 1)[-1]
    assert (reviewer, action) == ("ben", "clear verdict")
    assert (json.loads(old)["verdict"], json.loads(new)["verdict"]) == ("true", "")
    history.undo(ws, "ben")
    assert verdicts.get_state(ws, 1).verdict == "true"


class _FailingConnection:
    """A connection that runs `fail()` just before its `fail_at`-th write statement."""

    def __init__(self, conn: sqlite3.Connection, fail_at: int, fail) -> None:
        self._conn, self._fail_at, self._fail, self.writes = conn, fail_at, fail, 0

    def execute(self, sql: str, *args):
        if sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE", "COMMIT")):
            self.writes += 1
            if self.writes == self._fail_at:
                self._fail()
        return self._conn.execute(sql, *args)

    def __getattr__(self, name: str):
        return getattr(self._conn, name)


# A three-part change is 5 writes: 3 audit rows, the verdict row, the commit.
_WRITES = 5


def _raise() -> None:
    raise RuntimeError("disk gone")


@pytest.mark.parametrize("fail_at", range(1, _WRITES + 1))
def test_a_write_failing_midway_leaves_everything_as_it_was(ws: Workspace, fail_at: int) -> None:
    _, second = _reviewed(ws)
    before = _snapshot(ws, 1)
    real = ws.conn
    ws.conn = _FailingConnection(real, fail_at, _raise)  # type: ignore[assignment]
    with pytest.raises(RuntimeError, match="disk gone"):
        verdicts.apply_changes(ws, 1, "ben", verdict="false", note="changed", cite=[second])
    assert ws.conn.writes == fail_at
    ws.conn = real
    assert _snapshot(ws, 1) == before
    # The workspace is left usable: no transaction is left open.
    verdicts.apply_changes(ws, 1, "ben", verdict="false", note="changed", cite=[second])
    assert verdicts.get_state(ws, 1).verdict == "false"


_KILL_SCRIPT = """
import os, signal, sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from test_verdicts import _FailingConnection
from workbench import verdicts
from workbench.workspace import Workspace
ws = Workspace.open(Path({root!r}))
ws.conn = _FailingConnection(ws.conn, {fail_at}, lambda: os.kill(os.getpid(), signal.SIGKILL))
verdicts.apply_changes(ws, 1, "ben", verdict="false", note="changed", cite=[{passage}])
"""


@pytest.mark.parametrize("fail_at", [3, _WRITES])
def test_a_kill_midway_through_a_change_leaves_all_or_nothing(ws: Workspace, fail_at: int) -> None:
    _, second = _reviewed(ws)
    before = _snapshot(ws, 1)
    root = str(ws.root)
    ws.close()
    script = _KILL_SCRIPT.format(
        tests=str(Path(__file__).parent), root=root, fail_at=fail_at, passage=second
    )
    done = subprocess.run([sys.executable, "-c", script])
    assert done.returncode == -signal.SIGKILL
    with Workspace.open(Path(root)) as reopened:
        assert _snapshot(reopened, 1) == before


def test_undo_never_overwrites_what_someone_else_wrote_since(ws: Workspace) -> None:
    # Reviewer A's UI and reviewer B's command on the same workspace, two connections.
    other = Workspace.open(ws.root)
    passage_id = ws.matches(1)[0]["passage_id"]
    history = History()
    history.record(verdicts.set_verdict(ws, 1, "false", "ana"))
    history.record(verdicts.set_verdict(ws, 2, "true", "ana"))
    verdicts.apply_changes(other, 1, "ben", note="Source: the report.", cite=[passage_id])
    before = verdicts.get_state(ws, 1)
    audit = len(_audit(ws, 1))

    # Undo of claim 2 (untouched by ben) still works; claim 1's undo is refused, not forced.
    assert history.undo(ws, "ana").claim_id == 2
    assert verdicts.get_state(ws, 2).verdict == ""
    with pytest.raises(ConflictError, match=r"claim 1 was changed since \(cite by ben at "):
        history.undo(ws, "ana")
    assert verdicts.get_state(ws, 1) == before
    assert before.note == "Source: the report." and before.cited_ids == (passage_id,)
    assert len(_audit(ws, 1)) == audit
    # The overtaken step is dropped: nothing left to undo, and redo of claim 2 still works.
    assert history.undo(ws, "ana") is None
    verdicts.set_verdict(other, 2, "misleading", "ben")
    with pytest.raises(ConflictError, match="claim 2 was changed since"):
        history.redo(ws, "ana")
    assert verdicts.get_state(ws, 2).verdict == "misleading"
    other.close()
