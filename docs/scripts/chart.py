"""Provides the retrieval-quality chart: MAP@5 per set and configuration, as SVG text from JSON."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

# One panel per set, one bar per configuration; hand-built SVG keeps the docs free of a
# plotting dependency, and the same JSON always gives the same bytes.
WIDTH = 820
LABEL_W = 300
BAR_H = 16
GAP = 4
PANEL_PAD = 34
BAR_W = WIDTH - LABEL_W - 70
SHIPPED = "default as shipped"


def load_rows(path: Path) -> list[dict[str, Any]]:
    """The rows of a results file: a list (bench/retrieval.py --json) or {"rows": [...]}."""
    data = json.loads(path.read_text(encoding="utf-8"))
    rows = data["rows"] if isinstance(data, dict) else data
    return [r for r in rows if "set" in r and "config" in r and "map@5" in r]


def retrieval_chart(rows: list[dict[str, Any]], metric: str = "map@5") -> str:
    """An SVG of `metric` per set (panels) and configuration (bars), in the rows' order."""
    sets = list(dict.fromkeys(r["set"] for r in rows))
    height = (
        40
        + sum(PANEL_PAD + sum(r["set"] == s for r in rows) * (BAR_H + GAP) for s in sets)
        + 14 * sum(bool(r.get("note")) for r in rows)
        + 10
    )
    notes: list[str] = []
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
        f'<text x="10" y="22" font-size="15" font-weight="bold">{escape(metric.upper())} '
        "per set and configuration (higher is better)</text>",
    ]
    y = 40
    for name in sets:
        members = [r for r in rows if r["set"] == name]
        size = members[0].get("set_size", "")
        title = f"{name} ({size})" if size else name
        out.append(f'<text x="10" y="{y + 18}" font-weight="bold">{escape(title)}</text>')
        y += PANEL_PAD - 8
        for row in members:
            value = float(row[metric])
            width = round(BAR_W * max(0.0, min(1.0, value)), 1)
            shipped = row["config"] == SHIPPED
            label = row["config"]
            if row.get("note"):
                notes.append(row["note"])
                label += " " + "*" * len(notes)
            fill = "#1f6feb" if shipped else "#8c959f"
            weight = ' font-weight="bold"' if shipped else ""
            out += [
                f'<text x="{LABEL_W - 8}" y="{y + BAR_H - 4}" text-anchor="end"{weight}>'
                f"{escape(label)}</text>",
                f'<rect x="{LABEL_W}" y="{y}" width="{width}" height="{BAR_H}" fill="{fill}"/>',
                f'<text x="{LABEL_W + width + 6}" y="{y + BAR_H - 4}"{weight}>{value:.3f}</text>',
            ]
            y += BAR_H + GAP
        y += 8
    for i, note in enumerate(notes, start=1):
        out.append(f'<text x="10" y="{y + 4}" font-size="11">{"*" * i} {escape(note)}</text>')
        y += 14
    out.append("</svg>")
    return "\n".join(out) + "\n"
