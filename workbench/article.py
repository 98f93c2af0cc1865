"""Provides the reading of articles as people get them: text files, saved web pages and URLs.

A web page's main text, title, author, publication date and canonical URL are found by
trafilatura and htmldate, well-kept extractors that drop navigation, cookie banners,
comments, scripts and styles; evidence ingestion reads HTML with the same `read_html`.
Every article is bounded in size (`MAX_ARTICLE_MB` of text) before it is read in full:
the extraction pipeline's time grows with the text, and a 50 MB file on one line is a
mistake to refuse in one line, not minutes of silence.
"""

from __future__ import annotations

import functools
import re
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from workbench.errors import InputError
from workbench.textio import MB, decode_bytes, limit_bytes, read_bytes, too_large

# A long investigative article is ~100 kB of text. Extraction's time grows faster than the
# text on claim-dense input (bench/extract_scale.py, rules scorer, 2 cores: 200 kB 12 s,
# 500 kB 26 s, 1 MB 2 min): 0.5 MB keeps the worst case under a minute, with progress shown.
MAX_ARTICLE_MB = 0.5
# A page's markup is mostly navigation, scripts and styles around its text: a news page of
# 100 kB of text often weighs 1-3 MB. Pages are allowed this many times the text limit.
HTML_MARKUP_FACTOR = 5
# Seconds a fetch waits for an answer, and for the whole body (not per read).
FETCH_TIMEOUT = 30.0
HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
LIMIT_HINT = "pass --max-article-mb (or set WORKBENCH_MAX_ARTICLE_MB) to raise it"

_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
# A document that starts like this is a web page whatever its file name says.
_HTML_START_RE = re.compile(rb"\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html[\s>])", re.I | re.S)
# <meta charset="..."> or <meta http-equiv="Content-Type" content="text/html; charset=...">.
_META_CHARSET_RE = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([\w.:-]+)", re.I)
# Elements people never see: they must not become claims.
_HIDDEN_XPATH = [
    "//*[@hidden]",
    "//*[@aria-hidden='true']",
    "//template",
    "//noscript",
    "//*[contains(@style, 'display:none') or contains(@style, 'display: none')]",
]
_USER_AGENT = "factcheck-workbench/0.1 (article reader)"


@dataclass(frozen=True)
class WebPage:
    """What a web page says about itself: main text (paragraphs one a line) and metadata."""

    text: str
    title: str = ""
    author: str = ""
    published: str = ""
    url: str = ""
    lang: str = ""
    site: str = ""


@dataclass(frozen=True)
class Article:
    """An article ready for claim extraction: its text and where it came from.

    `name` is how the workspace lists it (the file name, or the page's URL); `source` the
    path or URL given; `url` where it appeared (the canonical URL of a saved page, the final
    URL after redirects of a fetched one); `published` an ISO date or ''."""

    text: str
    name: str
    source: str
    title: str = ""
    author: str = ""
    published: str = ""
    url: str = ""
    lang: str = ""
    site: str = ""

    def fields(self) -> dict[str, str]:
        """The article's metadata as output records carry it (empty ones left out)."""
        values = {
            "title": self.title,
            "author": self.author,
            "published": self.published,
            "url": self.url,
            "site": self.site,
        }
        return {key: value for key, value in values.items() if value}


def max_bytes(max_mb: float | None) -> int:
    """The article size limit in bytes for a limit given in MB (None: the default)."""
    return limit_bytes(MAX_ARTICLE_MB if max_mb is None else max_mb, "--max-article-mb")


def is_url(value: str) -> bool:
    """Whether a command-line input names a URL (any scheme) rather than a file."""
    return bool(_SCHEME_RE.match(value))


def read_article(
    source: str | Path, limit: int = int(MAX_ARTICLE_MB * MB), timeout: float = FETCH_TIMEOUT
) -> Article:
    """Read an article from a file (text or HTML) or an http(s) URL, within `limit` bytes.

    Raises InputError (one line naming the file or URL) when it is missing, unreadable,
    too large, not text, or a page without article text."""
    if isinstance(source, str) and is_url(source):
        return fetch_article(source, limit, timeout)
    path = Path(source)
    html = path.suffix.lower() in HTML_SUFFIXES
    what = "the page" if html else "the article"
    data = read_bytes(path, limit * HTML_MARKUP_FACTOR if html else limit, what, LIMIT_HINT)
    if html or _HTML_START_RE.match(data[:4096]):
        page = read_html(decode_html(data, str(path)), str(path))
        return _page_article(page, limit, name=path.name, source=str(path), url=page.url)
    return Article(text=decode_bytes(data, str(path)), name=path.name, source=str(path))


