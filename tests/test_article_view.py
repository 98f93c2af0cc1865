"""Tests for the article view: the whole article, its claims marked, the keys, hostile text."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from reviewdata import build_workspace
from reviewdata import run_async as _run
from rich.console import Console
from rich.style import Style
from textual.app import App, ComposeResult
from textual.widgets import Label

from workbench import review
from workbench.match import add_claim_records
from workbench.review.article_view import (
    ArticleClaim,
    ArticleScreen,
    ArticleText,
    article_view_data,
)
from workbench.verdicts import set_verdict

SIZE = (80, 24)
PARAGRAPH = "Filler sentence number {n} says nothing worth checking at all today.\n"


def _article(paragraphs: int, claims: list[str]) -> tuple[str, list[tuple[int, int]]]:
    """An article of filler paragraphs with one claim after each fifth; the claims' spans."""
    text, spans = "", []
    for n in range(paragraphs):
        text += PARAGRAPH.format(n=n)
        if n % 5 == 4 and len(spans) < len(claims):
            sentence = claims[len(spans)]
            spans.append((len(text), len(text) + len(sentence)))
            text += sentence + "\n"
    return text, spans


CLAIM_TEXTS = [f"Claim sentence {n} says the GDP grew {n} percent." for n in range(8)]
TEXT, SPANS = _article(45, CLAIM_TEXTS)
VERDICTS = ["false", "", "mostly-true", "", "true", "misleading", "", "not-a-claim"]
CLAIMS = [
    ArticleClaim(10 + i, start, end, verdict)
    for i, ((start, end), verdict) in enumerate(zip(SPANS, VERDICTS, strict=True))
]


class ArticleApp(App[None]):
    """Pushes one article view and records what it was dismissed with."""

    CSS_PATH = str(Path(review.__file__).parent / "review.tcss")

    def __init__(self, screen: ArticleScreen) -> None:
        super().__init__()
        self.article = screen
        self.results: list[Any] = []

    def compose(self) -> ComposeResult:
        yield Label("under the article")

    def on_mount(self) -> None:
        self.push_screen(self.article, self.results.append)


def _view(app: App[None]) -> ArticleText:
    return app.screen.query_one(ArticleText)


def _on_screen(app: App[None]) -> str:
    """The article's lines as drawn in the view now (only those on screen)."""
    view = _view(app)
    return "\n".join(view.render_line(y).text for y in range(view.size.height))


def _style_of(text: str, app: App[None]) -> Style:
    """The style the view gives the first character of `text` in the article."""
    rendered = _view(app).text
    return rendered.get_style_at_offset(Console(), rendered.plain.index(text))


@_run
async def test_whole_article_with_the_current_claim_highlighted_and_in_view() -> None:
    current = CLAIMS[6]  # far down: not on the first screen at 80x24
    app = ArticleApp(ArticleScreen("budget.txt", TEXT, CLAIMS, current.id))
    async with app.run_test(size=SIZE):
        view = _view(app)
        shown = view.plain
        # Every character of the article, in order, with the badges after the claims.
        assert re.sub(r" \[#\d+ [a-z ]+\]", "", shown) == TEXT
        assert "[#10 false]" in shown and "[#11 unreviewed]" in shown
        assert "[#12 mostly true]" in shown
        on_screen = _on_screen(app)
        assert CLAIM_TEXTS[6][:30] in on_screen  # scrolled to the current claim
        assert "Filler sentence number 0 " not in on_screen
        style = _style_of(CLAIM_TEXTS[6], app)
        assert style.bold and style.reverse
        other = _style_of(CLAIM_TEXTS[5], app)
        assert other.underline and not other.reverse
        assert _style_of("Filler sentence number 3", app) == Style()


@_run
async def test_n_then_enter_goes_to_the_next_claim() -> None:
    app = ArticleApp(ArticleScreen("budget.txt", TEXT, CLAIMS, CLAIMS[2].id))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        selected = _style_of(CLAIM_TEXTS[3], app)
        assert selected.bgcolor is not None and not selected.reverse  # distinct from current
        assert _style_of(CLAIM_TEXTS[2], app).reverse  # the current one stays marked
        await pilot.press("enter")
    assert app.results == [CLAIMS[3].id]


@_run
async def test_p_tab_and_shift_tab_move_the_selection_and_it_is_scrolled_into_view() -> None:
    app = ArticleApp(ArticleScreen("budget.txt", TEXT, CLAIMS, CLAIMS[0].id))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*["tab"] * 7)
        assert CLAIM_TEXTS[7][:30] in _on_screen(app)
        await pilot.press("shift+tab", "p", "p", "p")
        assert CLAIM_TEXTS[3][:30] in _on_screen(app)
        assert "claim #13" in str(app.screen.query_one("#article-status", Label).render())
        await pilot.press("enter")
    assert app.results == [CLAIMS[3].id]


