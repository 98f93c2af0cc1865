"""Provides the fault sweep: every fault case run through the installed `workbench` command."""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

USAGE = """
Each fault case (bad inputs, damaged workspaces, wrong command arguments, killed ingests)
runs as a subprocess of the real entry point (.venv/bin/workbench) on a scratch workspace
in a temporary folder (model hash:64, evidence/sample-evidence.jsonl, the seed article
matched once). A case is judged:

  ok             the expected exit code, one 'workbench: error:' line, nothing else
  TRACEBACK      a Python traceback on stderr or stdout
  MULTI-LINE     more than one error line, or stderr lines that are not the workbench's
  SILENT         exit 0 where an error was due, the wrong exit code, an error line that does
                 not say what it must (e.g. the line number), or a wrong result
  PARTIAL WRITE  a failing command changed a table's row count, or a damaged database's bytes
  REFUSED        a command that should have worked (e.g. a Latin-1 article) failed

Exit status 1 when any case is not ok.

    python bench/fault_sweep.py [--only SUBSTRING] [--keep] [--workbench PATH]
"""

PAGE = 4096
ERROR = "workbench: error:"
SEED = ROOT / "seeds" / "sotchi-poutine-pompeo.fr.txt"
EVIDENCE = ROOT / "evidence" / "sample-evidence.jsonl"
# Mojibake a wrong decoding leaves: UTF-8 read as cp1252, or replacement characters.
MOJIBAKE = ("Ã", "â€", "\ufffd", "Â")
# Lines with accents and cp1252-only characters (curly quotes, œ, €) for encoding cases.
ACCENTED = (
    "Selon le ministère, le budget de l’État a augmenté de 12 millions d’euros en 2019 "
    "(12 M€), « un cœur de réforme », a déclaré le président Emmanuel Macron mardi à Paris."
)


@dataclass
class Run:
    """One command's outcome."""

    argv: list[str]
    code: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]

    def records(self) -> list[dict]:
        out = []
        for line in self.stdout.splitlines():
            if line.strip():
                with contextlib.suppress(json.JSONDecodeError):
                    out.append(json.loads(line))
        return out


@dataclass
class Case:
    """A fault case: `setup(ws, tmp)` damages a fresh copy of the workspace, `argv(ws, tmp)`
    is the command; `expect` its exit code (None: any non-zero). `check(sweep, ws, run)`
    returns what is wrong with a result, else None."""

    name: str
    klass: str
    argv: Callable[[Path, Path], list[str]]
    expect: int | None = 3
    setup: Callable[[Path, Path], None] | None = None
    mention: tuple[str, ...] = ()
    check: Callable[[Sweep, Path, Run], str | None] | None = None
    fresh: bool = False  # an empty workspace folder instead of a copy of the built one
    db_bytes: bool = False  # the database must keep its bytes (damaged: never written)
    notes: int = 0  # stderr lines a successful command may print beyond the baseline's
    max_seconds: float | None = None
    # exit 0 is fine too, when `check` finds the output right (a read that missed the damage)
    either: bool = False
    skip: str = ""
    user: list[str] = field(default_factory=list)  # command prefix (setpriv)


@dataclass
class Outcome:
    case: Case
    run: Run | None
    verdict: str
    detail: str = ""


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "-"


def row_counts(db: Path) -> dict[str, int] | None:
    """Rows of every table, the database opened read-only; None when it cannot be read."""
    if not db.is_file() or db.stat().st_size == 0:
        return None
    try:
        conn = sqlite3.connect(db.resolve().as_uri() + "?mode=ro", uri=True)
        try:
            tables = [
                r[0]
                for r in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' "
                    "AND name NOT LIKE 'sqlite_%'"
                )
            ]
            return {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}
        finally:
            conn.close()
    except sqlite3.Error:
        return None


