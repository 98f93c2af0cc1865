"""Provides the workspace: a SQLite database (WAL) and an index folder, over the `store` package.

Writes are transactions: a killed process leaves the last committed state. The database is
the source of truth (texts and vectors); the index folder is derived from it and is rebuilt
whenever its manifest's generation does not match the database's. The SQL lives in
`workbench/store/` by concern: `connection` (opening, read-only and integrity policy,
transactions), `schema` (base schema, numbered migrations), `evidence` (documents, passages,
vectors, manifest), `claims` (articles, claims, sources, matches, claim vectors, rewording),
`reviews` (reviews, final verdicts, approvals, assignments, audit log) and `queue` (the review
queue and its progress). The rules of the reviewer actions (modes, blind review, conflicts)
live in `verdicts.py`, which calls the `reviews` store inside its transactions.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from workbench.store.claims import QUERY_SQL, ClaimRow, ClaimStore
from workbench.store.connection import (
    _INTEGRITY,
    DAMAGED_ADVICE,
    DB_NAME,
    INDEX_DIR,
    SQL_CHUNK,
    SQLITE_HEADER,
    connect,
    database_error,
    default_workspace_path,
)
from workbench.store.evidence import (
    MANIFEST,
    VECTOR_CHUNK,
    EvidenceStore,
    PassageRow,
    index_text,
    write_json_atomic,
)
from workbench.store.queue import QueueStore
from workbench.store.reviews import ReviewStore
from workbench.store.schema import _SCHEMA, SCHEMA_VERSION

__all__ = [
    "DAMAGED_ADVICE",
    "DB_NAME",
    "INDEX_DIR",
    "MANIFEST",
    "QUERY_SQL",
    "SCHEMA_VERSION",
    "SQLITE_HEADER",
    "SQL_CHUNK",
    "VECTOR_CHUNK",
    "_INTEGRITY",
    "_SCHEMA",
    "ClaimRow",
    "PassageRow",
    "Workspace",
    "connect",
    "database_error",
    "default_workspace_path",
    "index_text",
    "write_json_atomic",
]


class Workspace(EvidenceStore, ClaimStore, ReviewStore, QueueStore):
    """An open workspace folder: `workbench.db` plus `index/`."""

    def export_rows(self) -> Iterator[dict[str, Any]]:
        """Every claim with its article, stored matches, verdict and audit trail."""
        # Here, not at the top: the review UI opens a Workspace before its first screen, and
        # the extraction package (its compiled patterns) is not needed for that.
        from workbench.extract.claimant import guess_claimant

        for claim in self.claims():
            original, article_url, article_published, article_text, details = self._claim_extras(
                claim.id
            )
            yield {
                **claim.as_record(),
                "original_text": original,
                "article_url": article_url,
                "article_published": article_published,
                # Claims stored before extraction kept a claimant get the old guess.
                "claimant": claim.claimant or guess_claimant(claim.text, article_text),
                "standalone": claim.standalone,
                "details": details,
                "sources": self.claim_sources(claim.id),
                "reasons": list(claim.reasons),
                "matches": self.matches(claim.id),
                "verdict": self.verdict_record(claim.id),
                "reviews": self.claim_reviews(claim.id),
                "audit": self.audit_trail(claim.id),
            }
