"""Provides the review UI's dialogs: help, text editors, evidence, history, filter, prompts."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.events import Resize
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from workbench.history import Event, excerpt
from workbench.review.filters import QueueFilter
from workbench.review.highlight import marked
from workbench.review.keys import (
    CLOSE_BINDINGS,
    HELP_BINDINGS,
    HISTORY_BINDINGS,
    PASSAGE_BINDINGS,
    SAVE_BINDINGS,
)
from workbench.scale import SCALE


class HelpScreen(ModalScreen[None]):
    """Every key of the main screen with what it does, as currently mapped."""

    BINDINGS = [*HELP_BINDINGS]

    def __init__(
        self, rows: list[tuple[str, str]], marks: list[tuple[str, str]] | None = None
    ) -> None:
        """`rows`: (keys, what they do); `marks`: (mark, what it means) of the evidence list."""
        super().__init__()
        self.rows = rows
        self.marks = marks or []

    def compose(self) -> ComposeResult:
        table = Text()
        width = max((len(keys) for keys, _ in self.rows + self.marks), default=0)
        for keys, description in self.rows:
            table.append(keys.ljust(width + 2), style="bold")
            table.append(description + "\n")
        if self.marks:
            table.append("\nMarks beside the evidence\n", style="bold underline")
            for mark, meaning in self.marks:
                table.append(mark.ljust(width + 2), style="bold")
                table.append(meaning + "\n")
        with Vertical(classes="dialog help"):
            yield Label("Keys", classes="dialog-title")
            # Focused, so that up/down/pgup/pgdn scroll it: the list is longer than 24 rows.
            yield VerticalScroll(Static(table), id="help-keys")
            yield Label(
                "↑↓ scroll · escape closes · keys can be remapped in config.toml [keys]",
                classes="hint",
            )

    def on_mount(self) -> None:
        self.query_one("#help-keys").focus()

    def action_close(self) -> None:
        self.dismiss(None)


class EditorArea(TextArea):
    """A text area where ctrl+a selects everything, as in most editors (TextArea's own
    ctrl+a goes to the line start, and its select-all key is F7)."""

    BINDINGS = [
        Binding("ctrl+a", "select_all", "Select all", id="dialog-select-all", priority=True),
    ]


class TextDialog(ModalScreen[str | None]):
    """Edit a text; dismissed with the new text (ctrl+s) or None (escape); enter is a new line."""

    # Subclasses add to these (Textual merges a class's BINDINGS with its bases').
    BINDINGS = [b for b in SAVE_BINDINGS if b.id != "dialog-save-enter"]
    HINT = "enter: new line · ctrl+s saves · ctrl+a selects all · escape cancels"

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.title_text = title
        self.initial = text

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            # Text, never a string: the title may quote what a reviewer typed.
            yield Label(Text(self.title_text), classes="dialog-title")
            yield EditorArea(self.initial, soft_wrap=True, id="dialog-text")
            yield Label(self.HINT, classes="hint")

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        area.focus()
        area.move_cursor(area.document.end)

    def action_save(self) -> None:
        self.dismiss(self.query_one(TextArea).text)

    def action_cancel(self) -> None:
        self.dismiss(None)


class NoteDialog(TextDialog):
    """The reviewer's note on a claim: several lines, enter starts a new one."""

    def __init__(self, claim_id: int, note: str) -> None:
        super().__init__(f"Note on claim {claim_id}", note)


class EditClaimDialog(TextDialog):
    """The claim's wording, one sentence: enter saves too; saving it re-matches the claim."""

    BINDINGS = [b for b in SAVE_BINDINGS if b.id == "dialog-save-enter"]
    HINT = "ctrl+s or enter saves · ctrl+a selects all · escape cancels"

    def __init__(self, claim_id: int, text: str) -> None:
        super().__init__(f"Reword claim {claim_id} (its evidence is then matched again)", text)


