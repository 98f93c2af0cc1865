"""Provides the claim queue: a table of claims that renders only the rows on screen.

Textual's DataTable measures every cell when rows are added and re-sorts its rows on every
cell update; with 10,000 claims that took seconds to load and ~100 ms per verdict. This
widget keeps the rows in a list and draws the visible lines (Textual's line API), so loading
is one list and a badge change redraws one line.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from workbench.queue import QueueRow
from workbench.review.widgets.badge import badge, badge_style

CLAIM_WIDTH = 120
ARTICLE_WIDTH = 12


def short(text: str, width: int) -> str:
    """One line of at most `width` characters, cut with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int


COLUMNS = (
    Column("id", "id", 5),
    Column("verdict", "verdict", 13),
    Column("score", "score", 6),
    Column("article", "article", ARTICLE_WIDTH + 1),
    Column("claim", "claim", CLAIM_WIDTH),
)
# Under this width the score and article columns give their room to the claim's wording:
# a queue two characters wide for the claim says nothing.
FULL_WIDTH = 70
NARROW = (0, 1, 4)
FULL = (0, 1, 2, 3, 4)


def visible_columns(width: int) -> tuple[int, ...]:
    """Indexes into COLUMNS shown at this width: the claim always, score and article if room."""
    return FULL if width >= FULL_WIDTH else NARROW


class ClaimQueue(ScrollView):
    """The claims of the current filter, one line each under a fixed header line.

    The app moves the cursor; a click posts `RowClicked`. Never focused, so that every key
    goes to the app's bindings (and their remaps) whatever was clicked last.
    """

    can_focus = False
    COMPONENT_CLASSES = {
        "claim-queue--header",
        "claim-queue--cursor",
        "claim-queue--odd",
    }

    class RowClicked(Message):
        """The reviewer clicked a row."""

        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.cursor_row = 0
        self.claim_ids: list[int] = []
        self._cells: list[list[str]] = []
        self._index: dict[int, int] = {}
        self._styles: dict[str, Style] = {}

    # ----- data ----------------------------------------------------------------------------
    @property
    def row_count(self) -> int:
        return len(self.claim_ids)

    def show_rows(self, rows: list[QueueRow]) -> None:
        """Replace every row (a filter, a search, a refresh)."""
        self.claim_ids = [row.claim_id for row in rows]
        self._index = {claim_id: i for i, claim_id in enumerate(self.claim_ids)}
        self._cells = [
            [
                str(row.claim_id),
                row.verdict,
                f"{row.score:.2f}",
                short(row.article, ARTICLE_WIDTH),
                short(row.text, CLAIM_WIDTH),
            ]
            for row in rows
        ]
        self.cursor_row = 0
        self.virtual_size = Size(sum(c.width for c in COLUMNS), len(rows) + 1)
        self.scroll_to(y=0, animate=False, immediate=True)
        self.refresh()

    def index_of(self, claim_id: int) -> int | None:
        return self._index.get(claim_id)

    def claim_at(self, index: int) -> int | None:
        return self.claim_ids[index] if 0 <= index < len(self.claim_ids) else None

    def cell(self, claim_id: int, key: str) -> str:
        """A cell's value as stored: the verdict column holds the verdict id."""
        column = next(i for i, c in enumerate(COLUMNS) if c.key == key)
        return self._cells[self._index[claim_id]][column]

    def set_verdict(self, claim_id: int, verdict_id: str) -> None:
        self._set(claim_id, 1, verdict_id)

    def set_text(self, claim_id: int, text: str) -> None:
        self._set(claim_id, 4, short(text, CLAIM_WIDTH))

    def _set(self, claim_id: int, column: int, value: str) -> None:
        index = self._index.get(claim_id)
        if index is not None:
            self._cells[index][column] = value
            self.refresh_line(index + 1)

    # ----- cursor --------------------------------------------------------------------------
    def move_cursor(self, row: int) -> None:
        if not self.claim_ids:
            return
        old, self.cursor_row = self.cursor_row, max(0, min(row, len(self.claim_ids) - 1))
        self.refresh_line(old + 1)
        self.refresh_line(self.cursor_row + 1)
        self._scroll_to_cursor()

    def _scroll_to_cursor(self) -> None:
        visible = self.scrollable_content_region.height - 1  # under the header line
        if visible < 1:
            return  # not laid out yet: on_resize scrolls once the size is known
        top = round(self.scroll_offset.y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= top + visible:
            self.scroll_to(y=self.cursor_row - visible + 1, animate=False, immediate=True)

    def on_resize(self) -> None:
        self._scroll_to_cursor()

    def on_click(self, event: events.Click) -> None:
        line = event.get_content_offset(self)
        if line is None or line.y == 0:
            return  # the header
        index = round(self.scroll_offset.y) + line.y - 1
        if 0 <= index < len(self.claim_ids):
            self.post_message(self.RowClicked(index))

    # ----- drawing -------------------------------------------------------------------------
    def notify_style_update(self) -> None:
        self._styles.clear()
        super().notify_style_update()

    def _style(self, name: str) -> Style:
        # Resolved once per theme: every visible line asks for them on every repaint.
        if name not in self._styles:
            base = self.rich_style
            self._styles[name] = base + self.get_component_rich_style(name) if name else base
        return self._styles[name]

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        plain = Style()
        if y == 0:
            cells = [(c.label, plain) for c in COLUMNS]
            return self._strip(cells, self._style("claim-queue--header"), width)
        index = round(self.scroll_offset.y) + y - 1
        if index >= len(self._cells):
            return Strip.blank(width, self._style(""))
        row = self._cells[index]
        if index == self.cursor_row:
            style = self._style("claim-queue--cursor")
        else:
            style = self._style("claim-queue--odd" if index % 2 else "")
        cells = [
            (row[0], plain),
            (badge(row[1]).plain, badge_style(row[1])),
            (row[2], plain),
            (row[3], plain),
            (row[4], plain),
        ]
        return self._strip(cells, style, width)

    @staticmethod
    def _strip(cells: list[tuple[str, Style]], style: Style, width: int) -> Strip:
        segments = []
        for index in visible_columns(width):
            (text, cell_style), column = cells[index], COLUMNS[index]
            text = set_cell_size(text, column.width - 1) + " "
            segments.append(Segment(text, style + cell_style))
        return Strip(segments).crop_extend(0, width, style)
