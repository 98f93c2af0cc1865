"""Provides the workspace's schema: the base tables, the numbered migrations and `migrate`."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from workbench.errors import ReadOnlyWorkspaceError, WorkspaceError

if TYPE_CHECKING:
    from workbench.store.connection import Store

SCHEMA_VERSION = 7
# Steps from one schema version to the next, applied in order, each in its own transaction
# with its version number (`migrate`); the base schema below is version 1. Never edit a step
# that has shipped: add one.
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
    6: (
        # Team review: each reviewer's verdict, note and citations kept apart (a review, one
        # per claim and reviewer), the claim's final verdict in `verdicts` with how it was
        # decided (a review in single mode, two agreeing reviews or an editor's adjudication in
        # double mode) and the editor's sign-off, and who is asked to review what.
        "CREATE TABLE IF NOT EXISTS reviews ("
        " claim_id INTEGER NOT NULL REFERENCES claims(id) ON DELETE CASCADE,"
        " reviewer TEXT NOT NULL, verdict TEXT NOT NULL DEFAULT '',"
        " note TEXT NOT NULL DEFAULT '', cited TEXT NOT NULL DEFAULT '[]',"
        " created_at TEXT NOT NULL, updated_at TEXT NOT NULL,"
        " PRIMARY KEY (claim_id, reviewer)) WITHOUT ROWID",
        "ALTER TABLE verdicts ADD COLUMN decided_by TEXT NOT NULL DEFAULT 'review'",
        "ALTER TABLE verdicts ADD COLUMN approved_by TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE verdicts ADD COLUMN approved_at TEXT NOT NULL DEFAULT ''",
        "CREATE TABLE IF NOT EXISTS assignments ("
        " claim_id INTEGER NOT NULL REFERENCES claims(id) ON DELETE CASCADE,"
        " reviewer TEXT NOT NULL, assigned_at TEXT NOT NULL,"
        " PRIMARY KEY (claim_id, reviewer)) WITHOUT ROWID",
        "CREATE INDEX IF NOT EXISTS assignments_reviewer ON assignments(reviewer)",
        # Today's verdicts are their reviewers' reviews (a verdict without a name: 'unknown').
        "INSERT OR IGNORE INTO reviews(claim_id, reviewer, verdict, note, cited, created_at,"
        " updated_at) SELECT claim_id, COALESCE(NULLIF(reviewer, ''), 'unknown'), verdict,"
        " note, cited, updated_at, updated_at FROM verdicts",
    ),
    7: (
        # A reworded claim's evidence is that of its old wording until it is matched again:
        # the wording awaiting its re-match ('' when none), so that a process killed before
        # the re-match leaves a mark the next one resumes from.
        "ALTER TABLE claims ADD COLUMN rematch_pending TEXT NOT NULL DEFAULT ''",
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


def migrate(store: Store) -> None:
    """Bring the database to SCHEMA_VERSION: the base schema, then each numbered step.

    Each step is applied with its version number (`PRAGMA user_version`, the record of what
    is applied) in one transaction of its own: a step that fails rolls back alone, leaving
    the earlier ones applied and itself pending for the next open. A database newer than
    this code is refused, and so is an older one this process cannot write."""
    version = store.conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise WorkspaceError(
            f"{store.root} was written by a newer workbench (schema {version}); upgrade"
        )
    if version < SCHEMA_VERSION and store.read_only:
        raise ReadOnlyWorkspaceError(
            f"{store.root} was written by an older workbench (schema {version}) and is "
            "read-only here: open it once with write access to upgrade it"
        )
    if 0 < version < SCHEMA_VERSION:
        # Reviewers' work is about to be reshaped: a copy of the database as it was comes
        # first, beside it (restored by copying it over workbench.db).
        _backup_before_migration(store, version)
    for step in range(version + 1, SCHEMA_VERSION + 1):
        statements = _base_statements() if step == 1 else _MIGRATIONS[step]
        with store.transaction() as conn:
            # Another process opening the same old workspace may have applied it meanwhile:
            # read again under the write lock (BEGIN IMMEDIATE), where nobody can.
            if conn.execute("PRAGMA user_version").fetchone()[0] >= step:
                continue
            # executescript() would commit on its own; statement by statement keeps a step
            # and its version number in one transaction.
            for statement in statements:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {step}")


def _base_statements() -> tuple[str, ...]:
    """The base schema (version 1) statement by statement."""
    return tuple(s for s in _SCHEMA.split(";") if s.strip())


def _backup_before_migration(store: Store, version: int) -> None:
    """A consistent copy of the database (SQLite's online backup) before it is migrated:
    `workbench.db.schema-N.bak`, written aside and renamed into place; one is kept per old
    version, so opening the workspace again never overwrites it."""
    import sqlite3

    from workbench.store.connection import DB_NAME

    target = store.root / f"{DB_NAME}.schema-{version}.bak"
    if target.exists():
        return
    # Named for this process: two processes opening the workspace at once never share it.
    temporary = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    copy = sqlite3.connect(temporary)
    try:
        store.conn.backup(copy)
    finally:
        copy.close()
    temporary.replace(target)
