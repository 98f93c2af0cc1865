"""Tests for damaged, unusual and read-only workspaces: one line, and nothing written into them."""

from __future__ import annotations

import asyncio
import errno
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from workbench.cli import app
from workbench.errors import DamagedWorkspaceError, ReadOnlyWorkspaceError
from workbench.store import connection as store_connection
from workbench.workspace import Workspace

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]
PAGE = 4096


def _run(*args: str):
    # Each command is a process of its own: the integrity check's per-process cache starts empty.
    store_connection._INTEGRITY.clear()
    return runner.invoke(app, list(args))


def _jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _one_line_error(result, code: int, *phrases: str) -> str:
    """The command failed with exit `code` and a single stderr line holding every phrase."""
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = [line for line in result.stderr.splitlines() if line.startswith("workbench: error:")]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    for phrase in phrases:
        assert phrase in lines[0], lines[0]
    return lines[0]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _evidence(path: Path, count: int, prefix: str) -> Path:
    """`count` small English evidence documents in a JSONL file."""
    rows = [
        {
            "id": f"{prefix}-{i}",
            "title": f"Budget report {prefix} {i}",
            "text": f"The {prefix} ministry said spending rose by {i} percent in 2019 after the "
            f"vote on the budget number {i}, according to the report.",
            "lang": "en",
        }
        for i in range(count)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def matched(evidence_file: Path, seed_article: Path) -> Path:
    """A workspace with evidence and the seed article's claims matched, closed cleanly."""
    assert _run("ingest", str(evidence_file), "--model", "hash:64").exit_code == 0
    result = _run("match", str(seed_article), "--top-k", "2")
    assert result.exit_code == 0, result.output
    root = Path(os.environ["WORKBENCH_HOME"])
    assert not Path(f"{root / 'workbench.db'}-wal").exists()  # all in the file: bytes compare
    return root


def _smash_pages(db: Path, table: str) -> None:
    """Overwrite the 4 KB root pages of `table` and its indexes with garbage, as a bad sector
    or a stray write would (`dd conv=notrunc`)."""
    with sqlite3.connect(db) as conn:
        pages = [
            r[0]
            for r in conn.execute("SELECT rootpage FROM sqlite_schema WHERE tbl_name = ?", (table,))
        ]
        assert conn.execute("PRAGMA page_size").fetchone()[0] == PAGE
    conn.close()
    assert pages
    with open(db, "r+b") as handle:
        for page in pages:
            handle.seek((page - 1) * PAGE)
            handle.write(os.urandom(PAGE))


def _claim_count(root: Path) -> int:
    with Workspace.open(root) as ws:
        return ws.count("claims")


# ----- a damaged database ---------------------------------------------------------------------
def test_damaged_page_read_by_every_command_is_one_line_and_nothing_is_written(
    matched: Path, seed_article: Path
) -> None:
    db = matched / "workbench.db"
    _smash_pages(db, "claims")
    before = _digest(db)
    for args in (
        ["info"],
        ["claims"],
        ["export"],
        ["verdict", "1", "false"],
        ["match", str(seed_article)],
    ):
        result = _run(*args)
        _one_line_error(result, 4, f"{db} is damaged", "workbench doctor", "backup")
    assert _digest(db) == before
    assert not Path(f"{db}-wal").exists() or Path(f"{db}-wal").stat().st_size == 0


def test_damage_that_reads_miss_still_stops_every_write_into_it(
    matched: Path, evidence_file: Path
) -> None:
    # The vectors are not read by `claims` or `verdict`. A write that touches vectors (ingest)
    # checks the whole file first and is refused; a verdict checks every table but the vectors
    # (the bulk of a large file), passes, and is written into sound pages only.
    db = matched / "workbench.db"
    claims = _claim_count(matched)
    _smash_pages(db, "vectors")
    before = _digest(db)
    listed = _run("claims", "--low")  # every claim, those of low check-worthiness too
    assert listed.exit_code == 0 and len(_jsonl(listed.stdout)) == claims > 0
    _one_line_error(_run("ingest", str(evidence_file)), 4, "is damaged", "workbench doctor")
    assert _digest(db) == before
    with pytest.raises(DamagedWorkspaceError, match="is damaged"):
        Workspace.open(matched).check_integrity(vectors=True)
    store_connection._INTEGRITY.clear()
    assert _run("verdict", "1", "false").exit_code == 0
    store_connection._INTEGRITY.clear()
    ws = Workspace.open(matched)
    assert ws.quick_check(vectors=False) is None  # every other table still sound
    assert ws.quick_check(vectors=True) is not None  # the damage is where it was, named
    assert ws.conn.execute("SELECT verdict FROM verdicts WHERE claim_id = 1").fetchone() == (
        "false",
    )
    ws.close()
    # Damage in a table a write does touch stops that write, and nothing is written.
    _smash_pages(db, "audit_log")
    before = _digest(db)
    store_connection._INTEGRITY.clear()
    _one_line_error(_run("verdict", "1", "true"), 4, "is damaged", "workbench doctor")
    assert _digest(db) == before


def test_integrity_check_runs_once_per_process_and_remembers_damage(matched: Path) -> None:
    store_connection._INTEGRITY.clear()  # as in a new process
    ws = Workspace.open(matched)
    calls = []
    real = ws.quick_check
    ws.quick_check = lambda **scope: calls.append(scope) or real(**scope)  # type: ignore[method-assign]
    ws.require_writable()
    ws.require_writable()
    with ws.transaction():
        pass
    assert calls == [{"vectors": False}]
    with ws.transaction(vectors=True):
        pass
    ws.require_writable(vectors=True)
    assert calls == [{"vectors": False}, {"vectors": True}]
    ws.mark_damaged("found by a read")
    with pytest.raises(DamagedWorkspaceError, match="found by a read"), ws.transaction():
        pass
    ws.close()


def test_zero_byte_database_is_refused_and_never_overwritten(
    tmp_path: Path, evidence_file: Path
) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "workbench.db").write_bytes(b"")
    _one_line_error(_run("info", "-w", str(root)), 4, "empty (0 bytes)")
    result = _run("ingest", str(evidence_file), "-w", str(root), "--model", "hash:64")
    _one_line_error(result, 4, "empty (0 bytes)", "backup")
    assert (root / "workbench.db").stat().st_size == 0
    assert sorted(p.name for p in root.iterdir()) == ["workbench.db"]


