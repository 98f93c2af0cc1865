"""Provides the CSV report: RFC 4180, UTF-8 with a BOM, CRLF, one row per claim, no cell a
spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from workbench.report import ReportOptions, label, rating_of, round_float, safe_url, top_citation

COLUMNS = (
    "claim_id", "article", "claim", "standalone", "claimant", "lang", "verdict", "verdict_id",
    "rating_value", "note", "reviewer", "date", "evidence_title", "evidence_publisher",
    "evidence_text", "evidence_url",
)  # fmt: skip


# A spreadsheet reads a cell that starts with one of these as a formula (=HYPERLINK, =cmd|,
# @SUM...); OWASP's CSV-injection guidance, plus NUL (ASVS) and the full-width forms.
FORMULA_STARTS = (
    "=", "+", "-", "@", "\t", "\r", "\n", "\0", "\uff1d", "\uff0b", "\uff0d", "\uff20",
)  # fmt: skip


def csv_cell(value: Any) -> Any:
    """`value` as a cell: a number the workbench computed stays a number (floats rounded);
    text that a spreadsheet would run as a formula starts with an apostrophe, which makes
    it text (OWASP), even when leading spaces hide the trigger."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        rounded = round_float(value)
        return "" if rounded is None else rounded
    text = str(value)
    if text.startswith(FORMULA_STARTS) or text.lstrip().startswith(FORMULA_STARTS):
        return "'" + text
    return text


def render_csv(rows: Sequence[dict[str, Any]], options: ReportOptions) -> str:
    """The report as CSV text starting with a BOM (spreadsheets then read the accents right).

    Every text cell is quoted, so a spreadsheet that splits on `;` or tabs (French Excel)
    cannot start a new cell, and a formula with it, in the middle of one."""
    buffer = io.StringIO()
    buffer.write(",".join(COLUMNS) + "\r\n")  # plain names: nothing to quote
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_NONNUMERIC)
    for row in rows:
        rating = rating_of(row)
        verdict = row.get("verdict") or {}
        cited = top_citation(row) or {}
        writer.writerow(
            csv_cell(cell)
            for cell in (
                row["claim_id"],
                row["article"],
                row["claim"],
                row.get("standalone") or row["claim"],
                row.get("claimant", ""),
                row["lang"],
                label(rating, options.lang),
                rating.id if rating else "",
                rating.value if rating and rating.value is not None else "",
                verdict.get("note", ""),
                verdict.get("reviewer", ""),
                verdict.get("updated_at", ""),
                cited.get("title", ""),
                cited.get("publisher", ""),
                cited.get("text", ""),
                safe_url(cited.get("url")),
            )
        )
    return "\ufeff" + buffer.getvalue()
