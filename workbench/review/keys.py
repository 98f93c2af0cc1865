"""Provides the review UI's key bindings as data, and the keymap built from the user's settings."""

from __future__ import annotations

from textual.binding import Binding

from workbench.scale import SCALE

# Main screen. The id of a binding is what a config file remaps ([keys] next-claim = "n");
# the action's name with underscores ("next_claim", "verdict_false") is accepted too.
REVIEW_BINDINGS: list[Binding] = [
    # In footer order, most used first: the footer cuts what does not fit at 80 columns,
    # and help (`?`, always first) lists every key.
    Binding("question_mark", "help", "Help", id="help"),
    Binding("j,down", "next_claim", "Next", id="next-claim"),
    Binding("k,up", "previous_claim", "Previous", id="previous-claim", show=False),
    *(
        # Shown under the queue rather than in the footer, which has no room for eight.
        Binding(
            rating.key,
            f"verdict('{rating.id}')",
            rating.label_en,
            id=f"verdict-{rating.id}",
            show=False,
        )
        for rating in SCALE
    ),
    Binding("n", "note", "Note", id="note"),
    Binding("ctrl+z,u", "undo", "Undo", id="undo"),
    Binding("c", "toggle_cite", "Cite", id="cite"),
    Binding("J,right_square_bracket", "next_evidence", "Evidence", id="next-evidence"),
    Binding(
        "K,left_square_bracket",
        "previous_evidence",
        "Previous evidence",
        id="previous-evidence",
        show=False,
    ),
    Binding("a", "article", "Article", id="article"),
    Binding("e", "edit_claim", "Edit", id="edit-claim"),
    Binding("slash", "search", "Search", id="search"),
    Binding("f", "filter", "Filter", id="filter"),
    Binding("h", "hints", "Hints", id="hints"),
    Binding("enter,o", "open_passage", "Open", id="open-passage"),
    Binding("q", "quit", "Quit", id="quit"),
    Binding("ctrl+y,U", "redo", "Redo", id="redo", show=False),
    Binding("pagedown", "page(1)", "Page down", id="page-down", show=False),
    Binding("pageup", "page(-1)", "Page up", id="page-up", show=False),
    Binding("ctrl+d", "scroll_claim(1)", "Scroll the claim down", id="claim-down", show=False),
    Binding("ctrl+u", "scroll_claim(-1)", "Scroll the claim up", id="claim-up", show=False),
    Binding(
        "ctrl+f", "scroll_evidence(1)", "Scroll the evidence down", id="evidence-down", show=False
    ),
    Binding(
        "ctrl+b", "scroll_evidence(-1)", "Scroll the evidence up", id="evidence-up", show=False
    ),
    Binding("l", "toggle_queue", "Hide or show the queue", id="toggle-queue", show=False),
    Binding(
        "L", "toggle_low", "Show or hide low check-worthiness claims", id="toggle-low", show=False
    ),
    Binding("ctrl+e", "export", "Export", id="export", show=False),
    Binding("H", "history", "History", id="history", show=False),
    Binding("A", "adjudicate", "Adjudicate (editors)", id="adjudicate", show=False),
    Binding("G", "agreement", "Agreement", id="agreement", show=False),
    Binding("r,ctrl+r", "refresh", "Refresh", id="refresh", show=False),
]

# Keys of the modal dialogs, remappable the same way.
SAVE_BINDINGS: list[Binding] = [
    Binding("ctrl+s", "save", "Save", id="dialog-save", priority=True),
    Binding("enter", "save", "Save", id="dialog-save-enter", priority=True),
    Binding("escape", "cancel", "Cancel", id="dialog-cancel"),
]
CLOSE_BINDINGS: list[Binding] = [
    Binding("escape,q", "close", "Close", id="dialog-close"),
]
# The key that opened a dialog closes it again.
HELP_BINDINGS: list[Binding] = [
    *CLOSE_BINDINGS,
    Binding("question_mark", "close", "Close", id="help-close", show=False),
]
PASSAGE_BINDINGS: list[Binding] = [
    *CLOSE_BINDINGS,
    Binding("enter,o", "close", "Close", id="passage-close", show=False),
]
HISTORY_BINDINGS: list[Binding] = [
    *CLOSE_BINDINGS,
    Binding("H", "close", "Close", id="history-close", show=False),
]

# The editor's adjudication screen: a verdict key (as remapped on the main screen) decides
# that verdict; a letter, or left/right and enter, takes a reviewer's review.
PICK_LETTERS = "abcdefgh"
ADJUDICATION_BINDINGS: list[Binding] = [
    *CLOSE_BINDINGS,
    Binding("A", "close", "Close", id="adjudicate-close", show=False),
    *(
        Binding(
            rating.key,
            f"override('{rating.id}')",
            rating.label_en,
            id=f"verdict-{rating.id}",
            show=False,
        )
        for rating in SCALE
    ),
    *(
        Binding(letter, f"pick({i})", f"Take review {letter}", id=f"pick-{letter}", show=False)
        for i, letter in enumerate(PICK_LETTERS)
    ),
    Binding("left", "move(-1)", "Previous review", id="pick-previous", show=False),
    Binding("right", "move(1)", "Next review", id="pick-next", show=False),
    Binding("enter", "pick_selected", "Take the selected review", id="pick-selected"),
    Binding("p", "approve", "Approve", id="approve"),
]
AGREEMENT_BINDINGS: list[Binding] = [
    *CLOSE_BINDINGS,
    Binding("G", "close", "Close", id="agreement-close", show=False),
]

# The whole-article view (`a`).
ARTICLE_BINDINGS: list[Binding] = [
    *CLOSE_BINDINGS,
    # The key that opened the view closes it again.
    Binding("a", "close", "Close", id="article-close", show=False),
    Binding("j,down", "scroll(1)", "Scroll down", id="article-down", show=False),
    Binding("k,up", "scroll(-1)", "Scroll up", id="article-up", show=False),
    Binding("pagedown,space", "page(1)", "Page down", id="article-page-down", show=False),
    Binding("pageup", "page(-1)", "Page up", id="article-page-up", show=False),
    Binding("n,tab", "select(1)", "Next claim", id="article-next-claim"),
    Binding("p,shift+tab", "select(-1)", "Previous claim", id="article-previous-claim"),
    Binding("enter", "go", "Go to the claim", id="article-go"),
]

BINDING_IDS = frozenset(
    b.id
    for b in (
        *REVIEW_BINDINGS,
        *SAVE_BINDINGS,
        *HELP_BINDINGS,
        *PASSAGE_BINDINGS,
        *HISTORY_BINDINGS,
        *ADJUDICATION_BINDINGS,
        *AGREEMENT_BINDINGS,
        *ARTICLE_BINDINGS,
    )
    if b.id is not None
)


def keymap_from_settings(keys: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """Textual keymap (binding id -> "k1,k2") from the settings' [keys], and unknown names."""
    keymap: dict[str, str] = {}
    unknown: list[str] = []
    for name, value in keys.items():
        binding_id = name.strip().lower().replace("_", "-")
        if binding_id not in BINDING_IDS:
            unknown.append(name)
            continue
        keymap[binding_id] = ",".join(k.strip() for k in value.split(",") if k.strip())
    return keymap, unknown
