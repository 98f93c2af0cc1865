"""Provides the evidence panel: ranked candidates of the claim, and the highlighted one's text."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.text import Text
from textual.widgets import DataTable, Static

from workbench.review.highlight import marked
from workbench.review.widgets.queue import short

# Cited has its own mark: ✓ is an agreeing fact (STATUS_MARKS), and one glyph for both
# read as "checked" whichever was meant.
CITED_MARK = "●"
COUNTER_MARK = "⚑"  # a passage brought in from the wider pool because it conflicts
# How each agreement status is marked and coloured beside a passage.
STATUS_MARKS = {
    "conflicts": ("✗", "bold red"),
    "caution": ("!", "yellow"),
    "agrees": ("✓", "green"),
}
# What each mark of the evidence list means, for the help screen.
MARKS_LEGEND = [
    (CITED_MARK, "you cite this passage"),
    (f"{STATUS_MARKS['agrees'][0]}n", "n facts of the claim (names, places, dates, numbers) agree"),
    (f"{STATUS_MARKS['conflicts'][0]}n", "n facts conflict with the claim: read it closely"),
    (STATUS_MARKS["caution"][0], "a caution: the passage hedges, or is dated before the event"),
    (COUNTER_MARK, "counter-evidence: ranked lower, shown because it conflicts"),
]
EVIDENCE_WIDTH = 20
PUBLISHER_WIDTH = 12


def distinct_labels(ids: list[str], width: int) -> list[str]:
    """Each id in at most `width` characters, distinct where the ids are.

    Ids of one source often share a long prefix ("fr-rapport-mueller-…"): cut at the end
    they all read the same, so colliding ones keep their start and their end instead.
    """
    labels = [short(i, width) for i in ids]
    seen: dict[str, int] = {}
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
    head = (width - 1) // 2
    tail = width - 1 - head
    return [
        label if seen[label] == 1 or len(full) <= width else f"{full[:head]}…{full[-tail:]}"
        for label, full in zip(labels, ids, strict=True)
    ]


class EvidenceList(DataTable):
    """The claim's stored matches, best first; cited passages carry a mark."""

    can_focus = False

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.cell_padding = 0  # widths below leave one space between columns
        self.add_column("#", width=3, key="rank")
        self.add_column(CITED_MARK, width=2, key="cited")
        self.add_column("signals", width=8, key="signals")
        self.add_column("evidence", width=EVIDENCE_WIDTH + 1, key="evidence")
        self.add_column("publisher", width=PUBLISHER_WIDTH + 1, key="publisher")
        self.add_column("date", width=11, key="date")
        self.add_column("lang", width=5, key="lang")
        self.add_column("score", width=5, key="score")

    def show(self, matches: list[dict[str, Any]], cited: Iterable[int]) -> None:
        self.clear()
        cited = set(cited)
        labels = distinct_labels([m["evidence_id"] for m in matches], EVIDENCE_WIDTH)
        for match, label in zip(matches, labels, strict=True):
            self.add_row(
                str(match["rank"]),
                CITED_MARK if match["passage_id"] in cited else "",
                signal_summary(match),
                label,
                short(match["publisher"], PUBLISHER_WIDTH),
                match["published"],
                match["lang"],
                f"{match['score']:.3f}",
                key=str(match["passage_id"]),
            )

    def set_cited(self, cited: Iterable[int]) -> None:
        cited = set(cited)
        for key in self.rows:
            mark = CITED_MARK if int(key.value or 0) in cited else ""
            self.update_cell(key, "cited", mark)


def signal_summary(match: dict[str, Any]) -> Text:
    """'⚑✗2 ✓3': counter-evidence mark, then conflicts and agreements, for the list."""
    agreement = match.get("agreement") or []
    out = Text()
    if "counter" in (match.get("signals") or {}):
        out.append(COUNTER_MARK, style="bold red")
    for status in ("conflicts", "agrees"):
        n = sum(1 for s in agreement if s.get("status") == status)
        if n:
            mark, style = STATUS_MARKS[status]
            out.append(f"{mark}{n}", style=style)
            out.append(" ")
    return out


def format_agreement(match: dict[str, Any]) -> Text:
    """The passage's agreement signals, one a line, conflicts first; absent facts on one line."""
    from workbench.hints.signals import Signal

    out = Text()
    signals = [Signal.from_dict(s) for s in match.get("agreement") or []]
    counter = (match.get("signals") or {}).get("counter")
    if counter:
        out.append(
            f"{COUNTER_MARK} counter-evidence: ranked {int(counter)}, shown because it conflicts "
            "with the claim\n",
            style="bold red",
        )
    for signal in signals:
        if signal.status in STATUS_MARKS:
            mark, style = STATUS_MARKS[signal.status]
            out.append(f"{mark} ", style=style)
            out.append(signal.describe() + "\n", style=style if signal.status != "agrees" else "")
    missing = [s.claim or s.detail for s in signals if s.status == "absent"]
    if missing:
        out.append("Not in this passage: " + ", ".join(missing) + "\n", style="dim")
    return out


def format_signals(signals: dict[str, Any]) -> str:
    """Retriever signals as 'name score (#rank)', one retriever after another."""
    parts = []
    for name, value in signals.items():
        if name.endswith("_rank"):
            continue
        rank = signals.get(f"{name}_rank")
        score = f"{value:.3f}" if isinstance(value, float) else str(value)
        parts.append(f"{name} {score}" + (f" (#{rank})" if rank is not None else ""))
    return " · ".join(parts)


class EvidenceDetail(Static):
    """The highlighted candidate: title, source and text with the terms shared with the claim."""

    def show(
        self,
        match: dict[str, Any] | None,
        spans: list[tuple[int, int]],
        cited: bool,
        hints: str | None,
    ) -> None:
        """`hints` is the line of machine signals, or None while hints are hidden."""
        if match is None:
            self.update(Text("No evidence matched this claim yet.", style="dim"))
            return
        out = Text()
        if cited:
            out.append(f"{CITED_MARK} cited  ", style="bold green")
        out.append(match["title"] or match["evidence_id"], style="bold")
        out.append("\n")
        source = " · ".join(
            part for part in (match["publisher"], match["published"], match["url"]) if part
        )
        out.append(source + "\n\n", style="dim")
        out.append_text(marked(match["text"], spans))
        agreement = format_agreement(match)
        if agreement.plain:
            out.append("\n\nSignals\n", style="bold")
            out.append_text(agreement)
            out.rstrip()
        if hints is not None:
            out.append("\n\nHints: ", style="bold")
            out.append(hints, style="italic")
        self.update(out)
