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
from workbench.errors import InputError
from workbench.queue import list_queue, load_position, progress, save_position
from workbench.scale import SCALE, parse_verdict
from workbench.settings import load_settings, resolve_reviewer
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
    history = verdicts.History()
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
