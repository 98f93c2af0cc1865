"""Provides the claim panel: the selected claim in its article, with its score and review state."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from workbench.review.data import Context
from workbench.review.widgets.badge import badge
from workbench.verdicts import ReviewState
from workbench.workspace import ClaimRow


class ClaimView(Static):
    """The claim's wording and state first, then the claim among its neighbouring sentences."""

    def show(
        self,
        claim: ClaimRow | None,
        context: Context,
        state: ReviewState,
        hints: list[str] | None = None,
        *,
        computing: bool = False,
        stale: bool = False,
    ) -> None:
        """`hints` are the claim's hint lines (earlier verdicts, suggestion), None while hidden;
        `computing` says they are being computed in the background; `stale` that the claim
        was reworded and its evidence is that of the old wording until it is matched again."""
        if claim is None:
            self.update(Text("No claim matches this filter.", style="dim"))
            return
        out = Text()
        # First what the reviewer judges, so that the smallest pane still shows it: the
        # claim's number and state on one line, then its wording (a reviewer's rewording
        # when there is one), then who said it.
        out.append(f"Claim {claim.id}", style="bold")
        out.append("  ·  ")
        out.append_text(badge(state.verdict) if state.verdict else Text("no verdict", style="dim"))
        out.append(f"  ·  cited {len(state.cited)}", style="bold" if state.cited else "dim")
        if stale:
            out.append("  ·  evidence stale: re-match pending", style="bold yellow")
        out.append("\n")
        out.append(claim.text, style="bold")
        if context.claimant:
            out.append("\n— ")
            out.append(context.claimant, style="italic")
        if state.note:
            out.append("\nNote: ", style="bold")
            out.append(state.note)
        if computing:
            out.append("\nHints: computing…", style="dim magenta")
        elif hints:
            out.append("\nHints (never applied; h hides them)\n", style="bold magenta")
            out.append("\n".join(hints), style="magenta")
        out.append("\n\n")
        reworded = bool(context.claim) and (
            " ".join(context.claim.split()) != " ".join(claim.text.split())
        )
        out.append("In the article" if not reworded else "The article's wording", style="dim bold")
        out.append(f" ({claim.article}", style="dim")
        if context.published:
            out.append(f", {context.published}", style="dim")
        out.append("; a shows it whole):\n" if context.claim else "):\n", style="dim")
        if context.claim:
            out.append(context.before.lstrip(), style="dim")
            out.append(context.claim, style="reverse" if reworded else "bold reverse")
            out.append(context.after.rstrip(), style="dim")
        else:
            out.append(claim.text, style="dim")
        if claim.standalone and claim.standalone != claim.text:
            # What matching searched with: names, pronouns and dates resolved.
            out.append("\nStandalone: ", style="bold")
            out.append(claim.standalone, style="italic")
        out.append(f"\n{claim.lang or '?'}  ·  check-worthiness {claim.score:.2f}", style="dim")
        if claim.reasons:
            out.append(": " + "; ".join(claim.reasons), style="dim")
        self.update(out)
