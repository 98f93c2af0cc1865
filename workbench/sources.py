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
import os
import re
import unicodedata
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from workbench.errors import InputError
from workbench.jsonl import json_objects, json_type
from workbench.models import Document
from workbench.textio import limit_bytes, read_bytes, read_text, too_large

SUPPORTED_EXTENSIONS = frozenset(
    {".jsonl", ".ndjson", ".csv", ".tsv", ".md", ".markdown", ".txt", ".html", ".htm"}
)

# Record fields that map onto Document attributes; anything else goes into `extra`.
_OPTIONAL_FIELDS = ("title", "url", "publisher", "published", "lang")
# Files with these stems inside a folder are skipped (they can still be named explicitly).
_FOLDER_NOTES = frozenset({"README", "SOURCES", "LICENSE", "LICENCE", "CHANGELOG", "NOTICE"})
# A first line longer than this is prose, not a title.
_MAX_TITLE_LINE = 120
# One evidence record (a JSONL or CSV record, or a whole Markdown, text or HTML file) is at
# most this much text: a 50 MB record is a mistake (a file on one line) that would stall
# chunking and embedding for many minutes. Raised with $WORKBENCH_MAX_RECORD_MB.
MAX_RECORD_MB = 2.0
RECORD_LIMIT_ENV = "WORKBENCH_MAX_RECORD_MB"
RECORD_HINT = f"set {RECORD_LIMIT_ENV} (in MB) to raise it"
# Bytes read at a time when scanning a record file for an overlong line.
_SCAN_CHUNK = 1 << 20


def max_record_bytes() -> int:
    """The evidence record size limit: $WORKBENCH_MAX_RECORD_MB, else MAX_RECORD_MB."""
    value = os.environ.get(RECORD_LIMIT_ENV, "").strip()
    return limit_bytes(value or MAX_RECORD_MB, RECORD_LIMIT_ENV)


def iter_documents(paths: Sequence[Path], max_record: int | None = None) -> Iterator[Document]:
    """Yield the documents found in `paths`, files or folders, in a stable order.

    Folders are walked recursively in name order, skipping hidden entries, folder notes
    (README, SOURCES, LICENSE, ...) and files whose extension is not in
    SUPPORTED_EXTENSIONS; a file named explicitly must have a supported extension.
    The same file given twice is read once. Raises InputError (naming the file, and
    the line for record files) on anything unreadable, including a document id used
    twice, and any record over `max_record` bytes of text (default `max_record_bytes()`),
    refused before it is read in full.
    """
    limit = max_record_bytes() if max_record is None else max_record
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
            for document in _read_file(path, relative, limit):
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


def _read_file(path: Path, relative: Path, limit: int) -> Iterator[Document]:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return _read_jsonl(path, limit)
    if suffix in (".csv", ".tsv"):
        return _read_csv(path, "\t" if suffix == ".tsv" else None, limit)
    doc_id = _path_id(relative)
    if suffix in (".md", ".markdown"):
        return iter([_read_markdown(path, doc_id, limit)])
    if suffix == ".txt":
        return iter([_read_txt(path, doc_id, limit)])
    return iter([_read_html(path, doc_id, limit)])


# --- record files -------------------------------------------------------------------


def _read_jsonl(path: Path, limit: int) -> Iterator[Document]:
    _check_lines(path, limit)
    text = read_text(path)
    first_line: dict[str, int] = {}
    # Split on "\n" only: str.splitlines would also break on U+2028 inside JSON strings.
    for number, where, record in json_objects(text.split("\n"), str(path), limit, RECORD_HINT):
        yield _record_document(record, where, number, first_line, keep_types=True, limit=limit)


def _check_lines(path: Path, limit: int) -> None:
    """Refuse a record file with a line over `limit` bytes before decoding it whole, in
    constant memory; a file no larger than the limit cannot have one."""
    try:
        if path.stat().st_size <= limit:
            return
        with path.open("rb") as handle:
            number, length = 1, 0
            while chunk := handle.read(_SCAN_CHUNK):
                start, whole = 0, False
                while (end := chunk.find(b"\n", start)) != -1:
                    if length + end - start > limit:
                        length, whole = length + end - start, True
                        break
                    number, length, start = number + 1, 0, end + 1
                else:
                    length += len(chunk) - start
                if length > limit:
                    # A line still being read is at least that long.
                    raise too_large(
                        f"{path}:{number}", length, limit, "the record", RECORD_HINT, not whole
                    )
    except OSError as exc:
        raise InputError(f"{path}: cannot read the file ({exc.strerror or exc})") from exc


def _read_csv(path: Path, delimiter: str | None, limit: int) -> Iterator[Document]:
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
        yield _record_document(record, where, number, first_line, keep_types=False, limit=limit)


def _record_document(
    record: dict[str, Any],
    where: str,
    number: int,
    first_line: dict[str, int],
    keep_types: bool,
    limit: int | None = None,
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
    if limit is not None and len(text) > limit:
        raise too_large(where, len(text), limit, "the record's text", RECORD_HINT)
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


def _read_markdown(path: Path, doc_id: str, limit: int) -> Document:
    source = read_text(path, limit, "the document", RECORD_HINT)
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


def _read_txt(path: Path, doc_id: str, limit: int) -> Document:
    text = read_text(path, limit, "the document", RECORD_HINT)
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


def _read_html(path: Path, doc_id: str, limit: int) -> Document:
    # The same reader as articles (workbench.article): the page's main text and metadata,
    # without menus, cookie banners, comments, scripts or styles.
    from workbench.article import HTML_MARKUP_FACTOR, decode_html, read_html

    data = read_bytes(path, limit * HTML_MARKUP_FACTOR, "the page", RECORD_HINT)
    page = read_html(decode_html(data, str(path)), str(path))
    if len(page.text) > limit:
        raise too_large(str(path), len(page.text), limit, "the page's text", RECORD_HINT)
    return Document(
        id=doc_id,
        # A blank line between paragraphs: passages do not cross them (workbench.chunk).
        text=page.text.replace("\n", "\n\n"),
        title=page.title or path.stem,
        url=page.url,
        publisher=page.site,
        published=page.published,
        lang=page.lang,
        source=str(path),
        offset=0,
    )
