"""Provides inter-reviewer agreement: Krippendorff's alpha, Cohen's kappa, confusion, disputes.

The input is storage-free: (reviewer, claim id, verdict id) triples, keyed by claim id (never
by claim text: two claims with the same wording are still two units). How the scale counts:

- Ordinal alpha is over the six rated verdicts only (ClaimReview values 1..6, False..True).
  "unverifiable" and "not-a-claim" have no place between False and True, so those ratings
  are left out of it, as missing data; a claim keeps its place if two rated verdicts remain.
- Nominal alpha is over all eight verdicts, each its own category: "false" against
  "unverifiable" is a disagreement there, as large as "false" against "mostly-false".
- Cohen's kappa (unweighted) and the confusion matrices are over all eight verdicts too.
- A claim with fewer than two ratings (for ordinal alpha: two rated verdicts) is not pairable:
  it is left out of alpha and counted.

Undefined values are None, with the reason in `Agreement.notes`.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from workbench.errors import InputError
from workbench.scale import SCALE, Rating, parse_verdict


@dataclass(frozen=True)
class Alpha:
    """Krippendorff's alpha at one level of measurement, and the data it was computed on."""

    level: str  # "ordinal" or "nominal"
    value: float | None  # None: undefined (see Agreement.notes)
    claims: int  # pairable claims used (two ratings or more at this level)
    ratings: int  # ratings in those claims
    unpaired: int  # claims with exactly one rating at this level, left out

    def as_dict(self) -> dict[str, Any]:
        return {
            "value": _round(self.value),
            "claims": self.claims,
            "ratings": self.ratings,
            "unpaired": self.unpaired,
        }


@dataclass(frozen=True)
class ReviewerCounts:
    """How many verdicts one reviewer gave, and of which kind (every label, zeros included)."""

    reviewer: str
    total: int
    by_verdict: dict[str, int]  # verdict id -> count, in scale order


@dataclass(frozen=True)
class PairAgreement:
    """Two reviewers compared over the claims both rated (reviewer_a sorts first)."""

    reviewer_a: str
    reviewer_b: str
    claims: int  # claims both rated
    agreed: int  # of those, claims with the same verdict
    kappa: float | None  # Cohen's kappa, unweighted, over all labels; None: undefined
    labels: tuple[str, ...]  # the verdict ids, in scale order
    # confusion[i][j]: claims reviewer_a rated labels[i] and reviewer_b rated labels[j].
    confusion: tuple[tuple[int, ...], ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "reviewers": [self.reviewer_a, self.reviewer_b],
            "claims": self.claims,
            "agreed": self.agreed,
            "observed": _round(self.agreed / self.claims) if self.claims else None,
            "kappa": _round(self.kappa),
            "confusion": {
                "rows": self.reviewer_a,
                "columns": self.reviewer_b,
                "labels": list(self.labels),
                "matrix": [list(row) for row in self.confusion],
            },
        }


@dataclass(frozen=True)
class Dispute:
    """A claim whose reviewers gave different verdicts, and who said what."""

    claim_id: int
    verdicts: tuple[tuple[str, str], ...]  # (reviewer, verdict id), by reviewer
    # Distance between the most and least favourable rated verdicts (0..5): how far apart
    # the reviewers are. None when fewer than two of the verdicts are on the rated scale.
    spread: int | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "claim_id": self.claim_id,
            "verdicts": {reviewer: verdict for reviewer, verdict in self.verdicts},
            "spread": self.spread,
        }


