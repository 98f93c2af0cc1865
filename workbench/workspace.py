"""Provides the workspace: a SQLite database (WAL) and an index folder; the only module with SQL.

Writes are transactions: a killed process leaves the last committed state. The database is
the source of truth (texts and vectors); the index folder is derived from it and is rebuilt
whenever its manifest's generation does not match the database's.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from workbench.errors import (
    DamagedWorkspaceError,
    ReadOnlyWorkspaceError,
    WorkbenchError,
    WorkspaceError,
)
from workbench.extract.claimant import guess_claimant

DB_NAME = "workbench.db"
INDEX_DIR = "index"
MANIFEST = "manifest.json"
SCHEMA_VERSION = 5
# Steps from one schema version to the next, applied in order inside one transaction; the
# base schema below is version 1. Never edit a step that has shipped: add one.
_MIGRATIONS: dict[int, tuple[str, ...]] = {
    2: (
        # A reviewer can reword a claim; the extracted wording is kept beside it.
        "ALTER TABLE claims ADD COLUMN original_text TEXT",
        "CREATE INDEX IF NOT EXISTS audit_claim ON audit_log(claim_id)",
    ),
    3: (
        # Where and when the article appeared: ClaimReview's itemReviewed needs both.
        "ALTER TABLE articles ADD COLUMN url TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE articles ADD COLUMN published TEXT NOT NULL DEFAULT ''",
    ),
    4: (
        # What extraction finds beyond the span: who claims it, the claim standing alone
        # (what matching uses), and the rest as JSON (resolutions, entities, numbers, ...).
        "ALTER TABLE claims ADD COLUMN claimant TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE claims ADD COLUMN standalone TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE claims ADD COLUMN details TEXT NOT NULL DEFAULT '{}'",
        # Other places the same claim was made: a near-duplicate from a later article is
        # recorded here instead of becoming a second claim to review.
        "CREATE TABLE IF NOT EXISTS claim_sources ("
        " claim_id INTEGER NOT NULL REFERENCES claims(id) ON DELETE CASCADE,"
        " article_id INTEGER NOT NULL REFERENCES articles(id),"
        " start INTEGER NOT NULL, end INTEGER NOT NULL, text TEXT NOT NULL,"
        " added_at TEXT NOT NULL, PRIMARY KEY (claim_id, article_id, start, end))",
    ),
    5: (
        # Verdict hints: what a passage agrees or conflicts with in the claim, stored with the
        # match (a JSON list of signals), and the vector each model gave the claim, so that
        # verdict memory compares claims across languages without loading a model.
        "ALTER TABLE matches ADD COLUMN agreement TEXT NOT NULL DEFAULT '[]'",
        "CREATE TABLE IF NOT EXISTS claim_vectors ("
        " claim_id INTEGER NOT NULL REFERENCES claims(id) ON DELETE CASCADE,"
        " model TEXT NOT NULL, vec BLOB NOT NULL, PRIMARY KEY (claim_id, model)) WITHOUT ROWID",
    ),
}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY,
    doc_key TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL DEFAULT '',
    url TEXT NOT NULL DEFAULT '',
    publisher TEXT NOT NULL DEFAULT '',
    published TEXT NOT NULL DEFAULT '',
    lang TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    source_offset INTEGER NOT NULL DEFAULT 0,
    content_hash TEXT NOT NULL,
    extra TEXT NOT NULL DEFAULT '{}',
    added_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS passages (
    id INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    text TEXT NOT NULL,
    lang TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS passages_document ON passages(document_id);
CREATE TABLE IF NOT EXISTS vectors (
    passage_id INTEGER NOT NULL REFERENCES passages(id) ON DELETE CASCADE,
    model TEXT NOT NULL,
    vec BLOB NOT NULL,
    PRIMARY KEY (passage_id, model)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS articles (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT '',
    content_hash TEXT NOT NULL UNIQUE,
    lang TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL DEFAULT '',
    added_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS claims (
    id INTEGER PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES articles(id),
    text TEXT NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    lang TEXT NOT NULL DEFAULT '',
    score REAL NOT NULL DEFAULT 0,
    reasons TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL,
    UNIQUE (article_id, start, end, text)
);
CREATE TABLE IF NOT EXISTS matches (
    claim_id INTEGER NOT NULL REFERENCES claims(id) ON DELETE CASCADE,
    rank INTEGER NOT NULL,
    passage_id INTEGER NOT NULL REFERENCES passages(id) ON DELETE CASCADE,
    score REAL NOT NULL,
    signals TEXT NOT NULL DEFAULT '{}',
    matched_at TEXT NOT NULL,
    PRIMARY KEY (claim_id, rank)
);
CREATE TABLE IF NOT EXISTS verdicts (
    claim_id INTEGER PRIMARY KEY REFERENCES claims(id),
    verdict TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    reviewer TEXT NOT NULL DEFAULT '',
    cited TEXT NOT NULL DEFAULT '[]',
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_log (
    id INTEGER PRIMARY KEY,
    claim_id INTEGER NOT NULL,
    at TEXT NOT NULL,
    reviewer TEXT NOT NULL DEFAULT '',
    action TEXT NOT NULL,
    old TEXT,
    new TEXT,
    note TEXT NOT NULL DEFAULT ''
);
"""


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def default_workspace_path() -> Path:
    """The workspace used when none is named: $WORKBENCH_HOME, else ./.workbench."""
    return Path(os.environ.get("WORKBENCH_HOME") or ".workbench")