@_run
async def test_j_and_k_scroll_and_escape_q_a_close_with_none() -> None:
    for key in ("escape", "q", "a"):
        app = ArticleApp(ArticleScreen("budget.txt", TEXT, CLAIMS, CLAIMS[0].id))
        async with app.run_test(size=SIZE) as pilot:
            view = _view(app)
            top = view.scroll_offset.y
            await pilot.press("j", "j", "down")
            assert view.scroll_offset.y == top + 3
            await pilot.press("k")
            assert view.scroll_offset.y == top + 2
            await pilot.press(key)
        assert app.results == [None]


@_run
async def test_markup_in_the_article_is_shown_literally() -> None:
    text = "Intro [bold red]shout[/] and [link=javascript:alert(1)]click[/link] \x1b[2J end."
    claim = ArticleClaim(1, text.index("[link"), text.index(" \x1b"))
    app = ArticleApp(ArticleScreen("[b]title[/b]", text, [claim], 1))
    async with app.run_test(size=(160, 48)):
        on_screen = _on_screen(app)
        assert "[bold red]shout[/]" in on_screen
        assert "[link=javascript:alert(1)]click[/link]" in on_screen
        assert "\x1b" not in on_screen  # a control character is drawn as a space
        assert all(not s.style or not s.style.link for s in _view(app).render_line(0))
        title = app.screen.query_one(".dialog-title", Label).render()
        assert "[b]title[/b]" in str(title)


@_run
async def test_stale_and_out_of_range_offsets_do_not_crash() -> None:
    text = "A short article. It has two sentences."
    claims = [
        ArticleClaim(1, -5, 7),
        ArticleClaim(2, 10, 10_000, "false"),
        ArticleClaim(3, 500, 600, "true"),
        ArticleClaim(4, 20, 5),  # end before start
        ArticleClaim(5, 17, 38, "half-true"),
        ArticleClaim(6, 17, 25),  # inside claim 5
    ]
    app = ArticleApp(ArticleScreen("short", text, claims, 3))
    async with app.run_test(size=SIZE) as pilot:
        shown = _view(app).plain
        for claim in claims:
            assert f"[#{claim.id} " in shown
        assert shown.startswith("A short")
        await pilot.press("n", "n", "p", "tab", "tab", "tab", "tab", "tab", "tab")
        await pilot.press("enter")
    assert app.results and app.results[0] in {c.id for c in claims}


@_run
async def test_claims_without_article_text_show_a_line_instead() -> None:
    app = ArticleApp(ArticleScreen("given.jsonl", "", [ArticleClaim(4, 0, 0)], 4))
    async with app.run_test(size=SIZE) as pilot:
        assert "without its article" in str(app.screen.query_one("#article-empty").render())
        await pilot.press("n", "j", "enter")
    assert app.results == [4]


def test_loader_gives_the_article_its_claims_and_blind_verdicts(
    tmp_path: Path, evidence_file: Path, seed_article: Path
) -> None:
    ws = build_workspace(tmp_path / "ws", evidence_file, seed_article)
    try:
        given = add_claim_records(ws, [{"text": "Putin met Trump.", "lang": "en"}], "given")
        ids = [c.id for c in ws.claims() if c.id not in given]
        set_verdict(ws, ids[1], "false", "bob")
        data = article_view_data(ws, ids[2], "alice")
        assert data.text == seed_article.read_text(encoding="utf-8")
        assert data.current == ids[2]
        assert [c.id for c in data.claims] == ids  # not the given claim of another article
        assert {c.id: c.verdict for c in data.claims}[ids[1]] == "false"
        start, end = data.claims[0].start, data.claims[0].end
        assert data.text[start:end] == ws.claims([ids[0]])[0].text

        # Double review: alice must not see bob's verdict; bob sees his own.
        (ws.root / "config.toml").write_text('[review]\nmode = "double"\n', encoding="utf-8")
        set_verdict(ws, ids[3], "true", "bob")
        blind = {c.id: c.verdict for c in article_view_data(ws, ids[2], "alice").claims}
        assert blind[ids[3]] == ""
        own = {c.id: c.verdict for c in article_view_data(ws, ids[2], "bob").claims}
        assert own[ids[3]] == "true"

        assert article_view_data(ws, given[0], "alice").text == ""
    finally:
        ws.close()


def test_loader_keeps_claims_of_another_article_with_the_same_name(
    tmp_path: Path, evidence_file: Path, seed_article: Path
) -> None:
    ws = build_workspace(tmp_path / "ws", evidence_file, seed_article)
    try:
        name = ws.claims()[0].article
        other = add_claim_records(ws, [{"text": "Putin met Trump.", "lang": "en"}], name)
        assert ws.claims(other)[0].article == name
        first = ws.claims()[0].id
        assert other[0] not in {c.id for c in article_view_data(ws, first, "alice").claims}
    finally:
        ws.close()
