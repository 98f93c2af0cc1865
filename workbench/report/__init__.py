"""Provides the report formats of `workbench export` and `render(fmt, rows, options)`.

Every renderer is a pure function of the exported rows (`Workspace.export_rows()`) and the
options: dates come from the data, never from the clock, so a report is reproducible.
"""

from __future__ import annotations

import json
import math
import numbers
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from html import unescape as html_unescape  # (the name html is the submodule html.py)
from typing import Any

from workbench.errors import InputError
from workbench.scale import BY_ID, SCALE, Rating

FORMATS = ("jsonl", "claimreview", "csv", "markdown", "html")
STATUSES = ("reviewed", "all")
LANGS = ("en", "fr")

# Every float an export writes (scores, signals) is rounded to this many decimals: the last
# digits of a similarity move with the BLAS or numpy build, and an export must not.
FLOAT_DECIMALS = 4

# The only schemes a link in a report may have; anything else (javascript:, data:, vbscript:,
# file:, ...) could run code or read files when a reader follows it.
SAFE_SCHEMES = frozenset({"http", "https"})
# Fields of the exported data that hold a URL (evidence, article, source), by name.
URL_KEYS = frozenset({"url", "uri", "href", "src", "link", "urls", "links", "sameas"})
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_C0_AND_SPACE = "".join(chr(i) for i in range(0x21))

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
        "agreement": "Agreement between reviewers",
        "alpha_ordinal": "Krippendorff's alpha, ordinal (the six rated verdicts)",
        "alpha_nominal": "Krippendorff's alpha, nominal (every verdict)",
        "measure": "Measure",
        "value": "Value",
        "ratings": "Ratings",
        "undefined": "undefined",
        "pairs": "Reviewer pairs",
        "reviewers": "Reviewers",
        "in_common": "Claims in common",
        "agreed": "Agreed",
        "kappa": "Cohen's kappa",
        "verdicts": "Verdicts given",
        "disputes": "Claims in dispute",
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
        "agreement": "Accord entre vérificateurs",
        "alpha_ordinal": "Alpha de Krippendorff, ordinal (les six verdicts notés)",
        "alpha_nominal": "Alpha de Krippendorff, nominal (tous les verdicts)",
        "measure": "Mesure",
        "value": "Valeur",
        "ratings": "Verdicts",
        "undefined": "non défini",
        "pairs": "Paires de vérificateurs",
        "reviewers": "Vérificateurs",
        "in_common": "Affirmations en commun",
        "agreed": "Accords",
        "kappa": "Kappa de Cohen",
        "verdicts": "Verdicts donnés",
        "disputes": "Affirmations en désaccord",
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
    # Also the claims under their check-worthiness threshold that nobody took up (the review
    # queue's hidden ones, `store.queue.HIDDEN_SQL`): a report leaves them out by default.
    low: bool = False
    # (reviewer, claim id, verdict) of every review in the report's scope, whatever the
    # claims' status, for the agreement figures; None: the reviews of the rows reported.
    reviews: tuple[tuple[str, int, str], ...] | None = None


def review_triples(rows: Iterable[dict[str, Any]]) -> tuple[tuple[str, int, str], ...]:
    """(reviewer, claim id, verdict) of each review with a verdict in the exported rows: what
    agreement between reviewers is computed over (as `Workspace.review_triples`)."""
    return tuple(
        (review["reviewer"], int(row["claim_id"]), review["verdict"])
        for row in rows
        for review in row.get("reviews") or ()
        if review.get("verdict")
    )


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


def safe_url(url: str | None, *, relative: bool = True) -> str:
    """The URL, trimmed, if following it can only load a web page, else "".

    Allowed: http and https, and (with `relative`) references without a scheme. The scheme
    is read the way browsers and Markdown renderers read it: leading spaces and control
    characters, tabs and newlines anywhere, backslashes and HTML entities (however often
    encoded) cannot disguise `javascript:`, `data:`, `vbscript:` or `file:`. Every report
    format passes each URL it writes through here."""
    if not url:
        return ""
    # What a browser ignores: C0 controls and spaces at the ends, tabs and newlines anywhere.
    cleaned = re.sub(r"[\t\n\r]", "", url.strip(_C0_AND_SPACE).strip())
    form = cleaned
    for _ in range(4):
        scheme = _SCHEME.match(_without_disguise(form))
        if scheme is None:
            if not relative or not cleaned:
                return ""
        elif scheme.group()[:-1].lower() not in SAFE_SCHEMES:
            return ""
        decoded = html_unescape(form)
        if decoded == form:
            return cleaned
        form = decoded
    return ""  # entities inside entities inside entities: no real link looks like that


def _without_disguise(url: str) -> str:
    """`url` without the characters a reader may skip inside a scheme ("java\tscript:")."""
    return "".join(
        char for char in url if char.isprintable() and not char.isspace() and char != "\\"
    )


def round_float(value: float) -> float | None:
    """`value` rounded to FLOAT_DECIMALS (no -0.0); None for NaN and infinities, which JSON
    cannot hold."""
    value = float(value)
    if not math.isfinite(value):
        return None
    return round(value, FLOAT_DECIMALS) + 0.0


def _is_url_key(key: object) -> bool:
    name = str(key).lower()
    return name in URL_KEYS or name.rsplit("_", 1)[-1] in URL_KEYS


def clean(value: Any, dropped: set[str], url: bool = False) -> Any:
    """A copy of `value` (exported rows) with every float rounded and every URL field (a
    string under a URL key, or in a list under one) passed through `safe_url`; the URLs it
    refused are added to `dropped`."""
    if isinstance(value, dict):
        return {key: clean(item, dropped, _is_url_key(key)) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(item, dropped, url) for item in value]
    if url and isinstance(value, str):
        kept = safe_url(value)
        if value.strip() and not kept:
            dropped.add(value)
        return kept
    if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):
        return round_float(value)
    return value


def script_safe_json(text: str) -> str:
    """JSON text that can be pasted inside <script type="application/ld+json"> (or any HTML)
    as it is: no `</script>` or `<!--` can end the element, no U+2028/U+2029 breaks a line."""
    for char, escaped in (
        ("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"),
        ("\u2028", "\\u2028"), ("\u2029", "\\u2029"),
    ):  # fmt: skip
        text = text.replace(char, escaped)
    return text


def render(fmt: str, rows: Sequence[dict[str, Any]], options: ReportOptions) -> str:
    """The report of `rows` (already selected) in format `fmt`."""
    return render_counted(fmt, rows, options)[0]


def render_counted(
    fmt: str, rows: Sequence[dict[str, Any]], options: ReportOptions
) -> tuple[str, int]:
    """The report of `rows` in format `fmt`, and how many distinct unsafe URLs (from the
    rows, or from the settings the format uses) were left out of it."""
    if options.lang not in LANGS:
        raise InputError(f"unknown language {options.lang!r}; use one of: {', '.join(LANGS)}")
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}; use one of: {', '.join(FORMATS)}")
    dropped: set[str] = set()
    rows = clean(list(rows), dropped)
    if fmt == "claimreview":
        # Only ClaimReview shows the publisher's URLs; schema.org wants them absolute.
        gated = {
            name: safe_url(getattr(options, name), relative=False)
            for name in ("organization_url", "review_url")
        }
        dropped |= {getattr(options, k) for k, v in gated.items() if getattr(options, k) and not v}
        options = replace(options, **gated)
    return _render(fmt, rows, options), len(dropped)


def _render(fmt: str, rows: Sequence[dict[str, Any]], options: ReportOptions) -> str:
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
