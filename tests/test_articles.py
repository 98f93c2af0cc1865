"""Tests reading articles as people get them (saved web pages, URLs, text files), within
size limits, and checking every input of `match` before anything is stored."""

from __future__ import annotations

import http.server
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from workbench.article import Article, fetch_article, read_article
from workbench.cli import app
from workbench.errors import ExitCode, InputError
from workbench.match import parse_claim_records
from workbench.workspace import Workspace

DATA = Path(__file__).parent / "data"
EN_PAGE = DATA / "article-en.html"
FR_PAGE = DATA / "article-fr.html"

# Sentences of each page that readers never see as the article: menus, cookie banners,
# scripts, styles, JSON-LD, related links, newsletter boxes, comments, footers.
EN_JUNK = (
    "cookies",
    "Subscribe",
    "budget grew by 12 percent",  # inline script
    "Unemployment fell by 40 percent",  # stylesheet
    "exports doubled",  # JSON-LD description
    "7 percent",  # document.write inside the article
    "19 countries",  # related links inside the article
    "Crime rose by 300 percent",  # reader comment
    "4 million readers",  # footer
    "dataLayer",
    "Privacy policy",
)
FR_JUNK = (
    "cookies",
    "350 partenaires",
    "chômage a baissé de 15",  # inline script
    "dette publique a triplé",  # stylesheet
    "Lire aussi",
    "120 000 abonnés",  # newsletter box
    "immigrés a doublé",  # reader comment
    "Mentions légales",
    "Abonnez-vous",
)

runner = CliRunner()


def _run(*args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input)


def _jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _one_line_error(result, *fragments: str) -> str:
    assert result.exit_code == ExitCode.BAD_INPUT, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def ingested(evidence_file: Path) -> Path:
    result = _run("ingest", str(evidence_file), "--model", "hash:64")
    assert result.exit_code == 0, result.output
    return Path(os.environ["WORKBENCH_HOME"])


def _stored_claims() -> list[dict]:
    result = _run("claims")
    assert result.exit_code == 0, result.output
    return _jsonl(result.stdout)


def _articles(home: Path) -> list[tuple[str, str, str, str]]:
    with Workspace.open(home) as ws:
        return ws.conn.execute("SELECT name, source, url, published FROM articles").fetchall()


# --- saved web pages --------------------------------------------------------------------


def test_english_page_fields_and_main_text() -> None:
    article = read_article(EN_PAGE)
    assert article.title == "Trump and Putin meet in Osaka"
    assert article.author == "Jane Doe"
    assert article.published == "2019-06-28"  # published, not modified (2019-07-02)
    # The canonical URL, not og:url with its tracking parameter.
    assert article.url == "https://www.dailyledger.example/world/2019/06/28/trump-putin-osaka"
    assert article.site == "The Daily Ledger"
    assert article.lang == "en"
    assert article.name == "article-en.html" and article.source == str(EN_PAGE)
    lines = article.text.split("\n")
    assert lines[0] == "Trump and Putin meet in Osaka"
    assert lines[1].startswith("OSAKA, Japan — President Donald Trump met")
    assert lines[-1].startswith("Special counsel Robert Mueller's report")
    assert len(lines) == 6
    for junk in EN_JUNK:
        assert junk not in article.text, junk


def test_french_page_in_windows_1252() -> None:
    article = read_article(FR_PAGE)
    assert article.title == "À Sotchi, Poutine et Pompeo veulent réparer les relations"
    assert article.author == "Marie Dupont"
    assert article.published == "2019-05-14"
    # The canonical link is relative (no base to resolve it in a saved file): og:url is used.
    assert article.url == (
        "https://www.quotidien-du-sud.example/international/article/2019/05/14/"
        "sotchi-poutine-pompeo_123.html"
    )
    assert article.lang == "fr"
    assert "le secrétaire d’État américain Mike Pompeo" in article.text
    assert "« enquête objective »" in article.text
    for junk in FR_JUNK:
        assert junk not in article.text, junk


