"""Provides the reviews store: verdicts and the audit log as the workspace reads them."""

from __future__ import annotations

import json
from typing import Any

from workbench.store.claims import QUERY_SQL
from workbench.store.connection import Store


class ReviewStore(Store):
    """Reads of the verdicts and the audit log (reviewer actions write them: `verdicts.py`)."""

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

    def verdict_record(self, claim_id: int) -> dict[str, Any] | None:
        """A claim's verdict as exported (verdict, note, reviewer, cited, updated_at), None
        when it has none."""
        row = self.conn.execute(
            "SELECT verdict, note, reviewer, cited, updated_at FROM verdicts WHERE claim_id = ?",
            (claim_id,),
        ).fetchone()
        if row is None:
            return None
        keys = ("verdict", "note", "reviewer", "cited", "updated_at")
        return {**dict(zip(keys, row, strict=True)), "cited": json.loads(row[3])}

    def audit_trail(self, claim_id: int) -> list[dict[str, Any]]:
        """A claim's audit rows, oldest first: at, reviewer, action, old, new, note."""
        return [
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
                (claim_id,),
            )
        ]
