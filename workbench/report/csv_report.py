"""Provides the CSV report: RFC 4180, UTF-8 with a BOM, CRLF, one row per claim."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from workbench.report import ReportOptions, label, rating_of, top_citation

COLUMNS = (
    "claim_id", "article", "claim", "standalone", "claimant", "lang", "verdict", "verdict_id",
    "rating_value", "note", "reviewer", "date", "evidence_title", "evidence_publisher",
    "evidence_text", "evidence_url",
)  # fmt: skip


def render_csv(rows: Sequence[dict[str, Any]], options: ReportOptions) -> str:
    """The report as CSV text starting with a BOM (spreadsheets then read the accents right)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(COLUMNS)
    for row in rows:
        rating = rating_of(row)
        verdict = row.get("verdict") or {}
        cited = top_citation(row) or {}
        writer.writerow(
            (
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
                cited.get("url", ""),
            )
        )
    return "\ufeff" + buffer.getvalue()
