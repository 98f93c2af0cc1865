"""Provides the reading of evidence files (JSONL, CSV/TSV, Markdown, text, HTML) as Documents.

Offsets: for Markdown and plain text, `Document.offset` is where `Document.text` starts
in the file's decoded text (see `workbench.textio.read_text`), so a passage span
(start, end) in `text` is (offset + start, offset + end) in the file. JSONL and CSV
records carry their own text (offset 0, `source` names "file:line"). For HTML the text
is extracted from the markup: offsets are into that extracted text, not into the file.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterator, Sequence
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from workbench.errors import InputError
from workbench.jsonl import json_objects, json_type
from workbench.models import Document
from workbench.textio import read_text

SUPPORTED_EXTENSIONS = frozenset(
    {".jsonl", ".ndjson", ".csv", ".tsv", ".md", ".markdown", ".txt", ".html", ".htm"}
)

# Record fields that map onto Document attributes; anything else goes into `extra`.
_OPTIONAL_FIELDS = ("title", "url", "publisher", "published", "lang")
# Files with these stems inside a folder are skipped (they can still be named explicitly).
_FOLDER_NOTES = frozenset({"README", "SOURCES", "LICENSE", "LICENCE", "CHANGELOG", "NOTICE"})
# A first line longer than this is prose, not a title.
_MAX_TITLE_LINE = 120


def iter_documents(paths: Sequence[Path]) -> Iterator[Document]:
    """Yield the documents found in `paths`, files or folders, in a stable order.

    Folders are walked recursively in name order, skipping hidden entries, folder notes
    (README, SOURCES, LICENSE, ...) and files whose extension is not in
    SUPPORTED_EXTENSIONS; a file named explicitly must have a supported extension.
    The same file given twice is read once. Raises InputError (naming the file, and
    the line for record files) on anything unreadable, including a document id used
    twice.
    """
    seen_files: set[Path] = set()
    seen_ids: dict[str, str] = {}
    for given in paths:
        given = Path(given)
        if not given.exists():
            raise InputError(f"{given}: file or folder not found")
        if given.is_dir():
            files = [(path, path.relative_to(given)) for path in _walk(given, set())]
        else:
            if given.suffix.lower() not in SUPPORTED_EXTENSIONS:
                raise InputError(
                    f"{given}: unsupported file type '{given.suffix or given.name}' "
                    f"(supported: {', '.join(sorted(SUPPORTED_EXTENSIONS))})"
                )
            files = [(given, Path(given.name))]
        for path, relative in files:
            key = path.resolve()
            if key in seen_files:
                continue
            seen_files.add(key)
            for document in _read_file(path, relative):
                # Ids are how passages cite their document, so they must be unique
                # across everything read together, not only within one file.
                if document.id in seen_ids:
                    raise InputError(
                        f"{document.source}: duplicate id '{document.id}' "
                        f"(already used by {seen_ids[document.id]})"
                    )
                seen_ids[document.id] = document.source
                yield document


def normalize_published(value: str) -> str:
    """Return `value` as YYYY-MM-DD when it is an ISO date/datetime or DD/MM/YYYY, else as given."""
    value = value.strip()
    iso = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?", value)
    if iso:
        year, month, day = iso.groups()
    else:
        european = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", value)
        if not european:
            return value
        day, month, year = european.groups()
    try:
        return date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        # 05/31/2019 is a US date, not a European one: keep it rather than guess.
        return value


def normalize_lang(value: str) -> str:
    """Return the lower-case primary language subtag ("fr-FR" -> "fr"), else `value` lower-cased."""
    value = value.strip().lower()
    primary = re.split(r"[-_]", value, maxsplit=1)[0]
    if len(primary) == 2 and primary.isalpha():
        return primary
    return value


def _walk(folder: Path, visited: set[Path]) -> Iterator[Path]:
    # Symlinked folders are followed, but each real folder only once, so loops end.
    real = folder.resolve()
    if real in visited:
        return
    visited.add(real)
    try:
        entries = sorted(folder.iterdir(), key=lambda entry: entry.name)
    except OSError as exc:
        raise InputError(f"{folder}: cannot list the folder ({exc.strerror or exc})") from exc
    for entry in entries:
        if entry.name.startswith(".") or _is_folder_note(entry):
            continue
        if entry.is_dir():
            yield from _walk(entry, visited)
        elif entry.is_file() and entry.suffix.lower() in SUPPORTED_EXTENSIONS:
            yield entry


def _is_folder_note(entry: Path) -> bool:
    # README, SOURCES, LICENSE... describe a folder of evidence; they are not evidence.
    return entry.is_file() and entry.stem.upper() in _FOLDER_NOTES


def _read_file(path: Path, relative: Path) -> Iterator[Document]:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return _read_jsonl(path)
    if suffix in (".csv", ".tsv"):
        return _read_csv(path, delimiter="\t" if suffix == ".tsv" else None)
    doc_id = _path_id(relative)
    if suffix in (".md", ".markdown"):
        return iter([_read_markdown(path, doc_id)])
    if suffix == ".txt":
        return iter([_read_txt(path, doc_id)])
    return iter([_read_html(path, doc_id)])


# --- record files -------------------------------------------------------------------


def _read_jsonl(path: Path) -> Iterator[Document]:
    text = read_text(path)
    first_line: dict[str, int] = {}
    # Split on "\n" only: str.splitlines would also break on U+2028 inside JSON strings.
    for number, where, record in json_objects(text.split("\n"), str(path)):
        yield _record_document(record, where, number, first_line, keep_types=True)


def _read_csv(path: Path, delimiter: str | None) -> Iterator[Document]:
    text = read_text(path)
    header_line = text.split("\n", 1)[0]
    if delimiter is None:
        # Spreadsheets in French locales save "CSV" with semicolons.
        delimiter = max(",;\t", key=header_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise InputError(f"{path}:1: not valid CSV ({exc})") from None
    names = [name.strip() for name in header]
    keys = [name.lower() for name in names]
    duplicated = sorted({key for key in keys if keys.count(key) > 1 and key})
    if duplicated:
        raise InputError(f"{path}:1: column '{duplicated[0]}' appears twice in the header")
    missing = [column for column in ("id", "text") if column not in keys]
    if missing:
        raise InputError(
            f"{path}:1: header has no {' or '.join(repr(m) for m in missing)} column "
            f"(found: {', '.join(names) or 'nothing'}); the first row must name the columns"
        )
    first_line: dict[str, int] = {}
    line_number = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            if not first_line:
                raise InputError(f"{path}: no records after the header row") from None
            return
        except csv.Error as exc:
            raise InputError(f"{path}:{line_number}: not valid CSV ({exc})") from None
        where = f"{path}:{line_number}"
        number = line_number
        # line_num counts physical lines, so quoted fields spanning lines are handled.
        line_number = reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(names):
            raise InputError(
                f"{where}: row has {len(row)} fields but the header has {len(names)} "
                f"(unquoted '{delimiter}' in a field?)"
            )
        record: dict[str, Any] = {}
        for key, name, cell in zip(keys, names, row, strict=False):
            record[key if key in ("id", "text", *_OPTIONAL_FIELDS) else name] = cell
        yield _record_document(record, where, number, first_line, keep_types=False)


def _record_document(
    record: dict[str, Any],
    where: str,
    number: int,
    first_line: dict[str, int],
    keep_types: bool,
) -> Document:
    raw_id = record.get("id")
    if isinstance(raw_id, bool) or not isinstance(raw_id, (str, int, type(None))):
        raise InputError(f"{where}: field 'id' must be a string or an integer")
    doc_id = "" if raw_id is None else str(raw_id).strip()
    if not doc_id:
        raise InputError(f"{where}: missing field 'id'")
    if "text" not in record or record["text"] is None:
        raise InputError(f"{where}: missing field 'text'")
    text = record["text"]
    if not isinstance(text, str):
        raise InputError(f"{where}: field 'text' must be a string, got {json_type(text)}")
    if not text.strip():
        raise InputError(f"{where}: field 'text' is empty")
    if doc_id in first_line:
        raise InputError(
            f"{where}: duplicate id '{doc_id}' (first used on line {first_line[doc_id]})"
        )
    first_line[doc_id] = number

    fields: dict[str, str] = {}
    for name in _OPTIONAL_FIELDS:
        value = record.get(name)
        if value is None:
            fields[name] = ""
        elif isinstance(value, str) or (
            isinstance(value, (int, float)) and not isinstance(value, bool)
        ):
            fields[name] = str(value).strip()
        else:
            raise InputError(f"{where}: field '{name}' must be a string, got {json_type(value)}")
    extra = {
        key: value if keep_types else str(value)
        for key, value in record.items()
        if key not in ("id", "text", *_OPTIONAL_FIELDS)
    }
    return Document(
        id=doc_id,
        text=text,
        title=fields["title"],
        url=fields["url"],
        publisher=fields["publisher"],
        published=normalize_published(fields["published"]),
        lang=normalize_lang(fields["lang"]) if fields["lang"] else "",
        source=where,
        offset=0,
        extra=extra,
    )


# --- one document per file ------------------------------------------------------------


def _path_id(relative: Path) -> str:
    """Slug the path without its extension, keeping folders: "News/Été 1.md" -> "news/ete-1"."""
    parts = [*relative.parent.parts, relative.stem]
    slugs = [_slug(part) for part in parts if part not in ("", ".")]
    return "/".join(slug for slug in slugs if slug) or "document"


def _slug(value: str) -> str:
    # Fold accents to ASCII where possible but keep letters of other scripts.
    decomposed = unicodedata.normalize("NFKD", value.lower())
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[\W_]+", "-", folded).strip("-")


_FRONT_MATTER_RE = re.compile(r"---[ \t]*\n(?:(.*?)\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_FRONT_MATTER_KEY_RE = re.compile(r"([A-Za-z_][\w-]*)[ \t]*:(?:[ \t]+(.*)|[ \t]*)$")
_ATX_H1_RE = re.compile(r"#[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
_FENCE_RE = re.compile(r"[ \t]{0,3}(```|~~~)")


def _read_markdown(path: Path, doc_id: str) -> Document:
    source = read_text(path)
    meta: dict[str, str] = {}
    body_start = 0
    match = _FRONT_MATTER_RE.match(source)
    if match is not None:
        parsed = _parse_front_matter(match.group(1) or "")
        # A leading "---" may be a thematic break rather than front matter.
        if parsed is not None:
            meta, body_start = parsed, match.end()
    start, end = _trimmed_bounds(source, body_start, len(source))
    if start == end:
        raise InputError(f"{path}: no text after the front matter")
    text = source[start:end]

    title = meta.pop("title", "") or _markdown_title(text) or path.stem
    published = meta.pop("published", "") or meta.pop("date", "")
    meta.pop("date", None)
    lang = meta.pop("lang", "")
    return Document(
        id=doc_id,
        text=text,
        title=title,
        url=meta.pop("url", ""),
        publisher=meta.pop("publisher", ""),
        published=normalize_published(published),
        lang=normalize_lang(lang) if lang else "",
        source=str(path),
        offset=start,
        extra=dict(meta),
    )


def _parse_front_matter(block: str) -> dict[str, str] | None:
    """Read simple `key: value` lines; None when the block does not look like YAML."""
    meta: dict[str, str] = {}
    saw_key = False
    for line in block.split("\n"):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if line[0].isspace() or stripped.startswith("- "):
            # Nested values and lists need a real YAML parser; their key is skipped.
            if not saw_key:
                return None
            continue
        match = _FRONT_MATTER_KEY_RE.match(line)
        if match is None:
            return None
        saw_key = True
        key, value = match.group(1).lower(), (match.group(2) or "").strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        if value:
            meta[key] = value
    return meta if saw_key else None


def _markdown_title(text: str) -> str:
    in_fence = False
    for line in text.split("\n"):
        if _FENCE_RE.match(line):
            in_fence = not in_fence
            continue
        if not in_fence:
            match = _ATX_H1_RE.match(line)
            if match:
                return match.group(1).strip()
    return ""


def _read_txt(path: Path, doc_id: str) -> Document:
    text = read_text(path)
    first_line = text.strip().split("\n", 1)[0].strip()
    title = first_line if len(first_line) < _MAX_TITLE_LINE else path.stem
    return Document(id=doc_id, text=text, title=title, source=str(path), offset=0)


def _trimmed_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


# --- HTML ---------------------------------------------------------------------------

# Elements whose content is never shown as page text.
_HTML_SKIP = frozenset(
    {"script", "style", "noscript", "template", "head", "svg", "iframe", "canvas", "math"}
)
# Elements that may appear in <head>; any other start tag implicitly closes the head.
_HTML_HEAD = frozenset(
    {"title", "meta", "link", "style", "script", "base", "noscript", "template", "head"}
)
_HTML_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
     "track", "wbr"}
)  # fmt: skip
_HTML_BLOCKS = frozenset(
    {"address", "article", "aside", "blockquote", "body", "caption", "dd", "details", "dialog",
     "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3",
     "h4", "h5", "h6", "header", "hgroup", "hr", "li", "main", "nav", "ol", "p", "pre",
     "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul"}
)  # fmt: skip
_WHITESPACE_RE = re.compile(r"\s+")


def _collapse(value: str) -> str:
    return _WHITESPACE_RE.sub(" ", value).strip()


class _HtmlText(HTMLParser):
    """Collects the visible text of a page as paragraphs, and its metadata."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = []
        self.meta: dict[str, str] = {}
        self._lines: list[list[str]] = [[]]
        self._skip_tag: str | None = None
        self._skip_depth = 0
        self._in_head = False
        self._title: list[str] | None = None
        self._h1: list[str] | None = None
        self._pre_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name.lower(): (value or "").strip() for name, value in attrs}
        self._read_metadata(tag, attributes)
        if self._skip_tag is not None:
            if tag == self._skip_tag:
                self._skip_depth += 1
            return
        if self._in_head and tag not in _HTML_HEAD:
            # Browsers end <head> at the first body element even without </head>.
            self._in_head = False
        if tag == "head":
            self._in_head = True
            return
        if tag == "title":
            if "title" not in self.meta:
                self._title = []
            return
        if tag in _HTML_SKIP or ("hidden" in attributes and tag not in _HTML_VOID):
            self._skip_tag, self._skip_depth = tag, 1
            return
        if self._in_head:
            return
        if tag in _HTML_BLOCKS:
            self._end_paragraph()
        if tag == "br":
            self._lines.append([])
        elif tag == "pre":
            self._pre_depth += 1
        elif tag == "h1" and self._h1 is None and "h1" not in self.meta:
            self._h1 = []

    def handle_endtag(self, tag: str) -> None:
        if self._skip_tag is not None:
            if tag == self._skip_tag:
                self._skip_depth -= 1
                if self._skip_depth == 0:
                    self._skip_tag = None
            return
        if tag == "head":
            self._in_head = False
        elif tag == "title" and self._title is not None:
            self.meta["title"] = _collapse("".join(self._title))
            self._title = None
        elif tag == "h1" and self._h1 is not None:
            self.meta["h1"] = _collapse("".join(self._h1))
            self._h1 = None
        if tag in _HTML_BLOCKS:
            self._end_paragraph()
        if tag == "pre" and self._pre_depth:
            self._pre_depth -= 1

    def handle_data(self, data: str) -> None:
        if self._title is not None:
            self._title.append(data)
            return
        if self._skip_tag is not None or self._in_head:
            return
        if self._h1 is not None:
            self._h1.append(data)
        if self._pre_depth:
            # Preformatted text keeps its line breaks.
            first, *rest = data.split("\n")
            self._lines[-1].append(first)
            self._lines.extend([part] for part in rest)
        else:
            self._lines[-1].append(data)

    def close(self) -> None:
        super().close()
        self._end_paragraph()

    def _read_metadata(self, tag: str, attributes: dict[str, str]) -> None:
        def keep(key: str, value: str) -> None:
            if value and key not in self.meta:
                self.meta[key] = value

        if tag == "html":
            keep("lang", attributes.get("lang", ""))
        elif tag == "link" and "canonical" in attributes.get("rel", "").lower().split():
            keep("canonical", attributes.get("href", ""))
        elif tag == "meta":
            name = (attributes.get("property") or attributes.get("name") or "").lower()
            content = attributes.get("content", "")
            if name == "og:url":
                keep("og:url", content)
            elif name == "article:published_time":
                keep("published_time", content)
            elif name == "og:site_name":
                keep("site_name", content)
        elif tag == "time":
            keep("time", attributes.get("datetime", ""))

    def _end_paragraph(self) -> None:
        lines = [_collapse("".join(parts)) for parts in self._lines]
        paragraph = "\n".join(line for line in lines if line)
        if paragraph:
            self.paragraphs.append(paragraph)
        self._lines = [[]]


def _read_html(path: Path, doc_id: str) -> Document:
    parser = _HtmlText()
    parser.feed(read_text(path))
    parser.close()
    text = "\n\n".join(parser.paragraphs)
    if not text:
        raise InputError(f"{path}: no visible text found in the HTML")
    meta = parser.meta
    lang = meta.get("lang", "")
    return Document(
        id=doc_id,
        text=text,
        title=meta.get("title") or meta.get("h1") or path.stem,
        url=meta.get("canonical") or meta.get("og:url", ""),
        publisher=meta.get("site_name", ""),
        published=normalize_published(meta.get("published_time") or meta.get("time", "")),
        lang=normalize_lang(lang) if lang else "",
        source=str(path),
        offset=0,
    )