def query(db: Path, sql: str, *params: object) -> list[tuple]:
    conn = sqlite3.connect(db.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


class Sweep:
    """The scratch folder, the built workspace and how commands run."""

    def __init__(self, tmp: Path, workbench: str) -> None:
        self.tmp = tmp
        self.workbench = workbench
        self.built = tmp / "built"
        self.baseline: dict[int, list[int]] = {}
        self.baseline_lines = 0
        self.outputs: dict[str, str] = {}
        self.notes: dict[Path, str] = {}  # what a setup found, shown in the detail column
        self.seq = 0

    def env(self, ws: Path) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
        env.update(WORKBENCH_HOME=str(ws), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
        env["HOME"] = str(self.tmp)  # no user config file joins in
        return env

    def run(self, ws: Path, argv: list[str], user: list[str] | None = None) -> Run:
        started = time.perf_counter()
        try:
            done = subprocess.run(
                [*(user or []), self.workbench, *argv],
                capture_output=True,
                text=True,
                errors="replace",
                env=self.env(ws),
                cwd=self.tmp,
                timeout=300,
                stdin=subprocess.DEVNULL,
            )
            code, out, err = done.returncode, done.stdout, done.stderr
        except subprocess.TimeoutExpired as exc:
            code, out, err = -9, str(exc.stdout or ""), f"timed out after 300 s\n{exc.stderr}"
        return Run(argv, code, out, err, time.perf_counter() - started)

    def build(self) -> None:
        """The workspace every case copies: evidence ingested, the seed article matched."""
        done = self.run(self.built, ["ingest", str(EVIDENCE), "--model", "hash:64"])
        assert done.code == 0, done.stderr
        matched = self.run(self.built, ["match", str(SEED), "--top-k", "3"])
        assert matched.code == 0, matched.stderr
        self.baseline = top_results(matched)
        self.baseline_lines = len(matched.lines)
        self.outputs = {c: self.run(self.built, [c]).stdout for c in ("info", "claims", "export")}
        assert self.baseline and all(self.outputs.values())

    def workspace(self, case: Case) -> Path:
        self.seq += 1
        ws = self.tmp / f"case{self.seq:03d}" / "ws"
        ws.parent.mkdir(parents=True)
        if not case.fresh:
            shutil.copytree(self.built, ws)
        return ws


def top_results(run: Run, k: int = 3) -> dict[int, list[int]]:
    return {
        r["claim_id"]: [m["passage_id"] for m in r.get("matches", [])[:k]]
        for r in run.records()
        if "claim_id" in r
    }


def judge(sweep: Sweep, case: Case) -> Outcome:
    if case.skip:
        return Outcome(case, None, "skip", case.skip)
    ws = sweep.workspace(case)
    work = ws.parent
    if case.setup is not None:
        case.setup(ws, work)
    db = ws / "workbench.db"
    counts, digest = row_counts(db), sha256(db)
    run = sweep.run(ws, case.argv(ws, work), case.user)
    everything = run.stdout + run.stderr
    if "Traceback (most recent call last)" in everything:
        return Outcome(case, run, "TRACEBACK", _last(run.stderr))
    if run.code == -9:
        return Outcome(case, run, "SILENT", "timed out")
    if case.max_seconds is not None and run.seconds > case.max_seconds:
        return Outcome(case, run, "SILENT", f"took {run.seconds:.1f} s > {case.max_seconds} s")
    if case.expect == 0:
        if run.code != 0:
            return Outcome(case, run, "REFUSED", _last(run.stderr))
        if len(run.lines) > sweep.baseline_lines + case.notes and run.argv[0] != "ingest":
            return Outcome(case, run, "MULTI-LINE", " | ".join(run.lines))
    elif case.either and run.code == 0:
        problem = case.check(sweep, ws, run) if case.check else "no check of the output"
        if problem:
            return Outcome(case, run, "SILENT", problem)
        if sha256(db) != digest:
            return Outcome(case, run, "PARTIAL WRITE", "the database's bytes changed")
        return Outcome(case, run, "ok", "exit 0, output identical to the undamaged workspace's")
    else:
        if run.code == 0:
            return Outcome(case, run, "SILENT", "exit 0 where an error was due")
        if case.expect is not None and run.code != case.expect:
            return Outcome(case, run, "SILENT", f"exit {run.code}, expected {case.expect}")
        errors = [line for line in run.lines if line.startswith(ERROR)]
        foreign = [line for line in run.lines if not line.startswith("workbench:")]
        if len(errors) != 1 or foreign:
            return Outcome(case, run, "MULTI-LINE", " | ".join(run.lines)[:300])
        for phrase in case.mention:
            if phrase not in errors[0]:
                return Outcome(case, run, "SILENT", f"error line lacks {phrase!r}")
        after = row_counts(db)
        if counts is not None and after != counts:
            changed = {t: (counts.get(t), (after or {}).get(t)) for t in counts}
            changed = {t: v for t, v in changed.items() if v[0] != v[1]}
            return Outcome(case, run, "PARTIAL WRITE", f"rows {changed}")
        if case.db_bytes and sha256(db) != digest:
            return Outcome(case, run, "PARTIAL WRITE", "the database's bytes changed")
    if case.check is not None:
        problem = case.check(sweep, ws, run)
        if problem:
            return Outcome(case, run, "SILENT", problem)
    return Outcome(case, run, "ok", sweep.notes.get(ws) or _last(run.stderr))


def _last(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1][:160] if lines else ""


# ----- inputs ---------------------------------------------------------------------------------


def seed_text() -> str:
    return SEED.read_text(encoding="utf-8") + "\n" + ACCENTED + "\n"


def article_file(name: str, data: bytes | str) -> Callable[[Path, Path], None]:
    def setup(ws: Path, work: Path) -> None:
        target = work / name
        if isinstance(data, str):
            target.write_text(data, encoding="utf-8")
        else:
            target.write_bytes(data)

    return setup


def decoded_article(text: str) -> Callable[[Sweep, Path, Run], str | None]:
    """The claims are cut from the right text: offsets index `text`, no mojibake."""

    def check(sweep: Sweep, ws: Path, run: Run) -> str | None:
        records = [r for r in run.records() if "claim" in r]
        if not records:
            return "no claims extracted"
        for r in records:
            if any(m in r["claim"] for m in MOJIBAKE):
                return f"mojibake in claim {r['claim_id']}: {r['claim'][:60]!r}"
            if text[r["start"] : r["end"]] != r["claim"]:
                return f"claim {r['claim_id']} offsets do not index the article's text"
        if not any("é" in r["claim"] for r in records):
            return "no accented letter survived"
        return None

    return check


def evidence_records(prefix: str) -> list[dict]:
    return [
        {"id": f"{prefix}-1", "title": "Budget de l’État", "text": ACCENTED, "lang": "fr"},
        {
            "id": f"{prefix}-2",
            "title": "Réunion à Sotchi",
            "text": "Vladimir Poutine a reçu Mike Pompeo à Sotchi le 14 mai 2019 ; "
            "les deux hommes ont évoqué l’élection présidentielle.",
            "lang": "fr",
        },
    ]


def jsonl(records: list) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def decoded_evidence(prefix: str) -> Callable[[Sweep, Path, Run], str | None]:
    def check(sweep: Sweep, ws: Path, run: Run) -> str | None:
        texts = [
            r[0]
            for r in query(
                ws / "workbench.db",
                "SELECT p.text FROM passages p JOIN documents d ON d.id = p.document_id "
                "WHERE d.doc_key LIKE ?",
                f"%{prefix}%",
            )
        ]
        if not texts:
            return "no passage stored for the file's records"
        whole = " ".join(texts)
        if any(m in whole for m in MOJIBAKE):
            return f"mojibake stored: {whole[:60]!r}"
        if "l’État" not in whole or "cœur" not in whole:
            return "accents or cp1252 characters lost"
        return None

    return check


def encoding_cases(sweep: Sweep) -> list[Case]:
    text = seed_text()
    # Mostly UTF-8 with one Latin-1 line: mixed encodings, refused with the line.
    mixed = text.encode("utf-8") + "Une ligne en Latin-1 : déjà été.\n".encode("latin-1")
    records = jsonl(evidence_records("enc"))
    mixed_ev = records.encode("utf-8") + (
        json.dumps({"id": "enc-3", "text": "Été à Sotchi, réunion"}, ensure_ascii=False) + "\n"
    ).encode("latin-1")
    binary = bytes(range(256)) * 64
    latin = text.replace("’", "'").replace("œ", "oe").replace("€", "EUR")
    latin_records = records.replace("’", "'").replace("œ", "oe").replace("€", "EUR")
    cases: list[Case] = []
    for label, data, expect, mention, check_text in (
        ("empty", b"", 3, ("empty",), None),
        ("whitespace-only", b"  \n\t\n   \n", 3, ("empty",), None),
        ("binary", binary, 3, ("binary",), None),
        ("UTF-16 without BOM", text.encode("utf-16-le"), 0, (), text),
        ("latin-1", latin.encode("latin-1"), 0, (), latin),
        ("windows-1252", text.encode("cp1252"), 0, (), text),
        ("mixed encodings", mixed, 3, ("line",), None),
    ):
        cases.append(
            Case(
                f"article: {label}",
                "inputs",
                lambda ws, work: ["match", str(work / "article.txt"), "--top-k", "3"],
                expect=expect,
                setup=article_file("article.txt", data),
                mention=mention,
                check=decoded_article(check_text) if check_text else None,
            )
        )
    for label, data, expect, mention, checked in (
        ("empty", b"", 3, ("empty",), False),
        ("whitespace-only", b"  \n\t\n   \n", 3, ("empty",), False),
        ("binary", binary, 3, ("binary",), False),
        ("UTF-16 without BOM", records.encode("utf-16-le"), 0, (), True),
        ("latin-1", latin_records.encode("latin-1"), 0, (), "latin"),
        ("windows-1252", records.encode("cp1252"), 0, (), True),
        ("mixed encodings", mixed_ev, 3, ("line",), False),
    ):
        check = None
        if checked == "latin":
            check = _latin_evidence
        elif checked:
            check = decoded_evidence("enc")
        cases.append(
            Case(
                f"evidence: {label}",
                "inputs",
                lambda ws, work: ["ingest", str(work / "evidence.jsonl")],
                expect=expect,
                setup=article_file("evidence.jsonl", data),
                mention=mention,
                check=check,
            )
        )
    return cases


def _latin_evidence(sweep: Sweep, ws: Path, run: Run) -> str | None:
    texts = " ".join(
        r[0]
        for r in query(
            ws / "workbench.db",
            "SELECT p.text FROM passages p JOIN documents d ON d.id = p.document_id "
            "WHERE d.doc_key LIKE '%enc%'",
        )
    )
    if not texts or any(m in texts for m in MOJIBAKE) or "l'État" not in texts:
        return f"Latin-1 evidence stored wrongly: {texts[:60]!r}"
    return None


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def big_files(sweep: Sweep) -> None:
    """The 2.1 MB and 50 MB inputs, written once."""
    line = "Le president a parle. " * (2_100_000 // 22 + 1)  # ASCII: 2.1 MB, 2.1 M chars
    (sweep.tmp / "big-2.1mb.txt").write_text(line, encoding="utf-8")
    record = json.dumps({"id": "big", "text": line}, ensure_ascii=False) + "\n"
    (sweep.tmp / "big-2.1mb.jsonl").write_text(record, encoding="utf-8")
    huge = sweep.tmp / "huge-50mb.txt"
    chunk = ("The minister said spending rose by 5 percent in 2019. " * 20 + "\n").encode()
    with open(huge, "wb") as handle:
        for _ in range(50_000_000 // len(chunk) + 1):
            handle.write(chunk)
    huge_line = sweep.tmp / "huge-50mb.jsonl"
    with open(huge_line, "wb") as handle:
        handle.write(b'{"id": "huge", "text": "')
        for _ in range(50_000_000 // len(chunk) + 1):
            handle.write(chunk.replace(b"\n", b" "))
        handle.write(b'"}\n')


def input_cases(sweep: Sweep) -> list[Case]:
    t = sweep.tmp
    good = evidence_records("ok")

    def ev(name: str, body: str, mention: tuple[str, ...]) -> Case:
        return Case(
            f"evidence: {name}",
            "inputs",
            lambda ws, work: ["ingest", str(work / "bad.jsonl")],
            setup=article_file("bad.jsonl", body),
            mention=mention,
        )

    def claims(name: str, record: dict, mention: tuple[str, ...]) -> Case:
        body = jsonl([{"text": "Poutine a rencontré Pompeo à Sotchi le 14 mai 2019."}, record])
        return Case(
            f"claims JSONL: {name}",
            "inputs",
            lambda ws, work: ["match", str(work / "claims.jsonl")],
            setup=article_file("claims.jsonl", body),
            mention=(":2:", *mention),
        )

    port = closed_port()
    html = "<html><head><script>var a = 1;</script></head><body><script>go()</script></body></html>"
    return [
        *encoding_cases(sweep),
        Case(
            "article: a directory",
            "inputs",
            lambda ws, work: ["match", str(work)],
            mention=("folder",),
        ),
        Case(
            "article: missing file",
            "inputs",
            lambda ws, work: ["match", str(work / "missing.txt")],
            mention=("missing.txt",),
        ),
        Case(
            "evidence: missing file",
            "inputs",
            lambda ws, work: ["ingest", str(work / "missing.jsonl")],
            mention=("missing.jsonl",),
        ),
        ev("bad JSON on line 3", jsonl(good) + "{not json\n", (":3:",)),
        ev("a JSON array line", jsonl(good) + "[1, 2]\n", (":3:", "array")),
        ev("a string line", jsonl(good) + '"just a string"\n', (":3:", "string")),
        ev("missing text", jsonl([*good, {"id": "x"}]), (":3:", "text")),
        ev("text not a string", jsonl([*good, {"id": "x", "text": 42}]), (":3:", "text")),
        ev("id an object", jsonl([*good, {"id": {"a": 1}, "text": "t"}]), (":3:", "id")),
        Case(
            "evidence: CSV without header",
            "inputs",
            lambda ws, work: ["ingest", str(work / "bad.csv")],
            setup=article_file("bad.csv", "1,Poutine a reçu Pompeo\n2,Autre texte\n"),
            mention=(":1:", "header"),
        ),
        claims('"start": "abc"', {"text": "Un texte.", "start": "abc"}, ("start",)),
        claims('"score": "high"', {"text": "Un texte.", "score": "high"}, ("score",)),
        claims("start > end", {"text": "Un texte.", "start": 50, "end": 10}, ("end",)),
        Case(
            "article: 2.1 MB one line",
            "inputs",
            lambda ws, work: ["match", str(t / "big-2.1mb.txt")],
            mention=("limit",),
        ),
        Case(
            "evidence: 2.1 MB JSONL record",
            "inputs",
            lambda ws, work: ["ingest", str(t / "big-2.1mb.jsonl")],
            mention=(":1:", "limit"),
        ),
        Case(
            "article: 50 MB file (< 5 s)",
            "inputs",
            lambda ws, work: ["match", str(t / "huge-50mb.txt")],
            mention=("limit",),
            max_seconds=5.0,
        ),
        Case(
            "evidence: 50 MB one-line JSONL (< 5 s)",
            "inputs",
            lambda ws, work: ["ingest", str(t / "huge-50mb.jsonl")],
            mention=("limit",),
            max_seconds=5.0,
        ),
        Case(
            "article: HTML page with only scripts",
            "inputs",
            lambda ws, work: ["match", str(work / "page.html")],
            setup=article_file("page.html", html),
            mention=("page.html",),
        ),
        Case(
            "article: URL on a closed port",
            "inputs",
            lambda ws, work: ["match", f"http://127.0.0.1:{port}/article"],
            mention=(f"127.0.0.1:{port}",),
            max_seconds=30.0,
        ),
    ]


# ----- workspace ------------------------------------------------------------------------------


def overwrite(path: Path, offset: int | None = None, size: int = PAGE) -> None:
    """Garbage over `size` bytes in the middle of `path` (page-aligned), as a bad sector."""
    length = path.stat().st_size
    start = (length // 2) // PAGE * PAGE if offset is None else offset
    start = max(0, min(start, length - size))
    with open(path, "r+b") as handle:
        handle.seek(start)
        handle.write(os.urandom(min(size, length)))


def smash_table(db: Path, table: str) -> None:
    """Garbage over the root pages of `table` and its indexes."""
    conn = sqlite3.connect(db)
    try:
        pages = [
            r[0]
            for r in conn.execute("SELECT rootpage FROM sqlite_schema WHERE tbl_name = ?", (table,))
        ]
    finally:
        conn.close()
    for page in pages:
        overwrite(db, (page - 1) * PAGE)


def truncate(path: Path) -> None:
    with open(path, "r+b") as handle:
        handle.truncate(path.stat().st_size // 2)


def same_top(sweep: Sweep, ws: Path, run: Run) -> str | None:
    got = top_results(run)
    if got != sweep.baseline:
        diff = [c for c in sweep.baseline if got.get(c) != sweep.baseline[c]]
        return f"top results differ from the undamaged workspace's (claims {diff[:5]})"
    return None


def doctor_cycle(sweep: Sweep, ws: Path, run: Run) -> str | None:
    repaired = sweep.run(ws, ["doctor", "--repair"])
    if repaired.code != 0 or "Traceback" in repaired.stderr:
        return f"doctor --repair exit {repaired.code}: {_last(repaired.stderr)}"
    again = sweep.run(ws, ["doctor"])
    if again.code != 0:
        return f"doctor after --repair exit {again.code}: {_last(again.stderr)}"
    matched = sweep.run(ws, ["match", str(SEED), "--top-k", "3"])
    return same_top(sweep, ws, matched)


def index_file(ws: Path, which: str) -> Path:
    if which == "faiss":
        return next((ws / "index").glob("dense-*.faiss"))
    return ws / "index" / "bm25" / "data.csc.index.npy"


def same_output(command: str) -> Callable[[Sweep, Path, Run], str | None]:
    """Exit 0 is right only with the undamaged workspace's output (paths aside)."""

    def check(sweep: Sweep, ws: Path, run: Run) -> str | None:
        if run.code != 0:
            return None
        expected = sweep.outputs[command].replace(str(sweep.built), str(ws))
        if run.stdout != expected:
            return f"exit 0 with another '{command}' output than the undamaged workspace's"
        return None

    return check


def workspace_cases(sweep: Sweep) -> list[Case]:
    cases = [
        Case(
            "match --model hash:32 on a hash:64 workspace",
            "workspace",
            lambda ws, work: ["match", str(SEED), "--model", "hash:32"],
            expect=5,
            mention=("hash:64",),
        ),
        Case(
            "--workspace is a file (info)",
            "workspace",
            lambda ws, work: ["info", "--workspace", str(work / "afile")],
            expect=4,
            setup=article_file("afile", "not a folder\n"),
        ),
        Case(
            "--workspace is a file (ingest)",
            "workspace",
            lambda ws, work: ["ingest", str(EVIDENCE), "--workspace", str(work / "afile")],
            expect=4,
            setup=article_file("afile", "not a folder\n"),
            check=lambda s, ws, r: (
                None
                if (ws.parent / "afile").read_text() == "not a folder\n"
                else "the file was changed"
            ),
        ),
        Case(
            "zero-byte workbench.db (ingest)",
            "workspace",
            lambda ws, work: ["ingest", str(EVIDENCE), "--model", "hash:64"],
            expect=4,
            setup=lambda ws, work: (ws / "workbench.db").write_bytes(b""),
            db_bytes=True,
        ),
        Case(
            "zero-byte workbench.db (claims)",
            "workspace",
            lambda ws, work: ["claims"],
            expect=4,
            setup=lambda ws, work: (ws / "workbench.db").write_bytes(b""),
            db_bytes=True,
        ),
        Case(
            "non-SQLite workbench.db (match)",
            "workspace",
            lambda ws, work: ["match", str(SEED)],
            expect=4,
            setup=lambda ws, work: (ws / "workbench.db").write_bytes(b"PK\x03\x04 zip" * 500),
            db_bytes=True,
        ),
    ]
    for command in (["info"], ["claims"], ["export"], ["verdict", "1", "false"], ["match", "S"]):
        argv = [str(SEED) if a == "S" else a for a in command]
        writes = command[0] in ("verdict", "match")
        cases.append(
            Case(
                f"4 KB garbage mid-database ({command[0]})",
                "workspace",
                lambda ws, work, argv=argv: argv,
                # Reading commands may not touch the damaged page: exit 0 with the right
                # output is as good as the one-line refusal.
                expect=4,
                either=not writes,
                setup=lambda ws, work: overwrite(ws / "workbench.db"),
                db_bytes=True,
                check=same_output(command[0]),
            )
        )
    cases.append(
        Case(
            "4 KB garbage over the claims table (claims)",
            "workspace",
            lambda ws, work: ["claims"],
            expect=4,
            setup=lambda ws, work: smash_table(ws / "workbench.db", "claims"),
            db_bytes=True,
            mention=("damaged",),
        )
    )
    for which in ("faiss", "bm25"):
        for how, damage in (
            ("truncated", truncate),
            ("4 KB overwritten", overwrite),
            ("deleted", Path.unlink),
        ):

            def setup(ws: Path, work: Path, which=which, damage=damage) -> None:
                damage(index_file(ws, which))

            cases.append(
                Case(
                    f"index {which} {how}: match heals",
                    "workspace",
                    lambda ws, work: ["match", str(SEED), "--top-k", "3"],
                    expect=0,
                    setup=setup,
                    notes=1,
                    check=same_top,
                )
            )
            cases.append(
                Case(
                    f"index {which} {how}: doctor, --repair, doctor",
                    "workspace",
                    lambda ws, work: ["doctor"],
                    expect=4,
                    setup=setup,
                    check=doctor_cycle,
                )
            )

    def stray_wal(ws: Path, work: Path) -> None:
        Path(f"{ws / 'workbench.db'}-wal").write_bytes(os.urandom(PAGE * 3))

    cases.append(
        Case(
            "stray garbage -wal file (claims)",
            "workspace",
            lambda ws, work: ["claims"],
            expect=0,
            setup=stray_wal,
            check=same_output("claims"),
        )
    )
    cases.append(
        Case(
            "stray garbage -wal file (verdict, then doctor)",
            "workspace",
            lambda ws, work: ["verdict", "1", "false"],
            expect=0,
            setup=stray_wal,
            check=lambda s, ws, r: (
                None
                if s.run(ws, ["doctor"]).code == 0
                else "doctor unhealthy after a write over a stray -wal"
            ),
        )
    )
    user = unprivileged(sweep)
    skip = "" if user else "cannot run as another user (setpriv --reuid nobody)"
    cases.append(
        Case(
            "read-only workspace: verdict",
            "workspace",
            lambda ws, work: ["verdict", "1", "false"],
            expect=4,
            setup=lock_down,
            mention=("read-only",),
            db_bytes=True,
            user=user,
            skip=skip,
        )
    )
    cases.append(
        Case(
            "read-only workspace: claims",
            "workspace",
            lambda ws, work: ["claims"],
            expect=0,
            setup=lock_down,
            check=same_output("claims"),
            user=user,
            skip=skip,
        )
    )
    return cases


def unprivileged(sweep: Sweep) -> list[str]:
    """setpriv to `nobody` when running as root (chmod does not stop root), else nothing."""
    if os.geteuid() != 0:
        return []
    prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    if shutil.which("setpriv") is None:
        return []
    probe = subprocess.run([*prefix, sweep.workbench, "--help"], capture_output=True)
    return prefix if probe.returncode == 0 else []


def lock_down(ws: Path, work: Path) -> None:
    for path in [*ws.rglob("*"), ws]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    work.chmod(0o555)


# ----- commands -------------------------------------------------------------------------------


def command_cases(sweep: Sweep) -> list[Case]:
    before: dict[Path, object] = {}

    def with_verdict(ws: Path, work: Path) -> None:
        done = sweep.run(ws, ["verdict", "1", "false"])
        assert done.code == 0, done.stderr
        before[ws] = stored_verdict(ws)

    def unchanged_verdict(s: Sweep, ws: Path, run: Run) -> str | None:
        now = stored_verdict(ws)
        return None if now == before[ws] else f"claim 1's verdict {before[ws]!r} is now {now!r}"

    stored = query(sweep.built / "workbench.db", "SELECT 1 FROM verdicts")
    assert not stored
    good_claims = jsonl([{"text": "Poutine a rencontré Pompeo à Sotchi le 14 mai 2019."}])
    user = unprivileged(sweep)

    def stored_verdict(ws: Path) -> object:
        rows = query(ws / "workbench.db", "SELECT * FROM verdicts WHERE claim_id = 1")
        return rows[0] if rows else None

    def read_only_dir(ws: Path, work: Path) -> None:
        (work / "out").mkdir()
        (work / "out").chmod(0o555)
        for path in [*ws.rglob("*"), ws, work]:
            path.chmod(0o755 if path.is_dir() else 0o644)

    def corpus(ws: Path, work: Path) -> None:
        (work / "corpus.jsonl").write_text(jsonl(evidence_records("c")), encoding="utf-8")
        (work / "queries.tsv").write_text("q1\tBudget de l’État\n", encoding="utf-8")
        (work / "qrels.txt").write_text("q1 0 c-1 1\nq1 0 c-2\n", encoding="utf-8")

    return [
        Case(
            "verdict 1 true --cite 99999",
            "commands",
            lambda ws, work: ["verdict", "1", "true", "--cite", "99999"],
            expect=None,
            setup=with_verdict,
            mention=("99999",),
            check=unchanged_verdict,
        ),
        Case(
            'verdict 1 ""',
            "commands",
            lambda ws, work: ["verdict", "1", ""],
            expect=3,
            setup=with_verdict,
            mention=("--clear",),
            check=unchanged_verdict,
        ),
        Case(
            "verdict 99999999999999999999999 false",
            "commands",
            lambda ws, work: ["verdict", "99999999999999999999999", "false"],
            expect=None,
        ),
        Case(
            "verdict 1 notaverdict",
            "commands",
            lambda ws, work: ["verdict", "1", "notaverdict"],
            expect=None,
            mention=("notaverdict",),
        ),
        Case(
            "match good.jsonl missing.txt",
            "commands",
            lambda ws, work: ["match", str(work / "good.jsonl"), str(work / "missing.txt")],
            expect=3,
            setup=article_file("good.jsonl", good_claims),
            mention=("missing.txt",),
        ),
        Case(
            "export --format nope",
            "commands",
            lambda ws, work: ["export", "--format", "nope"],
            expect=None,
            mention=("nope",),
        ),
        Case(
            "export -o /nonexistent/dir/x.csv",
            "commands",
            lambda ws, work: ["export", "--format", "csv", "-o", "/nonexistent/dir/x.csv"],
            expect=None,
            mention=("/nonexistent/dir",),
            check=lambda s, ws, r: (
                "a file was written" if Path("/nonexistent/dir/x.csv").exists() else None
            ),
        ),
        Case(
            "export -o into a read-only folder",
            "commands",
            lambda ws, work: ["export", "--format", "csv", "-o", str(work / "out" / "x.csv")],
            expect=None,
            setup=read_only_dir,
            mention=("x.csv",),
            user=user,
            skip="" if user or os.geteuid() != 0 else "root ignores permissions and no setpriv",
            check=lambda s, ws, r: (
                "a file was written" if any((ws.parent / "out").iterdir()) else None
            ),
        ),
        Case(
            "eval with malformed qrels",
            "commands",
            lambda ws, work: [
                "eval",
                str(work / "corpus.jsonl"),
                str(work / "queries.tsv"),
                str(work / "qrels.txt"),
                "--model",
                "hash:64",
                "--config",
                "bm25",
            ],
            expect=3,
            setup=corpus,
            mention=(":2:",),
        ),
        Case(
            "match --top-k 0",
            "commands",
            lambda ws, work: ["match", str(SEED), "--top-k", "0"],
            expect=None,
            mention=("--top-k",),
        ),
        Case(
            "match --top-k 99999999999999999999",
            "commands",
            lambda ws, work: ["match", str(SEED), "--top-k", "99999999999999999999"],
            expect=None,
            mention=("--top-k",),
        ),
    ]


# ----- kills ----------------------------------------------------------------------------------


def kill_evidence(sweep: Sweep) -> Path:
    path = sweep.tmp / "kill-evidence.jsonl"
    words = [
        "the",
        "minister",
        "said",
        "spending",
        "on",
        "schools",
        "and",
        "hospitals",
        "rose",
        "in",
        "the",
        "budget",
    ]
    rows = []
    for i in range(2000):
        body = " ".join(words[(i + j) % len(words)] for j in range(160))
        rows.append({"id": f"k-{i}", "title": f"Report {i}", "text": f"Report {i}: {body}."})
    path.write_text(jsonl(rows), encoding="utf-8")
    return path


def killed(sweep: Sweep, after: float, evidence: Path) -> Callable[[Path, Path], None]:
    def setup(ws: Path, work: Path) -> None:
        proc = subprocess.Popen(
            [sweep.workbench, "ingest", str(evidence), "--model", "hash:64"],
            env=sweep.env(ws),
            cwd=sweep.tmp,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(after)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        counts = row_counts(ws / "workbench.db")
        left = "no database" if counts is None else f"{counts.get('documents')} documents"
        index = "an index" if (ws / "index" / "manifest.json").exists() else "no index"
        sweep.notes[ws] = f"killed with {left} and {index} left; rerun, doctor and counts ok"

    return setup


def healthy_counts(sweep: Sweep, ws: Path, run: Run) -> str | None:
    doctor = sweep.run(ws, ["doctor"])
    if doctor.code != 0:
        return f"doctor exit {doctor.code}: {_last(doctor.stderr)}"
    db = ws / "workbench.db"
    passages = query(db, "SELECT COUNT(*) FROM passages")[0][0]
    vectors = query(db, "SELECT COUNT(*) FROM vectors")[0][0]
    manifest = json.loads((ws / "index" / "manifest.json").read_text(encoding="utf-8"))
    indexed = manifest.get("passages")
    try:
        import faiss

        ntotal = faiss.read_index(str(next((ws / "index").glob("dense-*.faiss")))).ntotal
    except ImportError:
        ntotal = indexed
    if not passages == vectors == indexed == ntotal:
        return f"passages {passages}, vectors {vectors}, manifest {indexed}, faiss {ntotal}"
    documents = query(db, "SELECT COUNT(*) FROM documents")[0][0]
    if documents != 2000:
        return f"{documents} documents after the second ingest, expected 2000"
    return None


def kill_cases(sweep: Sweep) -> list[Case]:
    evidence = kill_evidence(sweep)
    return [
        Case(
            f"ingest killed at {after:g} s, ingest again",
            "kills",
            lambda ws, work: ["ingest", str(evidence), "--model", "hash:64"],
            expect=0,
            setup=killed(sweep, after, evidence),
            fresh=True,
            check=healthy_counts,
        )
        # 0.5 s: while starting; 1-2 s: reading and embedding; 4 s: near the index write.
        for after in (0.5, 1.0, 2.0, 4.0)
    ]


# ----- main -----------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(
        description=USAGE, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--only", default="", help="Run the cases whose name has this.")
    parser.add_argument("--keep", action="store_true", help="Keep the scratch folder.")
    default = ROOT / ".venv" / "bin" / "workbench"
    parser.add_argument("--workbench", default=str(default) if default.exists() else "workbench")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="wb-fault-sweep-"))
    tmp.chmod(0o755)  # the unprivileged user of the read-only cases must reach it
    try:
        sweep = Sweep(tmp, args.workbench)
        started = time.perf_counter()
        sweep.build()
        big_files(sweep)
        cases = [
            *input_cases(sweep),
            *workspace_cases(sweep),
            *command_cases(sweep),
            *kill_cases(sweep),
        ]
        cases = [c for c in cases if args.only.lower() in c.name.lower()]
        outcomes = []
        for case in cases:
            outcome = judge(sweep, case)
            outcomes.append(outcome)
            print_row(outcome)
        return summary(outcomes, time.perf_counter() - started)
    finally:
        if args.keep:
            print(f"scratch folder kept: {tmp}", file=sys.stderr)
        else:
            for path in [tmp, *tmp.rglob("*")]:
                if path.is_dir() and not path.is_symlink():
                    path.chmod(0o755)
            shutil.rmtree(tmp, ignore_errors=True)


def print_row(outcome: Outcome) -> None:
    if not getattr(print_row, "header", False):
        print(f"{'case':52} {'class':9} {'exit':>4} {'err':>3} {'tb':3} {'verdict':13} detail")
        print_row.header = True  # type: ignore[attr-defined]
    run = outcome.run
    code = str(run.code) if run else "-"
    lines = str(len(run.lines)) if run else "-"
    tb = "-" if run is None else "yes" if "Traceback" in run.stdout + run.stderr else "no"
    print(
        f"{outcome.case.name[:52]:52} {outcome.case.klass:9} {code:>4} {lines:>3} {tb:3} "
        f"{outcome.verdict:13} {outcome.detail[:150]}",
        flush=True,
    )


def summary(outcomes: list[Outcome], seconds: float) -> int:
    def count(verdict: str) -> int:
        return sum(o.verdict == verdict for o in outcomes)

    ran = [o for o in outcomes if o.verdict != "skip"]
    bad = [o for o in ran if o.verdict != "ok"]
    print(
        f"{len(ran)} cases: {count('TRACEBACK')} tracebacks, {count('SILENT')} silent, "
        f"{count('PARTIAL WRITE')} partial writes, {count('MULTI-LINE')} multi-line, "
        f"{count('REFUSED')} wrongly refused; {count('skip')} skipped ({seconds:.0f} s)"
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
