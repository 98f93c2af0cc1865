"""Provides the HTML report: one self-contained, escaped, script-free page with a chart."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from itertools import groupby
from string import Template
from typing import Any

from workbench.report import (
    TEXT,
    ReportOptions,
    counts,
    label,
    rating_of,
    review_triples,
    round_float,
    safe_url,
    standalone_of,
)
from workbench.scale import BY_ID, Rating

# No script may run, whatever the data holds: only inline styles are allowed.
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'none'; "
    "object-src 'none'; base-uri 'none'; form-action 'none'"
)

CSS = """\
:root{--ink:#1b1b1b;--muted:#555;--line:#ddd;--bg:#fff}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;\
color:var(--ink);background:var(--bg)}
main{max-width:52rem;margin:0 auto;padding:1rem}
h1{font-size:1.6rem;margin:.5rem 0}
h2{font-size:1.25rem;border-bottom:1px solid var(--line);padding-bottom:.25rem;margin-top:2rem}
h3{font-size:1.05rem;margin:0 0 .5rem}
.claim{border:1px solid var(--line);border-radius:.5rem;padding:.75rem 1rem;margin:1rem 0;\
break-inside:avoid}
.claim-text{font-size:1.05rem;margin:0 0 .5rem;padding-left:.75rem;border-left:4px solid #888}
.meta{color:var(--muted);font-size:.875rem;margin:.25rem 0}
.badge{display:inline-block;padding:.1rem .5rem;border-radius:1rem;background:#eee;\
font-size:.875rem;margin-right:.5rem}
.v1{background:#b71c1c;color:#fff}.v2{background:#e64a19;color:#fff}
.v3{background:#f9a825}.v4{background:#fdd835}.v5{background:#7cb342}
.v6{background:#2e7d32;color:#fff}
.evidence{list-style:none;padding:0;margin:.5rem 0 0}
.evidence blockquote{margin:.5rem 0 .25rem;padding-left:.75rem;border-left:3px solid var(--line);\
color:#333}
.chart svg{width:100%;height:auto;max-width:40rem}
table{border-collapse:collapse}td,th{padding:.2rem .75rem;border-bottom:1px solid var(--line);\
text-align:left}
a{color:#0b57d0;overflow-wrap:anywhere}
@media (max-width:600px){body{font-size:15px}main{padding:.5rem}.claim{padding:.5rem}}
@media print{body{font-size:11pt}main{max-width:none;padding:0}a{color:inherit}\
a[href]::after{content:" (" attr(href) ")";font-size:.8em;color:var(--muted)}\
.claim{border-color:#999}.badge{border:1px solid #999}}
"""

PAGE = Template(
    """\
<!DOCTYPE html>
<html lang="$lang">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="$csp">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title</title>
<style>
$css</style>
</head>
<body>
<main>
<h1 id="report-title">$title</h1>
$body</main>
</body>
</html>
"""
)


def _badge(rating: Rating | None, lang: str) -> str:
    value = f" v{rating.value}" if rating and rating.value else ""
    return f'<span class="badge{value}">{escape(label(rating, lang))}</span>'


def _chart(rows: Sequence[dict[str, Any]], lang: str) -> str:
    """An inline SVG bar chart of the verdict distribution, with a table for screen readers."""
    data = counts(rows)
    most = max(n for _, n in data)
    bar_height, gap, left, width = 24, 8, 170, 380
    height = len(data) * (bar_height + gap) + gap
    colours = {1: "#b71c1c", 2: "#e64a19", 3: "#f9a825", 4: "#fdd835", 5: "#7cb342", 6: "#2e7d32"}
    title = escape(TEXT[lang]["chart"])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 600 {height}" role="img" '
        f'aria-labelledby="chart-title"><title id="chart-title">{title}</title>'
    ]
    for i, (rating, n) in enumerate(data):
        y = gap + i * (bar_height + gap)
        w = max(2, round(width * n / most))
        colour = colours.get(rating.value if rating and rating.value else 0, "#9e9e9e")
        parts.append(
            f'<text x="{left - 8}" y="{y + 17}" text-anchor="end" font-size="14">'
            f"{escape(label(rating, lang))}</text>"
            f'<rect x="{left}" y="{y}" width="{w}" height="{bar_height}" fill="{colour}"/>'
            f'<text x="{left + w + 6}" y="{y + 17}" font-size="14">{n}</text>'
        )
    parts.append("</svg>")
    words = TEXT[lang]
    table = [
        f"<table><tr><th>{escape(words['verdict'])}</th><th>{escape(words['count'])}</th></tr>"
    ]
    table += [f"<tr><td>{escape(label(r, lang))}</td><td>{n}</td></tr>" for r, n in data]
    table.append("</table>")
    return f'<section class="chart">\n{"".join(parts)}\n{"".join(table)}\n</section>\n'


def _citation(cited: dict[str, Any]) -> str:
    title = escape(cited.get("title") or cited.get("evidence_id") or "")
    url = safe_url(cited.get("url") or "")
    source = f'<a href="{escape(url)}" rel="noopener noreferrer">{title}</a>' if url else title
    details = "".join(
        f", {escape(x)}" for x in (cited.get("publisher"), cited.get("published")) if x
    )
    return (
        f"<li><blockquote>{escape(cited.get('text', ''))}</blockquote>"
        f'<p class="meta">— <cite>{source}</cite>{details}</p></li>'
    )


def _claim(row: dict[str, Any], lang: str) -> str:
    words = TEXT[lang]
    verdict = row.get("verdict") or {}
    parts = [
        f'<div class="claim" id="claim-{int(row["claim_id"])}">',
        f"<h3>{_badge(rating_of(row), lang)}{escape(words['claim'])} {int(row['claim_id'])}</h3>",
        f'<blockquote class="claim-text">{escape(row["claim"])}</blockquote>',
    ]
    if row.get("claimant"):
        parts.append(f'<p class="meta">{escape(words["claimant"])}: {escape(row["claimant"])}</p>')
    if standalone_of(row):
        parts.append(
            f'<p class="standalone"><em>{escape(words["standalone"])}:</em> '
            f"{escape(standalone_of(row))}</p>"
        )
    if verdict:
        parts.append(
            f'<p class="meta">{escape(words["reviewer"])}: {escape(verdict.get("reviewer", ""))}'
            f" · {escape(words['updated'])}: {escape(verdict.get('updated_at', ''))}</p>"
        )
    if verdict.get("note"):
        parts.append(
            f'<p class="note"><strong>{escape(words["note"])}:</strong> '
            f"{escape(verdict['note'])}</p>"
        )
    cited = verdict.get("cited") or []
    if cited:
        parts.append(f"<p><strong>{escape(words['evidence'])}:</strong></p>")
        parts.append('<ul class="evidence">' + "".join(_citation(c) for c in cited) + "</ul>")
    parts.append("</div>")
    return "\n".join(parts) + "\n"


def _figure(value: float | None, lang: str) -> str:
    return escape(TEXT[lang]["undefined"]) if value is None else str(round_float(value))


def _table(head: Sequence[str], body: Sequence[Sequence[str]]) -> str:
    """A table of cells already escaped."""
    rows = ["<tr>" + "".join(f"<th>{cell}</th>" for cell in head) + "</tr>"]
    rows += ["<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in body]
    return "<table>" + "".join(rows) + "</table>\n"


def _agreement(rows: Sequence[dict[str, Any]], options: ReportOptions) -> str:
    """The agreement between reviewers (as `workbench agreement` computes it), or "" when no
    two reviewers reviewed a claim in common."""
    from workbench.agreement import compute_agreement

    triples = options.reviews if options.reviews is not None else review_triples(rows)
    result = compute_agreement(triples)
    if not any(pair.claims for pair in result.pairs):
        return ""
    lang = options.lang
    words = TEXT[lang]
    shown = {int(row["claim_id"]) for row in rows}
    parts = ['<section class="agreement">', f"<h2>{escape(words['agreement'])}</h2>"]
    parts.append(
        _table(
            [escape(words[k]) for k in ("measure", "value", "count", "ratings")],
            [
                [
                    escape(words[f"alpha_{a.level}"]),
                    _figure(a.value, lang),
                    str(a.claims),
                    str(a.ratings),
                ]
                for a in (result.ordinal, result.nominal)
            ],
        )
    )
    parts.append(f"<h3>{escape(words['pairs'])}</h3>")
    parts.append(
        _table(
            [escape(words[k]) for k in ("reviewers", "in_common", "agreed", "kappa")],
            [
                [
                    escape(f"{p.reviewer_a} / {p.reviewer_b}"),
                    str(p.claims),
                    str(p.agreed),
                    _figure(p.kappa, lang),
                ]
                for p in result.pairs
            ],
        )
    )
    parts.append(
        _table(
            [escape(words["reviewer"]), escape(words["verdicts"])],
            [[escape(r.reviewer), str(r.total)] for r in result.reviewers],
        )
    )
    if result.disputes:
        parts.append(f"<h3>{escape(words['disputes'])}</h3>")
        items = []
        for dispute in result.disputes:
            name = f"{escape(words['claim'])} {dispute.claim_id}"
            if dispute.claim_id in shown:  # a link only to a claim this report shows
                name = f'<a href="#claim-{dispute.claim_id}">{name}</a>'
            said = ", ".join(
                f"{escape(who)}: {escape(label(BY_ID.get(verdict), lang))}"
                for who, verdict in dispute.verdicts
            )
            items.append(f"<li>{name}: {said}</li>")
        parts.append("<ul>" + "".join(items) + "</ul>")
    parts += [f'<p class="meta">{escape(note)}</p>' for note in result.notes]
    parts.append("</section>")
    return "\n".join(parts) + "\n"


def render_html(rows: Sequence[dict[str, Any]], options: ReportOptions) -> str:
    """The report as one HTML page: no external assets, every piece of data escaped."""
    lang = options.lang
    words = TEXT[lang]
    title = words["title"] + (f": {options.article}" if options.article else "")
    if not rows:
        body = f'<p class="summary">{escape(words["empty"])}</p>\n'
        body += _agreement(rows, options)
    else:
        body = f'<p class="summary">{len(rows)} {escape(words["claims"])}.</p>\n'
        body += _chart(rows, lang)
        body += _agreement(rows, options)
        for article, group in groupby(rows, key=lambda row: row["article"]):
            heading = f"{escape(words['article'])}: {escape(article)}"
            body += f'<section class="article">\n<h2>{heading}</h2>\n'
            body += "".join(_claim(row, lang) for row in group)
            body += "</section>\n"
    return PAGE.substitute(lang=lang, csp=escape(CSP), title=escape(title), css=CSS, body=body)
