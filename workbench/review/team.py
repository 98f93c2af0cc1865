"""Provides the review UI's team screens: an editor's adjudication of a claim, and agreement.

Everything reviewers typed (names, notes, cited titles) is shown as Rich Text, never read as
markup: a note holding "[red]" or "[@click=...]" is text, not styling or an action.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from workbench.agreement import Agreement
from workbench.history import excerpt
from workbench.review.keys import ADJUDICATION_BINDINGS, AGREEMENT_BINDINGS, PICK_LETTERS
from workbench.review.widgets.badge import badge
from workbench.scale import BY_ID, SCALE
from workbench.settings import ReviewPolicy
from workbench.verdicts import (
    adjudicate,
    approve,
    claim_status,
    decision_basis,
    verdict_label,
)
from workbench.workspace import ClaimRow, Workspace

# The app's `_attempt`: runs a core call, shows a failure as a notification, None on failure.
Attempt = Callable[..., Any]


def adjudication_refusal(policy: ReviewPolicy, reviewer: str, root: Path) -> str:
    """Why `reviewer` may not open the adjudication screen, in one line; "" when they may."""
    config = root / "config.toml"
    if not policy.double:
        return (
            'Adjudication decides between two reviews: it needs [review] mode = "double" in '
            f"{config}; in single mode a review is the final verdict."
        )
    if not policy.is_editor(reviewer):
        editors = ", ".join(policy.editors) or "nobody yet"
        return (
            f"Only editors adjudicate and approve ([review] editors in {config}: {editors}); "
            f"{reviewer} is not one."
        )
    return ""


def _review_text(letter: str, review: dict[str, Any]) -> Text:
    """One review as the panel shows it: who, when, verdict, note, cited passages."""
    out = Text()
    out.append(f"{letter}  ", style="bold reverse")
    out.append(" ")
    out.append(review["reviewer"] or "(unnamed)", style="bold")
    out.append(f"\ngiven {review['created_at']}", style="dim")
    if review["updated_at"] != review["created_at"]:
        out.append(f"\nchanged {review['updated_at']}", style="dim")
    out.append("\nVerdict: ", style="bold")
    verdict = review["verdict"]
    out.append_text(badge(verdict) if verdict else Text("none (a note only)", style="dim"))
    out.append("\nNote: ", style="bold")
    out.append(review["note"] if review["note"].strip() else "")
    if not review["note"].strip():
        out.append("none", style="dim")
    cited = review["cited"]
    out.append(f"\nCited ({len(cited)})", style="bold")
    for citation in cited:
        out.append("\n• ")
        out.append(citation.get("title") or citation.get("evidence_id") or "(untitled)")
        out.append(
            f"  [{citation.get('evidence_id', '')} · passage {citation.get('passage_id')}]",
            style="dim",
        )
    return out


class AdjudicationScreen(ModalScreen[None]):
    """An editor's view of a claim's reviews, side by side, to decide its final verdict."""

    BINDINGS = [*ADJUDICATION_BINDINGS]

    def __init__(
        self,
        claim: ClaimRow,
        editor: str,
        workspace: Workspace,
        attempt: Attempt,
        refused_read_only: Callable[[], bool],
        changed: Callable[[int], None],
    ) -> None:
        super().__init__()
        self.claim = claim
        self.editor = editor
        self.ws = workspace
        self.attempt = attempt
        self.refused_read_only = refused_read_only
        self.changed = changed
        self.reviews: list[dict[str, Any]] = []
        self.final: dict[str, Any] | None = None
        self.basis: dict[str, Any] | None = None
        """What the screen shows (`decision_basis`): every decision from it names it, so a
        change since (a reviewer's, another editor's) is refused, not decided over."""
        self.status = ""
        self.selected = 0
        self._read()

    def _read(self) -> bool:
        """Read the claim's reviews, final verdict and status again; False on an error."""
        found = self.attempt("read the claim's reviews", self._load)
        return found is not None

    def _load(self) -> bool:
        basis = decision_basis(self.ws, self.claim.id)
        self.basis = basis
        self.reviews = basis["reviews"]
        self.final = basis["final"]
        if basis["claim"] is not None:
            self.claim = replace(self.claim, text=basis["claim"])  # as decided: reworded too
        self.status = claim_status(self.ws, self.claim.id)
        self.selected = min(self.selected, max(len(self.reviews) - 1, 0))
        return True

    def compose(self) -> ComposeResult:
        title = Text()
        title.append(f"Adjudicate claim {self.claim.id}: ", style="bold")
        title.append(excerpt(self.claim.text, 100))
        verdict_keys = " ".join(r.key for r in SCALE)
        with Vertical(classes="dialog adjudication"):
            yield Label(title, classes="dialog-title")
            yield Static(self._final_text(), id="adjudication-final")
            with Horizontal(id="adjudication-reviews"):
                if not self.reviews:
                    yield Static(Text("No review of this claim yet.", style="dim"))
                for i, review in enumerate(self.reviews):
                    letter = PICK_LETTERS[i] if i < len(PICK_LETTERS) else " "
                    yield VerticalScroll(
                        Static(_review_text(letter, review), classes="review-text"),
                        classes="review-panel" + (" selected" if i == self.selected else ""),
                        can_focus=False,
                    )
            yield Label(
                f"{verdict_keys}: decide that verdict · a b … or ←/→ and enter: take that "
                "review's verdict and note · p approves the final verdict · escape closes",
                classes="hint",
            )

    def _final_text(self) -> Text:
        out = Text()
        out.append("Status: ", style="bold")
        out.append(self.status)
        out.append("   Final verdict: ", style="bold")
        final = self.final or {}
        if final.get("verdict"):
            out.append_text(badge(final["verdict"]))
            out.append(f" ({final.get('decided_by') or 'review'}, by ", style="dim")
            out.append(final.get("reviewer") or "?", style="dim")
            out.append(f", {final.get('updated_at', '')})", style="dim")
            if final.get("approved_by"):
                out.append("\nApproved by ", style="bold green")
                out.append(final["approved_by"], style="green")
                out.append(f" at {final.get('approved_at', '')}", style="green")
            else:
                out.append("\nNot approved yet", style="dim")
        else:
            out.append("none", style="dim")
        return out

    async def _redraw(self) -> None:
        await self.recompose()

    async def _reload_if_changed(self) -> None:
        """After a refused decision: if the claim changed since the screen read it (the
        refusal said who and when), show it as it stands now, to decide again."""
        seen = self.basis
        if self._read() and self.basis != seen:
            self.changed(self.claim.id)  # the claim behind the screen is shown again too
            await self._redraw()
            self.notify(
                f"Claim {self.claim.id} as it stands now is shown: decide again.",
                severity="warning",
                timeout=6,
            )

    def _panels(self) -> list[VerticalScroll]:
        return list(self.query(".review-panel").results(VerticalScroll))

    # ----- actions -------------------------------------------------------------------------
    def action_close(self) -> None:
        self.dismiss(None)

    def action_move(self, step: int) -> None:
        panels = self._panels()
        if not panels:
            return
        self.selected = (self.selected + step) % len(panels)
        for i, panel in enumerate(panels):
            panel.set_class(i == self.selected, "selected")

    async def action_pick(self, index: int) -> None:
        if index >= len(self.reviews):
            letter = PICK_LETTERS[index]
            self.notify(f"No review {letter} on this claim.", severity="warning", timeout=3)
            return
        review = self.reviews[index]
        if not review["verdict"]:
            self.notify(
                f"{review['reviewer']} gave no verdict, only a note.",
                severity="warning",
                timeout=4,
                markup=False,
            )
            return
        self.selected = index
        # The review taken whole: its verdict, and its note under the reviewer's name (as
        # agreeing reviews are merged); no note clears an earlier final note.
        note = f"{review['reviewer']}: {review['note']}" if review["note"].strip() else ""
        # Its citations only: the other review's evidence argued for another verdict.
        await self._decide(
            review["verdict"], note, f"{review['reviewer']}'s review", review["cited"]
        )

    async def action_pick_selected(self) -> None:
        if self.reviews:
            await self.action_pick(self.selected)

    async def action_override(self, verdict_id: str) -> None:
        # The final note stays as it is: the editor decides the verdict, not the reasoning.
        await self._decide(verdict_id, None, "the editor's decision")

    async def _decide(
        self,
        verdict_id: str,
        note: str | None,
        source: str,
        cited: list[dict[str, Any]] | None = None,
    ) -> None:
        if self.refused_read_only():
            return
        change = self.attempt(
            f"adjudicate claim {self.claim.id}",
            adjudicate,
            self.ws,
            self.claim.id,
            verdict_id,
            self.editor,
            note,
            self.basis,
            cited,
        )
        if change is None:
            await self._reload_if_changed()
            return
        self.changed(self.claim.id)
        self._read()
        await self._redraw()
        self.notify(
            f"Claim {self.claim.id}: final verdict {verdict_label(verdict_id)} ({source}); "
            "p approves it",
            timeout=4,
            markup=False,  # the source names a reviewer
        )

    async def action_approve(self) -> None:
        if self.refused_read_only():
            return
        approved = self.attempt(
            f"approve claim {self.claim.id}",
            approve,
            self.ws,
            [self.claim.id],
            self.editor,
            {self.claim.id: self.basis} if self.basis is not None else None,
        )
        if approved is None:
            await self._reload_if_changed()
            return
        self.changed(self.claim.id)
        self._read()
        await self._redraw()
        verdict = verdict_label((self.final or {}).get("verdict", ""))
        if approved:
            self.notify(f"Claim {self.claim.id} approved for publication: {verdict}", timeout=4)
        else:
            self.notify(f"Claim {self.claim.id} was already approved.", timeout=3)


