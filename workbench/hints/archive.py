"""Provides archives of earlier fact-checks as evidence documents: ClaimReview JSON-LD (JSON,
JSONL, HTML pages) and the CLEF verified-claims TSV, each review with its rating mapped onto
the workbench's verdict scale (`extra["review"]`), for verdict memory to recognise."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from workbench.errors import InputError
from workbench.models import Document
from workbench.scale import BY_ID, SCALE

SUFFIXES = {".json", ".jsonld", ".jsonl", ".ndjson", ".html", ".htm", ".tsv"}
# schema.org's Rating defaults, used when a review gives a ratingValue without its bounds.
DEFAULT_BEST, DEFAULT_WORST = 5.0, 1.0

# Publishers' wordings for the verdicts of the scale (folded: lower case, no accents), on top
# of the scale's own ids and English and French labels. PolitiFact, Snopes, AFP Factuel,
# Les Décodeurs, Full Fact, the Washington Post's Pinocchios, Libération's CheckNews.
_WORDINGS: dict[str, tuple[str, ...]] = {
    "false": (
        "pants on fire", "fake", "incorrect", "wrong", "fausse", "infox", "not true",
        "untrue", "inexact", "inexacte", "c'est faux", "totalement faux", "completement faux",
        "archi faux", "four pinocchios", "4 pinocchios", "fabricated", "hoax", "scam",
        "false claim", "fake news", "intox", "faux et trompeur", "bidon", "misattributed",
    ),
    "mostly-false": (
        "mostly untrue", "largely false", "mostly incorrect", "barely true",
        "three pinocchios", "3 pinocchios", "plutot faux", "en grande partie faux",
        "largement faux", "essentiellement faux",
    ),
    "misleading": (
        "trompeuse", "out of context", "missing context", "lacks context", "needs context",
        "hors contexte", "sorti de son contexte", "manque de contexte", "exaggerated",
        "exaggeration", "exagere", "exageree", "distorts the facts", "spins the facts",
        "cherry picks", "miscaptioned", "detourne", "detournement",
        "altered", "manipule", "manipulated",
    ),
    "half-true": (
        "half-true", "mixture", "mixed", "partly true", "partially true", "partially false",
        "partly false",
        "two pinocchios", "2 pinocchios", "partiellement vrai", "partiellement faux",
        "en partie faux", "a moitie vrai", "moitie vrai", "mitige", "a nuancer", "imprecis",
    ),
    "mostly-true": (
        "largely true", "mostly correct", "largely accurate", "mostly accurate",
        "one pinocchio", "1 pinocchio", "plutot vrai", "globalement vrai",
        "en grande partie vrai",
    ),
    "true": (
        "correct", "accurate", "geppetto checkmark", "c'est vrai", "exact", "exacte",
        "confirmed", "confirme", "real", "vrai", "verified", "authentic",
    ),
    "unverifiable": (
        "unproven", "unsupported", "no evidence", "unverified", "not proven",
        "insufficient evidence", "research in progress", "non prouve", "non verifie",
        "invérifiable", "pas de preuve", "sans preuve", "indemontrable",
    ),
}  # fmt: skip
_LANGUAGE_NAMES = {
    "english": "en", "anglais": "en", "french": "fr", "francais": "fr", "german": "de",
    "allemand": "de", "spanish": "es", "espagnol": "es", "italian": "it", "italien": "it",
    "portuguese": "pt", "portugais": "pt", "dutch": "nl", "arabic": "ar", "arabe": "ar",
}  # fmt: skip
_SCRIPT = re.compile(
    r"<script\b[^>]*\btype\s*=\s*[\"']?application/ld\+json[\"']?[^>]*>(.*?)</script\s*>",
    re.IGNORECASE | re.DOTALL,
)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass
class Archive:
    """What reading archives gave: the reviews as documents, and what was left out, why."""

    documents: list[Document] = field(default_factory=list)
    skipped: int = 0  # items that are not ClaimReview (a page's WebPage, Organization, ...)
    duplicates: int = 0  # the same review twice (same id)
    problems: list[str] = field(default_factory=list)  # reviews left out, each with its place


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.replace("’", "'").replace("_", " ").split())


@lru_cache(maxsize=1)
def _wordings() -> list[tuple[str, str]]:
    """(folded wording, verdict id), longest first, so "mostly false" wins over "false"."""
    pairs = {}
    for verdict, words in _WORDINGS.items():
        for word in words:
            pairs[_fold(word)] = verdict
    for rating in SCALE:
        for word in (rating.id, rating.id.replace("-", " "), rating.label_en, rating.label_fr):
            pairs[_fold(word)] = rating.id
    return sorted(pairs.items(), key=lambda kv: -len(kv[0]))


def verdict_from_wording(text: str) -> str | None:
    """The scale's verdict a publisher's rating text names ("Pants on Fire!" -> "false"),
    or None. The text may go on after the rating ("Faux : la photo date de 2015")."""
    folded = _fold(text).strip(" .!?\"'«»")
    if not folded:
        return None
    for wording, verdict in _wordings():
        if folded == wording:
            return verdict
    for wording, verdict in _wordings():
        # Only a rating followed by punctuation: "true but misleading" must not read "true".
        if re.match(re.escape(wording) + r"\s*(?:[:,.;!(\-–—]|$)", folded):
            return verdict
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip().replace(",", "."))
        except ValueError:
            return None
    return None


def verdict_from_value(value: Any, best: Any, worst: Any) -> str | None:
    """The scale's verdict nearest a numeric ratingValue, rescaled from [worst, best] onto
    the scale's 1..6, or None when there is no usable number."""
    number = _number(value)
    if number is None:
        return None
    high = _number(best) if best not in (None, "") else DEFAULT_BEST
    low = _number(worst) if worst not in (None, "") else DEFAULT_WORST
    if high is None or low is None or high == low:
        return None
    share = (number - low) / (high - low)
    if not 0.0 <= share <= 1.0:
        return None  # -1 and the like: "no rating" codes, not a point on the scale
    scale_value = 1 + int(share * 5 + 0.5)  # half up: the middle of 1..5 is half true
    return next(r.id for r in SCALE if r.value == scale_value)