@dataclass(frozen=True)
class PassageRow:
    """A passage with the metadata of its document, as retrieval and output need it."""

    id: int
    text: str
    lang: str
    start: int
    end: int
    doc_key: str
    title: str
    url: str
    publisher: str
    published: str


# `ClaimRow.query` in SQL, for queries over many claims (a test checks that both agree).
QUERY_SQL = "CASE WHEN c.standalone != '' THEN c.standalone ELSE c.text END"


@dataclass(frozen=True)
class ClaimRow:
    """A stored claim with the article it came from."""

    id: int
    text: str
    start: int
    end: int
    lang: str
    score: float
    reasons: tuple[str, ...]
    article: str
    claimant: str = ""
    standalone: str = ""

    @property
    def query(self) -> str:
        """The text matching searches with: the standalone wording when there is one."""
        return self.standalone or self.text

    def as_record(self) -> dict[str, Any]:
        """The claim's fields as they appear in JSONL output (match and export)."""
        return {
            "claim_id": self.id,
            "claim": self.text,
            "article": self.article,
            "start": self.start,
            "end": self.end,
            "lang": self.lang,
            "score": self.score,
        }


# Rows per chunk when streaming a model's vectors (`iter_vectors`): 100 MB at 512 dimensions.
VECTOR_CHUNK = 50_000
# Ids per `IN (...)` list: SQLite caps the parameters of one statement (999 before 3.32).
SQL_CHUNK = 500


def _id_chunks(ids: Sequence[int]) -> Iterator[tuple[list[int], str]]:
    """`ids` in slices of at most SQL_CHUNK, each with its `?,?,...` placeholders."""
    for start in range(0, len(ids), SQL_CHUNK):
        chunk = list(ids[start : start + SQL_CHUNK])
        yield chunk, ",".join("?" * len(chunk))


def index_text(title: str, text: str) -> str:
    """The text a passage is embedded and indexed with: its document's title gives a passage
    cut from a long document the context its sentences lack."""
    return f"{title}\n{text}" if title and title not in text else text


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON so that a reader sees the old file or the new one, never half of one."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=2, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