class PromptDialog(ModalScreen[str | None]):
    """One line of input; dismissed with it on enter, or None on escape."""

    BINDINGS = [b for b in SAVE_BINDINGS if b.action == "cancel"]

    def __init__(self, title: str, value: str = "", placeholder: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.value = value
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog prompt"):
            yield Label(self.title_text, classes="dialog-title")
            yield Input(self.value, placeholder=self.placeholder)
            yield Label("enter confirms · escape cancels", classes="hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmDialog(ModalScreen[bool]):
    """A yes-or-no question; dismissed with True on y, False on n or escape."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm-yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm-no"),
    ]

    def __init__(self, title: str, detail: str) -> None:
        super().__init__()
        self.title_text = title
        self.detail = detail

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog prompt"):
            # A file name: shown as typed, never read as markup ("a[/].jsonl", "[@click=...]").
            yield Label(Text(self.title_text), classes="dialog-title")
            yield Label(Text(self.detail))
            yield Label("y replaces it · n or escape keeps it", classes="hint")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class PassageScreen(ModalScreen[None]):
    """An evidence passage in full, with its provenance and the shared terms marked."""

    BINDINGS = [*PASSAGE_BINDINGS]

    def __init__(self, match: dict[str, Any], spans: list[tuple[int, int]]) -> None:
        super().__init__()
        self.match = match
        self.spans = spans

    def compose(self) -> ComposeResult:
        match = self.match
        head = Text()
        head.append(match["title"] or match["evidence_id"], style="bold")
        for label, key in (
            ("evidence", "evidence_id"),
            ("publisher", "publisher"),
            ("published", "published"),
            ("language", "lang"),
            ("url", "url"),
        ):
            if match.get(key):
                head.append(f"\n{label}: ", style="dim")
                head.append(str(match[key]))
        head.append(f"\nrank {match['rank']} · score {match['score']:.3f}\n", style="dim")
        with Vertical(classes="dialog passage"):
            yield Static(head)
            yield VerticalScroll(Static(marked(match["text"], self.spans)))
            yield Label("escape closes", classes="hint")

    def action_close(self) -> None:
        self.dismiss(None)


class HistoryTable(DataTable[Text]):
    """A claim's history, one row per action; the description wraps in what width is left."""

    # Cells are Text, never strings: a DataTable reads a string as markup, and these hold
    # what other reviewers typed.
    def __init__(self, events: list[Event]) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True)
        self.events = events
        self._filled_width = -1

    def on_resize(self, event: Resize) -> None:
        if event.size.width != self._filled_width:
            self._filled_width = event.size.width
            self._fill(event.size.width)

    def _fill(self, width: int) -> None:
        row = self.cursor_row
        self.clear(columns=True)
        who = min(max(len(e.who) for e in self.events), 16)
        action = min(max(len(e.action) for e in self.events), 20)
        # Each column has a cell of padding either side; the scrollbar takes two.
        what = max(24, width - 16 - max(who, 3) - max(action, 6) - 4 * 2 - 2)
        self.add_column("When (UTC)", width=16)
        self.add_column("Who", width=max(who, 3))
        self.add_column("Action", width=max(action, 6))
        self.add_column("What changed", width=what)
        for e in self.events:
            self.add_row(Text(e.when), Text(e.who), Text(e.action), Text(e.what), height=None)
        # The latest action is the one a reviewer most often comes for.
        self.move_cursor(row=row if row > 0 else len(self.events) - 1, animate=False)


class HistoryScreen(ModalScreen[None]):
    """Every action on a claim from the audit log: who, when, what changed."""

    BINDINGS = [*HISTORY_BINDINGS]

    def __init__(
        self, claim_id: int, claim_text: str, events: list[Event], hidden_note: str = ""
    ) -> None:
        super().__init__()
        self.claim_id = claim_id
        self.claim_text = claim_text
        self.events = events
        self.hidden_note = hidden_note
        """Blind double review: the line that says how many actions are left out."""

    def compose(self) -> ComposeResult:
        title = Text()
        title.append(f"History of claim {self.claim_id}: ", style="bold")
        title.append(excerpt(self.claim_text, 80))
        with Vertical(classes="dialog history"):
            yield Label(title, classes="dialog-title")
            if self.hidden_note:
                yield Static(Text(self.hidden_note, style="italic"), id="history-hidden")
            if self.events:
                yield HistoryTable(self.events)
            elif not self.hidden_note:
                yield Static(
                    Text("No action recorded on this claim yet.", style="dim"), id="history-empty"
                )
            yield Label("times in UTC · escape closes", classes="hint")

    def on_mount(self) -> None:
        if self.events:
            self.query_one(HistoryTable).focus()

    def action_close(self) -> None:
        self.dismiss(None)


class FilterDialog(ModalScreen[QueueFilter | None]):
    """Choose which claims the queue shows: by status, verdict or article."""

    BINDINGS = [*CLOSE_BINDINGS]

    def __init__(self, current: QueueFilter, articles: list[str], offer_mine: bool = False) -> None:
        super().__init__()
        self.current = current
        self.articles = articles
        self.offer_mine = offer_mine or current.mine
        """Whether to offer "mine" and "everyone's" (a reviewer with assignments)."""
        self.choices: dict[str, QueueFilter] = {
            "all": current.with_status("all"),
            "unreviewed": current.with_status("unreviewed"),
            "reviewed": current.with_status("reviewed"),
        }
        for rating in SCALE:
            self.choices[f"verdict:{rating.id}"] = current.with_verdict(rating.id)
        self.choices["article:"] = replace(current, article="")
        for name in articles:
            self.choices[f"article:{name}"] = replace(current, article=name)
        self.choices["mine:on"] = replace(current, mine=True)
        self.choices["mine:off"] = replace(current, mine=False)

    def compose(self) -> ComposeResult:
        options: list[Option | None] = [
            Option("All claims", id="all"),
            Option("Unreviewed", id="unreviewed"),
            Option("Reviewed", id="reviewed"),
            None,
            *(Option(f"Verdict: {r.label_en}", id=f"verdict:{r.id}") for r in SCALE),
            None,
            Option("Every article", id="article:"),
            *(Option(f"Article: {name}", id=f"article:{name}") for name in self.articles),
        ]
        if self.offer_mine:
            options += [
                None,
                Option("Mine: assigned to me or needing my review", id="mine:on"),
                Option("Everyone's claims", id="mine:off"),
            ]
        with Vertical(classes="dialog filter"):
            yield Label(
                f"Filter the queue (now: {self.current.describe()})", classes="dialog-title"
            )
            yield OptionList(*options)
            yield Label("enter chooses · escape closes", classes="hint")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.choices[event.option.id or "all"])

    def action_close(self) -> None:
        self.dismiss(None)