def test_hidden_elements_and_page_without_text(tmp_path: Path) -> None:
    body = "".join(
        f"<p>Paragraph {i} of the report says the budget of the city rose by {i} percent.</p>"
        for i in range(1, 8)
    )
    page = tmp_path / "hidden.htm"
    page.write_text(
        "<html><body><article><h1>City budget</h1>"
        f"{body}<div hidden><p>Hidden text: taxes rose by 90 percent.</p></div>"
        "<p aria-hidden='true'>Screen readers skip: 80 percent.</p>"
        "<template><p>Template text: 70 percent.</p></template>"
        "<noscript><p>Enable JavaScript to read 60 percent more.</p></noscript>"
        "</article></body></html>",
        encoding="utf-8",
    )
    text = read_article(page).text
    assert "Paragraph 7 of the report" in text
    for hidden in ("90 percent", "80 percent", "70 percent", "60 percent"):
        assert hidden not in text
    empty = tmp_path / "empty.html"
    empty.write_text("<html><head><title>T</title><script>var a = 1;</script></head></html>")
    with pytest.raises(InputError, match=r"empty\.html: no article text found"):
        read_article(empty)


def test_html_saved_as_txt_is_read_as_a_page(tmp_path: Path) -> None:
    copy = tmp_path / "page.txt"
    copy.write_bytes(EN_PAGE.read_bytes())
    article = read_article(copy)
    assert article.title == "Trump and Putin meet in Osaka"
    assert "<p>" not in article.text and "cookies" not in article.text


def test_extract_html_gives_no_markup_or_script_claims() -> None:
    result = _run("extract", str(EN_PAGE), "--scorer", "rules", "--min-score", "0")
    assert result.exit_code == 0, result.output
    records = _jsonl(result.stdout)
    claims = [r["claim"] for r in records]
    assert any(c.startswith("President Donald Trump met Russian President") for c in claims)
    for claim in claims:
        assert "<" not in claim and "{" not in claim, claim
        for junk in EN_JUNK:
            assert junk not in claim, (junk, claim)
    first = records[0]
    assert first["article"] == "article-en.html"
    assert first["article_published"] == "2019-06-28"
    assert first["article_url"].endswith("/2019/06/28/trump-putin-osaka")
    assert first["article_author"] == "Jane Doe"
    # The page's date dates "on Friday": 28 June 2019.
    friday = next(r for r in records if "on Friday" in r["claim"])
    assert "Friday June 28, 2019" in friday["standalone"]
    assert {"text": "Friday", "value": "2019-06-28"}.items() <= friday["dates"][0].items()
    # --published wins over the page's own date.
    given = _jsonl(
        _run("extract", str(EN_PAGE), "--scorer", "rules", "--published", "2019-07-01").stdout
    )
    assert given[0]["article_published"] == "2019-07-01"


def test_extract_french_page_claims() -> None:
    result = _run("extract", str(FR_PAGE), "--scorer", "rules", "--min-score", "0")
    assert result.exit_code == 0, result.output
    records = _jsonl(result.stdout)
    assert records and all(r["lang"] == "fr" for r in records)
    for record in records:
        for junk in FR_JUNK:
            assert junk not in record["claim"], (junk, record["claim"])


def test_match_stores_the_page_url_and_date(ingested: Path) -> None:
    result = _run("match", str(FR_PAGE), "-k", "1")
    assert result.exit_code == 0, result.output
    ((name, source, url, published),) = _articles(ingested)
    assert (name, source, published) == ("article-fr.html", str(FR_PAGE), "2019-05-14")
    assert url.startswith("https://www.quotidien-du-sud.example/international/")
    claims = [r["claim"] for r in _stored_claims()]
    assert claims and not any(j in c for c in claims for j in FR_JUNK)


def test_extract_then_match_keeps_the_article_fields(ingested: Path, tmp_path: Path) -> None:
    extracted = _run("extract", str(EN_PAGE), "--scorer", "rules")
    assert extracted.exit_code == 0, extracted.output
    claims = tmp_path / "claims.jsonl"
    claims.write_text(extracted.stdout, encoding="utf-8")
    assert _run("match", str(claims), "-k", "1").exit_code == 0
    ((name, _, url, published),) = _articles(ingested)
    assert name == "article-en.html" and published == "2019-06-28"
    assert url.endswith("/2019/06/28/trump-putin-osaka")