def _page_article(page: WebPage, limit: int, name: str, source: str, url: str) -> Article:
    if len(page.text) > limit:
        raise too_large(source, len(page.text), limit, "the article's text", LIMIT_HINT)
    return Article(
        text=page.text,
        name=name,
        source=source,
        title=page.title,
        author=page.author,
        published=page.published,
        url=url,
        lang=page.lang,
        site=page.site,
    )


def decode_html(data: bytes, name: str, declared: str | None = None) -> str:
    """A page's bytes as text: a BOM or valid UTF-8 first, then the charset the server or
    the page declares, then detection (`decode_bytes`).

    UTF-8 goes first because pages declaring ISO-8859-1 while serving UTF-8 are common, and
    a declared single-byte charset would decode anything without error, into mojibake."""
    if not data.strip():
        raise InputError(f"{name}: the page is empty")
    charset = declared or _meta_charset(data)
    if charset and not data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            try:
                return _normalise(data.decode(charset))
            except (LookupError, UnicodeDecodeError):
                pass  # a wrong or unknown declaration: detect instead
    return decode_bytes(data, name)


def _meta_charset(data: bytes) -> str | None:
    found = _META_CHARSET_RE.search(data[:4096])
    return found.group(1).decode("ascii", "replace") if found else None


def _normalise(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_html(html: str, name: str, url: str = "") -> WebPage:
    """The main text and metadata of a web page (`url`: where it was fetched from, if it
    was). Navigation, cookie banners, comments, related links, scripts, styles and hidden
    elements are dropped. Raises InputError naming `name` when no article text is found."""
    import logging

    import trafilatura
    from htmldate import find_date
    from lxml import etree

    # Both libraries log discarded elements and date guesses at WARNING: noise for users.
    for logger in ("trafilatura", "htmldate", "courlan"):
        logging.getLogger(logger).setLevel(logging.ERROR)
    try:
        tree = trafilatura.utils.load_html(html)
    except (ValueError, etree.ParserError) as exc:
        raise InputError(f"{name}: not a readable HTML page ({exc})") from None
    if tree is None:
        raise InputError(f"{name}: not a readable HTML page")
    canonical = _canonical(tree, url)
    lang = _page_lang(tree)
    # trafilatura deletes <time> elements with their text: "signed on <time>14 May</time>"
    # would lose its date. Keep their words in the sentence.
    for element in list(tree.iter("time")):
        element.drop_tag()
    # The original publication date from the page's metadata and markup (JSON-LD, meta
    # tags, <time>, the URL), never a date merely mentioned in the text: a wrong date would
    # resolve "mardi" to the wrong day. The dateline in the text is read later if none.
    try:
        published = find_date(
            html, extensive_search=False, original_date=True, url=url or canonical or None
        )
    except ValueError:
        published = None
    document: Any = trafilatura.bare_extraction(
        tree,
        url=url or canonical or None,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_links=False,
        prune_xpath=_HIDDEN_XPATH,
        config=_extractor_config(),
    )
    text = _paragraphs(document.text if document is not None and document.text else "")
    if not text:
        raise InputError(f"{name}: no article text found in the HTML page")
    title = _clean(document.title or "")
    # A headline is often the claim most shared: keep it in the text when the extractor did
    # not (it usually does, from the <h1>).
    if title and title not in text[: len(title) + 200]:
        text = f"{title}\n{text}"
    return WebPage(
        text=text,
        title=title,
        author=_clean(document.author or ""),
        published=published or "",
        url=canonical or url or _clean(document.url or ""),
        lang=lang,
        site=_clean(document.sitename or ""),
    )


@functools.cache
def _extractor_config() -> Any:
    from trafilatura.settings import use_config

    config = use_config()
    # Below this much text trafilatura tries its fallback extractors, which on a short page
    # break sentences at every inline element ("Le\nministre\na parlé"): a short page read
    # whole is better than a long one read in pieces.
    config.set("DEFAULT", "MIN_EXTRACTED_SIZE", "10")
    return config


def _canonical(tree: Any, base: str) -> str:
    """The page's own stable address: <link rel=canonical>, else og:url, made absolute."""
    from urllib.parse import urljoin

    for xpath in (
        "//link[contains(concat(' ', normalize-space(translate(@rel, 'CANONIL', 'canonil')),"
        " ' '), ' canonical ')]/@href",
        "//meta[@property='og:url' or @name='og:url']/@content",
    ):
        for value in tree.xpath(xpath):
            value = str(value).strip()
            if value:
                absolute = urljoin(base, value) if base else value
                if absolute.lower().startswith(("http://", "https://")):
                    return absolute
    return ""


def _page_lang(tree: Any) -> str:
    values = tree.xpath("/html/@lang | //meta[@property='og:locale']/@content")
    for value in values:
        primary = re.split(r"[-_]", str(value).strip().lower(), maxsplit=1)[0]
        if len(primary) == 2 and primary.isalpha():
            return primary
    return ""


def _clean(value: str) -> str:
    return " ".join(value.split())


def _paragraphs(text: str) -> str:
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


# --- URLs ---------------------------------------------------------------------------


def fetch_article(
    url: str, limit: int = int(MAX_ARTICLE_MB * MB), timeout: float = FETCH_TIMEOUT
) -> Article:
    """Download a web page (http or https only) and read it as an article.

    The page may weigh HTML_MARKUP_FACTOR times `limit`; the connection, each redirect and
    the headers wait at most `timeout` seconds, and the body must have arrived `timeout`
    seconds after the start, however slowly a server trickles it. The article's URL is the
    final one after redirects (where the reader landed), its name that URL too. Offline, on
    an HTTP error, a non-HTML content type, a timeout or an oversized page: one InputError
    line naming the URL."""
    data, final, charset = fetch_html(url, limit * HTML_MARKUP_FACTOR, timeout)
    page = read_html(decode_html(data, url, charset), url, final)
    return _page_article(page, limit, name=final, source=url, url=final)


def fetch_html(url: str, max_size: int, timeout: float) -> tuple[bytes, str, str | None]:
    """(body, final URL, declared charset) of an HTML page; see `fetch_article`."""
    import socket
    import urllib.error
    from http.client import HTTPException

    _check_url(url)
    opener = urllib.request.build_opener(_SafeRedirects())
    request = urllib.request.Request(
        url,
        headers={
            "User-Agent": _USER_AGENT,
            "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
        },
    )
    deadline = time.monotonic() + timeout
    try:
        with opener.open(request, timeout=timeout) as response:
            final = response.geturl()
            _check_url(final)
            ctype = (
                response.headers.get_content_type() if response.headers.get("Content-Type") else ""
            )
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > max_size:
                raise too_large(url, int(length), max_size, "the page", LIMIT_HINT)
            if ctype and ctype not in HTML_TYPES:
                # Said before the body is read: a PDF or a video is not downloaded.
                raise InputError(f"{url}: not an HTML page (the server says {ctype})")
            body = _read_body(response, url, max_size, deadline, timeout)
            charset = response.headers.get_content_charset()
    except _Refused as exc:
        raise InputError(f"{url}: {exc}") from None
    except urllib.error.HTTPError as exc:
        raise InputError(f"{url}: the server answered HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            raise InputError(f"{url}: no answer within {timeout:g} s (timed out)") from None
        if isinstance(reason, socket.gaierror):
            host = urlsplit(url).hostname
            raise InputError(
                f"{url}: cannot find the host {host} (offline, or a mistyped address)"
            ) from None
        raise InputError(f"{url}: cannot fetch the page ({_reason(reason)})") from None
    except TimeoutError:
        raise InputError(f"{url}: no answer within {timeout:g} s (timed out)") from None
    except (OSError, HTTPException, ValueError) as exc:
        raise InputError(f"{url}: cannot fetch the page ({_reason(exc)})") from None
    if not ctype and not _HTML_START_RE.match(body[:4096]):
        raise InputError(f"{url}: not an HTML page (no content type, and not HTML)")
    return body, final, charset


def _read_body(response: Any, url: str, max_size: int, deadline: float, timeout: float) -> bytes:
    """The body, read in pieces so that neither size nor a trickling server can exceed
    the limits (`read1` returns what one receive brings)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() > deadline:
            raise InputError(f"{url}: the page did not arrive within {timeout:g} s (timed out)")
        chunk = response.read1(65536)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > max_size:
            raise too_large(url, size, max_size, "the page", LIMIT_HINT, at_least=True)
        chunks.append(chunk)


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise InputError(f"{url}: only http:// and https:// addresses can be fetched")
    if not parts.hostname:
        raise InputError(f"{url}: the address has no host name")


def _reason(exc: object) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


class _SafeRedirects(urllib.request.HTTPRedirectHandler):
    """Follows redirects to http(s) addresses only (urllib would follow ftp:// too)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        if urlsplit(newurl).scheme.lower() not in ("http", "https"):
            raise _Refused(f"redirected to {newurl}, but only http(s) addresses are fetched")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class _Refused(Exception):
    """A redirect the reader will not follow."""