@dataclass(frozen=True)
class Agreement:
    """Agreement between reviewers over a set of claims (`compute_agreement` builds it)."""

    ordinal: Alpha
    nominal: Alpha
    labels: tuple[str, ...]  # every verdict id, in scale order (by_verdict and matrix order)
    claims: int  # distinct claims with at least one rating
    ratings: int  # ratings counted (one per reviewer and claim)
    reviewers: tuple[ReviewerCounts, ...]  # by reviewer name
    pairs: tuple[PairAgreement, ...]  # every pair of reviewers, by names
    disputes: tuple[Dispute, ...]  # by claim id
    notes: tuple[str, ...]  # why a value is None, and what was left out

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: floats rounded to 4 decimals, None where undefined."""
        return {
            "alpha": {"ordinal": self.ordinal.as_dict(), "nominal": self.nominal.as_dict()},
            "claims": self.claims,
            "ratings": self.ratings,
            "labels": list(self.labels),
            "reviewers": {
                r.reviewer: {"total": r.total, "by_verdict": dict(r.by_verdict)}
                for r in self.reviewers
            },
            "pairs": [pair.as_dict() for pair in self.pairs],
            "disputes": [dispute.as_dict() for dispute in self.disputes],
            "notes": list(self.notes),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def _lookup(scale: Sequence[Rating]) -> Callable[[str], Rating]:
    by_id = {rating.id: rating for rating in scale}

    def rating(verdict: str) -> Rating:
        found = by_id.get(verdict)
        if found is None:
            # Ids are the stored form; labels and keys get parse_verdict's leniency and error.
            found = by_id.get(parse_verdict(verdict).id)
        if found is None:
            choices = ", ".join(by_id)
            raise InputError(f"verdict {verdict!r} is not on this scale; use one of: {choices}")
        return found

    return rating


def _collect(
    triples: Iterable[tuple[str, int, str]], scale: Sequence[Rating], notes: list[str]
) -> dict[int, dict[str, Rating]]:
    """Claim id -> reviewer -> rating; one rating per reviewer and claim."""
    rating_of = _lookup(scale)
    by_claim: dict[int, dict[str, Rating]] = defaultdict(dict)
    empty = 0
    for reviewer, claim_id, verdict in triples:
        if not verdict:
            # "" is the stored "no verdict yet" (ReviewState): missing data, not a label.
            empty += 1
            continue
        rating = rating_of(verdict)
        previous = by_claim[claim_id].get(reviewer)
        if previous is not None and previous != rating:
            raise InputError(
                f"reviewer {reviewer!r} gave claim {claim_id} two verdicts "
                f"({previous.id!r} and {rating.id!r}); agreement needs one per reviewer"
            )
        by_claim[claim_id][reviewer] = rating
    if empty:
        notes.append(f"{empty} empty verdict(s) ignored: claims not yet rated by that reviewer")
    return dict(by_claim)


def _alpha(level: str, units: list[list[int]], domain: Sequence[Any], notes: list[str]) -> Alpha:
    """Alpha over `units` (each a list of indices into `domain`, one per rating)."""
    import numpy as np

    pairable = [unit for unit in units if len(unit) >= 2]
    unpaired = sum(1 for unit in units if len(unit) == 1)
    ratings = sum(len(unit) for unit in pairable)
    value: float | None = None
    if not pairable:
        notes.append(f"{level} alpha undefined: no claim has two ratings to compare")
    elif len({index for unit in pairable for index in unit}) < 2:
        # Expected disagreement is 0 and so is the observed: alpha is 0/0 (Krippendorff 2011:
        # data without variation), not 1: identical ratings say nothing about reliability.
        only = domain[pairable[0][0]]
        notes.append(f"{level} alpha undefined: every paired rating is {only!r}, no variation")
    else:
        import krippendorff

        # Rows are claims, columns the domain in order (ordinal distances follow that order).
        counts = np.zeros((len(pairable), len(domain)), dtype=np.int64)
        for row, unit in enumerate(pairable):
            for index in unit:
                counts[row, index] += 1
        value = float(
            krippendorff.alpha(
                value_counts=counts,
                value_domain=list(range(len(domain))),
                level_of_measurement=level,
            )
        )
    if unpaired:
        notes.append(f"{level} alpha: {unpaired} claim(s) with a single rating left out")
    return Alpha(level, value, len(pairable), ratings, unpaired)


def cohen_kappa(confusion: Sequence[Sequence[int]]) -> float | None:
    """Cohen's kappa from a square confusion matrix; None when undefined (empty, or both
    raters used one same label throughout, so chance agreement is already 1)."""
    n = sum(sum(row) for row in confusion)
    if n == 0:
        return None
    # kappa = (po - pe) / (1 - pe): po, the observed agreement, is the diagonal's share;
    # pe, the agreement expected by chance, is the sum over labels of the product of the two
    # raters' marginal shares (row total / n times column total / n).
    po = sum(confusion[i][i] for i in range(len(confusion))) / n
    columns = [sum(column) for column in zip(*confusion, strict=True)]
    pe = sum(sum(row) * column for row, column in zip(confusion, columns, strict=True)) / n**2
    if pe >= 1.0:
        return None
    return (po - pe) / (1.0 - pe)


def _pair(
    a: str,
    b: str,
    by_claim: dict[int, dict[str, Rating]],
    labels: tuple[str, ...],
    notes: list[str],
) -> PairAgreement:
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    shared = 0
    for ratings in by_claim.values():
        if a in ratings and b in ratings:
            matrix[index[ratings[a].id]][index[ratings[b].id]] += 1
            shared += 1
    confusion = tuple(tuple(row) for row in matrix)
    kappa = cohen_kappa(confusion)
    if kappa is None:
        why = "no claims in common" if not shared else "both gave one same verdict throughout"
        notes.append(f"kappa undefined for {a!r} and {b!r}: {why}")
    agreed = sum(matrix[i][i] for i in range(len(labels)))
    return PairAgreement(a, b, shared, agreed, kappa, labels, confusion)


def compute_agreement(
    triples: Iterable[tuple[str, int, str]], scale: Sequence[Rating] = SCALE
) -> Agreement:
    """Agreement over (reviewer, claim id, verdict id) triples, in any order.

    Verdicts are ids of `scale` (labels and keys are accepted too); "" means not yet rated and
    is skipped. A repeated triple counts once; one reviewer giving a claim two different
    verdicts is an InputError. Ratings with a value form the ordinal scale, in value order.
    """
    notes: list[str] = []
    by_claim = _collect(triples, scale, notes)
    claim_ids = sorted(by_claim)
    names = sorted({reviewer for ratings in by_claim.values() for reviewer in ratings})

    labels = tuple(rating.id for rating in scale)
    ordered = tuple(sorted({r.value for r in scale if r.value is not None}))
    label_index = {label: i for i, label in enumerate(labels)}
    value_index = {value: i for i, value in enumerate(ordered)}
    nominal_units = [[label_index[r.id] for r in by_claim[c].values()] for c in claim_ids]
    ordinal_units = [
        [value_index[r.value] for r in by_claim[c].values() if r.value is not None]
        for c in claim_ids
    ]
    off_scale = sum(1 for c in claim_ids for r in by_claim[c].values() if r.value is None)
    if off_scale:
        notes.append(
            f"ordinal alpha: {off_scale} rating(s) without a place on the rated scale "
            "(unverifiable, not-a-claim) left out; nominal alpha counts them as labels"
        )
    ordinal = _alpha("ordinal", ordinal_units, ordered, notes)
    nominal = _alpha("nominal", nominal_units, labels, notes)

    per_reviewer: dict[str, Counter[str]] = {name: Counter() for name in names}
    for ratings in by_claim.values():
        for reviewer, rating in ratings.items():
            per_reviewer[reviewer][rating.id] += 1
    reviewers = tuple(
        ReviewerCounts(
            name,
            sum(per_reviewer[name].values()),
            {label: per_reviewer[name][label] for label in labels},
        )
        for name in names
    )
    if len(names) < 2:
        notes.append(f"{len(names)} reviewer(s): agreement needs two or more")
    pairs = tuple(_pair(a, b, by_claim, labels, notes) for a, b in itertools.combinations(names, 2))

    disputes = []
    for claim_id in claim_ids:
        ratings = by_claim[claim_id]
        if len({r.id for r in ratings.values()}) < 2:
            continue
        values = [r.value for r in ratings.values() if r.value is not None]
        spread = max(values) - min(values) if len(values) >= 2 else None
        verdicts = tuple((name, ratings[name].id) for name in sorted(ratings))
        disputes.append(Dispute(claim_id, verdicts, spread))

    return Agreement(
        ordinal=ordinal,
        nominal=nominal,
        labels=labels,
        claims=len(claim_ids),
        ratings=sum(len(ratings) for ratings in by_claim.values()),
        reviewers=reviewers,
        pairs=pairs,
        disputes=tuple(disputes),
        notes=tuple(notes),
    )