# --- size limits ------------------------------------------------------------------------


def test_article_just_over_the_limit_is_refused_before_reading(
    tmp_path: Path, ingested: Path
) -> None:
    big = tmp_path / "big.txt"
    line = "The minister said unemployment fell by 3 percent in 2018. "
    big.write_text((line * (500_000 // len(line) + 1))[:500_001], encoding="utf-8")
    assert big.stat().st_size == 500_001
    started = time.perf_counter()
    result = _run("extract", str(big), "--scorer", "rules")
    assert time.perf_counter() - started < 5
    _one_line_error(result, "big.txt", "500,001 bytes", "500,000-byte limit", "--max-article-mb")
    refused = _run("match", str(big))
    _one_line_error(refused, "big.txt", "500,001 bytes", "--max-article-mb")


def test_limit_can_be_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    article = tmp_path / "note.txt"
    article.write_text("Le chômage a baissé de 3 % en 2018, selon le ministre. " * 200)
    size = article.stat().st_size
    assert 10_000 < size < 20_000
    _one_line_error(
        _run("extract", str(article), "--scorer", "rules", "--max-article-mb", "0.01"),
        "note.txt",
        f"{size / 1000:.1f} kB",
        "10 kB limit",
    )
    assert (
        _run("extract", str(article), "--scorer", "rules", "--max-article-mb", "0.02").exit_code
        == 0
    )
    monkeypatch.setenv("WORKBENCH_MAX_ARTICLE_MB", "0.01")
    _one_line_error(_run("extract", str(article), "--scorer", "rules"), "note.txt", "10 kB limit")
    for bad in ("0", "-1", "inf", "nan", "1e400"):
        _one_line_error(_run("extract", str(article), "--max-article-mb", bad), "--max-article-mb")


def test_page_markup_and_text_limits(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    paragraphs = "".join(
        f"<p>Paragraph {i} says taxes rose by {i} percent.</p>" for i in range(400)
    )
    page.write_text(f"<html><body><article>{paragraphs}</article></body></html>")
    # Markup over 5 times the limit: refused before parsing.
    with pytest.raises(InputError, match=r"page\.html: the page is 20\.6 kB, over the 15 kB limit"):
        read_article(page, limit=3_000)
    # Markup within 5 times the limit but text over it: refused after extraction.
    with pytest.raises(InputError, match=r"page\.html: the article's text is .* over the 5 kB"):
        read_article(page, limit=5_000)
    assert "Paragraph 399" in read_article(page, limit=50_000).text


def test_overlong_claim_record_is_refused(ingested: Path, tmp_path: Path) -> None:
    claims = tmp_path / "claims.jsonl"
    claims.write_text(
        '{"text": "Putin met Trump in Osaka."}\n' + json.dumps({"text": "x" * 20_000}) + "\n"
    )
    _one_line_error(
        _run("match", str(claims), "--max-article-mb", "0.01"), "claims.jsonl:2", "10 kB limit"
    )
    assert _stored_claims() == []


# --- every input checked before any is stored -------------------------------------------


def test_missing_second_input_stores_nothing(ingested: Path, tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text('{"text": "Putin met Trump in Osaka.", "lang": "en"}\n')
    _one_line_error(_run("match", str(good), str(tmp_path / "missing.txt")), "missing.txt")
    assert _stored_claims() == []
    # An article that reads but has no text, after a good article: nothing stored either.
    blank = tmp_path / "blank.html"
    blank.write_text("<html><body><nav><a href='/'>Home</a></nav></body></html>")
    _one_line_error(_run("match", str(FR_PAGE), str(good), str(blank)), "blank.html")
    assert _stored_claims() == []
    # A bad record on the last line of the last file.
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "Pompeo went to Sochi."}\n{"text": "x", "score": "high"}\n')
    _one_line_error(_run("match", str(FR_PAGE), str(good), str(bad)), "bad.jsonl:2", "'score'")
    assert _stored_claims() == []
    # All good: everything is stored, in order.
    assert _run("match", str(good), str(FR_PAGE)).exit_code == 0
    stored = _stored_claims()
    assert {r["article"] for r in stored} == {"good.jsonl", "article-fr.html"}


def test_url_option_needs_a_single_article(ingested: Path, tmp_path: Path) -> None:
    _one_line_error(
        _run("match", str(EN_PAGE), str(FR_PAGE), "--url", "https://example.org/a"), "--url"
    )
    assert _stored_claims() == []


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (
            {"text": "A claim.", "start": "abc"},
            "field 'start' must be an integer ≥ 0, got a string (\"abc\")",
        ),
        (
            {"text": "A claim.", "start": -3},
            "field 'start' must be an integer ≥ 0, got a number (-3)",
        ),
        ({"text": "A claim.", "start": True}, "field 'start' must be an integer"),
        ({"text": "A claim.", "end": 2.5}, "field 'end' must be an integer"),
        ({"text": "A claim.", "start": 9, "end": 4}, "field 'end' (4) is before field 'start' (9)"),
        (
            {"text": "A claim.", "score": "high"},
            "field 'score' must be a number from 0 to 1, got a string",
        ),
        (
            {"text": "A claim.", "score": 7},
            "field 'score' must be a number from 0 to 1, got a number (7)",
        ),
        ({"text": "A claim.", "reasons": "because"}, "field 'reasons' must be a list of strings"),
        ({"text": "A claim.", "reasons": ["ok", 3]}, "field 'reasons[1]' must be a string"),
        ({"text": "A claim.", "lang": 5}, "field 'lang' must be a string"),
        ({"text": "A claim.", "article": ["a"]}, "field 'article' must be a string, got an array"),
        ({"text": 12}, "field 'text' must be a string"),
        ({"claim": "   "}, "record has no 'text' (or 'claim') string"),
        (
            {"text": "A claim.", "article_published": "mardi"},
            "field 'article_published' must be an ISO date",
        ),
    ],
)
def test_bad_claim_fields_name_file_line_and_field(
    ingested: Path, tmp_path: Path, record: dict, message: str
) -> None:
    path = tmp_path / "claims.jsonl"
    path.write_text('{"text": "Putin met Trump in Osaka."}\n' + json.dumps(record) + "\n")
    with pytest.raises(InputError) as caught:
        parse_claim_records(path.read_text().split("\n"), str(path))
    assert caught.value.message == f"{path}:2: {message}" or caught.value.message.startswith(
        f"{path}:2: {message}"
    )
    _one_line_error(_run("match", str(path)), f"{path}:2: {message}")
    # The same through stdin, named <stdin>.
    _one_line_error(_run("match", "-", input=path.read_text()), f"<stdin>:2: {message}")
    assert _stored_claims() == []


def test_good_claim_fields_are_kept(ingested: Path) -> None:
    records = parse_claim_records(
        [
            json.dumps({"claim": " Putin met Trump. ", "start": 4, "end": 20.0, "score": 0.25,
                        "reasons": [], "lang": "EN", "standalone": "Putin met Trump in Osaka."})
        ],
        "x.jsonl",
    )  # fmt: skip
    (record,) = records
    assert (record["text"], record["start"], record["end"], record["score"]) == (
        "Putin met Trump.",
        4,
        20,
        0.25,
    )
    assert record["lang"] == "en" and record["reasons"] == []
    assert record["standalone"] == "Putin met Trump in Osaka."


# --- URLs -------------------------------------------------------------------------------


class _Pages(http.server.BaseHTTPRequestHandler):
    """A small site on 127.0.0.1: an article, redirects, errors, slow and oversized pages."""

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    def _send(self, status: int, body: bytes, ctype: str = "text/html; charset=utf-8") -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        path = self.path
        if path == "/article":
            self._send(200, EN_PAGE.read_bytes())
        elif path == "/fr":
            # The server's charset wins over guessing; the page says windows-1252 too.
            self._send(200, FR_PAGE.read_bytes(), "text/html; charset=windows-1252")
        elif path == "/moved":
            self.send_response(301)
            self.send_header("Location", "/article")
            self.end_headers()
        elif path == "/to-ftp":
            self.send_response(302)
            self.send_header("Location", "ftp://127.0.0.1/file")
            self.end_headers()
        elif path == "/missing":
            self._send(404, b"<html><body>Not found</body></html>")
        elif path == "/broken":
            self._send(503, b"<html><body>Down</body></html>")
        elif path == "/report.pdf":
            self._send(200, b"%PDF-1.7\n...", "application/pdf")
        elif path == "/slow":
            time.sleep(3)
            self._send(200, EN_PAGE.read_bytes())
        elif path == "/trickle":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            for _ in range(40):
                self.wfile.write(b"<p>x</p>")
                self.wfile.flush()
                time.sleep(0.1)
        elif path == "/huge-declared":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(50_000_000))
            self.end_headers()
            self.wfile.write(b"<html>")
        elif path == "/huge-stream":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            chunk = b"<p>" + b"word " * 2000 + b"</p>\n"
            try:
                for _ in range(500):  # 5 MB, no Content-Length
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
        else:
            self._send(404, b"")


@pytest.fixture
def site(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_fetch_follows_redirects_to_the_final_url(site: str) -> None:
    article = fetch_article(f"{site}/moved")
    assert isinstance(article, Article)
    assert article.url == f"{site}/article" and article.name == f"{site}/article"
    assert article.source == f"{site}/moved"
    assert article.title == "Trump and Putin meet in Osaka" and article.published == "2019-06-28"
    for junk in EN_JUNK:
        assert junk not in article.text
    french = read_article(f"{site}/fr")
    assert "secrétaire d’État" in french.text and french.url == f"{site}/fr"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/missing", "the server answered HTTP 404 Not Found"),
        ("/broken", "the server answered HTTP 503"),
        ("/report.pdf", "not an HTML page (the server says application/pdf)"),
        ("/to-ftp", "redirected to ftp://127.0.0.1/file, but only http(s) addresses"),
        ("/huge-declared", "the page is 50 MB, over the 1 MB limit; pass --max-article-mb"),
        ("/huge-stream", "the page is more than 1"),
    ],
)
def test_fetch_errors_are_one_line(site: str, path: str, message: str) -> None:
    # 200 kB of text: the page may weigh 1 MB.
    with pytest.raises(InputError) as caught:
        fetch_article(f"{site}{path}", limit=200_000)
    assert caught.value.message.startswith(f"{site}{path}: ")
    assert message in caught.value.message
    assert "\n" not in caught.value.message