def _text(value: Any) -> str:
    """A schema.org value that should be text: a string, or the name of a thing, or the first
    of a list."""
    if isinstance(value, list):
        return next((t for t in (_text(v) for v in value) if t), "")
    if isinstance(value, dict):
        return _text(value.get("name") or value.get("@value") or value.get("text") or "")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value.strip() if isinstance(value, str) else ""


def _url(value: Any) -> str:
    if isinstance(value, list):
        return next((u for u in (_url(v) for v in value) if u), "")
    if isinstance(value, dict):
        return _url(value.get("url") or value.get("@id") or "")
    return value.strip() if isinstance(value, str) else ""


def _language(value: Any) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    if isinstance(value, dict):
        value = value.get("alternateName") or value.get("name") or ""
    if not isinstance(value, str):
        return ""
    folded = _fold(value)
    if re.fullmatch(r"[a-z]{2}(?:[-_][a-z0-9]+)*", folded):
        return folded[:2]
    return _LANGUAGE_NAMES.get(folded, "")


def _detect(text: str) -> str:
    from workbench.extract.lang import UNDETERMINED, detect_language

    lang = detect_language(text)[0]
    return "" if lang == UNDETERMINED else lang


def _date(value: str) -> str:
    match = _ISO_DATE.match(value)
    return match.group() if match else ""


def _types(item: dict[str, Any]) -> list[str]:
    kinds = item.get("@type", [])
    kinds = kinds if isinstance(kinds, list) else [kinds]
    # "ClaimReview", "schema:ClaimReview", "https://schema.org/ClaimReview" are one type.
    return [re.split(r"[/:#]", k)[-1] for k in kinds if isinstance(k, str)]


def _items(data: Any) -> Iterator[Any]:
    """The candidate items of one JSON-LD value: itself, a list's members, an @graph's, a
    DataFeed's (Google's ClaimReview feeds), recursively."""
    if isinstance(data, list):
        for value in data:
            yield from _items(value)
    elif isinstance(data, dict) and "@graph" in data:
        yield from _items(data["@graph"])
    elif isinstance(data, dict) and "DataFeed" in _types(data):
        for element in data.get("dataFeedElement") or []:
            inner = element.get("item") if isinstance(element, dict) else None
            yield from _items(inner if inner is not None else element)
    else:
        yield data


