"""Provides the review queue: claims with their verdicts, filtered and counted, and positions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
    low: bool = False
    """Under the check-worthiness threshold it was extracted with."""


def list_queue(
    workspace: Workspace,
    status: str = "all",
    verdict: str | None = None,
    article: str | None = None,
    search: str | None = None,
    reviewer: str | None = None,
    assigned_to: str | None = None,
    queue_of: str | None = None,
    low: bool = False,
) -> list[QueueRow]:
    """Claims in review order (article, then position in it), filtered in SQL. With
    `reviewer` (double review), the verdicts and notes are that reviewer's own reviews, not
    the final verdicts: the queue of a blind reviewer. `assigned_to`: only the claims assigned
    to that reviewer. `queue_of`: that reviewer's own queue, "mine" (see `store.queue._MINE`).
    `search` ignores case and accents: 'reunion' and 'RÉUNION' find 'réunion'
    (`textfold.fold`); a `%` or `_` in it is that character, not a wildcard. Claims under
    their check-worthiness threshold that nobody took up (no verdict, note, citation, edit
    or assignment: `store.queue.HIDDEN_SQL`) are left out unless `low`; `count_low` says
    how many."""
    filters = _filters(workspace, status, verdict, article, search, reviewer, assigned_to, queue_of)
    return [QueueRow(*row) for row in workspace.queue_rows(**filters, low=low)]


def count_low(
    workspace: Workspace,
    status: str = "all",
    verdict: str | None = None,
    article: str | None = None,
    search: str | None = None,
    reviewer: str | None = None,
    assigned_to: str | None = None,
    queue_of: str | None = None,
) -> int:
    """How many claims under their check-worthiness threshold `list_queue` leaves out with
    these filters (the "N more" a reviewer can show)."""
    filters = _filters(workspace, status, verdict, article, search, reviewer, assigned_to, queue_of)
    return workspace.low_count(**filters)


def _filters(
    workspace: Workspace,
    status: str,
    verdict: str | None,
    article: str | None,
    search: str | None,
    reviewer: str | None,
    assigned_to: str | None,
    queue_of: str | None,
) -> dict[str, Any]:
    """The store's queue filters, checked; `needed` is read from the review policy."""
    if status not in STATUSES:
        from workbench.errors import InputError

        raise InputError(f"unknown status {status!r}; use one of: {', '.join(STATUSES)}")
    needed = 1
    if queue_of is not None:
        from workbench.verdicts import policy_of

        needed = 2 if policy_of(workspace).double else 1
    return {
        "status": status,
        "verdict": verdict,
        "article": article,
        "search": search,
        "reviewer": reviewer,
        "assigned_to": assigned_to,
        "queue_of": queue_of,
        "needed": needed,
    }


def progress(workspace: Workspace, reviewer: str | None = None) -> dict[str, tuple[int, int]]:
    """(reviewed, total) per article name, plus '' for the whole workspace (by `reviewer`'s
    own reviews when given, as `list_queue`); a claim under its check-worthiness threshold
    counts once it has a verdict."""
    out: dict[str, tuple[int, int]] = {}
    reviewed_all = total_all = 0
    for name, reviewed, total in workspace.progress_rows(reviewer):
        out[name] = (reviewed, total)
        reviewed_all += reviewed
        total_all += total
    out[""] = (reviewed_all, total_all)
    return out


def save_position(workspace: Workspace, reviewer: str, claim_id: int) -> None:
    """Remember where a reviewer is, so that reopening the app returns there."""
    with workspace.transaction() as conn:
        workspace.set_meta(conn, f"position:{reviewer}", claim_id)


def load_position(workspace: Workspace, reviewer: str) -> int | None:
    value = workspace.get_meta(f"position:{reviewer}")
    return int(value) if value is not None else None
