"""Provides assignment: which reviewers are asked to review which claims, spread evenly.

Each claim without a final verdict needs a number of reviewers (two in double mode, one in
single); whoever already reviewed it or is already assigned to it counts. Every free slot goes
to the named reviewer with the least open work (claims assigned to them that they have still
to review, this run's included), ties to the one named first: the same workspace and the same
command always give the same assignment, and nobody is loaded before the others have caught up.
"""

from __future__ import annotations

from collections.abc import Sequence

from workbench.errors import InputError
from workbench.verdicts import _audit, _now, policy_of
from workbench.workspace import Workspace


def reviewer_names(reviewers: Sequence[str]) -> list[str]:
    """The reviewers as given, surrounding spaces dropped; an error for none, an empty name
    or a name given twice."""
    names = [name.strip() for name in reviewers]
    if not names:
        raise InputError("name the reviewers to assign claims to (--reviewers A,B)")
    if any(not name for name in names):
        raise InputError(f"empty reviewer name in {','.join(reviewers)!r}")
    twice = [name for name in dict.fromkeys(names) if names.count(name) > 1]
    if twice:
        raise InputError(f"reviewer named twice: {', '.join(twice)}")
    return names


def assign(
    workspace: Workspace,
    reviewers: Sequence[str],
    article: str | None = None,
    per_claim: int | None = None,
    *,
    by: str = "",
) -> list[tuple[int, str]]:
    """Assign the claims without a final verdict (`article`'s only, when named) to
    `reviewers`, `per_claim` per claim (default: 2 in double mode, 1 in single), balanced and
    deterministic (see the module). Returns the new (claim id, reviewer) pairs in review
    order. All of it is written in one transaction, with one audit row per claim (action
    'assign', by `by`: who was assigned before and after)."""
    names = reviewer_names(reviewers)
    needed = per_claim if per_claim is not None else (2 if policy_of(workspace).double else 1)
    if needed < 1:
        raise InputError(f"reviewers per claim must be at least 1, not {needed}")
    if needed > len(names):
        raise InputError(
            f"{needed} reviewers per claim, but only {len(names)} named ({', '.join(names)}): "
            "name more reviewers or lower --per-claim"
        )
    made: list[tuple[int, str]] = []
    with workspace.transaction() as conn:
        # Read inside the write transaction: another process assigning or reviewing at the
        # same time waits, so no claim is given more reviewers than it needs.
        at = _now()
        load = workspace.open_assignment_counts(names)
        for claim in workspace.open_claims_to_assign(article):
            on = set(claim["assigned"]) | set(claim["reviewed"])
            picked: list[str] = []
            for _ in range(needed - len(on)):
                free = [name for name in names if name not in on and name not in picked]
                if not free:
                    break
                # min() keeps the first of equals: ties go to the reviewer named first.
                pick = min(free, key=lambda name: load[name])
                picked.append(pick)
                load[pick] += 1
            if not picked:
                continue
            claim_id = claim["claim_id"]
            workspace.add_assignments([(claim_id, name) for name in picked], at)
            _audit(
                conn,
                claim_id,
                at,
                by,
                "assign",
                {"assigned": claim["assigned"]},
                {"assigned": [*claim["assigned"], *picked]},
            )
            made += [(claim_id, name) for name in picked]
    return made
