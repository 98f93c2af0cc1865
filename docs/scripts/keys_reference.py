"""Writes docs/reference/keys.md: every key of the review UI, from the screens' own bindings.

    .venv/bin/python docs/scripts/keys_reference.py          (or: make reference)

tests/test_docs.py compares the committed page with `reference()`, so a key added, moved or
renamed in workbench/review/keys.py fails the tests until this script is run again.
"""

from __future__ import annotations

from pathlib import Path

from textual.binding import Binding

from workbench.review.app import ReviewApp
from workbench.review.article_view import ArticleScreen
from workbench.review.modals import (
    ConfirmDialog,
    EditClaimDialog,
    EditorArea,
    FilterDialog,
    HelpScreen,
    HistoryScreen,
    NoteDialog,
    PassageScreen,
    PromptDialog,
)
from workbench.review.team import AdjudicationScreen, AgreementScreen

PAGE = Path(__file__).resolve().parents[1] / "reference" / "keys.md"

# (screen, heading, what it is and how it opens); the text dialogs add the text area's keys.
SCREENS: list[tuple[type, str, str]] = [
    (ReviewApp, "Main screen", "The queue, the claim and its evidence (`workbench review`)."),
    (HelpScreen, "Help", "Every key as currently mapped, and a legend of the marks (`?`)."),
    (NoteDialog, "Note", "The reviewer's note on the claim (`n`); `enter` starts a new line."),
    (EditClaimDialog, "Edit the claim", "The claim's wording (`e`); saving it re-matches it."),
    (PassageScreen, "Evidence in full", "The highlighted passage in full (`enter` or `o`)."),
    (ArticleScreen, "Whole article", "The claim's article, every claim marked (`a`)."),
    (HistoryScreen, "History", "Every action on the claim from the audit log (`H`)."),
    (FilterDialog, "Filter", "Which claims the queue shows (`f`); arrows and `enter` choose."),
    (
        PromptDialog,
        "Search and file names",
        "One line (`/`, or the file `ctrl+e` exports to); `enter` confirms.",
    ),
    (AdjudicationScreen, "Adjudication", "Editors, double review: the reviews side by side (`A`)."),
    (AgreementScreen, "Agreement", "Alpha, kappa and counts between reviewers (`G`)."),
    (ConfirmDialog, "Replace a file?", "Asked when `ctrl+e` would replace an existing file."),
]
TEXT_AREAS = (NoteDialog, EditClaimDialog)

KEY_NAMES = {
    "question_mark": "?",
    "slash": "/",
    "left_square_bracket": "[",
    "right_square_bracket": "]",
    "down": "↓",
    "up": "↑",
    "left": "←",
    "right": "→",
    "pagedown": "page down",
    "pageup": "page up",
}

INTRO = """\
# Review UI keys

Generated from the review UI's own bindings (`workbench/review/keys.py` and the screens that
use them) by `docs/scripts/keys_reference.py` (`make reference`); a test fails when this page
and the code differ. The *id* is the name to remap a key with, in the `[keys]` table of a
config file ([Configuration](../configuration.md#keys)): `next-claim = "l,down"`. *Footer*:
shown in the footer bar (at 80 columns the footer cuts what does not fit; `?` lists every key).
How to use them: [Reviewing claims](../guide/reviewing.md).
"""


def _bindings(screen: type) -> list[Binding]:
    """The workbench's own bindings of a screen: its class's and its workbench bases'."""
    seen: list[Binding] = []
    for cls in reversed(screen.__mro__):
        if cls.__module__.startswith("workbench.") and "BINDINGS" in vars(cls):
            seen += [b for b in cls.BINDINGS if isinstance(b, Binding)]
    if screen in TEXT_AREAS:
        seen += list(EditorArea.BINDINGS)
    # A subclass that redefines a binding id replaces its base's.
    by_id: dict[str, Binding] = {}
    for binding in seen:
        by_id[binding.id or binding.action] = binding
    return list(by_id.values())


def _keys(binding: Binding) -> str:
    return " ".join(f"`{KEY_NAMES.get(k.strip(), k.strip())}`" for k in binding.key.split(","))


def _table(bindings: list[Binding]) -> str:
    lines = ["| keys | action | id | footer |", "|---|---|---|---|"]
    for b in bindings:
        lines.append(f"| {_keys(b)} | {b.description} | `{b.id}` | {'yes' if b.show else ''} |")
    return "\n".join(lines)


def reference() -> str:
    """The whole page: one table per screen, in the order a reviewer meets them."""
    parts = [INTRO]
    for screen, heading, what in SCREENS:
        parts += [f"## {heading}\n", f"{what}\n", _table(_bindings(screen))]
        parts.append("")
    return "\n".join(parts)


def main() -> None:
    PAGE.parent.mkdir(parents=True, exist_ok=True)
    PAGE.write_text(reference(), encoding="utf-8")
    print(f"wrote {PAGE}")


if __name__ == "__main__":
    main()
