"""Tests of a representative slice of bench/fault_sweep.py, one case per class, in process:
one error line, the exit code, no traceback, nothing written by a command that fails."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from reviewdata import MINI_EVIDENCE
from typer.testing import CliRunner

from workbench.cli import app
from workbench.store import connection as store_connection

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
SEED = FIXTURES / "sotchi-poutine-pompeo.fr.txt"
PAGE = 4096


def _run(*args: str, home: Path | None = None):
    # Each command is a process of its own: the integrity check's per-process cache starts empty.
    store_connection._INTEGRITY.clear()
    env = {"WORKBENCH_HOME": str(home)} if home is not None else None
    return runner.invoke(app, list(args), env=env)


def _jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _rows(db: Path) -> dict[str, int]:
    """Rows of every table, read through a connection that cannot write."""
    conn = sqlite3.connect(db.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}
    finally:
        conn.close()


def _top(stdout: str) -> dict[int, list[int]]:
    return {r["claim_id"]: [m["passage_id"] for m in r["matches"][:3]] for r in _jsonl(stdout)}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[int, list[int]]]:
    """A matched workspace every case copies, and the match's top results."""
    folder = tmp_path_factory.mktemp("built")
    evidence = folder / "evidence.jsonl"
    evidence.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in MINI_EVIDENCE), encoding="utf-8"
    )
    ws = folder / "ws"
    assert _run("ingest", str(evidence), "--model", "hash:64", home=ws).exit_code == 0
    matched = _run("match", str(SEED), "--top-k", "3", home=ws)
    assert matched.exit_code == 0, matched.output
    return ws, _top(matched.stdout)


@dataclass
class Case:
    """`argv(work)` run on a fresh copy of the built workspace after `setup(ws, work)`."""

    argv: Callable[[Path], list[str]]
    code: int
    phrases: tuple[str, ...] = ()
    setup: Callable[[Path, Path], None] | None = None
    db_bytes: bool = False  # a damaged database: its bytes, not its rows, must stay


def _write(name: str, data: bytes) -> Callable[[Path, Path], None]:
    return lambda ws, work: (work / name).write_bytes(data)


def _smash_claims(ws: Path, work: Path) -> None:
    db = ws / "workbench.db"
    with sqlite3.connect(db) as conn:
        pages = [
            r[0]
            for r in conn.execute("SELECT rootpage FROM sqlite_schema WHERE tbl_name = 'claims'")
        ]
    conn.close()
    with open(db, "r+b") as handle:
        for page in pages:
            handle.seek((page - 1) * PAGE)
            handle.write(os.urandom(PAGE))


def _sparse(ws: Path, work: Path) -> None:
    with open(work / "huge.txt", "wb") as handle:
        handle.truncate(50_000_000)  # 50 MB on paper, nothing on disk: refused by its size


GOOD = json.dumps({"id": "x-1", "text": "Poutine a reçu Pompeo à Sotchi."}, ensure_ascii=False)
MIXED = (SEED.read_text(encoding="utf-8") + "\n").encode() + "Déjà été.\n".encode("latin-1")
CLAIM = json.dumps({"text": "Poutine a rencontré Pompeo à Sotchi."}, ensure_ascii=False)

