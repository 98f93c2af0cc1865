"""Provides the report formats of `workbench export` and `render(fmt, rows, options)`.

Every renderer is a pure function of the exported rows (`Workspace.export_rows()`) and the
options: dates come from the data, never from the clock, so a report is reproducible.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from workbench.errors import InputError
from workbench.scale import BY_ID, SCALE, Rating

FORMATS = ("jsonl", "claimreview", "csv", "markdown", "html")
STATUSES = ("reviewed", "all")
LANGS = ("en", "fr")

# The few words of the human-readable reports, in the two languages of the scale.
TEXT = {
    "en": {
        "title": "Fact-check report",
        "claims": "claims",
        "claim": "Claim",
        "standalone": "As it stands alone",
        "claimant": "Claimant",
        "verdict": "Verdict",
        "count": "Claims",
        "unreviewed": "Not reviewed",
        "note": "Note",
        "evidence": "Evidence",
        "reviewer": "Reviewer",
        "updated": "Updated",
        "article": "Article",
        "empty": "No claims to report.",
        "chart": "Verdict distribution",
    },
    "fr": {
        "title": "Rapport de vérification",
        "claims": "affirmations",
        "claim": "Affirmation",
        "standalone": "Hors contexte",
        "claimant": "Auteur",
        "verdict": "Verdict",
        "count": "Affirmations",
        "unreviewed": "Non vérifiée",
        "note": "Note",
        "evidence": "Sources",
        "reviewer": "Vérificateur",
        "updated": "Mis à jour",
        "article": "Article",
        "empty": "Aucune affirmation à présenter.",
        "chart": "Répartition des verdicts",
    },
}


@dataclass(frozen=True)
class ReportOptions:
    """What a report shows and how it names its publisher (from `[publish]` settings)."""

    lang: str = "en"
    status: str = "reviewed"
    article: str | None = None
    organization: str = "Fact-check workbench"
    organization_url: str = ""
    review_url: str = ""


def rating_of(row: dict[str, Any]) -> Rating | None:
    """The claim's verdict on the scale, or None when it has none yet."""
    verdict = row.get("verdict") or {}
    return BY_ID.get(verdict.get("verdict") or "")


def label(rating: Rating | None, lang: str) -> str:
    if rating is None:
        return TEXT[lang]["unreviewed"]
    return rating.label_fr if lang == "fr" else rating.label_en


def select_rows(
    rows: Iterable[dict[str, Any]], status: str, article: str | None = None
) -> list[dict[str, Any]]:
    """Rows of `article` (all if None); with status "reviewed", only claims with a verdict
    other than "not a claim"."""
    if status not in STATUSES:
        raise InputError(f"unknown status {status!r}; use one of: {', '.join(STATUSES)}")
    rows = list(rows)
    if article is not None:
        names = sorted({row["article"] for row in rows})
        if rows and article not in names:
            raise InputError(f"no article named {article!r}; articles: {', '.join(names)}")
        rows = [row for row in rows if row["article"] == article]
    if status == "reviewed":
        rows = [r for r in rows if (rating := rating_of(r)) and rating.id != "not-a-claim"]
    return rows


def counts(rows: Sequence[dict[str, Any]]) -> list[tuple[Rating | None, int]]:
    """(rating, number of claims) in scale order, unreviewed last; only those present."""
    found = Counter(rating_of(row) for row in rows)
    ordered: list[Rating | None] = [*SCALE, None]
    return [(rating, found[rating]) for rating in ordered if found[rating]]


def top_citation(row: dict[str, Any]) -> dict[str, Any] | None:
    cited = (row.get("verdict") or {}).get("cited") or []
    return cited[0] if cited else None


def safe_url(url: str) -> str:
    """The URL if it is a web address, else "" (no javascript: or data: links)."""
    return url if url.lower().startswith(("https://", "http://")) else ""


def render(fmt: str, rows: Sequence[dict[str, Any]], options: ReportOptions) -> str:
    """The report of `rows` (already selected) in format `fmt`."""
    if options.lang not in LANGS:
        raise InputError(f"unknown language {options.lang!r}; use one of: {', '.join(LANGS)}")
    if fmt == "jsonl":
        return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    if fmt == "claimreview":
        from workbench.report.claimreview import render_claimreview

        return render_claimreview(rows, options)
    if fmt == "csv":
        from workbench.report.csv_report import render_csv

        return render_csv(rows, options)
    if fmt == "markdown":
        from workbench.report.markdown import render_markdown

        return render_markdown(rows, options)
    if fmt == "html":
        from workbench.report.html import render_html

        return render_html(rows, options)
    raise InputError(f"unknown format {fmt!r}; use one of: {', '.join(FORMATS)}")


def standalone_of(row: dict[str, Any]) -> str:
    """The claim rewritten to stand alone, or '' when it reads the same as its span."""
    alone = (row.get("standalone") or "").strip()
    return alone if alone and alone != row["claim"].strip() else ""