def _stable_id(url: str, claim: str, author: str, date: str, shared_url: bool) -> str:
    if url and not shared_url:
        return url
    digest = hashlib.sha256("\x1f".join((claim, author, date)).encode("utf-8")).hexdigest()
    # One page often reviews several claims: the url alone would name them all.
    return f"{url}#{digest[:12]}" if url else f"review:{digest[:16]}"


def _review_record(item: dict[str, Any], where: str, archive: str) -> dict[str, Any] | str:
    """A ClaimReview item's fields, or the reason it cannot be used."""
    claimed = item.get("itemReviewed")
    claimed = claimed[0] if isinstance(claimed, list) and claimed else claimed
    claimed = claimed if isinstance(claimed, dict) else {}
    claim = _text(item.get("claimReviewed")) or _text(claimed.get("text") or claimed.get("name"))
    if not claim:
        return f"{where}: ClaimReview without claimReviewed"
    rating = item.get("reviewRating")
    rating = rating[0] if isinstance(rating, list) and rating else rating
    rating = rating if isinstance(rating, dict) else {}
    wording = _text(rating.get("alternateName") or rating.get("name"))
    value = rating.get("ratingValue")
    best, worst = rating.get("bestRating"), rating.get("worstRating")
    verdict = (verdict_from_wording(wording) if wording else None) or verdict_from_value(
        value, best, worst
    )
    date = _text(item.get("datePublished"))
    return {
        "claim": claim,
        "headline": _text(item.get("headline") or item.get("name")),
        "url": _url(item.get("url")),
        "lang": _language(item.get("inLanguage")),
        "review": {
            "rating": wording or ("" if value in (None, "") else str(value)),
            "rating_value": _number(value),
            "best": _number(best),
            "worst": _number(worst),
            "verdict": verdict if verdict in BY_ID else None,
            "author": _text(item.get("author")),
            "author_url": _url(item.get("author")),
            "date": date,
            "url": _url(item.get("url")),
            "claimant": _text(claimed.get("author")),
            "claim_date": _text(claimed.get("datePublished")),
            "archive": archive,
        },
    }


def _json_values(text: str, name: str) -> Iterator[tuple[str, Any]]:
    """(where, value) for each JSON-LD value of a file: a JSON document, JSON Lines, or the
    ld+json scripts of an HTML page."""
    stripped = text.lstrip()
    if stripped[:1] == "<":
        blocks = list(_SCRIPT.finditer(text))
        if not blocks:
            raise InputError(f'{name}: no <script type="application/ld+json"> block in the page')
        for number, block in enumerate(blocks, start=1):
            line = text.count("\n", 0, block.start(1)) + 1
            where = f"{name}:{line} (ld+json block {number})"
            yield where, _loads(block.group(1), where)
        return
    if stripped[:1] not in ("{", "["):
        raise InputError(
            f"{name}: not a ClaimReview archive (expected JSON-LD, JSON Lines, an HTML page or "
            "a CLEF verified-claims TSV)"
        )
    try:
        yield name, json.loads(text)
        return
    except json.JSONDecodeError as whole:
        # "Extra data" after a first complete value: JSON Lines, read line by line below.
        if whole.msg != "Extra data" or stripped[:1] != "{":
            raise InputError(
                f"{name}:{whole.lineno}: not valid JSON ({whole.msg} at column {whole.colno})"
            ) from None
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            yield f"{name}:{number}", _loads(line, f"{name}:{number}")


