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
) -> list[QueueRow]:
    """Claims in review order (article, then position in it), filtered in SQL. With
    `reviewer` (double review), the verdicts and notes are that reviewer's own reviews, not
    the final verdicts: the queue of a blind reviewer."""
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
    if search:
        # Case-insensitive for ASCII in SQLite; good enough to find a claim by a word or name.
        where.append("(c.text LIKE ? OR COALESCE(v.note, '') LIKE ?)")
        params += [f"%{search}%", f"%{search}%"]
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY a.id, c.start, c.id"
    return [QueueRow(*row) for row in workspace.conn.execute(sql, params)]


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
