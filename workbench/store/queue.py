"""Provides the review queue's store: claims with their verdicts, filtered, searched, counted."""

from __future__ import annotations

from typing import Any

from workbench.store.connection import Store
from workbench.textfold import fold

# A reviewer's own queue: the claims assigned to them, and the claims that still need their
# review: no final verdict, no review of theirs, and fewer reviewers on it (assigned, or who
# gave a review) than the mode needs. A claim already assigned to enough others is theirs, not
# this reviewer's; one nobody was assigned to stays open to anyone, as without assignments.
_MINE = (
    "(c.id IN (SELECT claim_id FROM assignments WHERE reviewer = ?) OR ("
    "NOT EXISTS (SELECT 1 FROM verdicts f WHERE f.claim_id = c.id AND f.verdict != '')"
    " AND NOT EXISTS (SELECT 1 FROM reviews m WHERE m.claim_id = c.id AND m.reviewer = ?"
    " AND m.verdict != '')"
    " AND (SELECT COUNT(*) FROM assignments s WHERE s.claim_id = c.id)"
    " + (SELECT COUNT(*) FROM reviews r WHERE r.claim_id = c.id AND r.verdict != ''"
    " AND NOT EXISTS (SELECT 1 FROM assignments s WHERE s.claim_id = c.id"
    " AND s.reviewer = r.reviewer)) < ?))"
)


def _verdicts_of(reviewer: str | None) -> tuple[str, list[Any]]:
    """The join that gives each claim its verdict `v`: the final one, or `reviewer`'s own."""
    if reviewer is None:
        return "LEFT JOIN verdicts v ON v.claim_id = c.id", []
    return "LEFT JOIN reviews v ON v.claim_id = c.id AND v.reviewer = ?", [reviewer]


def like_pattern(term: str) -> str:
    """A LIKE pattern (with ESCAPE '\\') that finds folded text containing `term`: the term
    folded (`textfold.fold`), its `%`, `_` and `\\` matching themselves, not as wildcards."""
    escaped = fold(term).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class QueueStore(Store):
    """The review queue's reads: which claims, in what order, with which verdict."""

    def queue_rows(
        self,
        *,
        status: str = "all",
        verdict: str | None = None,
        article: str | None = None,
        search: str | None = None,
        reviewer: str | None = None,
        assigned_to: str | None = None,
        queue_of: str | None = None,
        needed: int = 1,
    ) -> list[tuple[int, str, str, float, str, str]]:
        """(claim id, text, article, score, verdict, lang) of each claim in review order
        (article, then position in it), filtered in SQL (see `queue.list_queue`). `status`:
        'all', 'unreviewed' or 'reviewed'; `needed`: how many reviewers a claim needs, for
        `queue_of`. `search` ignores case and accents ('reunion' finds 'Réunion'), in the
        claim's text and its verdict's note."""
        join, params = _verdicts_of(reviewer)
        sql = (
            "SELECT c.id, c.text, a.name, c.score, COALESCE(v.verdict, ''), c.lang FROM claims c "
            f"JOIN articles a ON a.id = c.article_id {join}"
        )
        where: list[str] = []
        if status == "unreviewed":
            where.append("COALESCE(v.verdict, '') = ''")
        elif status == "reviewed":
            where.append("COALESCE(v.verdict, '') != ''")
        if verdict:
            where.append("v.verdict = ?")
            params.append(verdict)
        if article:
            where.append("a.name = ?")
            params.append(article)
        if assigned_to is not None:
            where.append("c.id IN (SELECT claim_id FROM assignments WHERE reviewer = ?)")
            params.append(assigned_to)
        if queue_of is not None:
            where.append(_MINE)
            params += [queue_of, queue_of, needed]
        if search:
            # Both sides folded (`wb_fold`, registered on every connection): LIKE alone
            # ignores the case of ASCII letters only, and never accents. Most claims have no
            # note: those are not folded at all.
            where.append(
                "(wb_fold(c.text) LIKE ? ESCAPE '\\'"
                " OR (v.note != '' AND wb_fold(v.note) LIKE ? ESCAPE '\\'))"
            )
            pattern = like_pattern(search)
            params += [pattern, pattern]
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY a.id, c.start, c.id"
        return self.conn.execute(sql, params).fetchall()

    def progress_rows(self, reviewer: str | None = None) -> list[tuple[str, int, int]]:
        """(article name, claims with a verdict, claims) per article in article order: by the
        final verdicts, or by `reviewer`'s own reviews when given."""
        join, params = _verdicts_of(reviewer)
        return [
            (name, int(reviewed), int(total))
            for name, reviewed, total in self.conn.execute(
                "SELECT a.name, SUM(CASE WHEN COALESCE(v.verdict, '') != '' THEN 1 ELSE 0 END), "
                f"COUNT(*) FROM claims c JOIN articles a ON a.id = c.article_id {join} "
                "GROUP BY a.id ORDER BY a.id",
                params,
            )
        ]
