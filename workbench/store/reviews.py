"""Provides the reviews store: verdicts, reviews, assignments and the audit log."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from workbench.store.claims import QUERY_SQL
from workbench.store.connection import Store
from workbench.store.queue import HIDDEN_SQL

# A review's or final verdict's fields as `verdicts.ReviewState` holds them: verdict, note,
# cited passages.
ReviewFields = tuple[str, str, list[dict[str, Any]]]


def _cited_json(cited: Sequence[dict[str, Any]]) -> str:
    # The final verdict's upsert compares this text to tell whether anything changed.
    return json.dumps(list(cited), ensure_ascii=False)


class ReviewStore(Store):
    """Reviews, final verdicts, approvals, assignments and the audit log. The rules that decide
    what to write (modes, blind review, conflicts) are the reviewer actions' (`verdicts.py`);
    the writes here run inside their transaction, which they pass as `conn`."""

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

    def audit_by(self, reviewer: str, limit: int) -> list[tuple[int, str, str, str, str]]:
        """A reviewer's latest `limit` audit rows, oldest first: (claim id, at, action, old,
        new), old and new as stored (JSON text)."""
        rows = self.conn.execute(
            "SELECT claim_id, at, action, old, new FROM audit_log WHERE reviewer = ? "
            "ORDER BY id DESC LIMIT ?",
            (reviewer, limit),
        ).fetchall()
        return [(int(r[0]), r[1], r[2], r[3] or "", r[4] or "") for r in reversed(rows)]

    # ----- reviewer actions: reads ---------------------------------------------------------
    def final_verdict(self, claim_id: int) -> ReviewFields | None:
        """(verdict, note, cited) of a claim's final verdict, None when it has none."""
        row = self.conn.execute(
            "SELECT verdict, note, cited FROM verdicts WHERE claim_id = ?", (claim_id,)
        ).fetchone()
        return None if row is None else (row[0], row[1], json.loads(row[2]))

    def review_by(self, claim_id: int, reviewer: str) -> ReviewFields | None:
        """(verdict, note, cited) of `reviewer`'s own review of a claim, None when none."""
        row = self.conn.execute(
            "SELECT verdict, note, cited FROM reviews WHERE claim_id = ? AND reviewer = ?",
            (claim_id, reviewer),
        ).fetchone()
        return None if row is None else (row[0], row[1], json.loads(row[2]))

    def has_verdict_by(self, claim_id: int, reviewer: str) -> bool:
        """Whether `reviewer`'s own review of a claim gives a verdict."""
        row = self.conn.execute(
            "SELECT 1 FROM reviews WHERE claim_id = ? AND reviewer = ? AND verdict != ''",
            (claim_id, reviewer),
        ).fetchone()
        return row is not None

    def verdicts_given(self, claim_id: int) -> int:
        """How many reviews of a claim give a verdict."""
        return int(
            self.conn.execute(
                "SELECT COUNT(*) FROM reviews WHERE claim_id = ? AND verdict != ''", (claim_id,)
            ).fetchone()[0]
        )

    def decided_by(self, claim_id: int) -> str | None:
        """How a claim's final verdict row was decided ('review', 'agreement',
        'adjudication'), None when it has no row."""
        row = self.conn.execute(
            "SELECT decided_by FROM verdicts WHERE claim_id = ?", (claim_id,)
        ).fetchone()
        return None if row is None else row[0]

    def final_approvals(self, claim_ids: Sequence[int]) -> dict[int, str]:
        """{claim id: who approved it ('' for nobody yet)} of those of `claim_ids` that have a
        final verdict; a claim without one is left out."""
        if not claim_ids:
            return {}
        return dict(
            self.conn.execute(
                "SELECT claim_id, approved_by FROM verdicts WHERE verdict != ''"
                f" AND claim_id IN ({','.join('?' * len(claim_ids))})",
                list(claim_ids),
            ).fetchall()
        )

    def last_audit(
        self,
        claim_id: int,
        *,
        by: str | None = None,
        skip: Sequence[str] = (),
        skip_like: Sequence[str] = (),
        only: str | Sequence[str] | None = None,
    ) -> tuple[str, str, str] | None:
        """(reviewer, at, action) of a claim's latest audit row, None when it has none: `by`
        that reviewer only, leaving out the actions in `skip` and those matching a LIKE
        pattern of `skip_like`; `only` that action (or one of those actions)."""
        sql, params = "SELECT reviewer, at, action FROM audit_log WHERE claim_id = ?", [claim_id]
        if by is not None:
            sql += " AND reviewer = ?"
            params.append(by)
        for action in skip:
            sql += " AND action != ?"
            params.append(action)
        for pattern in skip_like:
            sql += " AND action NOT LIKE ?"
            params.append(pattern)
        if only is not None:
            actions = [only] if isinstance(only, str) else list(only)
            sql += f" AND action IN ({','.join('?' * len(actions))})"
            params.extend(actions)
        row = self.conn.execute(sql + " ORDER BY id DESC LIMIT 1", params).fetchone()
        return None if row is None else (row[0], row[1], row[2])

    # ----- reviewer actions: writes, inside the caller's transaction (`conn`) --------------
    def save_review(
        self,
        conn: sqlite3.Connection,
        claim_id: int,
        reviewer: str,
        fields: ReviewFields,
        at: str,
    ) -> None:
        """Write `reviewer`'s review of a claim (verdict, note, cited) as of `at`; its
        creation time stays that of the first write."""
        verdict, note, cited = fields
        conn.execute(
            "INSERT INTO reviews(claim_id, reviewer, verdict, note, cited, created_at,"
            " updated_at) VALUES (?,?,?,?,?,?,?) ON CONFLICT(claim_id, reviewer) DO UPDATE"
            " SET verdict = excluded.verdict, note = excluded.note, cited = excluded.cited,"
            " updated_at = excluded.updated_at",
            (claim_id, reviewer, verdict, note, _cited_json(cited), at, at),
        )

    def save_final(
        self,
        conn: sqlite3.Connection,
        claim_id: int,
        fields: ReviewFields,
        reviewer: str,
        decided_by: str,
        at: str,
    ) -> None:
        """Write a claim's final verdict (verdict, note, cited) by `reviewer`, decided by
        `decided_by`; a change to its verdict, note or citations withdraws an editor's
        approval (what was approved is no longer what would be published)."""
        verdict, note, cited = fields
        conn.execute(
            "INSERT INTO verdicts(claim_id, verdict, note, reviewer, cited, updated_at,"
            " decided_by) VALUES (?,?,?,?,?,?,?) ON CONFLICT(claim_id) DO UPDATE SET"
            " approved_by = CASE WHEN verdicts.verdict = excluded.verdict AND verdicts.note ="
            " excluded.note AND verdicts.cited = excluded.cited THEN verdicts.approved_by ELSE ''"
            " END, approved_at = CASE WHEN verdicts.verdict = excluded.verdict AND verdicts.note"
            " = excluded.note AND verdicts.cited = excluded.cited THEN verdicts.approved_at ELSE"
            " '' END, verdict = excluded.verdict, note = excluded.note, reviewer ="
            " excluded.reviewer, cited = excluded.cited, updated_at = excluded.updated_at,"
            " decided_by = excluded.decided_by",
            (claim_id, verdict, note, reviewer, _cited_json(cited), at, decided_by),
        )

    def drop_final(self, conn: sqlite3.Connection, claim_id: int) -> None:
        """Remove a claim's final verdict (its reviews no longer decide one)."""
        conn.execute("DELETE FROM verdicts WHERE claim_id = ?", (claim_id,))

    def set_approval(self, conn: sqlite3.Connection, claim_id: int, editor: str, at: str) -> None:
        """Record `editor`'s sign-off of a claim's final verdict, as of `at`."""
        conn.execute(
            "UPDATE verdicts SET approved_by = ?, approved_at = ? WHERE claim_id = ?",
            (editor, at, claim_id),
        )

    @staticmethod
    def record_audit(
        conn: sqlite3.Connection,
        claim_id: int,
        at: str,
        who: str,
        action: str,
        old: str,
        new: str,
        note: str = "",
    ) -> None:
        """Add one audit row: `who` did `action` to a claim at `at`, the state before and
        after as JSON text (`old`, `new`). In the transaction of the change it records, so the
        two are written together or not at all. Static: a caller that holds only the
        transaction's connection (`verdicts._audit`) can write it."""
        conn.execute(
            "INSERT INTO audit_log(claim_id, at, reviewer, action, old, new, note) "
            "VALUES (?,?,?,?,?,?,?)",
            (claim_id, at, who, action, old, new, note),
        )

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
        # Claims under the check-worthiness threshold that nobody took up are not handed out:
        # assigning one would put it in a queue it was kept out of (`workbench claims --low`
        # lists them; a reviewer's verdict, note, citation or edit makes one ordinary work).
        rows = self.conn.execute(
            "SELECT c.id FROM claims c JOIN articles a ON a.id = c.article_id"
            " WHERE (? IS NULL OR a.name = ?) AND NOT EXISTS (SELECT 1 FROM verdicts v"
            f" WHERE v.claim_id = c.id AND v.verdict != '') AND NOT {HIDDEN_SQL}"
            " ORDER BY a.id, c.start, c.id",
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
