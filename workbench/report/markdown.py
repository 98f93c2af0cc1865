"""Provides the Markdown report: counts by verdict, then each claim with its evidence."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from itertools import groupby
from typing import Any

from workbench.report import TEXT, ReportOptions, counts, label, rating_of, safe_url, standalone_of


def _text(value: str) -> str:
    """Text that a Markdown renderer shows as written: no raw HTML, no links or images.

    Entities and tags are HTML-escaped; the characters of emphasis, code and [links](...)
    are backslash-escaped, and so are those by which GFM and linkify turn bare addresses
    into links (the `:` and `/` of `https://`, `//host`, the `.` of `www.`, any `@`): the
    reader sees the same text, but nothing in it can be clicked."""
    escaped = html.escape(" ".join(value.split()), quote=False)
    for char in "\\`*_[]@":
        escaped = escaped.replace(char, "\\" + char)
    escaped = re.sub(r"([:/])(?=/)", r"\\\1", escaped)
    return re.sub(r"(?i)\b(www)\.", r"\1\\.", escaped)


def _quote(value: str) -> str:
    return "> " + _text(value)


def _source(cited: dict[str, Any]) -> str:
    title = _text(cited.get("title") or cited.get("evidence_id") or "")
    url = safe_url(cited.get("url") or "")
    # Inside <...> a destination may hold spaces; < > and \ could end or escape it early.
    for char, code in (("\\", "%5C"), ("<", "%3C"), (">", "%3E")):
        url = url.replace(char, code)
    link = f"[{title}](<{url}>)" if url else title
    details = [_text(x) for x in (cited.get("publisher"), cited.get("published")) if x]
    return ", ".join([link, *details])


def _claim(row: dict[str, Any], options: ReportOptions) -> list[str]:
    words = TEXT[options.lang]
    verdict = row.get("verdict") or {}
    lines = [
        f"### {words['claim']} {row['claim_id']}: {label(rating_of(row), options.lang)}",
        "",
        _quote(row["claim"]),
        "",
    ]
    if row.get("claimant"):
        lines += [f"{words['claimant']}: {_text(row['claimant'])}", ""]
    if standalone_of(row):
        lines += [f"*{words['standalone']}:* {_text(standalone_of(row))}", ""]
    if verdict:
        lines += [
            f"{words['reviewer']}: {_text(verdict.get('reviewer', ''))} · "
            f"{words['updated']}: {_text(verdict.get('updated_at', ''))}",
            "",
        ]
    if verdict.get("note"):
        lines += [f"**{words['note']}:** {_text(verdict['note'])}", ""]
    cited = verdict.get("cited") or []
    if cited:
        lines += [f"**{words['evidence']}:**", ""]
        for item in cited:
            lines += [_quote(item.get("text", "")), ">", "> — " + _source(item), ""]
    return lines


def render_markdown(rows: Sequence[dict[str, Any]], options: ReportOptions) -> str:
    """The report as Markdown, per article (with --article) or for the whole workspace."""
    words = TEXT[options.lang]
    title = words["title"] + (f": {_text(options.article)}" if options.article else "")
    lines = [f"# {title}", ""]
    if not rows:
        return "\n".join([*lines, words["empty"], ""])
    lines += [
        f"{len(rows)} {words['claims']}.",
        "",
        f"| {words['verdict']} | {words['count']} |",
        "|---|---:|",
    ]
    lines += [f"| {label(rating, options.lang)} | {n} |" for rating, n in counts(rows)]
    lines.append("")
    for article, group in groupby(rows, key=lambda row: row["article"]):
        lines += [f"## {words['article']}: {_text(article)}", ""]
        for row in group:
            lines += _claim(row, options)
    return "\n".join(lines)