class Workspace:
    """An open workspace folder: `workbench.db` plus `index/`."""

    def __init__(self, root: Path, conn: sqlite3.Connection, *, read_only: bool = False) -> None:
        self.root = root
        self.conn = conn
        self.read_only = read_only
        """Whether this process may only read the workspace (see `open`): writes are refused."""

    @property
    def db_path(self) -> Path:
        return self.root / DB_NAME

    # ----- opening -------------------------------------------------------------------------
    @classmethod
    def open(cls, root: Path | None = None, *, create: bool = False) -> Workspace:
        """Open the workspace at `root`; create it when `create` is set and it does not exist.

        A workspace this process cannot write (a read-only mount, no write permission on the
        folder or on `workbench.db`) opens read-only: reading works, and the first write is
        refused with `ReadOnlyWorkspaceError`. A `workbench.db` that is empty, not SQLite or
        damaged is refused with one line and never written into (`check_integrity`).
        """
        root = Path(root) if root is not None else default_workspace_path()
        db_path = root / DB_NAME
        if root.exists() and not root.is_dir():
            raise WorkspaceError(
                f"{root} is a file, not a workspace folder; point --workspace at a folder"
            )
        if not db_path.exists():
            if not create:
                if root.exists() and any(root.iterdir()):
                    raise WorkspaceError(
                        f"{root} is not a workbench workspace (no {DB_NAME}); "
                        "point --workspace at a workspace or an empty folder"
                    )
                raise WorkspaceError(
                    f"no workspace at {root}; run 'workbench ingest evidence/' first "
                    "(or pass --workspace DIR)"
                )
            root.mkdir(parents=True, exist_ok=True)
            _create_database(db_path)
        _check_database_file(db_path)
        read_only = not _writable(db_path)
        conn = connect(db_path, read_only)
        workspace = cls(root, conn, read_only=read_only)
        try:
            workspace._migrate()
        except sqlite3.Error as exc:
            conn.close()
            raise database_error(exc, db_path) from None
        except BaseException:
            conn.close()
            raise
        if not read_only:
            (root / INDEX_DIR).mkdir(exist_ok=True)
        return workspace

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise WorkspaceError(
                f"{self.root} was written by a newer workbench (schema {version}); upgrade"
            )
        if version < SCHEMA_VERSION and self.read_only:
            raise ReadOnlyWorkspaceError(
                f"{self.root} was written by an older workbench (schema {version}) and is "
                "read-only here: open it once with write access to upgrade it"
            )
        if version < SCHEMA_VERSION:
            with self.transaction() as conn:
                # executescript() would commit on its own; statement by statement keeps the
                # schema, every migration and the version number in one transaction.
                if version == 0:
                    for statement in _SCHEMA.split(";"):
                        if statement.strip():
                            conn.execute(statement)
                    version = 1
                for step in range(version + 1, SCHEMA_VERSION + 1):
                    for statement in _MIGRATIONS[step]:
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextmanager
    def transaction(self, *, vectors: bool = False) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken immediately so concurrent writers queue, not fail.

        Refused, before anything is written, in a read-only workspace or one whose database
        fails its integrity check (`require_writable`; `vectors` for a write that touches the
        passages' vectors, which checks the whole file)."""
        self.require_writable(vectors=vectors)
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            # SQLite rolls back by itself on some errors (a full disk, say): a second ROLLBACK
            # would fail and hide the error that matters.
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        else:
            try:
                self.conn.execute("COMMIT")
            except BaseException:
                # A commit that fails (disk full, Ctrl-C on it) can leave the transaction open:
                # later reads would show the unsaved change and the next write could not begin.
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise

    def require_writable(self, *, vectors: bool = False) -> None:
        """Raise unless this process may write the workspace: not read-only, and its database
        passed `check_integrity` (the whole file with `vectors`, see INTEGRITY POLICY).
        Commands that write call it before their slow work (loading models) so that they fail
        at once; every transaction calls it too."""
        if self.read_only:
            raise ReadOnlyWorkspaceError(
                f"{self.root} is read-only (no write permission here): this command writes; "
                "reading commands (info, claims, export, review) still work"
            )
        self.check_integrity(vectors=vectors)

    def check_integrity(self, *, vectors: bool = False) -> None:
        """Raise `DamagedWorkspaceError` if the database fails `PRAGMA quick_check`: every
        table but the vectors, or with `vectors` the whole file (free pages included).

        Run once per database file and scope per process (see INTEGRITY POLICY), a failure
        remembered."""
        key = (*_file_key(self.db_path), vectors)
        with _INTEGRITY_LOCK:
            if key not in _INTEGRITY:
                _INTEGRITY[key] = self.quick_check(vectors=vectors)
            problem = _INTEGRITY[key]
            # Damage found anywhere stops every write, whatever its scope.
            problem = problem or _INTEGRITY.get((*key[:2], not vectors))
        if problem is not None:
            raise _damaged(self.db_path, problem)

    def integrity_known(self) -> bool:
        """Whether `check_integrity` has run in this process, so a write will not wait for it."""
        # No lock: a running check holds it.
        return (*_file_key(self.db_path), False) in _INTEGRITY

    def quick_check(self, *, vectors: bool = True) -> str | None:
        """The first problem `PRAGMA quick_check` finds, None when the database is sound
        (uncached). With `vectors`, the whole file; else each table but `vectors`, one by one
        (SQLite 3.33+), which skips most of a large file's pages: see INTEGRITY POLICY."""
        try:
            if vectors:
                checks = ["PRAGMA quick_check(5)"]
            else:
                tables = self.conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'vectors'"
                ).fetchall()
                checks = [f'PRAGMA quick_check("{name}")' for (name,) in tables]
            for check in checks:
                rows = self.conn.execute(check).fetchall()
                problems = [r[0] for r in rows if r[0] != "ok"]
                if problems:
                    return problems[0].strip().splitlines()[-1]
        except sqlite3.DatabaseError as exc:
            return str(exc)
        return None

    def mark_damaged(self, problem: str) -> None:
        """Remember that reading found damage, so that this process writes nothing more."""
        with _INTEGRITY_LOCK:
            for vectors in (False, True):
                _INTEGRITY[(*_file_key(self.db_path), vectors)] = problem

    # ----- paths and metadata --------------------------------------------------------------
    @property
    def index_dir(self) -> Path:
        return self.root / INDEX_DIR

    def get_meta(self, key: str, default: Any = None) -> Any:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def set_meta(self, conn: sqlite3.Connection, key: str, value: Any) -> None:
        conn.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, json.dumps(value)),
        )

    @property
    def generation(self) -> int:
        """A counter bumped by every transaction that changes passages or vectors."""
        return int(self.get_meta("generation", 0))

    def bump_generation(self, conn: sqlite3.Connection) -> None:
        self.set_meta(conn, "generation", self.generation + 1)

    def read_manifest(self) -> dict[str, Any] | None:
        path = self.index_dir / MANIFEST
        if not path.exists():
            return None
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            # A damaged manifest only means the index must be rebuilt from the database.
            return None

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        write_json_atomic(self.index_dir / MANIFEST, manifest)

    # ----- documents and passages ----------------------------------------------------------
    def document_hashes(self) -> dict[str, str]:
        return dict(self.conn.execute("SELECT doc_key, content_hash FROM documents"))

    def add_documents(
        self,
        docs: Sequence[dict[str, Any]],
        passages: Sequence[Sequence[dict[str, Any]]],
        vectors: dict[str, np.ndarray],
    ) -> None:
        """Store documents, their passages and every model's vectors in one transaction.

        `passages[i]` are the passages of `docs[i]`; `vectors[model]` has one row per passage
        in the same flattened order. A document that exists under the same key is replaced.
        """
        now = _now()
        with self.transaction(vectors=True) as conn:
            passage_ids: list[int] = []
            for doc, doc_passages in zip(docs, passages, strict=True):
                conn.execute("DELETE FROM documents WHERE doc_key = ?", (doc["doc_key"],))
                cursor = conn.execute(
                    "INSERT INTO documents(doc_key, title, url, publisher, published, lang, "
                    "source, source_offset, content_hash, extra, added_at) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        doc["doc_key"],
                        doc.get("title", ""),
                        doc.get("url", ""),
                        doc.get("publisher", ""),
                        doc.get("published", ""),
                        doc.get("lang", ""),
                        doc.get("source", ""),
                        doc.get("source_offset", 0),
                        doc["content_hash"],
                        json.dumps(doc.get("extra", {}), ensure_ascii=False),
                        now,
                    ),
                )
                document_id = cursor.lastrowid
                for seq, passage in enumerate(doc_passages):
                    cursor = conn.execute(
                        "INSERT INTO passages(document_id, seq, start, end, text, lang) "
                        "VALUES (?,?,?,?,?,?)",
                        (
                            document_id,
                            seq,
                            passage["start"],
                            passage["end"],
                            passage["text"],
                            passage.get("lang", ""),
                        ),
                    )
                    passage_ids.append(int(cursor.lastrowid))
            for model, matrix in vectors.items():
                if len(matrix) != len(passage_ids):
                    raise ValueError(f"{model}: {len(matrix)} vectors for {len(passage_ids)}")
                conn.executemany(
                    "INSERT INTO vectors(passage_id, model, vec) VALUES (?,?,?)",
                    (
                        (pid, model, np.asarray(row, dtype=np.float32).tobytes())
                        for pid, row in zip(passage_ids, matrix, strict=True)
                    ),
                )
            self.bump_generation(conn)

    def replace_vectors(
        self, passage_ids: Sequence[int], vectors: dict[str, np.ndarray], models: list[dict]
    ) -> None:
        """Swap every vector and the model list in one transaction (reindexing)."""
        with self.transaction(vectors=True) as conn:
            conn.execute("DELETE FROM vectors")
            for model, matrix in vectors.items():
                conn.executemany(
                    "INSERT INTO vectors(passage_id, model, vec) VALUES (?,?,?)",
                    (
                        (pid, model, np.asarray(row, dtype=np.float32).tobytes())
                        for pid, row in zip(passage_ids, matrix, strict=True)
                    ),
                )
            self.set_meta(conn, "models", models)
            self.bump_generation(conn)

    def count(self, table: str) -> int:
        if table not in {"documents", "passages", "articles", "claims", "matches", "verdicts"}:
            raise ValueError(table)
        return int(self.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])

    def passage_ids_and_langs(self) -> tuple[np.ndarray, list[str]]:
        rows = self.conn.execute("SELECT id, lang FROM passages ORDER BY id").fetchall()
        return np.array([r[0] for r in rows], dtype=np.int64), [r[1] for r in rows]

    def iter_passage_texts(self) -> Iterator[tuple[int, str, str]]:
        """(passage id, text to index, lang) in id order; the text carries the title.

        The SQL spells out `index_text` so that a rebuild streams without a Python pass per
        row; a test checks that both agree."""
        yield from self.conn.execute(
            "SELECT p.id, CASE WHEN d.title != '' AND instr(p.text, d.title) = 0 "
            "THEN d.title || char(10) || p.text ELSE p.text END, p.lang "
            "FROM passages p JOIN documents d ON d.id = p.document_id ORDER BY p.id"
        )

    def passage_index_texts(self, ids: Iterable[int]) -> dict[int, str]:
        """The indexed text (title included, as `iter_passage_texts`) of some passages."""
        return {pid: index_text(p.title, p.text) for pid, p in self.passages(ids).items()}

    def load_vectors(self, model: str, dim: int) -> tuple[np.ndarray, np.ndarray]:
        """All vectors of one model, as (passage ids, matrix) in passage id order."""
        ids: list[int] = []
        chunks: list[bytes] = []
        for pid, blob in self.conn.execute(
            "SELECT passage_id, vec FROM vectors WHERE model = ? ORDER BY passage_id", (model,)
        ):
            ids.append(pid)
            chunks.append(blob)
        matrix = np.frombuffer(b"".join(chunks), dtype=np.float32).reshape(len(ids), dim)
        return np.array(ids, dtype=np.int64), matrix

    def vector_count(self, model: str) -> int:
        """How many passages have a vector for `model`."""
        sql = "SELECT COUNT(*) FROM vectors WHERE model = ?"
        return int(self.conn.execute(sql, (model,)).fetchone()[0])

    def iter_vectors(
        self, model: str, dim: int, chunk: int = VECTOR_CHUNK
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """One model's vectors as (passage ids, matrix) chunks of at most `chunk` rows, in
        passage id order: `load_vectors` without holding them all.

        Each chunk is filled from the database a few hundred rows at a time, so reading it
        needs the chunk and little more; the generator drops its reference once the next one
        is asked for, so a caller that drops its own holds one chunk at a time."""
        cursor = self.conn.execute(
            "SELECT passage_id, vec FROM vectors WHERE model = ? ORDER BY passage_id", (model,)
        )
        step = max(1, min(chunk, SQL_CHUNK))
        while True:
            ids = np.empty(chunk, dtype=np.int64)
            matrix = np.empty((chunk, dim), dtype=np.float32)
            filled = 0
            while filled < chunk and (rows := cursor.fetchmany(min(step, chunk - filled))):
                end = filled + len(rows)
                ids[filled:end] = [r[0] for r in rows]
                blob = b"".join(r[1] for r in rows)
                matrix[filled:end] = np.frombuffer(blob, dtype=np.float32).reshape(-1, dim)
                filled = end
            if not filled:
                return
            yield ids[:filled], matrix[:filled]
            del ids, matrix  # before the next chunk is read

    def vectors_at(self, model: str, dim: int, ids: Iterable[int]) -> tuple[np.ndarray, np.ndarray]:
        """The vectors of one model for some passages, as (passage ids, matrix) in passage id
        order; a passage without one is left out."""
        wanted = sorted({int(i) for i in ids})
        found: list[int] = []
        blobs: list[bytes] = []
        for part, marks in _id_chunks(wanted):
            for pid, blob in self.conn.execute(
                f"SELECT passage_id, vec FROM vectors WHERE model = ? AND passage_id IN ({marks}) "
                "ORDER BY passage_id",
                [model, *part],
            ):
                found.append(pid)
                blobs.append(blob)
        matrix = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(found), dim)
        return np.array(found, dtype=np.int64), matrix

    def missing_vectors(self, model: str) -> list[int]:
        """Passages without a vector for `model` (a model added to the configuration later)."""
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT id FROM passages WHERE id NOT IN "
                "(SELECT passage_id FROM vectors WHERE model = ?) ORDER BY id",
                (model,),
            )
        ]

    def passages(self, ids: Iterable[int]) -> dict[int, PassageRow]:
        ids = list(dict.fromkeys(int(i) for i in ids))
        out: dict[int, PassageRow] = {}
        for chunk, marks in _id_chunks(ids):
            for row in self.conn.execute(
                "SELECT p.id, p.text, p.lang, p.start, p.end, d.doc_key, d.title, d.url, "
                f"d.publisher, d.published FROM passages p JOIN documents d "
                f"ON d.id = p.document_id WHERE p.id IN ({marks})",
                chunk,
            ):
                out[row[0]] = PassageRow(*row)
        return out

    # ----- articles, claims, matches -------------------------------------------------------
    def add_article(
        self,
        name: str,
        source: str,
        content_hash: str,
        lang: str,
        text: str,
        claims: Sequence[dict],
        url: str = "",
        published: str = "",
    ) -> list[int]:
        """Store an article and its claims (idempotent); return the claims' ids in order.

        A URL or publication date given for an article already stored fills in or replaces
        what it had (the claims, verdicts and matches stay)."""
        now = _now()
        with self.transaction() as conn:
            row = conn.execute(
                "SELECT id FROM articles WHERE content_hash = ?", (content_hash,)
            ).fetchone()
            if row:
                article_id = row[0]
                for column, value in (("url", url), ("published", published)):
                    if value:
                        conn.execute(
                            f"UPDATE articles SET {column} = ? WHERE id = ?", (value, article_id)
                        )
            else:
                article_id = conn.execute(
                    "INSERT INTO articles(name, source, content_hash, lang, text, added_at, url, "
                    "published) VALUES (?,?,?,?,?,?,?,?)",
                    (name, source, content_hash, lang, text, now, url, published),
                ).lastrowid
            ids = []
            for claim in claims:
                conn.execute(
                    "INSERT INTO claims(article_id, text, start, end, lang, score, reasons, "
                    "created_at, claimant, standalone, details) VALUES (?,?,?,?,?,?,?,?,?,?,?) "
                    "ON CONFLICT(article_id, start, end, text) DO NOTHING",
                    (
                        article_id,
                        claim["text"],
                        claim["start"],
                        claim["end"],
                        claim.get("lang", ""),
                        float(claim.get("score", 0.0)),
                        json.dumps(list(claim.get("reasons", ())), ensure_ascii=False),
                        now,
                        claim.get("claimant", ""),
                        claim.get("standalone", ""),
                        json.dumps(claim.get("details", {}), ensure_ascii=False),
                    ),
                )
                ids.append(
                    conn.execute(
                        "SELECT id FROM claims WHERE article_id = ? AND start = ? AND end = ? "
                        "AND text = ?",
                        (article_id, claim["start"], claim["end"], claim["text"]),
                    ).fetchone()[0]
                )
        return ids

    def claims(self, ids: Sequence[int] | None = None) -> list[ClaimRow]:
        sql = (
            "SELECT c.id, c.text, c.start, c.end, c.lang, c.score, c.reasons, a.name, "
            "c.claimant, c.standalone FROM claims c JOIN articles a ON a.id = c.article_id"
        )
        params: list[Any] = []
        if ids is not None:
            sql += f" WHERE c.id IN ({','.join('?' * len(ids))})"
            params = list(ids)
        rows = self.conn.execute(sql + " ORDER BY c.id", params).fetchall()
        return [
            ClaimRow(r[0], r[1], r[2], r[3], r[4], r[5], tuple(json.loads(r[6])), r[7], r[8], r[9])
            for r in rows
        ]

    def article_id(self, content_hash: str) -> int | None:
        row = self.conn.execute(
            "SELECT id FROM articles WHERE content_hash = ?", (content_hash,)
        ).fetchone()
        return int(row[0]) if row else None

    def claim_keys(self, exclude_article: int | None = None) -> list[tuple[int, str, str]]:
        """(id, text matched on, language) of every claim, except one article's own."""
        return [
            (int(r[0]), r[1], r[2])
            for r in self.conn.execute(
                f"SELECT c.id, {QUERY_SQL}, c.lang FROM claims c WHERE c.article_id != ? "
                "ORDER BY c.id",
                (-1 if exclude_article is None else exclude_article,),
            )
        ]

    def add_claim_sources(self, article_id: int, sources: Sequence[tuple[int, dict]]) -> None:
        """Record that the article also makes these (existing) claims, at these spans."""
        now = _now()
        with self.transaction() as conn:
            conn.executemany(
                "INSERT INTO claim_sources(claim_id, article_id, start, end, text, added_at) "
                "VALUES (?,?,?,?,?,?) ON CONFLICT DO NOTHING",
                [(cid, article_id, c["start"], c["end"], c["text"], now) for cid, c in sources],
            )

    def claim_sources(self, claim_id: int) -> list[dict[str, Any]]:
        """The other articles (name, span, wording) that make the same claim."""
        rows = self.conn.execute(
            "SELECT a.name, s.start, s.end, s.text, a.url FROM claim_sources s "
            "JOIN articles a ON a.id = s.article_id WHERE s.claim_id = ? ORDER BY s.added_at",
            (claim_id,),
        ).fetchall()
        return [dict(zip(("article", "start", "end", "text", "url"), r, strict=True)) for r in rows]

    def save_matches(
        self,
        results: Sequence[tuple[int, Sequence[Any]]],
        agreement: Sequence[Sequence[list[dict[str, Any]]]] | None = None,
        vectors: dict[str, np.ndarray] | None = None,
    ) -> None:
        """Replace the stored matches of each claim with its new ranked hits, in one transaction.

        `agreement`, parallel to `results`, holds each hit's agreement signals (verdict hints);
        `vectors` each model's claim vectors (rows parallel to `results`), written in the same
        transaction so that matches never outlive their claim's vectors or the reverse."""
        now = _now()
        with self.transaction() as conn:
            claim_ids = [claim_id for claim_id, _ in results]
            for model, matrix in (vectors or {}).items():
                _insert_claim_vectors(conn, model, claim_ids, matrix)
            for index, (claim_id, hits) in enumerate(results):
                signals = agreement[index] if agreement is not None else [[] for _ in hits]
                conn.execute("DELETE FROM matches WHERE claim_id = ?", (claim_id,))
                conn.executemany(
                    "INSERT INTO matches(claim_id, rank, passage_id, score, signals, matched_at, "
                    "agreement) VALUES (?,?,?,?,?,?,?)",
                    [
                        (
                            claim_id,
                            rank,
                            hit.passage_id,
                            hit.score,
                            json.dumps(hit.signals),
                            now,
                            json.dumps(found, ensure_ascii=False),
                        )
                        for rank, (hit, found) in enumerate(zip(hits, signals, strict=True), 1)
                    ],
                )

    def matches(self, claim_id: int) -> list[dict[str, Any]]:
        """A claim's stored matches in rank order, each with its passage, its document (its
        `extra` fields included) and its agreement signals."""
        rows = self.conn.execute(
            "SELECT m.rank, m.passage_id, m.score, m.signals, m.matched_at, d.doc_key, d.title, "
            "d.url, d.publisher, d.published, p.lang, p.text, m.agreement, d.extra "
            "FROM matches m JOIN passages p ON p.id = m.passage_id "
            "JOIN documents d ON d.id = p.document_id WHERE m.claim_id = ? ORDER BY m.rank",
            (claim_id,),
        ).fetchall()
        keys = (
            "rank", "passage_id", "score", "signals", "matched_at", "evidence_id", "title",
            "url", "publisher", "published", "lang", "text", "agreement", "extra",
        )  # fmt: skip
        out = []
        for row in rows:
            record = dict(zip(keys, row, strict=True))
            for key in ("signals", "agreement", "extra"):
                record[key] = json.loads(record[key] or "null")
            out.append(record)
        return out

    def save_claim_vectors(self, model: str, claim_ids: Sequence[int], matrix: np.ndarray) -> None:
        """Store (or replace) one model's vectors of some claims, in one transaction."""
        with self.transaction() as conn:
            _insert_claim_vectors(conn, model, claim_ids, matrix)

    def claim_vectors(
        self, model: str, claim_ids: Sequence[int] | None = None
    ) -> dict[int, np.ndarray]:
        """{claim id: vector} for one model; all claims with one when `claim_ids` is None."""
        sql = "SELECT claim_id, vec FROM claim_vectors WHERE model = ?"
        if claim_ids is None:
            queries = [(sql, [model])]
        else:
            ids = list(dict.fromkeys(int(c) for c in claim_ids))
            queries = [
                (f"{sql} AND claim_id IN ({marks})", [model, *chunk])
                for chunk, marks in _id_chunks(ids)
            ]
        return {
            int(cid): np.frombuffer(blob, dtype=np.float32)
            for query, params in queries
            for cid, blob in self.conn.execute(query, params)
        }

    def vectors_of_claim(self, claim_id: int) -> dict[str, np.ndarray]:
        """{model: vector} of one claim, for every model that embedded it."""
        return {
            model: np.frombuffer(blob, dtype=np.float32)
            for model, blob in self.conn.execute(
                "SELECT model, vec FROM claim_vectors WHERE claim_id = ?", (int(claim_id),)
            )
        }

    def passage_vectors(self, passage_ids: Iterable[int]) -> dict[int, dict[str, np.ndarray]]:
        """{passage id: {model: vector}} of some passages, every model stored."""
        ids = list(dict.fromkeys(int(i) for i in passage_ids))
        out: dict[int, dict[str, np.ndarray]] = {}
        for chunk, marks in _id_chunks(ids):
            for pid, model, blob in self.conn.execute(
                f"SELECT passage_id, model, vec FROM vectors WHERE passage_id IN ({marks})",
                chunk,
            ):
                out.setdefault(int(pid), {})[model] = np.frombuffer(blob, dtype=np.float32)
        return out

    def reviewed_claims(self, exclude: int | None = None) -> list[dict[str, Any]]:
        """Claims with a verdict (a cleared one or "not a claim" does not count), `exclude` left
        out: id, text, `query` (the wording matching uses), lang, verdict, note, reviewer,
        updated_at."""
        keys = ("id", "text", "query", "lang", "verdict", "note", "reviewer", "updated_at")
        rows = self.conn.execute(
            f"SELECT c.id, c.text, {QUERY_SQL}, c.lang, v.verdict, v.note, v.reviewer, "
            "v.updated_at FROM verdicts v JOIN claims c ON c.id = v.claim_id "
            "WHERE v.verdict NOT IN ('', 'not-a-claim') AND c.id != ? ORDER BY c.id",
            (-1 if exclude is None else int(exclude),),
        ).fetchall()
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def article_of(self, claim_id: int) -> tuple[int, str, str] | None:
        """(article id, text, publication date) of a claim's article; the text is '' for
        claims given directly, the date '' when unknown."""
        row = self.conn.execute(
            "SELECT a.id, a.text, a.published FROM claims c JOIN articles a "
            "ON a.id = c.article_id WHERE c.id = ?",
            (claim_id,),
        ).fetchone()
        return (int(row[0]), row[1], row[2]) if row else None

    def export_rows(self) -> Iterator[dict[str, Any]]:
        """Every claim with its article, stored matches, verdict and audit trail."""
        for claim in self.claims():
            matches = self.matches(claim.id)
            verdict = self.conn.execute(
                "SELECT verdict, note, reviewer, cited, updated_at FROM verdicts "
                "WHERE claim_id = ?",
                (claim.id,),
            ).fetchone()
            audit = [
                {
                    "at": r[0],
                    "reviewer": r[1],
                    "action": r[2],
                    "old": json.loads(r[3]) if r[3] else None,
                    "new": json.loads(r[4]) if r[4] else None,
                    "note": r[5],
                }
                for r in self.conn.execute(
                    "SELECT at, reviewer, action, old, new, note FROM audit_log "
                    "WHERE claim_id = ? ORDER BY id",
                    (claim.id,),
                )
            ]
            original, article_url, article_published, article_text, details = self.conn.execute(
                "SELECT c.original_text, a.url, a.published, a.text, c.details FROM claims c "
                "JOIN articles a ON a.id = c.article_id WHERE c.id = ?",
                (claim.id,),
            ).fetchone()
            yield {
                **claim.as_record(),
                "original_text": original,
                "article_url": article_url,
                "article_published": article_published,
                # Claims stored before extraction kept a claimant get the old guess.
                "claimant": claim.claimant or guess_claimant(claim.text, article_text),
                "standalone": claim.standalone,
                "details": json.loads(details or "{}"),
                "sources": self.claim_sources(claim.id),
                "reasons": list(claim.reasons),
                "matches": matches,
                "verdict": (
                    {
                        "verdict": verdict[0],
                        "note": verdict[1],
                        "reviewer": verdict[2],
                        "cited": json.loads(verdict[3]),
                        "updated_at": verdict[4],
                    }
                    if verdict
                    else None
                ),
                "audit": audit,
            }


