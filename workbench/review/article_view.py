"""Provides the article view: a claim's whole article, every claim in it marked with its verdict."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.geometry import Size
from textual.screen import ModalScreen
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Label, Static

from workbench.queue import list_queue
from workbench.review.keys import ARTICLE_BINDINGS
from workbench.review.widgets.badge import badge_style
from workbench.scale import BY_ID
from workbench.verdicts import policy_of
from workbench.workspace import Workspace

CURRENT_STYLE = Style(bold=True, reverse=True)
SELECTED_STYLE = Style.parse("bold black on yellow")
OTHER_STYLE = Style(underline=True)

# C0 and C1 control characters (escape sequences above all) become spaces: the article is
# untrusted, and one character for one keeps the claims' offsets valid.
_CONTROLS = {c: " " for c in (*range(0x00, 0x20), *range(0x7F, 0xA0)) if c != ord("\n")}


@dataclass(frozen=True)
class ArticleClaim:
    """A claim of the article: its span (offsets into the article's text) and verdict id."""

    id: int
    start: int
    end: int
    verdict: str = ""


@dataclass(frozen=True)
class ArticleData:
    """What the article view shows: the article's name and text, its claims, the current one."""

    title: str
    text: str
    claims: tuple[ArticleClaim, ...]
    current: int


def article_view_data(workspace: Workspace, claim_id: int, reviewer: str) -> ArticleData:
    """The article of a claim with its claims and their verdicts as the queue shows them: in
    double review `reviewer`'s own (blind), else the final ones. Text '' for given claims."""
    rows = workspace.claims([claim_id])
    found = workspace.article_of(claim_id)
    if not rows or found is None:
        return ArticleData("", "", (), claim_id)
    article_id, text, _published = found
    name = rows[0].article
    blind = reviewer if policy_of(workspace).double else None
    verdicts = {
        # Every stored claim of the article, those under the check-worthiness threshold too:
        # the whole article is where a mis-scored claim is seen.
        row.claim_id: row.verdict
        for row in list_queue(workspace, article=name, reviewer=blind, low=True)
    }
    claims = tuple(
        ArticleClaim(c.id, c.start, c.end, verdicts.get(c.id, ""))
        for c in workspace.claims(list(verdicts))
        if _in_article(workspace, c.id, article_id)
    )
    return ArticleData(name, text, claims, claim_id)


def _in_article(workspace: Workspace, claim_id: int, article_id: int) -> bool:
    # The queue finds an article by its name, and two articles may share one.
    found = workspace.article_of(claim_id)
    return found is not None and found[0] == article_id


def clamp_span(claim: ArticleClaim, length: int) -> tuple[int, int]:
    """The claim's span inside a text of `length` characters (stale offsets are cut)."""
    start = max(0, min(claim.start, length))
    return start, max(start, min(claim.end, length))


def verdict_name(verdict_id: str) -> str:
    """The verdict's label in lower case; "unreviewed" for none."""
    rating = BY_ID.get(verdict_id)
    return rating.label_en.lower() if rating else (verdict_id or "unreviewed")


def verdict_badge(claim: ArticleClaim) -> str:
    return f"[#{claim.id} {verdict_name(claim.verdict)}]"


def article_text(
    text: str, claims: Sequence[ArticleClaim], current: int, selected: int | None
) -> Text:
    """The article as Rich text (never markup): the current claim reversed, the selected one
    on yellow, the others underlined, each followed by its number and verdict.

    Every styled piece carries the claim's id in its style's meta (`claim`), which the view
    reads back after wrapping to know on which lines a claim lies."""
    clean = text.translate(_CONTROLS)
    spans = [(*clamp_span(c, len(clean)), c) for c in claims]
    cuts = sorted({0, len(clean), *(s for s, _, _ in spans), *(e for _, e, _ in spans)})
    out = Text()
    for index, position in enumerate(cuts):
        # A claim's badge comes right after its last character.
        for _, end, claim in spans:
            if end == position:
                out.append(" ")
                out.append(verdict_badge(claim), _badge_style(claim, current, selected))
        if index + 1 < len(cuts):
            finish = cuts[index + 1]
            covering = [c for s, e, c in spans if s <= position and finish <= e]
            out.append(clean[position:finish], _piece_style(covering, current, selected))
    return out


def _meta(claim_id: int) -> Style:
    return Style(meta={"claim": claim_id})


def _piece_style(covering: list[ArticleClaim], current: int, selected: int | None) -> Style:
    """Claims may overlap: the selected one shows above the current one, above the others."""
    if not covering:
        return Style()
    ids = {c.id for c in covering}
    if selected is not None and selected in ids and selected != current:
        return SELECTED_STYLE + _meta(selected)
    if current in ids:
        # Underlined as well while selected, as the other claims are: enter goes there.
        return CURRENT_STYLE + Style(underline=selected == current) + _meta(current)
    # The innermost claim (the last to start) names the piece.
    return OTHER_STYLE + _meta(covering[-1].id)


def _badge_style(claim: ArticleClaim, current: int, selected: int | None) -> Style:
    if claim.id == selected and selected != current:
        style = SELECTED_STYLE
    elif claim.id == current:
        style = CURRENT_STYLE
    else:
        style = badge_style(claim.verdict) + Style(italic=True)
    return style + _meta(claim.id)


class ArticleText(ScrollView, can_focus=False):
    """Rich text wrapped to the view's width, drawn line by line; knows where each claim is.

    Not focusable: every key goes to the article screen's bindings."""

    def __init__(self, text: Text, keep_visible: int | None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.text = text
        self.lines: list[Text] = []
        self.claim_lines: dict[int, tuple[int, int]] = {}
        """First and last wrapped line of each claim (its span and its badge)."""
        self.keep_visible = keep_visible
        """The claim scrolled into view once the text is wrapped (after a resize too)."""

    def show(self, text: Text, keep_visible: int | None) -> None:
        self.text = text
        self.keep_visible = keep_visible
        self._wrap()

    @property
    def plain(self) -> str:
        return self.text.plain

    def _wrap(self) -> None:
        width = self.scrollable_content_region.width
        if width < 1:
            return  # not laid out yet: on_resize wraps
        self.lines = list(self.text.wrap(self.app.console, width, overflow="fold"))
        self.claim_lines = {}
        for index, line in enumerate(self.lines):
            for span in line.spans:
                claim_id = span.style.meta.get("claim") if isinstance(span.style, Style) else None
                if claim_id is not None:
                    first, _ = self.claim_lines.get(claim_id, (index, index))
                    self.claim_lines[claim_id] = (first, index)
        self.virtual_size = Size(width, len(self.lines))
        if self.keep_visible is not None:
            self.scroll_to_claim(self.keep_visible)
        self.refresh()

    def scroll_to_claim(self, claim_id: int) -> None:
        """Scroll so that the claim is on screen, a third down when it was not."""
        lines = self.claim_lines.get(claim_id)
        height = self.scrollable_content_region.height
        if lines is None or height < 1:
            return
        first, last = lines
        top = round(self.scroll_offset.y)
        if first < top or last >= top + height:
            target = first - height // 3 if last - first < height else first
            # Forced: right after a wrap the scrollbar (and so the permission) is not there yet.
            self.scroll_to(y=max(0, target), animate=False, immediate=True, force=True)

    def on_resize(self) -> None:
        self._wrap()

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = round(self.scroll_offset.y) + y
        if index >= len(self.lines):
            return Strip.blank(width, self.rich_style)
        strip = Strip(list(self.lines[index].render(self.app.console)))
        return strip.apply_style(self.rich_style).adjust_cell_length(width, self.rich_style)


class ArticleScreen(ModalScreen[int | None]):
    """A claim's whole article; dismissed with the chosen claim's id (enter) or None."""

    BINDINGS = ARTICLE_BINDINGS

    def __init__(self, title: str, text: str, claims: Sequence[ArticleClaim], current: int) -> None:
        super().__init__()
        self.title_text = title
        self.text = text
        self.claims = sorted(claims, key=lambda c: (*clamp_span(c, len(text)), c.id))
        ids = [c.id for c in self.claims]
        self.selected: int | None = current if current in ids else (ids[0] if ids else None)
        """The claim enter goes to; n and p move it along the article."""
        self.current = current

    def compose(self) -> ComposeResult:
        title = Text()
        title.append(self.title_text or "Article", style="bold")
        title.append(f" · {len(self.claims)} claims", style="dim")
        with Vertical(classes="dialog article"):
            yield Label(title, classes="dialog-title")
            if self.text:
                yield ArticleText(self._rendered(), self.selected, id="article-text")
            else:
                yield Static(
                    Text("This claim was given without its article's text.", style="italic"),
                    id="article-empty",
                )
            yield Label(self._status(), id="article-status")
            yield Label(
                "j k scroll · n p next/previous claim · enter goes there · escape closes",
                classes="hint",
            )

    def _rendered(self) -> Text:
        return article_text(self.text, self.claims, self.current, self.selected)

    def _status(self) -> Text:
        out = Text()
        ids = [c.id for c in self.claims]
        if self.selected is None:
            return out
        claim = self.claims[ids.index(self.selected)]
        out.append(f"claim #{claim.id}", style="bold")
        out.append(f" · {ids.index(claim.id) + 1} of {len(ids)} · ")
        out.append(verdict_name(claim.verdict), style=badge_style(claim.verdict))
        if claim.id == self.current:
            out.append(" · the claim under review", style="dim")
        return out

    def _view(self) -> ArticleText | None:
        found = self.query(ArticleText)
        return found.first() if found else None

    def action_scroll(self, lines: int) -> None:
        view = self._view()
        if view is not None:
            view.scroll_relative(y=lines, animate=False, immediate=True)

    def action_page(self, pages: int) -> None:
        view = self._view()
        if view is not None:
            height = max(1, view.scrollable_content_region.height - 1)
            view.scroll_relative(y=pages * height, animate=False, immediate=True)

    def action_select(self, step: int) -> None:
        ids = [c.id for c in self.claims]
        if self.selected is None:
            return
        index = max(0, min(len(ids) - 1, ids.index(self.selected) + step))
        self.selected = ids[index]
        view = self._view()
        if view is not None:
            view.show(self._rendered(), self.selected)
        self.query_one("#article-status", Label).update(self._status())

    def action_go(self) -> None:
        self.dismiss(self.selected)

    def action_close(self) -> None:
        self.dismiss(None)
