"""Provides the review queue: claims with their verdicts, filtered and counted, and positions."""

from __future__ import annotations

from dataclasses import dataclass

from workbench.workspace import Workspace

STATUSES = ("all", "unreviewed", "reviewed")


@dataclass(frozen=True)
class QueueRow:
    """One line of the review queue."""

    claim_id: int
    text: str
    article: str
    score: float
    verdict: str
    lang: str


def list_queue(
    workspace: Workspace,
    status: str = "all",
    verdict: str | None = None,
    article: str | None = None,
    search: str | None = None,
    reviewer: str | None = None,
    assigned_to: str | None = None,
    queue_of: str | None = None,
) -> list[QueueRow]:
    """Claims in review order (article, then position in it), filtered in SQL. With
    `reviewer` (double review), the verdicts and notes are that reviewer's own reviews, not
    the final verdicts: the queue of a blind reviewer. `assigned_to`: only the claims assigned
    to that reviewer. `queue_of`: that reviewer's own queue, "mine" (see `_MINE`)."""
    if status not in STATUSES:
        from workbench.errors import InputError

        raise InputError(f"unknown status {status!r}; use one of: {', '.join(STATUSES)}")
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
        from workbench.verdicts import policy_of

        where.append(_MINE)
        params += [queue_of, queue_of, 2 if policy_of(workspace).double else 1]
    if search:
        # Case-insensitive for ASCII in SQLite; good enough to find a claim by a word or name.
        where.append("(c.text LIKE ? OR COALESCE(v.note, '') LIKE ?)")
        params += [f"%{search}%", f"%{search}%"]
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY a.id, c.start, c.id"
    return [QueueRow(*row) for row in workspace.conn.execute(sql, params)]


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


def _verdicts_of(reviewer: str | None) -> tuple[str, list[str]]:
    """The join that gives each claim its verdict `v`: the final one, or `reviewer`'s own."""
    if reviewer is None:
        return "LEFT JOIN verdicts v ON v.claim_id = c.id", []
    return "LEFT JOIN reviews v ON v.claim_id = c.id AND v.reviewer = ?", [reviewer]


def progress(workspace: Workspace, reviewer: str | None = None) -> dict[str, tuple[int, int]]:
    """(reviewed, total) per article name, plus '' for the whole workspace (by `reviewer`'s
    own reviews when given, as `list_queue`)."""
    out: dict[str, tuple[int, int]] = {}
    reviewed_all = total_all = 0
    join, params = _verdicts_of(reviewer)
    for name, reviewed, total in workspace.conn.execute(
        "SELECT a.name, SUM(CASE WHEN COALESCE(v.verdict, '') != '' THEN 1 ELSE 0 END), "
        f"COUNT(*) FROM claims c JOIN articles a ON a.id = c.article_id {join} "
        "GROUP BY a.id ORDER BY a.id",
        params,
    ):
        out[name] = (int(reviewed), int(total))
        reviewed_all += int(reviewed)
        total_all += int(total)
    out[""] = (reviewed_all, total_all)
    return out


def save_position(workspace: Workspace, reviewer: str, claim_id: int) -> None:
    """Remember where a reviewer is, so that reopening the app returns there."""
    with workspace.transaction() as conn:
        workspace.set_meta(conn, f"position:{reviewer}", claim_id)


def load_position(workspace: Workspace, reviewer: str) -> int | None:
    value = workspace.get_meta(f"position:{reviewer}")
    return int(value) if value is not None else None