CASES = {
    # inputs
    "evidence-bad-json-line-3": Case(
        lambda w: ["ingest", str(w / "bad.jsonl")],
        3,
        ("bad.jsonl:3:", "not valid JSON"),
        _write("bad.jsonl", f'{GOOD}\n{{"id": "x-2", "text": "t"}}\n{{not json\n'.encode()),
    ),
    "article-mixed-encodings": Case(
        lambda w: ["match", str(w / "a.txt")], 3, ("mixes encodings",), _write("a.txt", MIXED)
    ),
    "claims-start-after-end": Case(
        lambda w: ["match", str(w / "c.jsonl")],
        3,
        ("c.jsonl:2:", "'end' (1) is before field 'start' (9)"),
        _write("c.jsonl", (CLAIM + '\n{"text": "x", "start": 9, "end": 1}\n').encode()),
    ),
    "article-50-mb": Case(
        lambda w: ["match", str(w / "huge.txt")], 3, ("is 50 MB, over the", "limit"), _sparse
    ),
    # workspace
    "another-models-workspace": Case(
        lambda w: ["match", str(SEED), "--model", "hash:32"], 5, ("'hash:64'", "'hash:32'")
    ),
    "damaged-claims-table": Case(
        lambda w: ["claims"], 4, ("is damaged", "workbench doctor"), _smash_claims, db_bytes=True
    ),
    # commands
    "verdict-cites-a-missing-passage": Case(
        lambda w: ["verdict", "1", "true", "--cite", "99999"], 3, ("99999",)
    ),
    "match-good-claims-then-missing-article": Case(
        lambda w: ["match", str(w / "good.jsonl"), str(w / "missing.txt")],
        3,
        ("missing.txt: no such file",),
        _write("good.jsonl", (CLAIM + "\n").encode()),
    ),
    "export-into-a-missing-folder": Case(
        lambda w: ["export", "--format", "csv", "-o", str(w / "no" / "dir" / "x.csv")],
        1,
        ("cannot write", "x.csv"),
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_fault_case_is_one_line_and_writes_nothing(
    name: str, built: tuple[Path, dict], tmp_path: Path
) -> None:
    case = CASES[name]
    ws = tmp_path / "case" / "ws"
    shutil.copytree(built[0], ws)
    work = ws.parent
    if case.setup is not None:
        case.setup(ws, work)
    db = ws / "workbench.db"
    before = db.read_bytes() if case.db_bytes else _rows(db)
    started = time.perf_counter()
    result = _run(*case.argv(work), home=ws)
    assert time.perf_counter() - started < 5.0
    assert result.exit_code == case.code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("workbench: error: "), lines
    for phrase in case.phrases:
        assert phrase in lines[0], lines[0]
    assert (db.read_bytes() if case.db_bytes else _rows(db)) == before
    assert not (work / "no").exists()


def test_verdict_with_a_missing_citation_keeps_the_verdict(
    built: tuple[Path, dict], tmp_path: Path
) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(built[0], ws)
    assert _run("verdict", "1", "false", home=ws).exit_code == 0
    assert _run("verdict", "1", "true", "--cite", "99999", home=ws).exit_code == 3
    rows = sqlite3.connect(ws / "workbench.db").execute(
        "SELECT verdict FROM verdicts WHERE claim_id = 1"
    )
    assert rows.fetchall() == [("false",)]


def test_damaged_index_heals_with_one_note_and_the_same_results(
    built: tuple[Path, dict], tmp_path: Path
) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(built[0], ws)
    (faiss_file,) = (ws / "index").glob("dense-*.faiss")
    with open(faiss_file, "r+b") as handle:
        handle.truncate(faiss_file.stat().st_size // 2)
    assert _run("doctor", home=ws).exit_code == 4
    result = _run("match", str(SEED), "--top-k", "3", home=ws)
    assert result.exit_code == 0, result.output
    assert _top(result.stdout) == built[1]
    # One line about the rebuild; the NLI note is said once per process, by the first match,
    # and the count of low check-worthiness claims by every match of an article that has some.
    notes = [
        line
        for line in result.stderr.splitlines()
        if "no NLI model" not in line and "under the check-worthiness threshold" not in line
    ]
    assert len(notes) == 1 and "dense-hash_64.faiss is damaged" in notes[0], notes
    assert "rebuilt from the 6 stored vectors" in notes[0]
    assert "Traceback" not in result.output
    assert _run("doctor", home=ws).exit_code == 0


def test_killed_ingest_then_ingest_again_is_healthy(tmp_path: Path) -> None:
    """SIGKILL while ingesting (a real process), then ingest again: doctor finds the workspace
    healthy and passages, vectors and the index agree."""
    evidence = tmp_path / "evidence.jsonl"
    words = ["the", "minister", "said", "spending", "on", "schools", "rose", "in", "the", "budget"]
    rows = [
        {"id": f"k-{i}", "text": f"Report {i}: " + " ".join(words[(i + j) % 10] for j in range(60))}
        for i in range(300)
    ]
    evidence.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    ws = tmp_path / "ws"
    env = {**os.environ, "WORKBENCH_HOME": str(ws)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "workbench", "ingest", str(evidence), "--model", "hash:64"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    again = _run("ingest", str(evidence), "--model", "hash:64", home=ws)
    assert again.exit_code == 0, again.output
    doctor = _run("doctor", home=ws)
    assert doctor.exit_code == 0, doctor.output
    conn = sqlite3.connect(ws / "workbench.db")
    passages = conn.execute("SELECT COUNT(*) FROM passages").fetchone()[0]
    vectors = conn.execute("SELECT COUNT(*) FROM vectors").fetchone()[0]
    documents = conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
    conn.close()
    manifest = json.loads((ws / "index" / "manifest.json").read_text(encoding="utf-8"))
    assert documents == 300 and passages == vectors == manifest["passages"] > 0