def test_non_sqlite_database_is_refused_and_never_overwritten(
    tmp_path: Path, evidence_file: Path
) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    junk = b"%PDF-1.4 not a database\n" * 300
    (root / "workbench.db").write_bytes(junk)
    result = _run("ingest", str(evidence_file), "-w", str(root), "--model", "hash:64")
    _one_line_error(result, 4, "not a workbench database", "not a SQLite file")
    assert (root / "workbench.db").read_bytes() == junk


def test_another_programs_sqlite_database_is_not_written(
    tmp_path: Path, evidence_file: Path
) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    with sqlite3.connect(root / "workbench.db") as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
    conn.close()
    before = _digest(root / "workbench.db")
    result = _run("ingest", str(evidence_file), "-w", str(root), "--model", "hash:64")
    _one_line_error(result, 4, "not a workbench one", "notes")
    assert _digest(root / "workbench.db") == before


def test_a_file_given_as_the_workspace_is_one_line(tmp_path: Path, evidence_file: Path) -> None:
    some_file = tmp_path / "notes.txt"
    some_file.write_text("hello")
    _one_line_error(_run("info", "--workspace", str(some_file)), 4, "is a file, not a workspace")
    result = _run("ingest", str(evidence_file), "-w", str(some_file), "--model", "hash:64")
    _one_line_error(result, 4, "is a file")
    assert some_file.read_text() == "hello"


def test_new_workspace_is_created_whole(tmp_path: Path, evidence_file: Path) -> None:
    # Created aside and linked into place: nothing but the database and the index remain.
    root = tmp_path / "new"
    assert _run("ingest", str(evidence_file), "-w", str(root), "--model", "hash:64").exit_code == 0
    assert sorted(p.name for p in root.iterdir()) == ["index", "workbench.db"]
    with Workspace.open(root) as ws:
        assert ws.count("documents") > 0 and ws.quick_check() is None


# ----- a full disk ----------------------------------------------------------------------------
def _manifest(root: Path) -> dict:
    return json.loads((root / "index" / "manifest.json").read_text(encoding="utf-8"))


def _counts_agree(root: Path) -> None:
    from workbench.index import store

    with Workspace.open(root) as ws:
        manifest = _manifest(root)
        assert manifest["generation"] == ws.generation
        assert manifest["passages"] == ws.count("passages")
        indexes = store.load(ws, ws.get_meta("models"))
        ids, _ = ws.passage_ids_and_langs()
        assert all(index.ntotal == len(ids) for index in indexes.dense.values())
        assert all(list(lex.ids) == ids.tolist() for lex in indexes.lexical.values())


