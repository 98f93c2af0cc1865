"""Provides suggested stances and verdicts from agreement signals, NLI and verdict memory.

A suggestion is a hint with its reasons and a confidence, never a decision: the review UI
shows it only when the reviewer asks (or after their own verdict, per `review.hints`), and
nothing here writes a verdict. Without an NLI model the signals can find a conflict (a date,
a number, a party, a hedge) but cannot confirm a claim, so a suggestion without a model
never says more than "mostly true" and its confidence stays low.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workbench.hints.signals import AGREES, CAUTION, CONFLICTS, Side, Signal, agreement

if TYPE_CHECKING:
    from workbench.hints.nli import NLIModel

SUPPORTS, REFUTES, NEI = "supports", "refutes", "nei"
# Signals precise enough to call a pair a refutation; see bench/signals.py for their precision.
FACT_CONFLICTS = frozenset({"number", "date"})
FRAMING_CONFLICTS = frozenset({"party", "modality", "negation"})
MEMORY_CONFIDENCE = 0.85  # an earlier verdict on the same claim is the strongest hint


@dataclass(frozen=True)
class Suggestion:
    """A suggested label (a stance for a pair, a verdict id for a claim), how sure, and why."""

    label: str
    confidence: float
    reasons: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "confidence": self.confidence, "reasons": list(self.reasons)}


def pair_stance(
    claim: str,
    evidence: str,
    claim_lang: str = "",
    evidence_lang: str = "",
    nli: NLIModel | None = None,
    nli_probs: Sequence[float] | None = None,
    claim_date: str = "",
    evidence_date: str = "",
) -> Suggestion:
    """Does `evidence` support or refute `claim`, or neither? From the agreement signals, and
    from the NLI model's (entailment, neutral, contradiction) when given or computed."""
    signals = agreement(
        Side(claim, claim_lang, claim_date), Side(evidence, evidence_lang, evidence_date)
    )
    if nli_probs is None and nli is not None:
        nli_probs = nli.predict([(evidence, claim)])[0]
    return stance_from_signals(signals, nli_probs)


def stance_from_signals(
    signals: Sequence[Signal], nli_probs: Sequence[float] | None = None
) -> Suggestion:
    """A pair's stance from its signals (and NLI probabilities, when there are some)."""
    conflicts = [s for s in signals if s.status == CONFLICTS and s.kind != "nli"]
    facts = [s for s in conflicts if s.kind in FACT_CONFLICTS]
    framing = [s for s in conflicts if s.kind in FRAMING_CONFLICTS]
    agreed = [s for s in signals if s.status == AGREES and s.kind in FACT_CONFLICTS]
    reasons = tuple(s.describe() for s in [*facts, *framing])
    if nli_probs is not None:
        entail, neutral, contradict = (float(p) for p in nli_probs)
        model = (
            f"NLI: entailment {entail:.2f}, neutral {neutral:.2f}, contradiction {contradict:.2f}"
        )
        if contradict >= 0.5 and contradict > entail:
            return Suggestion(REFUTES, round(contradict, 3), (model, *reasons))
        if entail >= 0.5 and not facts:
            return Suggestion(
                SUPPORTS, round(entail * (0.8 if framing else 1.0), 3), (model, *reasons)
            )
        if facts:
            return Suggestion(REFUTES, round(max(contradict, 0.4), 3), (*reasons, model))
        return Suggestion(NEI, round(max(neutral, 0.34), 3), (model, *reasons))
    if facts:
        return Suggestion(REFUTES, round(min(0.3 + 0.1 * len(conflicts), 0.6), 3), reasons)
    if framing:
        return Suggestion(REFUTES, round(min(0.25 + 0.1 * len(framing), 0.5), 3), reasons)
    if agreed:
        return Suggestion(SUPPORTS, 0.3, tuple(s.describe() for s in agreed))
    return Suggestion(NEI, 0.3, ("no signal decides",))


def suggest_verdict(
    matches: Sequence[Mapping[str, Any]],
    memory: Sequence[Any] = (),
    top: int = 3,
) -> Suggestion:
    """A verdict id for a claim from its stored matches (agreement signals, NLI scores) and
    its earlier reviews (`memory`, best first: objects with `verdict`, `similarity` and a
    `describe()`), with the reasons a reviewer can check one by one."""
    from workbench.scale import BY_ID

    for earlier in memory:
        verdict = getattr(earlier, "verdict", "")
        if verdict in BY_ID:
            confidence = round(min(MEMORY_CONFIDENCE, float(getattr(earlier, "similarity", 0))), 3)
            return Suggestion(verdict, confidence, (earlier.describe(),))
    considered = [
        m for m in matches if int(m.get("rank", 0) or 0) <= top or "counter" in m.get("signals", {})
    ] or list(matches[:top])
    stances = []
    for match in considered:
        signals = [Signal.from_dict(s) for s in match.get("agreement") or []]
        scores = match.get("signals") or {}
        probs = None
        if "nli_entailment" in scores:
            probs = (scores["nli_entailment"], scores["nli_neutral"], scores["nli_contradiction"])
        stances.append((match, stance_from_signals(signals, probs), signals, probs is not None))
    if not stances:
        return Suggestion("unverifiable", 0.2, ("no evidence matched this claim",))
    refuting = [(m, s, sig) for m, s, sig, _ in stances if s.label == REFUTES]
    supporting = [(m, s, sig) for m, s, sig, _ in stances if s.label == SUPPORTS]
    with_model = any(has_model for *_, has_model in stances)
    cautions = [
        f"{_name(m)}: {s.describe()}"
        for m, _, sig, _ in stances
        for s in sig
        if s.status == CAUTION and s.kind == "time"
    ][:2]
    if refuting:
        match, stance, signals = max(refuting, key=lambda item: item[1].confidence)
        kinds = {s.kind for s in signals if s.status == CONFLICTS}
        reasons = tuple(f"{_name(match)}: {r}" for r in stance.reasons)
        if kinds & FACT_CONFLICTS or (with_model and stance.confidence >= 0.7):
            verdict = "false" if stance.confidence >= 0.7 else "mostly-false"
        else:
            # Right facts in the wrong frame (who did it, how sure it is): the claim misleads.
            verdict = "misleading"
        confidence = stance.confidence if with_model else min(stance.confidence, 0.5)
        if supporting:
            confidence *= 0.7
            reasons += (f"but {_name(supporting[0][0])} agrees",)
        return Suggestion(verdict, round(confidence, 3), reasons + tuple(cautions))
    if supporting:
        match, stance, _ = max(supporting, key=lambda item: item[1].confidence)
        reasons = tuple(f"{_name(match)}: {r}" for r in stance.reasons)
        if with_model and stance.confidence >= 0.8 and len(supporting) > 1:
            return Suggestion("true", round(stance.confidence, 3), reasons + tuple(cautions))
        confidence = stance.confidence if with_model else 0.3
        if not with_model:
            reasons += ("the signals agree but cannot confirm the claim without an NLI model",)
        return Suggestion("mostly-true", round(confidence, 3), reasons + tuple(cautions))
    reasons = ("no passage agrees or conflicts on a checkable fact", *cautions)
    return Suggestion("unverifiable", 0.3, reasons)


def _name(match: Mapping[str, Any]) -> str:
    return str(match.get("evidence_id") or match.get("title") or "evidence")