def _figure(value: float | None) -> str:
    """A figure as `Agreement.as_dict` rounds it (as the reports and the CLI's JSON do)."""
    return "undefined" if value is None else str(value)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def agreement_table(result: Agreement, full: bool) -> Group:
    """The agreement figures as Rich renderables. Without `full` (a reviewer who is not an
    editor, in double review) no claim's verdicts are shown: alpha, kappa and counts only."""
    record = result.as_dict()
    parts: list[Any] = []
    head = Text()
    head.append(
        f"{_count(record['claims'], 'claim')}, {_count(record['ratings'], 'verdict')}\n",
        style="bold",
    )
    levels = (("ordinal", "ordinal (the six rated verdicts)"), ("nominal", "nominal (all)"))
    for level, words in levels:
        alpha = record["alpha"][level]
        head.append(f"Krippendorff's alpha, {words}: ")
        head.append(_figure(alpha["value"]), style="bold")
        head.append(
            f"  over {_count(alpha['claims'], 'claim')}, {_count(alpha['ratings'], 'rating')}"
            + (f", {alpha['unpaired']} with one rating left out" if alpha["unpaired"] else "")
            + "\n",
            style="dim",
        )
    parts.append(head)

    pairs = Table(title="Reviewer pairs (Cohen's kappa)", title_justify="left", expand=False)
    for column in ("Reviewers", "Claims in common", "Agreed", "Kappa"):
        pairs.add_column(column)
    for pair in record["pairs"]:
        pairs.add_row(
            Text(" / ".join(pair["reviewers"])),
            Text(str(pair["claims"])),
            Text(str(pair["agreed"])),
            Text(_figure(pair["kappa"])),
        )
    parts.append(pairs)

    counts = Table(title="Verdicts per reviewer", title_justify="left", expand=False)
    counts.add_column("Reviewer")
    counts.add_column("Verdicts")
    if full:
        for rating in SCALE:
            counts.add_column(rating.label_en)
    for name, data in record["reviewers"].items():
        cells = [Text(name), Text(str(data["total"]))]
        if full:
            cells += [Text(str(n)) for n in data["by_verdict"].values()]
        counts.add_row(*cells)
    parts.append(counts)

    if full:
        disputes = Table(title="Claims in dispute", title_justify="left", expand=False)
        for column in ("Claim", "Spread", "Verdicts"):
            disputes.add_column(column)
        for dispute in record["disputes"]:
            said = Text()
            for i, (who, verdict) in enumerate(dispute["verdicts"].items()):
                if i:
                    said.append(", ")
                said.append(who)
                said.append(": ")
                said.append_text(badge(verdict) if verdict in BY_ID else Text(verdict))
            spread = "-" if dispute["spread"] is None else str(dispute["spread"])
            disputes.add_row(Text(str(dispute["claim_id"])), Text(spread), said)
        if not record["disputes"]:
            disputes.add_row(Text("none", style="dim"), Text(""), Text(""))
        parts.append(disputes)
        if record["notes"]:
            parts.append(Text("\n".join(record["notes"]), style="dim"))
    else:
        parts.append(
            Text(
                "Blind double review: the claims in dispute and each reviewer's verdicts are "
                "for editors.",
                style="dim",
            )
        )
    return Group(*parts)


class AgreementScreen(ModalScreen[None]):
    """How far the reviewers agree, with the figures of `workbench agreement`."""

    BINDINGS = [*AGREEMENT_BINDINGS]

    def __init__(self, result: Agreement, full: bool) -> None:
        super().__init__()
        self.result = result
        self.full = full
        self.figures = agreement_table(result, full)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog agreement"):
            yield Label("Agreement between reviewers (every article)", classes="dialog-title")
            yield VerticalScroll(Static(self.figures, id="agreement-figures"))
            yield Label(
                "the figures of workbench agreement and the HTML report · escape closes",
                classes="hint",
            )

    def action_close(self) -> None:
        self.dismiss(None)