@pytest.mark.parametrize("next_command", ["ingest", "match"])
def test_full_disk_on_index_write_is_one_line_and_the_next_run_repairs(
    matched: Path, tmp_path: Path, seed_article: Path, next_command: str
) -> None:
    from workbench.index import dense

    more = _evidence(tmp_path / "more.jsonl", 50, "extra")
    before = _manifest(matched)["passages"]

    def full(index, path: Path) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(dense, "save_index", full)
        result = _run("ingest", str(more))
    _one_line_error(result, 1, "No space left on device", "rebuilt by the next command")
    # The database committed the new passages, the index did not get them: the state the
    # issue saw (202 against 152); the manifest's generation says so.
    with Workspace.open(matched) as ws:
        assert ws.count("passages") == before + 50
        assert _manifest(matched)["passages"] == before
        assert _manifest(matched)["generation"] != ws.generation
    args = ["ingest", str(more)] if next_command == "ingest" else ["match", str(seed_article)]
    result = _run(*args)
    assert result.exit_code == 0, result.output
    assert _manifest(matched)["passages"] == before + 50
    _counts_agree(matched)


def test_full_database_disk_is_one_line_and_rolls_back(matched: Path, tmp_path: Path) -> None:
    # SQLite's own "database or disk is full" (SQLITE_FULL), made real by capping the file's
    # pages at what it holds now: the next batch cannot grow it.
    real = store_connection.connect

    def capped(db_path: Path, read_only: bool = False) -> sqlite3.Connection:
        conn = real(db_path, read_only)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages}")
        return conn

    with Workspace.open(matched) as ws:
        passages, generation = ws.count("passages"), ws.generation
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(store_connection, "connect", capped)
        result = _run("ingest", str(_evidence(tmp_path / "big.jsonl", 400, "big")))
    _one_line_error(result, 1, "no space left", "database or disk is full", "rolled back")
    with Workspace.open(matched) as ws:
        assert (ws.count("passages"), ws.generation) == (passages, generation)
        assert ws.quick_check() is None
    _counts_agree(matched)


