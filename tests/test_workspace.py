"""Tests for the workspace: opening rules, transactions, generations and the manifest."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from workbench.errors import WorkspaceError
from workbench.workspace import Workspace


def _doc(key: str, text: str = "Some text.") -> dict:
    return {"doc_key": key, "content_hash": key + "-hash", "title": key}


def test_missing_workspace_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="run 'workbench ingest"):
        Workspace.open(tmp_path / "nowhere")


def test_folder_with_other_files_is_not_a_workspace(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(WorkspaceError, match="not a workbench workspace"):
        Workspace.open(tmp_path)


def test_corrupt_database_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "workbench.db").write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(WorkspaceError, match="not a workbench database"):
        Workspace.open(tmp_path)


def test_create_uses_wal_and_schema(tmp_path: Path) -> None:
    with Workspace.open(tmp_path / "ws", create=True) as ws:
        assert ws.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert ws.generation == 0
        assert (tmp_path / "ws" / "index").is_dir()


def test_add_documents_is_atomic_and_bumps_generation(tmp_path: Path) -> None:
    ws = Workspace.open(tmp_path, create=True)
    passages = [[{"start": 0, "end": 4, "text": "abcd", "lang": "en"}]]
    ws.add_documents([_doc("a")], passages, {"m": np.ones((1, 3), np.float32)})
    assert ws.generation == 1 and ws.count("passages") == 1
    # A vector count that does not match fails the whole transaction: nothing half-written.
    with pytest.raises(ValueError):
        ws.add_documents([_doc("b")], passages, {"m": np.ones((2, 3), np.float32)})
    assert ws.count("documents") == 1 and ws.generation == 1
    ids, matrix = ws.load_vectors("m", 3)
    assert ids.tolist() == [1] and matrix.shape == (1, 3)


def test_replacing_a_document_drops_its_old_passages_and_vectors(tmp_path: Path) -> None:
    ws = Workspace.open(tmp_path, create=True)
    one = [[{"start": 0, "end": 1, "text": "a"}, {"start": 2, "end": 3, "text": "b"}]]
    ws.add_documents([_doc("a")], one, {"m": np.ones((2, 2), np.float32)})
    ws.add_documents([_doc("a")], [[{"start": 0, "end": 1, "text": "c"}]], {"m": np.ones((1, 2))})
    assert ws.count("passages") == 1
    assert len(ws.load_vectors("m", 2)[0]) == 1


def test_second_connection_sees_committed_writes(tmp_path: Path) -> None:
    ws = Workspace.open(tmp_path, create=True)
    other = sqlite3.connect(tmp_path / "workbench.db")
    ws.add_documents([_doc("a")], [[{"start": 0, "end": 1, "text": "a"}]], {})
    assert other.execute("SELECT COUNT(*) FROM documents").fetchone()[0] == 1


def test_damaged_manifest_reads_as_missing(tmp_path: Path) -> None:
    ws = Workspace.open(tmp_path, create=True)
    (ws.index_dir / "manifest.json").write_text("{half")
    assert ws.read_manifest() is None


def test_manifest_records_every_index_file_and_count(tmp_path: Path) -> None:
    import hashlib

    from workbench.embed import HashingEmbedder
    from workbench.ingest import ingest

    corpus = tmp_path / "c.jsonl"
    corpus.write_text("".join(f'{{"id": "d{i}", "text": "Passage {i}."}}\n' for i in range(9)))
    ws = Workspace.open(tmp_path / "ws", create=True)
    ingest(ws, [corpus], [HashingEmbedder(16)])
    manifest = ws.read_manifest()
    on_disk = sorted(
        p.relative_to(ws.index_dir).as_posix()
        for p in ws.index_dir.rglob("*")
        if p.is_file() and p.name != "manifest.json"
    )
    assert sorted(manifest["files"]) == on_disk and "bm25/ids.npy" in on_disk
    for name, record in manifest["files"].items():
        data = (ws.index_dir / name).read_bytes()
        assert record["size"] == len(data)
        assert record["sha256"] == hashlib.sha256(data).hexdigest()
    assert [m["vectors"] for m in manifest["models"]] == [9]
    assert [e["documents"] for e in manifest["lexical"]] == [9, 9]


def test_index_text_in_sql_and_python_agree(tmp_path: Path) -> None:
    from workbench.embed import HashingEmbedder
    from workbench.ingest import ingest
    from workbench.workspace import index_text

    corpus = tmp_path / "c.jsonl"
    corpus.write_text(
        '{"id": "a", "title": "Osaka summit", "text": "Trump met Putin in Osaka."}\n'
        '{"id": "b", "title": "Trump met Putin", "text": "Trump met Putin in Osaka."}\n'
        '{"id": "c", "text": "No title here at all."}\n',
        encoding="utf-8",
    )
    ws = Workspace.open(tmp_path / "ws", create=True)
    ingest(ws, [corpus], [HashingEmbedder(16)])
    streamed = {pid: text for pid, text, _lang in ws.iter_passage_texts()}
    assert streamed == ws.passage_index_texts(streamed)
    assert sorted(streamed.values()) == sorted(
        [index_text("Osaka summit", "Trump met Putin in Osaka."), "Trump met Putin in Osaka.",
         "No title here at all."]
    )  # fmt: skip


def test_claim_query_in_sql_and_python_agree(tmp_path: Path) -> None:
    from workbench.verdicts import set_verdict

    ws = Workspace.open(tmp_path / "ws", create=True)
    claims = [
        {"text": "Putin met Trump.", "start": 0, "end": 16, "lang": "en", "score": 0.5,
         "reasons": []},
        {"text": "He met him.", "start": 17, "end": 28, "lang": "en", "score": 0.5,
         "reasons": [], "standalone": "Putin met Trump in Osaka."},
    ]  # fmt: skip
    ids = ws.add_article("a", "a.txt", "h", "en", "Putin met Trump. He met him.", claims)
    for claim_id in ids:
        set_verdict(ws, claim_id, "true", "ana")
    rows = {row.id: row.query for row in ws.claims(ids)}
    assert {cid: text for cid, text, _ in ws.claim_keys()} == rows
    assert {r["id"]: r["query"] for r in ws.reviewed_claims()} == rows
    assert rows[ids[1]] == "Putin met Trump in Osaka."


def test_claim_vectors_of_many_claims_go_in_chunks(tmp_path: Path) -> None:
    ws = Workspace.open(tmp_path / "ws", create=True)
    text = " ".join(f"C{i}." for i in range(1200))
    claims = [
        {"text": f"C{i}.", "start": 0, "end": 1, "lang": "en", "score": 0.5, "reasons": []}
        for i in range(1200)
    ]
    ids = ws.add_article("a", "a.txt", "h", "en", text, claims)
    matrix = np.arange(1200 * 4, dtype=np.float32).reshape(1200, 4)
    ws.save_claim_vectors("m", ids, matrix)
    # As an SQLite before 3.32 would: at most 999 parameters in one statement.
    ws.conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
    got = ws.claim_vectors("m", [*ids, ids[0], 10**9])
    assert len(got) == 1200
    assert np.array_equal(np.stack([got[i] for i in ids]), matrix)
    assert ws.claim_vectors("m", []) == {}
    assert len(ws.claim_vectors("m")) == 1200


# ----- schema and migrations ------------------------------------------------------------------
# The schema a blank database gets, table by table: (column, declared type) in order, and the
# foreign keys as (column, table, column, on delete). A migration that changes it fails here.
CURRENT_SCHEMA = {
    "articles": (
        [("id", "INTEGER"), ("name", "TEXT"), ("source", "TEXT"), ("content_hash", "TEXT"),
         ("lang", "TEXT"), ("text", "TEXT"), ("added_at", "TEXT"), ("url", "TEXT"),
         ("published", "TEXT")],
        [],
    ),
    "audit_log": (
        [("id", "INTEGER"), ("claim_id", "INTEGER"), ("at", "TEXT"), ("reviewer", "TEXT"),
         ("action", "TEXT"), ("old", "TEXT"), ("new", "TEXT"), ("note", "TEXT")],
        [],
    ),
    "claim_sources": (
        [("claim_id", "INTEGER"), ("article_id", "INTEGER"), ("start", "INTEGER"),
         ("end", "INTEGER"), ("text", "TEXT"), ("added_at", "TEXT")],
        [("article_id", "articles", "id", "NO ACTION"), ("claim_id", "claims", "id", "CASCADE")],
    ),
    "claim_vectors": (
        [("claim_id", "INTEGER"), ("model", "TEXT"), ("vec", "BLOB")],
        [("claim_id", "claims", "id", "CASCADE")],
    ),
    "claims": (
        [("id", "INTEGER"), ("article_id", "INTEGER"), ("text", "TEXT"), ("start", "INTEGER"),
         ("end", "INTEGER"), ("lang", "TEXT"), ("score", "REAL"), ("reasons", "TEXT"),
         ("created_at", "TEXT"), ("original_text", "TEXT"), ("claimant", "TEXT"),
         ("standalone", "TEXT"), ("details", "TEXT"), ("rematch_pending", "TEXT")],
        [("article_id", "articles", "id", "NO ACTION")],
    ),
    "documents": (
        [("id", "INTEGER"), ("doc_key", "TEXT"), ("title", "TEXT"), ("url", "TEXT"),
         ("publisher", "TEXT"), ("published", "TEXT"), ("lang", "TEXT"), ("source", "TEXT"),
         ("source_offset", "INTEGER"), ("content_hash", "TEXT"), ("extra", "TEXT"),
         ("added_at", "TEXT")],
        [],
    ),
    "matches": (
        [("claim_id", "INTEGER"), ("rank", "INTEGER"), ("passage_id", "INTEGER"),
         ("score", "REAL"), ("signals", "TEXT"), ("matched_at", "TEXT"), ("agreement", "TEXT")],
        [("passage_id", "passages", "id", "CASCADE"), ("claim_id", "claims", "id", "CASCADE")],
    ),
    "meta": ([("key", "TEXT"), ("value", "TEXT")], []),
    "passages": (
        [("id", "INTEGER"), ("document_id", "INTEGER"), ("seq", "INTEGER"), ("start", "INTEGER"),
         ("end", "INTEGER"), ("text", "TEXT"), ("lang", "TEXT")],
        [("document_id", "documents", "id", "CASCADE")],
    ),
    "vectors": (
        [("passage_id", "INTEGER"), ("model", "TEXT"), ("vec", "BLOB")],
        [("passage_id", "passages", "id", "CASCADE")],
    ),
    "verdicts": (
        [("claim_id", "INTEGER"), ("verdict", "TEXT"), ("note", "TEXT"), ("reviewer", "TEXT"),
         ("cited", "TEXT"), ("updated_at", "TEXT"), ("decided_by", "TEXT"),
         ("approved_by", "TEXT"), ("approved_at", "TEXT")],
        [("claim_id", "claims", "id", "NO ACTION")],
    ),
    "reviews": (
        [("claim_id", "INTEGER"), ("reviewer", "TEXT"), ("verdict", "TEXT"), ("note", "TEXT"),
         ("cited", "TEXT"), ("created_at", "TEXT"), ("updated_at", "TEXT")],
        [("claim_id", "claims", "id", "CASCADE")],
    ),
    "assignments": (
        [("claim_id", "INTEGER"), ("reviewer", "TEXT"), ("assigned_at", "TEXT")],
        [("claim_id", "claims", "id", "CASCADE")],
    ),
}  # fmt: skip
PREVIOUS_RELEASE = Path(__file__).parent / "fixtures" / "workspace-v4.sql"


def _schema(conn: sqlite3.Connection) -> dict[str, tuple[list, list]]:
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")]
    return {
        table: (
            [(r[1], r[2]) for r in conn.execute(f"PRAGMA table_info({table})")],
            [(r[3], r[2], r[4], r[6]) for r in conn.execute(f"PRAGMA foreign_key_list({table})")],
        )
        for table in tables
    }


def _rows(conn: sqlite3.Connection, table: str, columns: int) -> list[tuple]:
    """A table's rows in key order, the first `columns` columns of each."""
    return [row[:columns] for row in conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2")]


def _previous_release(root: Path) -> Path:
    root.mkdir()
    with sqlite3.connect(root / "workbench.db") as conn:
        conn.executescript(PREVIOUS_RELEASE.read_text(encoding="utf-8"))
    return root


def test_blank_database_gets_exactly_the_current_schema(tmp_path: Path) -> None:
    from workbench.store.schema import SCHEMA_VERSION

    with Workspace.open(tmp_path / "ws", create=True) as ws:
        assert ws.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 7
        assert _schema(ws.conn) == CURRENT_SCHEMA
        indexes = ws.conn.execute(
            "SELECT name FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL ORDER BY name"
        ).fetchall()
        assert indexes == [("assignments_reviewer",), ("audit_claim",), ("passages_document",)]


def test_previous_release_workspace_migrates_without_loss(tmp_path: Path) -> None:
    root = _previous_release(tmp_path / "v4")
    with sqlite3.connect(root / "workbench.db") as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 4
        before = {
            t: (len(cols), _rows(conn, t, len(cols))) for t, (cols, _) in _schema(conn).items()
        }
    assert before["audit_log"][1] and before["matches"][1] and before["vectors"][1]
    with Workspace.open(root) as ws:
        assert ws.conn.execute("PRAGMA user_version").fetchone()[0] == 7
        assert _schema(ws.conn) == CURRENT_SCHEMA
        for table, (columns, rows) in before.items():
            assert _rows(ws.conn, table, columns) == rows, table
        # Each verdict became its reviewer's review; the old database was copied first.
        assert [(r["reviewer"], r["verdict"]) for r in ws.claim_reviews(1)] == [("ana", "true")]
        backup = root / "workbench.db.schema-4.bak"
        with sqlite3.connect(backup) as copy:
            assert copy.execute("PRAGMA user_version").fetchone()[0] == 4
            assert _rows(copy, "verdicts", 6) == before["verdicts"][1]
        assert ws.quick_check() is None
        # What the new schema adds is there, empty: no agreement signals, no claim vectors.
        assert [m["agreement"] for m in ws.matches(1)] == [[], []]
        assert ws.claim_vectors("hash-64") == {}
        row = next(r for r in ws.export_rows() if r["claim_id"] == 1)
        assert (
            row["verdict"]["verdict"] == "true" and row["verdict"]["note"] == "Confirmé par l'AFP."
        )
        assert [c["passage_id"] for c in row["verdict"]["cited"]] == [1]
        assert [a["action"] for a in row["audit"]] == ["verdict", "note", "cite"]
        assert row["sources"][0]["article"] == "other.txt"
        assert row["claimant"] == "Le Monde" and row["details"] == {
            "entities": ["Pompeo", "Poutine"]
        }
        edited = ws.claims([2])[0]
        assert edited.text == "La rencontre a duré 3 heures."
        ids, matrix = ws.load_vectors("hash-64", 64)
        assert ids.tolist() == [1, 2] and matrix[1, 3] == pytest.approx(0.67)
        # and it takes new work: a verdict written after the upgrade has its audit row.
        from workbench import verdicts

        verdicts.set_verdict(ws, 2, "false", "ben")
        assert [a["action"] for a in ws.audit_trail(2)] == ["edit", "verdict"]


def test_failing_migration_leaves_earlier_ones_applied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workbench.store import schema

    root = tmp_path / "v1"
    root.mkdir()
    with sqlite3.connect(root / "workbench.db") as conn:
        conn.executescript(schema._SCHEMA)
        conn.execute("INSERT INTO articles VALUES (1, 'a', '', 'h', 'fr', '', 't')")
        conn.execute("PRAGMA user_version = 1")
    # Step 4 fails after its first statements ran: they roll back with it, steps 2-3 stay.
    broken = (*schema._MIGRATIONS[4], "ALTER TABLE no_such_table ADD COLUMN x TEXT")
    monkeypatch.setitem(schema._MIGRATIONS, 4, broken)
    with pytest.raises(WorkspaceError, match="no_such_table"):
        Workspace.open(root)
    with sqlite3.connect(root / "workbench.db") as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 3
        assert conn.execute("SELECT url, published FROM articles").fetchone() == ("", "")
        claims = [r[1] for r in conn.execute("PRAGMA table_info(claims)")]
        assert "original_text" in claims and "claimant" not in claims
        assert (
            conn.execute("SELECT name FROM sqlite_schema WHERE name = 'claim_sources'").fetchone()
            is None
        )
    monkeypatch.undo()
    # The failed step stays pending: the next open applies it and the rest.
    with Workspace.open(root) as ws:
        assert ws.conn.execute("PRAGMA user_version").fetchone()[0] == 7
        assert _schema(ws.conn) == CURRENT_SCHEMA
        assert ws.article_id("h") == 1


def test_workspace_made_before_team_review_migrates_to_reviews(tmp_path: Path) -> None:
    # Made by the release before team review (schema 5) through its own API.
    root = tmp_path / "v5"
    root.mkdir()
    fixture = Path(__file__).parent / "fixtures" / "workspace-v5.sql"
    with sqlite3.connect(root / "workbench.db") as conn:
        conn.executescript(fixture.read_text(encoding="utf-8"))
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 5
        before = _rows(conn, "verdicts", 6)
        audit = _rows(conn, "audit_log", 8)
    from workbench import verdicts

    with Workspace.open(root) as ws:
        assert ws.conn.execute("PRAGMA user_version").fetchone()[0] == 7
        assert _schema(ws.conn) == CURRENT_SCHEMA
        # Nothing lost: the final verdicts and the audit trail as they were.
        assert _rows(ws.conn, "verdicts", 6) == before
        assert _rows(ws.conn, "audit_log", 8) == audit
        # Each verdict became its reviewer's review; a nameless one is 'unknown's.
        reviews = {(c, r["reviewer"]): r for c in (1, 2, 3) for r in ws.claim_reviews(c)}
        assert {key: r["verdict"] for key, r in reviews.items()} == {
            (1, "ana"): "true",
            (2, "unknown"): "mostly-true",
            (3, "ben"): "",
        }
        assert reviews[(1, "ana")]["note"] == "Confirmé par l'AFP."
        assert [c["passage_id"] for c in reviews[(1, "ana")]["cited"]] == [1]
        # Old final verdicts keep their place: decided by a review, not approved.
        final = ws.verdict_record(1)
        assert (final["decided_by"], final["approved_by"]) == ("review", "")
        assert [verdicts.claim_status(ws, c) for c in (1, 2, 3)] == ["final", "final", "unreviewed"]
        assert ws.quick_check() is None
    # The database as it was is kept beside it, before anything changed.
    with sqlite3.connect(root / "workbench.db.schema-5.bak") as copy:
        assert copy.execute("PRAGMA user_version").fetchone()[0] == 5
        assert _rows(copy, "verdicts", 6) == before
        assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert not list(root.glob("*.tmp"))