def _insert_claim_vectors(
    conn: sqlite3.Connection, model: str, claim_ids: Sequence[int], matrix: np.ndarray
) -> None:
    conn.executemany(
        "INSERT OR REPLACE INTO claim_vectors(claim_id, model, vec) VALUES (?,?,?)",
        (
            (int(cid), model, np.asarray(row, dtype=np.float32).tobytes())
            for cid, row in zip(claim_ids, matrix, strict=True)
        ),
    )


# INTEGRITY POLICY. SQLite checks the structure of every page it reads, so a reading command
# meets damage only in the pages it reads, and then stops with one line (`database_error`).
# Before its first write a process runs `PRAGMA quick_check` over the whole file, once per
# file (`check_integrity`, cached per process, a failure too): a write into a damaged b-tree
# can spread the damage, and a reviewer's new verdicts must not go into a file that has to be
# restored anyway. quick_check reads every page but skips integrity_check's index-against-
# table comparisons; its cost is that of reading what it checks. Measured on a synthetic
# workspace of 100,000 passages with two models' vectors (512 + 384 dimensions, a 1.0 GB
# file): the whole file 0.35 to 0.8 s with the file in the OS cache, 18 s cold on a slow
# (55 MB/s) virtual disk, of which the `vectors` table is nearly all. So the scope follows the
# write: a write that touches vectors (ingest, reindex, import-reviews) checks the whole file,
# free pages included; every other write (verdicts, notes, matches, the review UI) checks each
# table but `vectors` (`PRAGMA quick_check(TABLE)`), which costs a few hundredths of a second
# however large the evidence store grows. Reading commands never pay it; `doctor` runs the full
# integrity_check.
_INTEGRITY: dict[tuple[str, int, bool], str | None] = {}
_INTEGRITY_LOCK = threading.Lock()
SQLITE_HEADER = b"SQLite format 3\x00"
# What to do about a damaged database (the one line says what is wrong, then this).
DAMAGED_ADVICE = "run 'workbench doctor'; restore it from a backup ('workbench backup')"


