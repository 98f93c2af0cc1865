"""Provides the reviews store: verdicts, reviews, assignments and the audit log."""

from __future__ import annotations

import json
from collections.abc import Sequence
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
        """A claim's final verdict as exported (verdict, note, reviewer, cited, updated_at,
        decided_by, approved_by, approved_at), None when it has none."""
        keys = (
            "verdict", "note", "reviewer", "cited", "updated_at",
            "decided_by", "approved_by", "approved_at",
        )  # fmt: skip
        row = self.conn.execute(
            f"SELECT {', '.join(keys)} FROM verdicts WHERE claim_id = ?", (claim_id,)
        ).fetchone()
        if row is None:
            return None
        return {**dict(zip(keys, row, strict=True)), "cited": json.loads(row[3])}

    def claim_reviews(self, claim_id: int) -> list[dict[str, Any]]:
        """Every reviewer's review of a claim, oldest first: reviewer, verdict, note, cited,
        created_at, updated_at."""
        keys = ("reviewer", "verdict", "note", "cited", "created_at", "updated_at")
        rows = self.conn.execute(
            f"SELECT {', '.join(keys)} FROM reviews WHERE claim_id = ?"
            " ORDER BY created_at, reviewer",
            (claim_id,),
        ).fetchall()
        return [{**dict(zip(keys, r, strict=True)), "cited": json.loads(r[3])} for r in rows]

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

    def require_article(self, article: str) -> None:
        """Refuse, in one line naming the workspace's articles, an article it does not have."""
        names = [r[0] for r in self.conn.execute("SELECT DISTINCT name FROM articles")]
        if article not in names:
            from workbench.errors import InputError

            raise InputError(f"no article named {article!r}; articles: {', '.join(names)}")

    def final_claims_of_article(self, article: str) -> list[int]:
        """The claims of the article named `article` that have a final verdict, by id."""
        self.require_article(article)
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT c.id FROM claims c JOIN articles a ON a.id = c.article_id"
                " JOIN verdicts v ON v.claim_id = c.id WHERE a.name = ? AND v.verdict != ''"
                " ORDER BY c.id",
                (article,),
            )
        ]

    def review_triples(self, article: str | None = None) -> list[tuple[str, int, str]]:
        """(reviewer, claim id, verdict) of every review that gives a verdict, `article`'s
        claims only when named: what agreement is computed over."""
        if article is not None:
            self.final_claims_of_article(article)  # names the article or refuses it
        rows = self.conn.execute(
            "SELECT r.reviewer, r.claim_id, r.verdict FROM reviews r"
            " JOIN claims c ON c.id = r.claim_id JOIN articles a ON a.id = c.article_id"
            " WHERE r.verdict != '' AND (? IS NULL OR a.name = ?) ORDER BY r.claim_id, r.reviewer",
            (article, article),
        ).fetchall()
        return [(r[0], int(r[1]), r[2]) for r in rows]

    # ----- assignments ---------------------------------------------------------------------
    def open_claims_to_assign(self, article: str | None = None) -> list[dict[str, Any]]:
        """Claims without a final verdict in review order (article, then position), `article`'s
        only when named, each with who is on it already: `assigned` (oldest assignment first)
        and `reviewed` (reviewers whose review gives a verdict, oldest first)."""
        if article is not None:
            self.require_article(article)
        rows = self.conn.execute(
            "SELECT c.id FROM claims c JOIN articles a ON a.id = c.article_id"
            " WHERE (? IS NULL OR a.name = ?) AND NOT EXISTS (SELECT 1 FROM verdicts v"
            " WHERE v.claim_id = c.id AND v.verdict != '') ORDER BY a.id, c.start, c.id",
            (article, article),
        ).fetchall()
        ids = [int(r[0]) for r in rows]
        assigned: dict[int, list[str]] = {i: [] for i in ids}
        reviewed: dict[int, list[str]] = {i: [] for i in ids}
        for claim_id, reviewer in self.conn.execute(
            "SELECT claim_id, reviewer FROM assignments ORDER BY assigned_at, reviewer"
        ):
            if claim_id in assigned:
                assigned[claim_id].append(reviewer)
        for claim_id, reviewer in self.conn.execute(
            "SELECT claim_id, reviewer FROM reviews WHERE verdict != ''"
            " ORDER BY created_at, reviewer"
        ):
            if claim_id in reviewed:
                reviewed[claim_id].append(reviewer)
        return [{"claim_id": i, "assigned": assigned[i], "reviewed": reviewed[i]} for i in ids]

    def open_assignment_counts(self, reviewers: Sequence[str]) -> dict[str, int]:
        """How many claims each of `reviewers` is assigned and has still to do: no review of
        theirs gives a verdict, and the claim has no final verdict yet."""
        counts = dict.fromkeys(reviewers, 0)
        for reviewer, count in self.conn.execute(
            "SELECT s.reviewer, COUNT(*) FROM assignments s WHERE NOT EXISTS (SELECT 1 FROM"
            " verdicts v WHERE v.claim_id = s.claim_id AND v.verdict != '') AND NOT EXISTS"
            " (SELECT 1 FROM reviews r WHERE r.claim_id = s.claim_id AND r.reviewer = s.reviewer"
            " AND r.verdict != '') GROUP BY s.reviewer"
        ):
            if reviewer in counts:
                counts[reviewer] = int(count)
        return counts

    def add_assignments(self, pairs: Sequence[tuple[int, str]], at: str) -> None:
        """Assign each (claim id, reviewer) as of `at`, inside the caller's transaction (one
        already there is kept with its first time)."""
        self.conn.executemany(
            "INSERT OR IGNORE INTO assignments(claim_id, reviewer, assigned_at) VALUES (?,?,?)",
            [(int(claim_id), reviewer, at) for claim_id, reviewer in pairs],
        )

    def has_assignments(self, reviewer: str) -> bool:
        """Whether any claim is assigned to `reviewer`."""
        return (
            self.conn.execute(
                "SELECT 1 FROM assignments WHERE reviewer = ? LIMIT 1", (reviewer,)
            ).fetchone()
            is not None
        )
