"""Tests for the note and edit dialogs: multi-line notes saved with ctrl+s, ctrl+a selects all."""

from __future__ import annotations

from typing import Any

from reviewdata import run_async as _run
from textual.app import App, ComposeResult
from textual.widgets import Label, TextArea

from workbench.review.modals import EditClaimDialog, NoteDialog, TextDialog

SIZE = (80, 24)


class DialogApp(App[None]):
    """Pushes one dialog and records what it was dismissed with."""

    def __init__(self, dialog: TextDialog) -> None:
        super().__init__()
        self.dialog = dialog
        self.results: list[Any] = []

    def compose(self) -> ComposeResult:
        yield Label("under the dialog")

    def on_mount(self) -> None:
        self.push_screen(self.dialog, self.results.append)


def _hint(app: App[None]) -> str:
    return str(app.screen.query_one(".hint", Label).render())


@_run
async def test_enter_is_a_new_line_and_ctrl_s_saves_the_note() -> None:
    app = DialogApp(NoteDialog(3, ""))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a", "enter", "b")
        assert app.results == []  # enter did not save
        assert app.screen.query_one(TextArea).text == "a\nb"
        assert "ctrl+s saves" in _hint(app) and "enter: new line" in _hint(app)
        await pilot.press("ctrl+s")
    assert app.results == ["a\nb"]


@_run
async def test_escape_cancels_a_multi_line_note() -> None:
    app = DialogApp(NoteDialog(3, "first"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter", "x", "escape")
    assert app.results == [None]


@_run
async def test_ctrl_a_selects_all_in_the_note() -> None:
    app = DialogApp(NoteDialog(3, "old line\nsecond"))
    async with app.run_test(size=SIZE) as pilot:
        assert "ctrl+a selects all" in _hint(app)
        await pilot.press("ctrl+a", "n", "e", "w", "ctrl+s")
    assert app.results == ["new"]


@_run
async def test_edit_dialog_saves_with_enter_or_ctrl_s_and_selects_all() -> None:
    app = DialogApp(EditClaimDialog(5, "Old wording."))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+a", *"New", "enter")
    assert app.results == ["New"]
    app = DialogApp(EditClaimDialog(5, "Old wording."))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*" ok", "ctrl+s")
    assert app.results == ["Old wording. ok"]