def _file_key(db_path: Path) -> tuple[str, int]:
    # The inode too: a database restored in place (a new file) is checked afresh.
    try:
        inode = db_path.stat().st_ino
    except OSError:
        inode = 0
    return str(db_path.resolve()), inode


def _damaged(db_path: Path, problem: str) -> DamagedWorkspaceError:
    return DamagedWorkspaceError(f"{db_path} is damaged ({problem}): {DAMAGED_ADVICE}")


def database_error(exc: sqlite3.Error, db_path: Path) -> WorkbenchError:
    """The one line a SQLite error becomes: what is wrong with which file, what to do.

    The CLI's `handle_errors` maps every SQLite error of a command through this (and so does
    `Workspace.open`): damage, a full disk, a read-only or locked file are never tracebacks."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc)
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or type(exc) is sqlite3.DatabaseError:
        return _damaged(db_path, text)
    if name.startswith("SQLITE_FULL") or "disk is full" in text:
        return WorkbenchError(
            f"no space left on the disk of {db_path} ({text}): the change was rolled back and "
            "everything committed before is kept; free some space and run the command again"
        )
    if name.startswith("SQLITE_READONLY") or "readonly" in text:
        return ReadOnlyWorkspaceError(
            f"{db_path} cannot be written ({text}): this command writes; reading commands "
            "(info, claims, export, review) still work"
        )
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text:
        return WorkspaceError(
            f"{db_path} is locked by another process ({text}); try again once it has finished"
        )
    if name.startswith("SQLITE_IOERR"):
        return WorkspaceError(
            f"cannot read or write {db_path} ({text}): check the disk, then {DAMAGED_ADVICE}"
        )
    if name.startswith(("SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH")):
        return WorkspaceError(f"cannot open {db_path} ({text})")
    return WorkspaceError(f"database error in {db_path} ({text}); run 'workbench doctor'")


def _create_database(db_path: Path) -> None:
    """Create a workspace database with its schema beside `db_path`, then link it into place.

    A kill during creation leaves no half-made `workbench.db` (say, of zero bytes) behind, so
    an empty or schema-less one is always damage or another program's file, never an
    unfinished creation: `open` refuses it instead of silently starting an empty workspace."""
    tmp = db_path.with_name(f".{db_path.name}.new{os.getpid()}")
    for path in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        path.unlink(missing_ok=True)
    try:
        conn = connect(tmp, read_only=False)
        try:
            Workspace(db_path.parent, conn)._migrate()
        finally:
            conn.close()  # the last connection: checkpoints the WAL into the file, removes it
        try:
            os.link(tmp, db_path)  # never replaces a database another process created meanwhile
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links
            if not db_path.exists():
                os.replace(tmp, db_path)
    finally:
        tmp.unlink(missing_ok=True)


def _check_database_file(db_path: Path) -> None:
    """Refuse a `workbench.db` that is a folder, empty, or not SQLite, before SQLite opens it
    (SQLite would take an empty file for a new database and write a schema into it)."""
    try:
        with open(db_path, "rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except IsADirectoryError:
        raise WorkspaceError(f"{db_path} is a folder, not a database") from None
    except OSError as exc:
        raise WorkspaceError(f"cannot read {db_path}: {exc.strerror or exc}") from None
    if not header:
        raise DamagedWorkspaceError(
            f"{db_path} is empty (0 bytes), not a workbench database: restore it from a backup, "
            "or remove it to start an empty workspace there"
        )
    if header != SQLITE_HEADER:
        raise DamagedWorkspaceError(
            f"{db_path} is not a workbench database (not a SQLite file): restore it from a "
            "backup, or point --workspace at a workspace or an empty folder"
        )


def _writable(db_path: Path) -> bool:
    """Whether this process may write the workspace: the database file, and its folder (SQLite
    creates `-wal` and `-shm` files beside the database), and those files when they exist.

    os.access answers for this process's real permissions: no on a read-only mount (EROFS,
    even for root), no for a user without write permission; yes for root on a chmod-ed
    folder, which root can indeed write."""
    paths = [db_path, db_path.parent]
    paths += [p for p in (Path(f"{db_path}-wal"), Path(f"{db_path}-shm")) if p.exists()]
    return all(os.access(path, os.W_OK) for path in paths)


def connect(db_path: Path, read_only: bool = False) -> sqlite3.Connection:
    """A connection to the database; `read_only` opens it so that SQLite never writes a byte.

    Read-only WAL access (SQLite 3.22+): `mode=ro` reads the committed state, the `-wal` file
    included, when its `-shm` exists or can be made. In a folder where it cannot be made and
    there is no `-wal` (a workspace closed cleanly: everything is in the file), `immutable=1`
    reads the file without locks or shared memory; a `-wal` that cannot be read so is one
    line (its last writer did not close; open the workspace once with write access)."""
    try:
        if not read_only:
            conn = sqlite3.connect(db_path, isolation_level=None, timeout=30.0)
            _refuse_foreign(conn, db_path)  # before switching it to WAL, which writes
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA foreign_keys=ON")
            # WAL + NORMAL is durable across process kills (only an OS crash can drop the
            # last transactions), and it keeps ingest from waiting on fsync per batch.
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            return conn
        uri = db_path.resolve().as_uri()
        conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, isolation_level=None, timeout=30.0)
        try:
            conn.execute("SELECT COUNT(*) FROM sqlite_schema").fetchone()
        except sqlite3.OperationalError:
            conn.close()
            wal = Path(f"{db_path}-wal")
            if wal.exists() and wal.stat().st_size > 0:
                raise WorkspaceError(
                    f"{db_path} is read-only here and its last writer left changes in {wal.name} "
                    "that cannot be read without write access: open the workspace once with "
                    "write access (any command), then read-only again"
                ) from None
            conn = sqlite3.connect(
                f"{uri}?mode=ro&immutable=1", uri=True, isolation_level=None, timeout=30.0
            )
        conn.execute("PRAGMA busy_timeout=30000")
        _refuse_foreign(conn, db_path)
        return conn
    except sqlite3.Error as exc:
        raise database_error(exc, db_path) from None


def _refuse_foreign(conn: sqlite3.Connection, db_path: Path) -> None:
    """Refuse another program's SQLite database. A workspace gets its tables and its schema
    version in one transaction: tables without a version are not a workspace's."""
    if conn.execute("PRAGMA user_version").fetchone()[0] != 0:
        return
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")]
    if tables:
        conn.close()
        raise WorkspaceError(
            f"{db_path} is a SQLite database but not a workbench one (it has "
            f"{', '.join(tables[:3])}{', ...' if len(tables) > 3 else ''}); "
            "point --workspace at a workspace or an empty folder"
        )
