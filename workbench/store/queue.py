"""Provides the review queue's store: claims with their verdicts, filtered, searched, counted."""

from __future__ import annotations

from typing import Any

from workbench.store.connection import Store, _id_chunks
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


# A claim under the check-worthiness threshold it was extracted with (`min_score` in its
# details): stored and matched like any other. Claims given directly, and claims stored
# before the threshold was recorded, have none.
LOW_SQL = "(c.score < COALESCE(json_extract(c.details, '$.min_score'), -1.0))"
# A reviewer's work in a review or a final verdict (`h`): a verdict, but also a note or a
# citation given before any verdict.
_WORK_SQL = "(h.verdict != '' OR h.note != '' OR h.cited NOT IN ('', '[]'))"
# Low claims nobody has taken up are left out of the queue (and of reports) unless asked
# for; one with a reviewer's work on it (`_WORK_SQL`), an assignment or a wording of a
# reviewer's (an edit not undone) is work someone chose or did: it stays in view.
HIDDEN_SQL = (
    f"({LOW_SQL}"
    f" AND NOT EXISTS (SELECT 1 FROM verdicts h WHERE h.claim_id = c.id AND {_WORK_SQL})"
    f" AND NOT EXISTS (SELECT 1 FROM reviews h WHERE h.claim_id = c.id AND {_WORK_SQL})"
    " AND NOT EXISTS (SELECT 1 FROM assignments h WHERE h.claim_id = c.id)"
    " AND (c.original_text IS NULL OR c.text = c.original_text))"
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
        low: bool = False,
    ) -> list[tuple[int, str, str, float, str, str, bool]]:
        """(claim id, text, article, score, verdict, lang, low) of each claim in review order
        (article, then position in it), filtered in SQL (see `queue.list_queue`). `status`:
        'all', 'unreviewed' or 'reviewed'; `needed`: how many reviewers a claim needs, for
        `queue_of`. `search` ignores case and accents ('reunion' finds 'Réunion'), in the
        claim's text and its verdict's note. Claims under their check-worthiness threshold
        that nobody took up (`HIDDEN_SQL`) are left out unless `low`; `low` in a row says the
        claim is under its threshold."""
        join, where, params = self._queue_filter(
            status, verdict, article, search, reviewer, assigned_to, queue_of, needed
        )
        if not low:
            where.append(f"NOT {HIDDEN_SQL}")
        sql = (
            "SELECT c.id, c.text, a.name, c.score, COALESCE(v.verdict, ''), c.lang, "
            f"{LOW_SQL} FROM claims c JOIN articles a ON a.id = c.article_id {join}"
        )
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY a.id, c.start, c.id"
        return [(*row[:6], bool(row[6])) for row in self.conn.execute(sql, params)]

    def low_count(
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
    ) -> int:
        """How many claims `queue_rows` leaves out without `low` (`HIDDEN_SQL`), with the
        same filters."""
        join, where, params = self._queue_filter(
            status, verdict, article, search, reviewer, assigned_to, queue_of, needed
        )
        sql = (
            f"SELECT COUNT(*) FROM claims c JOIN articles a ON a.id = c.article_id {join} "
            f"WHERE {' AND '.join([*where, HIDDEN_SQL])}"
        )
        return int(self.conn.execute(sql, params).fetchone()[0])

    def hidden_claims(self) -> set[int]:
        """Every claim `queue_rows` leaves out without `low` (`HIDDEN_SQL`): under its
        check-worthiness threshold, and nobody took it up."""
        rows = self.conn.execute(f"SELECT c.id FROM claims c WHERE {HIDDEN_SQL}")
        return {int(row[0]) for row in rows}

    def low_claims(self, claim_ids: list[int]) -> set[int]:
        """Which of these claims are under their check-worthiness threshold."""
        low: set[int] = set()
        for chunk, marks in _id_chunks(list(dict.fromkeys(int(c) for c in claim_ids))):
            low.update(
                int(row[0])
                for row in self.conn.execute(
                    f"SELECT c.id FROM claims c WHERE c.id IN ({marks}) AND {LOW_SQL}", chunk
                )
            )
        return low

    def _queue_filter(
        self,
        status: str,
        verdict: str | None,
        article: str | None,
        search: str | None,
        reviewer: str | None,
        assigned_to: str | None,
        queue_of: str | None,
        needed: int,
    ) -> tuple[str, list[str], list[Any]]:
        """The verdict join, the WHERE conditions and their parameters of the queue's filters."""
        join, params = _verdicts_of(reviewer)
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
        return join, where, params

    def progress_rows(self, reviewer: str | None = None) -> list[tuple[str, int, int]]:
        """(article name, claims with a verdict, claims) per article in article order: by the
        final verdicts, or by `reviewer`'s own reviews when given. The claims the queue hides
        (`HIDDEN_SQL`) are not counted: the work to do is the claims in view."""
        join, params = _verdicts_of(reviewer)
        done = "COALESCE(v.verdict, '') != ''"
        return [
            (name, int(reviewed), int(total))
            for name, reviewed, total in self.conn.execute(
                f"SELECT a.name, SUM(CASE WHEN {done} THEN 1 ELSE 0 END), "
                f"SUM(CASE WHEN {done} OR NOT {HIDDEN_SQL} THEN 1 ELSE 0 END) "
                f"FROM claims c JOIN articles a ON a.id = c.article_id {join} "
                "GROUP BY a.id ORDER BY a.id",
                params,
            )
        ]