# ----- a read-only workspace ------------------------------------------------------------------
def test_read_only_workspace_reads_and_refuses_writes_in_process(
    matched: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The permission is simulated (tests run as root, whom chmod does not stop); the
    # connection is really read-only: SQLite itself refuses to write through it.
    claims = _claim_count(matched)
    monkeypatch.setattr(store_connection, "_writable", lambda db_path: False)
    before = _digest(matched / "workbench.db")
    with Workspace.open(matched) as ws:
        assert ws.read_only and ws.count("claims") == claims
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            ws.conn.execute("DELETE FROM claims")
        with pytest.raises(ReadOnlyWorkspaceError, match="read-only"), ws.transaction():
            pass
    info = _run("info")
    assert info.exit_code == 0 and _jsonl(info.stdout)[0]["claims"] == claims
    assert len(_jsonl(_run("claims", "--low").stdout)) == claims
    exported = _run("export")
    assert exported.exit_code == 0 and len(_jsonl(exported.stdout)) == claims
    _one_line_error(_run("verdict", "1", "false"), 4, "is read-only", "this command writes")
    assert _digest(matched / "workbench.db") == before


def _unprivileged() -> list[str]:
    """The command prefix that runs a command without write permission on the locked-down
    workspace: as `nobody` when the tests run as root (chmod does not stop root), else as
    this user. setpriv (util-linux) drops the privileges."""
    if os.geteuid() != 0:
        return []
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def _cli(root: Path, *args: str, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "HOME": str(home), "WORKBENCH_HOME": str(root)}
    return subprocess.run(
        [*_unprivileged(), sys.executable, "-m", "workbench", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )


@pytest.fixture
def shared(matched: Path) -> Iterator[Path]:
    """A copy of the workspace in a folder every user can read, for the unprivileged runs."""
    home = Path(tempfile.mkdtemp(prefix="wb-readonly-"))
    home.chmod(0o755)
    probe = [*_unprivileged(), sys.executable, "-c", "import workbench.cli"]
    if shutil.which(probe[0]) is None or subprocess.run(probe, capture_output=True).returncode:
        shutil.rmtree(home)
        pytest.skip("no unprivileged user that can run this Python here")
    shutil.copytree(matched, home / "ws")
    yield home
    for path in [home, *home.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    shutil.rmtree(home)


def _lock_down(root: Path) -> None:
    for path in [*root.rglob("*"), root]:
        path.chmod(0o555 if path.is_dir() else 0o444)


def test_read_only_workspace_without_write_permission(shared: Path, seed_article: Path) -> None:
    root = shared / "ws"
    claims = _claim_count(root)
    _lock_down(root)
    before = {p: _digest(p) for p in root.rglob("*") if p.is_file()}
    info = _cli(root, "info", home=shared)
    assert info.returncode == 0, info.stderr
    assert json.loads(info.stdout)["claims"] == claims
    listed = _cli(root, "claims", "--low", home=shared)
    assert listed.returncode == 0 and len(_jsonl(listed.stdout)) == claims
    exported = _cli(root, "export", "--format", "markdown", home=shared)
    assert exported.returncode == 0 and "#" in exported.stdout
    # doctor reads a healthy read-only workspace as healthy (it once said to restore it).
    checked = _cli(root, "doctor", home=shared)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert all(r["status"] == "ok" for r in _jsonl(checked.stdout))
    for args in (["verdict", "1", "false"], ["match", str(seed_article)], ["reindex"]):
        done = _cli(root, *args, home=shared)
        assert done.returncode == 4, done.stderr
        assert done.stderr.count("\n") == 1 and "is read-only" in done.stderr, done.stderr
    assert {p: _digest(p) for p in root.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in root.iterdir()) == ["index", "workbench.db"]


def test_read_only_wal_reads_the_last_writers_changes(shared: Path) -> None:
    # A writer still has the workspace open (its -wal and -shm exist, its last verdict not yet
    # in the file): a read-only reader sees that verdict (mode=ro, not immutable=1).
    root = shared / "ws"
    writer = sqlite3.connect(root / "workbench.db", isolation_level=None)
    try:
        writer.execute("PRAGMA wal_autocheckpoint=0")
        writer.execute(
            "INSERT INTO verdicts(claim_id, verdict, updated_at) VALUES (1, 'false', 'now')"
        )
        assert Path(f"{root / 'workbench.db'}-wal").stat().st_size > 0
        _lock_down(root)
        listed = _cli(root, "claims", "--status", "reviewed", home=shared)
        assert listed.returncode == 0, listed.stderr
        assert [r["verdict"] for r in _jsonl(listed.stdout)] == ["false"]
        # A crash that left the -wal but not the -shm: its changes cannot be read without
        # write access, and reading the file alone would silently miss them: one line.
        copy = shared / "crashed"
        copy.mkdir()
        for name in ("workbench.db", "workbench.db-wal"):
            shutil.copy(root / name, copy / name)
        _lock_down(copy)
        done = _cli(copy, "claims", home=shared)
        assert done.returncode == 4 and "open the workspace once with write access" in done.stderr
    finally:
        writer.close()


def test_review_ui_in_a_read_only_workspace(matched: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from workbench.review.app import ReviewApp
    from workbench.settings import Settings

    monkeypatch.setattr(store_connection, "_writable", lambda db_path: False)
    before = _digest(matched / "workbench.db")
    notes: list[str] = []

    async def review() -> None:
        ui = ReviewApp(matched, "alice", Settings())
        real = ui.notify
        ui.notify = lambda message, **kw: notes.append(message) or real(message, **kw)  # type: ignore[method-assign]
        async with ui.run_test(size=(120, 40)) as pilot:
            first = ui.claim.id
            await pilot.press("2")  # a verdict key
            assert ui.claim.id == first and ui.verdicts[first] == ""
            await pilot.press("c")  # cite
            await pilot.press("j")  # reading still works
            assert ui.claim.id != first

    asyncio.run(review())
    assert any("Read-only workspace" in n for n in notes[:1]), notes
    assert sum("nothing can be saved" in n for n in notes) == 2, notes
    assert not any("Could not" in n for n in notes), notes
    assert _digest(matched / "workbench.db") == before


def test_review_ui_on_a_damaged_workspace_saves_nothing(matched: Path) -> None:
    from workbench.review.app import ReviewApp
    from workbench.settings import Settings

    db = matched / "workbench.db"
    _smash_pages(db, "audit_log")  # the queue and the claims still read; the check fails
    before = _digest(db)
    store_connection._INTEGRITY.clear()  # as in a new process
    notes: list[str] = []

    async def review() -> None:
        ui = ReviewApp(matched, "alice", Settings())
        real = ui.notify
        ui.notify = lambda message, **kw: notes.append(message) or real(message, **kw)  # type: ignore[method-assign]
        async with ui.run_test(size=(120, 40)) as pilot:
            await ui.workers.wait_for_complete()
            await pilot.pause()
            first = ui.claim.id
            await pilot.press("2")
            assert ui.claim.id == first and ui.verdicts[first] == ""
            await pilot.press("j")
            assert ui.claim.id != first

    asyncio.run(review())
    assert any("is damaged" in n and "nothing will be saved" in n for n in notes), notes
    assert any(n.startswith("Could not save the verdict") and "is damaged" in n for n in notes)
    assert _digest(db) == before