def test_fetch_timeouts(site: str) -> None:
    started = time.perf_counter()
    with pytest.raises(InputError, match=r"/slow: no answer within 0\.5 s \(timed out\)"):
        fetch_article(f"{site}/slow", timeout=0.5)
    # A server that keeps trickling bytes cannot hold the reader past the whole deadline.
    with pytest.raises(InputError, match=r"/trickle: the page did not arrive within 1 s"):
        fetch_article(f"{site}/trickle", timeout=1)
    assert time.perf_counter() - started < 4


def test_fetch_refuses_other_schemes_and_reports_offline() -> None:
    for url in ("file:///etc/passwd", "ftp://example.org/a.html"):
        with pytest.raises(InputError, match="only http:// and https://"):
            read_article(url)
    # Nothing listens on port 9 of loopback (discard): the connection is refused.
    with pytest.raises(InputError, match=r"127\.0\.0\.1:9/a: cannot fetch the page"):
        read_article("http://127.0.0.1:9/a")


def test_match_and_extract_a_url(ingested: Path, site: str) -> None:
    extracted = _run("extract", f"{site}/moved", "--scorer", "rules")
    assert extracted.exit_code == 0, extracted.output
    records = _jsonl(extracted.stdout)
    assert records[0]["article"] == f"{site}/article"
    assert records[0]["article_url"] == f"{site}/article"
    result = _run("match", f"{site}/moved", "-k", "1")
    assert result.exit_code == 0, result.output
    ((name, source, url, published),) = _articles(ingested)
    assert (name, source, url, published) == (
        f"{site}/article",
        f"{site}/moved",
        f"{site}/article",
        "2019-06-28",
    )
    _one_line_error(_run("match", f"{site}/missing"), f"{site}/missing", "HTTP 404")
