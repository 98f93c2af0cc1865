"""Tests of workspace health: damaged indexes found and rebuilt, `doctor`, `backup`."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from reviewdata import MINI_EVIDENCE
from typer.testing import CliRunner

from workbench.cli import app
from workbench.errors import ExitCode, WorkspaceError
from workbench.index import store
from workbench.workspace import Workspace

runner = CliRunner()
DENSE = "dense-hash_64.faiss"
CLAIM = '{"text": "Putin and Trump met in Osaka", "lang": "en"}\n'


def _run(*args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input)


def _jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def home() -> Path:
    return Path(os.environ["WORKBENCH_HOME"])


@pytest.fixture
def ingested(tmp_path: Path, home: Path) -> Path:
    # The six mini passages among 150 others, in the middle of the index's rows.
    filler = [
        {"id": f"filler-{i}", "text": f"Filler passage {i} on the weather in town {i % 13}."}
        for i in range(150)
    ]
    records = filler[:75] + MINI_EVIDENCE + filler[75:]
    path = tmp_path / "evidence.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    result = _run("ingest", str(path), "--model", "hash:64")
    assert result.exit_code == 0, result.output
    return home


def _top(result) -> list[tuple[str, float, dict]]:
    """(evidence id, score, signals: the dense and lexical scores and ranks) of each match."""
    assert result.exit_code == 0, result.output
    (record,) = _jsonl(result.stdout)
    return [(m["evidence_id"], m["score"], m["signals"]) for m in record["matches"]]


def _negate_around(path: Path, blob: bytes, size: int = 4096) -> None:
    """Overwrite `size` bytes of `path` centred on `blob` (a stored vector) with their floats
    negated: 4 KB of damage in the middle of the index, across the best passage's vector."""
    data = path.read_bytes()
    at = data.find(blob)
    assert at > 0
    start = max(0, at + len(blob) // 2 - size // 2) // 4 * 4
    with open(path, "r+b") as handle:
        handle.seek(start)
        floats = np.frombuffer(data[start : start + size], dtype=np.float32)
        handle.write((-floats).tobytes())


def _vector_of(home: Path, evidence_id: str) -> bytes:
    conn = sqlite3.connect(home / "workbench.db")
    try:
        return conn.execute(
            "SELECT v.vec FROM vectors v JOIN passages p ON p.id = v.passage_id "
            "JOIN documents d ON d.id = p.document_id WHERE d.doc_key = ?",
            (evidence_id,),
        ).fetchone()[0]
    finally:
        conn.close()


# ----- damaged indexes found on load ----------------------------------------------------------


def test_overwritten_middle_of_the_dense_index_is_rebuilt_not_silently_used(
    ingested: Path,
) -> None:
    before = _top(_run("match", "-", input=CLAIM))
    assert before[0][0] == "en-osaka" and before[0][2]["hash:64_rank"] == 1
    path = ingested / "index" / DENSE
    _negate_around(path, _vector_of(ingested, "en-osaka"))
    after = _run("match", "-", input=CLAIM)
    assert _top(after) == before  # the best passage is still first
    passages = Workspace.open(ingested).count("passages")
    line = (
        f"workbench: index/{DENSE} is damaged (checksum mismatch); rebuilt from the {passages} "
        "stored vectors"
    )
    assert line in after.stderr.splitlines()  # a line of its own, prefixed like every note
    manifest = json.loads((ingested / "index" / "manifest.json").read_text())
    assert manifest["files"][DENSE]["sha256"] == _sha256(path)
    again = _run("match", "-", input=CLAIM)
    assert "damaged" not in again.stderr  # repaired once, for good


@pytest.mark.parametrize(
    ("name", "damage", "reason"),
    [
        (DENSE, "truncate", "truncated"),
        ("bm25/data.csc.index.npy", "empty", "truncated: 0 of"),
        ("bridge/vocab.index.json", "delete", "missing"),
        ("bm25/ids.npy", "flip", "checksum mismatch"),
    ],
)
def test_truncated_emptied_or_missing_index_files_are_named_and_rebuilt(
    ingested: Path, name: str, damage: str, reason: str
) -> None:
    before = _top(_run("match", "-", input=CLAIM))
    path = ingested / "index" / name
    size = path.stat().st_size
    if damage == "truncate":
        os.truncate(path, size // 2)
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "delete":
        path.unlink()
    else:
        data = bytearray(path.read_bytes())
        data[-3] ^= 0xFF  # one passage id changed, size kept
        path.write_bytes(bytes(data))
    # info no longer says all is well, cheaply and without repairing anything.
    info = _run("info")
    assert info.exit_code == 0, info.output
    health = _jsonl(info.stdout)[0]["index_health"]
    assert health["status"] == "damaged"
    assert any(p.startswith(f"index/{name} is damaged ({reason}") for p in health["problems"])
    assert f"index/{name} is damaged" in info.stderr
    result = _run("match", "-", input=CLAIM)
    assert _top(result) == before
    assert f"index/{name} is damaged ({reason}" in result.stderr
    assert "rebuilt from the 156 stored" in result.stderr
    assert "Traceback" not in result.output
    assert _jsonl(_run("info").stdout)[0]["index_health"] == {"status": "ok", "problems": []}


def test_a_loaded_index_whose_count_disagrees_is_rebuilt(
    ingested: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from workbench.index import dense

    # A file that matches its recorded checksum but not the database (an index of another
    # workspace copied in with its records) is caught by the count check after loading.
    ws = Workspace.open(ingested)
    ids, matrix = ws.load_vectors("hash:64", 64)
    path = ws.index_dir / DENSE
    dense.save_index(dense.build_index(ids[:-1], matrix[:-1], "flat"), path)
    manifest = ws.read_manifest()
    manifest["files"][DENSE] = store.file_record(path)
    ws.write_manifest(manifest)
    assert store.verify(ws, manifest, full=True) == []
    indexes = store.load(ws, ws.get_meta("models"))
    assert indexes.dense["hash:64"].ntotal == len(ids)
    err = capsys.readouterr().err
    assert f"index/{DENSE} is damaged (holds {len(ids) - 1} vectors for {len(ids)} passages)" in err


def test_large_files_are_hashed_whole_on_load_only_when_written_since(
    ingested: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every file counts as large: the load-time check reads sizes and edges, and hashes a file
    # whole only when its mtime moved (the policy in store.py).
    monkeypatch.setattr(store, "LOAD_HASH_LIMIT", 0)
    monkeypatch.setattr(store, "EDGE_BYTES", 1024)  # a 40 KB file with a middle
    ws = Workspace.open(ingested)
    manifest = ws.read_manifest()
    for name in manifest["files"]:  # the records as this policy writes them
        manifest["files"][name] = store.file_record(ws.index_dir / name)
    path = ws.index_dir / DENSE
    stat = path.stat()
    assert store.verify(ws, manifest) == []
    hashed: list[str] = []
    real = store.hashlib.file_digest
    monkeypatch.setattr(
        store.hashlib, "file_digest", lambda f, h: hashed.append(f.name) or real(f, h)
    )
    assert store.verify(ws, manifest) == [] and hashed == []  # nothing read whole
    _negate_around(path, _vector_of(ingested, "en-osaka"))
    assert [d.reason for d in store.verify(ws, manifest)] == ["checksum mismatch"]
    assert hashed == [str(path)]
    # The same damage with the mtime put back (silent corruption) passes the load-time check:
    # the whole-file checksum (doctor, or after a crash) is what finds it.
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert store.verify(ws, manifest) == []
    assert [d.path for d in store.verify(ws, manifest, full=True)] == [DENSE]
    # Damage to a header is caught from the edges, mtime or not.
    with open(path, "r+b") as handle:
        handle.write(b"\0" * 16)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert [d.reason for d in store.verify(ws, manifest)] == ["checksum mismatch"]


def test_a_copied_workspace_is_hashed_once_then_trusted(
    ingested: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    monkeypatch.setattr(store, "LOAD_HASH_LIMIT", 0)
    copy = tmp_path / "copy"
    shutil.copytree(ingested, copy, copy_function=shutil.copy)  # new mtimes, same bytes
    ws = Workspace.open(copy)
    store.ensure_fresh(ws, ws.get_meta("models"))  # intact: records the new mtimes
    manifest = ws.read_manifest()
    assert all(
        r["mtime_ns"] == (ws.index_dir / n).stat().st_mtime_ns for n, r in manifest["files"].items()
    )
    hashed: list[str] = []
    real = store.hashlib.file_digest
    monkeypatch.setattr(
        store.hashlib, "file_digest", lambda f, h: hashed.append(f.name) or real(f, h)
    )
    assert store.verify(ws, manifest) == [] and hashed == []


def _read_only(monkeypatch: pytest.MonkeyPatch, root: Path) -> None:
    """Make the workspace's index folder read-only: chmod for ordinary users; as root, whom
    permissions do not stop, the check `os.access` makes is answered as for them."""
    index_dir = root / "index"
    index_dir.chmod(0o555)
    real = os.access

    def access(path, mode, *args, **kwargs):
        if mode & os.W_OK and Path(path).resolve().is_relative_to(root.resolve()):
            return False
        return real(path, mode, *args, **kwargs)

    monkeypatch.setattr(os, "access", access)


def test_damage_in_a_read_only_workspace_fails_in_one_line(
    ingested: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _top(_run("match", "-", input=CLAIM))
    with monkeypatch.context() as patch:
        _read_only(patch, ingested)
        # Intact and read-only: loading reads (the review UI's search does), never writes.
        listing = sorted((p, p.stat().st_mtime_ns) for p in (ingested / "index").rglob("*"))
        ws = Workspace.open(ingested)
        assert store.load(ws, ws.get_meta("models")).dense["hash:64"].ntotal == 156
        after = sorted((p, p.stat().st_mtime_ns) for p in (ingested / "index").rglob("*"))
        assert after == listing
        path = ingested / "index" / DENSE
        os.truncate(path, 100)
        with pytest.raises(WorkspaceError) as caught:
            store.load(ws, ws.get_meta("models"))
        message = caught.value.message
        assert caught.value.exit_code == ExitCode.WORKSPACE and "\n" not in message
        assert message.startswith(f"index/{DENSE} is damaged (truncated: 100 of ")
        assert "read-only" in message and "doctor --repair" in message
        assert path.stat().st_size == 100  # nothing written
        # info says so (exit 0: it read what it was asked); doctor names it, exit 4.
        info = _run("info")
        assert info.exit_code == 0
        assert _jsonl(info.stdout)[0]["index_health"]["status"] == "damaged"
        repair = _run("doctor", "--repair")
        assert repair.exit_code == ExitCode.WORKSPACE
        (found,) = [r for r in _jsonl(repair.stdout) if r["status"] != "ok"]
        assert found["detail"].startswith(f"index/{DENSE} is damaged") and found["status"] == (
            "problem"
        )
        assert "not rebuilt" in found["fix"] and "read-only" in found["fix"]
        assert path.stat().st_size == 100
        # A stale index in a read-only workspace is one line too.
        ws.close()
        conn = sqlite3.connect(ingested / "workbench.db")
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'generation'")
        conn.commit()
        conn.close()
        ws = Workspace.open(ingested)
        with pytest.raises(
            WorkspaceError, match=r"out of date with the database, and .* read-only"
        ):
            store.load(ws, ws.get_meta("models"))
        ws.close()
    (ingested / "index").chmod(0o755)
    assert _top(_run("match", "-", input=CLAIM)) == before  # writable again: rebuilt


def test_a_failed_write_during_repair_is_the_read_only_line(
    ingested: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # os.access can say yes on a read-only file system mounted so; the write itself then fails.
    from workbench.index import dense

    def refuse(index, path):
        raise OSError(errno.EROFS, "Read-only file system", str(path))

    monkeypatch.setattr(dense, "save_index", refuse)
    os.truncate(ingested / "index" / DENSE, 10)
    result = _run("match", "-", input=CLAIM)
    assert result.exit_code == ExitCode.WORKSPACE
    assert "is damaged (truncated" in result.stderr and "read-only" in result.stderr
    assert "Traceback" not in result.output


# ----- doctor ---------------------------------------------------------------------------------


def test_doctor_on_a_healthy_workspace(ingested: Path) -> None:
    _top(_run("match", "-", input=CLAIM))
    result = _run("doctor")
    assert result.exit_code == 0, result.output
    records = _jsonl(result.stdout)
    assert {r["check"] for r in records} >= {
        "database", "schema", "vectors", "matches", "claims", "verdicts", "index",
    }  # fmt: skip
    assert all(r["status"] == "ok" for r in records)
    (index,) = [r for r in records if r["check"] == "index"]
    assert "files match their checksums" in index["detail"] and "156 passages" in index["detail"]
    assert "healthy" in result.stderr


def test_doctor_finds_counts_that_disagree_and_rebuilds_only_the_index(ingested: Path) -> None:
    (record,) = _jsonl(_run("match", "-", input=CLAIM).stdout)
    passage = record["matches"][0]["passage_id"]
    conn = sqlite3.connect(ingested / "workbench.db")  # foreign keys off: what damage does
    conn.execute("DELETE FROM vectors WHERE passage_id = ?", (passage,))
    conn.execute("DELETE FROM passages WHERE id = ?", (passage,))
    conn.execute(
        "INSERT INTO articles(id, name, content_hash, added_at) VALUES (50, 'a', 'h', 't')"
    )
    conn.execute(
        "INSERT INTO claims(article_id, text, start, end, created_at) VALUES (50, 'c', 0, 1, 't')"
    )
    conn.execute("DELETE FROM articles WHERE id = 50")
    conn.commit()
    conn.close()
    result = _run("doctor")
    assert result.exit_code == ExitCode.WORKSPACE
    problems = {r["check"]: r for r in _jsonl(result.stdout) if r["status"] == "problem"}
    assert set(problems) == {"matches", "claims", "index"}
    assert problems["matches"]["detail"].startswith("1 of ")
    assert "missing passage" in problems["matches"]["detail"]
    assert "missing article" in problems["claims"]["detail"]
    index = [r["detail"] for r in _jsonl(result.stdout) if r["check"] == "index"]
    assert sorted(index) == [
        "index/bm25/ids.npy is damaged (156 passage ids and 156 documents for the database's "
        "155 passages)",
        "index/bridge/ids.npy is damaged (156 passage ids and 156 documents for the database's "
        "155 passages)",
        f"index/{DENSE} is damaged (holds 156 vectors for 155 passages)",
    ]
    assert "restore" in problems["claims"]["fix"]
    assert "workbench: error:" in result.stderr and "5 problems" in result.stderr
    repaired = _run("doctor", "--repair")
    assert repaired.exit_code == ExitCode.WORKSPACE  # the database's problems remain
    status = {r["check"]: r["status"] for r in _jsonl(repaired.stdout) if r["status"] != "ok"}
    assert status == {"matches": "problem", "claims": "problem", "index": "repaired"}
    assert "rebuilt from the 155 stored vectors" in repaired.stderr
    assert repaired.stderr.count("rebuilt from the 155 stored passages") == 2
    ws = Workspace.open(ingested)
    assert store.full_check(ws, ws.read_manifest()) == []
    ws.close()
    assert "2 problems" in repaired.stderr


def _checkpointed(home: Path) -> Path:
    db = home / "workbench.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return db


def test_doctor_names_database_damage_and_never_writes_the_database(ingested: Path) -> None:
    db = _checkpointed(ingested)
    size = db.stat().st_size
    with open(db, "r+b") as handle:  # garbage over a page in the middle of the file
        handle.seek(size // 2 // 4096 * 4096)
        handle.write(b"\xa5" * 4096)
    digest = _sha256(db)
    for args in (("doctor",), ("doctor", "--repair")):
        result = _run(*args)
        assert result.exit_code == ExitCode.WORKSPACE, result.output
        assert "Traceback" not in result.output
        (database,) = [r for r in _jsonl(result.stdout) if r["check"] == "database"]
        assert database["status"] == "problem" and "restore" in database["fix"]
        assert _sha256(db) == digest


def test_doctor_repairs_a_missing_manifest(ingested: Path) -> None:
    (ingested / "index" / "manifest.json").unlink()
    result = _run("doctor")
    assert result.exit_code == ExitCode.WORKSPACE
    assert "index/manifest.json is missing" in result.stderr
    assert _run("doctor", "--repair").exit_code == 0
    assert _run("doctor").exit_code == 0


# ----- backup ---------------------------------------------------------------------------------


def test_a_backup_opens_as_a_workspace_and_matches(ingested: Path, tmp_path: Path) -> None:
    (ingested / "config.toml").write_text('[publish]\norganization = "Desk"\n')
    before = _top(_run("match", "-", input=CLAIM))
    dest = tmp_path / "backups" / "monday"
    result = _run("backup", str(dest))
    assert result.exit_code == 0, result.output
    (summary,) = _jsonl(result.stdout)
    assert summary["backup"]["index_files"] == 15 and summary["backup"]["config"] is True
    assert (dest / "config.toml").read_text() == (ingested / "config.toml").read_text()
    assert _run("doctor", "--workspace", str(dest)).exit_code == 0
    claims = _run("claims", "--workspace", str(dest))
    assert _jsonl(claims.stdout) == _jsonl(_run("claims").stdout)
    restored = _run("match", "-", "--workspace", str(dest), input=CLAIM)
    assert _top(restored) == before
    assert "rebuil" not in restored.stderr  # its indexes were whole and current
    assert not list(dest.parent.glob(".*tmp"))


def test_backup_refuses_a_non_empty_dest_and_never_leaves_half_a_backup(
    ingested: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from workbench import health

    dest = tmp_path / "taken"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine")
    result = _run("backup", str(dest))
    assert result.exit_code != 0 and "exists and is not empty" in result.stderr
    assert [p.name for p in dest.iterdir()] == ["notes.txt"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert _run("backup", str(empty)).exit_code == 0 and (empty / "workbench.db").exists()
    # A disk that fills up half-way: nothing at DEST, no temporary folder left.
    calls = []
    real = shutil.copy2

    def full_disk(src, dst, **kwargs):
        calls.append(src)
        if len(calls) == 5:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(src, dst, **kwargs)

    monkeypatch.setattr(health.shutil, "copy2", full_disk)
    failed = tmp_path / "failed"
    result = _run("backup", str(failed))
    assert result.exit_code == ExitCode.FAILURE and len(calls) == 5
    assert "No space left on device" in result.stderr and "Traceback" not in result.output
    assert not failed.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_a_backup_is_a_committed_snapshot_while_others_write(
    ingested: Path, tmp_path: Path
) -> None:
    _top(_run("match", "-", input=CLAIM))
    writer = sqlite3.connect(ingested / "workbench.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # a reviewer's verdict, not yet committed
    writer.execute("INSERT INTO verdicts(claim_id, verdict, updated_at) VALUES (1, 'false', 't')")
    result = _run("backup", str(tmp_path / "b"))
    writer.execute("COMMIT")
    writer.close()
    assert result.exit_code == 0, result.output
    copy = sqlite3.connect(tmp_path / "b" / "workbench.db")
    assert copy.execute("SELECT COUNT(*) FROM verdicts").fetchone()[0] == 0
    assert copy.execute("SELECT COUNT(*) FROM claims").fetchone()[0] == 1
    copy.close()


def test_a_damaged_index_is_left_out_of_the_backup_and_rebuilt_on_restore(
    ingested: Path, tmp_path: Path
) -> None:
    before = _top(_run("match", "-", input=CLAIM))
    (ingested / "index" / "bm25" / "ids.npy").write_bytes(b"")
    dest = tmp_path / "b"
    result = _run("backup", str(dest))
    assert result.exit_code == 0, result.output
    assert "index not backed up (index/bm25/ids.npy: truncated" in result.stderr
    assert not (dest / "index" / "manifest.json").exists()
    restored = _run("match", "-", "--workspace", str(dest), input=CLAIM)
    assert _top(restored) == before and "rebuilding from stored vectors" in restored.stderr


def test_a_killed_writer_makes_the_next_load_hash_every_file(
    ingested: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import subprocess
    import sys

    monkeypatch.setattr(store, "LOAD_HASH_LIMIT", 0)
    monkeypatch.setattr(store, "EDGE_BYTES", 1024)
    ws = Workspace.open(ingested)
    manifest = ws.read_manifest()
    for name in manifest["files"]:
        manifest["files"][name] = store.file_record(ws.index_dir / name)
    ws.write_manifest(manifest)
    path = ws.index_dir / DENSE
    stat = path.stat()
    _negate_around(path, _vector_of(ingested, "en-osaka"))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # silent: size and mtime kept
    assert store.health(ws)["status"] == "ok"
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    leftover = ws.index_dir / f".bm25.{dead}.tmp"  # a repair killed half-way
    leftover.mkdir()
    assert store.crash_suspect(ws.index_dir)
    assert store.health(ws)["problems"] == [f"index/{DENSE} is damaged (checksum mismatch)"]
    store.load(ws, ws.get_meta("models"))
    assert f"index/{DENSE} is damaged (checksum mismatch); rebuilt" in capsys.readouterr().err
    assert not leftover.exists() and not store.crash_suspect(ws.index_dir)
    assert store.verify(ws, ws.read_manifest(), full=True) == []


@pytest.mark.parametrize(("content", "detail"), [(b"", "is empty (0 bytes)"), (b"x" * 5000, "")])
def test_doctor_on_an_empty_or_foreign_database_file(
    home: Path, content: bytes, detail: str
) -> None:
    home.mkdir()
    (home / "workbench.db").write_bytes(content)
    result = _run("doctor", "--repair")
    assert result.exit_code == ExitCode.WORKSPACE and "Traceback" not in result.output
    (record,) = _jsonl(result.stdout)
    assert record["check"] == "database" and record["status"] == "problem"
    assert detail in record["detail"] and "restore" in record["fix"]
    assert (home / "workbench.db").read_bytes() == content
