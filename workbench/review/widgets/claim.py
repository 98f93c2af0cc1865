"""Provides the claim panel: the selected claim in its article, with its score and review state."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from workbench.review.data import Context
from workbench.review.widgets.badge import badge
from workbench.verdicts import ReviewState
from workbench.workspace import ClaimRow


class ClaimView(Static):
    """The claim highlighted among its neighbouring sentences, then its reasons and verdict."""

    def show(
        self,
        claim: ClaimRow | None,
        context: Context,
        state: ReviewState,
        hints: list[str] | None = None,
        *,
        computing: bool = False,
    ) -> None:
        """`hints` are the claim's hint lines (earlier verdicts, suggestion), None while hidden;
        `computing` says they are being computed in the background."""
        if claim is None:
            self.update(Text("No claim matches this filter.", style="dim"))
            return
        out = Text()
        out.append(f"Claim {claim.id}", style="bold")
        out.append(f"  {claim.lang or '?'}  ·  check-worthiness {claim.score:.2f}  ·  ")
        out.append(claim.article, style="italic")
        if context.published:
            out.append(f"  ·  {context.published}")
        if context.claimant:
            out.append("\nClaimant: ", style="bold")
            out.append(context.claimant)
        out.append("\nVerdict: ", style="bold")
        out.append_text(badge(state.verdict) if state.verdict else Text("none yet", style="dim"))
        out.append(f"   Cited: {len(state.cited)}", style="bold" if state.cited else "dim")
        if state.note:
            out.append("\nNote: ", style="bold")
            out.append(state.note)
        if claim.reasons:
            out.append("\nReasons: ", style="bold")
            out.append("; ".join(claim.reasons))
        if computing:
            out.append("\nHints: computing…", style="dim magenta")
        elif hints:
            out.append("\nHints (never applied; h hides them)\n", style="bold magenta")
            out.append("\n".join(hints), style="magenta")
        out.append("\n\n")
        if context.claim:
            out.append(context.before.lstrip(), style="dim")
            out.append(context.claim, style="bold reverse")
            out.append(context.after.rstrip(), style="dim")
            if " ".join(context.claim.split()) != " ".join(claim.text.split()):
                out.append("\nReworded: ", style="bold")
                out.append(claim.text)
        else:
            out.append(claim.text, style="bold")
        if claim.standalone and claim.standalone != claim.text:
            # What matching searched with: names, pronouns and dates resolved.
            out.append("\nStandalone: ", style="bold")
            out.append(claim.standalone, style="italic")
        self.update(out)