def _loads(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from None


def _claimreviews(text: str, name: str, archive: Archive) -> list[dict[str, Any]]:
    records = []
    for where, value in _json_values(text, name):
        items = list(_items(value))
        for number, item in enumerate(items, start=1):
            place = f"{where} item {number}" if len(items) > 1 else where
            reviews = _nested(item) if isinstance(item, dict) else []
            if not reviews:
                archive.skipped += 1
            for index, review in enumerate(reviews, start=1):
                inner = place if len(reviews) == 1 else f"{place} review {index}"
                record = _review_record(review, inner, name)
                if isinstance(record, str):
                    archive.problems.append(record)
                else:
                    records.append(record)
    return records


def _nested(item: dict[str, Any], depth: int = 0) -> list[dict[str, Any]]:
    """The item if it is a ClaimReview, else the ClaimReviews it holds (a NewsArticle's
    `review`, a WebPage's `mainEntity`), a few levels down."""
    if "ClaimReview" in _types(item):
        return [item]
    if depth >= 3:
        return []
    found = []
    for value in item.values():
        for inner in value if isinstance(value, list) else [value]:
            if isinstance(inner, dict):
                found += _nested(inner, depth + 1)
    return found


def _is_clef(text: str) -> bool:
    header = text.split("\n", 1)[0].lower().split("\t")
    return len(header) >= 2 and "vclaim" in [h.strip() for h in header]


def _clef_records(text: str, name: str, archive: Archive) -> list[dict[str, Any]]:
    """CLEF CheckThat! verified claims: `vclaim_id<TAB>vclaim[<TAB>title]` with a header;
    fields with line breaks are quoted, as in the published files."""
    reader = csv.reader(text.splitlines(keepends=True), delimiter="\t")
    header = [h.strip().lower() for h in next(reader)]
    columns = {h: i for i, h in enumerate(header)}
    text_at, title_at = columns["vclaim"], columns.get("title")
    records = []
    while True:
        where = f"{name}:{reader.line_num + 1}"  # a quoted field may span lines
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise InputError(f"{where}: not valid TSV ({exc})") from None
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise InputError(
                f"{where}: expected {len(header)} tab-separated columns "
                f"({', '.join(h or 'id' for h in header)}), got {len(row)}"
            )
        claim = " ".join(row[text_at].split())
        if not claim:
            archive.problems.append(f"{where}: no claim text")
            continue
        records.append(
            {
                "claim": claim,
                "headline": row[title_at].strip() if title_at is not None else "",
                "url": "",
                "lang": "",
                "review": {
                    "rating": "",
                    "rating_value": None,
                    "best": None,
                    "worst": None,
                    "verdict": None,
                    "author": "",
                    "author_url": "",
                    "date": "",
                    "url": "",
                    "claimant": "",
                    "claim_date": "",
                    "archive": name,
                    "archive_id": row[0].strip(),
                },
            }
        )
    return records


def read_archive(path: Path, archive: Archive | None = None) -> Archive:
    """Read one archive file into `archive` (a new one by default) and return it."""
    from workbench.textio import read_text

    archive = archive if archive is not None else Archive()
    text = read_text(path)
    if _is_clef(text):
        records = _clef_records(text, path.name, archive)
    else:
        records = _claimreviews(text, path.name, archive)
    if not records:
        raise InputError(
            f"{path.name}: no ClaimReview in the file"
            + (f" ({archive.skipped} items of other types skipped)" if archive.skipped else "")
        )
    urls: dict[str, int] = {}
    for record in records:
        urls[record["url"]] = urls.get(record["url"], 0) + 1
    seen = {doc.id for doc in archive.documents}
    for record in records:
        review = record["review"]
        doc_id = _stable_id(
            record["url"], record["claim"], review["author"], review["date"],
            urls[record["url"]] > 1,
        )  # fmt: skip
        if doc_id in seen:
            archive.duplicates += 1
            continue
        seen.add(doc_id)
        archive.documents.append(
            Document(
                id=doc_id,
                text=record["claim"],
                title=record["headline"],
                url=record["url"],
                publisher=review["author"],
                published=_date(review["date"]),
                lang=record["lang"] or _detect(record["claim"]),
                source=str(path),
                extra={"review": review},
            )
        )
    return archive


def read_archives(paths: Sequence[Path]) -> Archive:
    """Read archive files (a folder: its files with a known suffix), all before anything is
    written, so a bad file changes nothing."""
    archive = Archive()
    for path in paths:
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.suffix.lower() in SUFFIXES)
            if not files:
                raise InputError(f"{path}: no archive files ({', '.join(sorted(SUFFIXES))})")
        else:
            files = [path]
        for file in files:
            read_archive(file, archive)
    return archive


def review_hash(doc: Document) -> str:
    """Content hash of a review: its text (as evidence) and its rating, publisher and dates,
    so that a corrected rating is stored again; the archive's file name is left out."""
    from workbench.ingest import content_hash

    review = {k: v for k, v in doc.extra.get("review", {}).items() if k != "archive"}
    payload = json.dumps(
        [content_hash(doc), doc.url, doc.publisher, doc.published, review],
        ensure_ascii=False,
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
