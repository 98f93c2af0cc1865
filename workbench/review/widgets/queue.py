"""Provides the claim queue: one row per claim, loaded in one batch, updated cell by cell."""

from __future__ import annotations

from textual.widgets import DataTable

from workbench.queue import QueueRow
from workbench.review.widgets.badge import badge

CLAIM_WIDTH = 70


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


class ClaimQueue(DataTable):
    """The claims of the current filter; the app moves the cursor, keys go to the app."""

    # Never focused: every key is the app's, so j/k, enter and remaps behave the same
    # whatever was clicked last.
    can_focus = False

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        # Fixed widths: no measuring of 10,000 cells while loading.
        self.add_column("id", width=5, key="id")
        self.add_column("verdict", width=12, key="verdict")
        self.add_column("score", width=5, key="score")
        self.add_column("article", width=14, key="article")
        self.add_column("claim", width=CLAIM_WIDTH, key="claim")
        self.claim_ids: list[int] = []

    def show_rows(self, rows: list[QueueRow]) -> None:
        """Replace every row (a filter, a search, a refresh)."""
        self.clear()
        self.claim_ids = [row.claim_id for row in rows]
        for row in rows:
            self.add_row(
                str(row.claim_id),
                badge(row.verdict),
                f"{row.score:.2f}",
                _short(row.article, 14),
                _short(row.text, CLAIM_WIDTH),
                key=str(row.claim_id),
            )

    def index_of(self, claim_id: int) -> int | None:
        key = str(claim_id)
        if key not in self.rows:
            return None
        return self.get_row_index(key)

    def claim_at(self, index: int) -> int | None:
        return self.claim_ids[index] if 0 <= index < len(self.claim_ids) else None

    def set_verdict(self, claim_id: int, verdict_id: str) -> None:
        if str(claim_id) in self.rows:
            self.update_cell(str(claim_id), "verdict", badge(verdict_id))

    def set_text(self, claim_id: int, text: str) -> None:
        if str(claim_id) in self.rows:
            self.update_cell(str(claim_id), "claim", _short(text, CLAIM_WIDTH))
