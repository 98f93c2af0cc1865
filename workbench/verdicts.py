"""Provides the reviewer's actions on claims: verdicts, notes, citations, edits, undo and redo.

Each action, however many parts it has (a verdict, a note, citations), is checked whole and
then written in one transaction with the claim's new review state and an audit row per part
holding the state before and after, so nothing a reviewer does is ever lost or half-written
and every change can be undone (by another audited action). The CLI and the review UI call
these functions.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from workbench.errors import ConflictError, InputError, NotAllowedError
from workbench.scale import BY_ID, parse_verdict
from workbench.settings import ReviewPolicy, review_policy
from workbench.store.reviews import ReviewFields, ReviewStore
from workbench.workspace import Workspace


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@dataclass(frozen=True)
class ReviewState:
    """What a reviewer decided about one claim."""

    verdict: str = ""
    note: str = ""
    cited: tuple[dict[str, Any], ...] = ()

    @property
    def cited_ids(self) -> tuple[int, ...]:
        return tuple(int(c["passage_id"]) for c in self.cited)

    def as_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | None) -> ReviewState:
        if not text:
            return cls()
        data = json.loads(text)
        if isinstance(data, str):  # an audit row that holds only a verdict id
            return cls(verdict=data)
        return cls(data.get("verdict", ""), data.get("note", ""), tuple(data.get("cited", ())))


@dataclass(frozen=True)
class Change:
    """One applied action: enough to show it, undo it and redo it."""

    claim_id: int
    action: str
    old: ReviewState
    new: ReviewState


# The latest policy read per workspace, with the file identity it was read from.
_POLICIES: dict[str, tuple[tuple[int, int, int] | None, ReviewPolicy]] = {}


def policy_of(workspace: Workspace) -> ReviewPolicy:
    """The workspace's review rules (its config.toml), read again when the file changes
    (its inode, size or modification time: a file replaced keeping its time is still seen)."""
    path = workspace.root / "config.toml"
    try:
        info = path.stat()
        stamp: tuple[int, int, int] | None = (info.st_ino, info.st_size, info.st_mtime_ns)
    except OSError:
        stamp = None
    root = str(workspace.root)
    cached = _POLICIES.get(root)
    if cached is None or cached[0] != stamp:
        cached = _POLICIES[root] = (stamp, review_policy(workspace.root))
    return cached[1]


def get_state(
    workspace: Workspace,
    claim_id: int,
    reviewer: str | None = None,
    policy: ReviewPolicy | None = None,
) -> ReviewState:
    """What a reviewer works on: in double mode `reviewer`'s own review of the claim (blind:
    nobody else's verdict, note or citations), else the claim's verdict (single mode, where
    a review is the final verdict, or no reviewer named). `policy`: the rules already read
    (a write reads them once, so one transaction never mixes two modes)."""
    double = (policy or policy_of(workspace)).double
    if reviewer is not None and double:
        return _own_review(workspace, claim_id, reviewer)
    return _state_of(workspace.final_verdict(claim_id))


def _own_review(workspace: Workspace, claim_id: int, reviewer: str) -> ReviewState:
    return _state_of(workspace.review_by(claim_id, reviewer))


def _state_of(fields: ReviewFields | None) -> ReviewState:
    if fields is None:
        return ReviewState()
    verdict, note, cited = fields
    return ReviewState(verdict, note, tuple(cited))


def _fields(state: ReviewState) -> ReviewFields:
    """A state as the store writes it."""
    return state.verdict, state.note, list(state.cited)


# SQLite stores 64-bit integers: an id outside them names no row, and passing one to the
# driver raises OverflowError instead of finding nothing. Every id a user types reaches the
# database through the checks below, so this is the one place that knows.
_SQLITE_IDS = range(-(2**63), 2**63)


def _require_claim(workspace: Workspace, claim_id: int) -> None:
    if claim_id not in _SQLITE_IDS or not workspace.has_claim(claim_id):
        raise InputError(f"no claim with id {claim_id} in {workspace.root}")


def _citations(workspace: Workspace, passage_ids: Sequence[int]) -> list[dict[str, Any]]:
    """A copy of each passage, in order; an error naming every id that is not stored.

    A citation keeps a copy of what was cited: the reviewer's evidence survives a later
    re-ingest that changes or removes the passage. Any stored passage can be cited, not only
    the claim's matches: a reviewer may find the evidence by another search."""
    rows = workspace.passages([i for i in passage_ids if i in _SQLITE_IDS])
    missing = [str(i) for i in passage_ids if i not in rows]
    if missing:
        noun = "passage with id" if len(missing) == 1 else "passages with ids"
        raise InputError(f"no evidence {noun} {', '.join(missing)} in {workspace.root}")
    return [
        {
            "passage_id": row.id,
            "evidence_id": row.doc_key,
            "title": row.title,
            "url": row.url,
            "publisher": row.publisher,
            "published": row.published,
            "lang": row.lang,
            "text": row.text,
        }
        for row in (rows[i] for i in passage_ids)
    ]


_Step = tuple[str, Callable[[ReviewState], ReviewState]]


def _write(
    workspace: Workspace,
    claim_id: int,
    reviewer: str,
    steps: Sequence[_Step],
    expected: ReviewState | None = None,
    action: str = "",
) -> Change:
    """The one write path: apply `steps` to the stored state in one transaction.

    Each step gets an audit row holding the state before and after it; the verdict row is
    written once at the end. A failure or a kill anywhere before the commit leaves the claim
    and its audit trail exactly as they were. With `expected` (the state the writer saw), a
    claim changed since by someone else is refused (ConflictError), never overwritten: the
    comparison runs inside the transaction, so nobody can slip in between."""
    with workspace.transaction() as conn:
        # The rules are read once, inside the transaction: one write never mixes two modes.
        policy = policy_of(workspace)
        at = _now()
        first = state = get_state(workspace, claim_id, reviewer, policy)
        if expected is not None and first != expected:
            raise ConflictError(
                _changed_since(workspace, claim_id, action or steps[0][0], reviewer)
            )
        audits = []
        for action, step in steps:
            new = step(state)
            audits.append((action, state, new))
            state = new
        # Every reviewer's own work is kept apart, whatever the mode. In single mode the
        # steps act on the claim's shared state; the writer's own review gets the same steps
        # applied to what that reviewer had given (never another reviewer's verdict or note).
        own: ReviewState | None = state
        if not policy.double:
            own = mine = _own_review(workspace, claim_id, reviewer)
            for _, step in steps:
                own = step(own)
            if own == mine:
                own = None  # nothing of the writer's own changed (an undo of nothing, say)
        if state == first and (own is None or policy.double):
            # Nothing changes (the verdict the claim already has, pressed again): nothing is
            # written, audited or made undoable. (In double mode the state is the writer's
            # own review; in single mode a change to the writer's own review alone is still
            # a change, written and audited below.)
            return Change(claim_id, ", ".join(dict.fromkeys(a for a, _ in steps)), first, first)
        for action, before, after in audits:
            _audit(conn, claim_id, at, reviewer, action, before, after)
        if own is not None:
            workspace.save_review(conn, claim_id, reviewer, _fields(own), at)
        if not policy.double:
            # Single mode: the review is the claim's verdict, as a lone reviewer works.
            workspace.save_final(conn, claim_id, _fields(state), reviewer, "review", at)
        elif first != state:
            _decide(workspace, claim_id, reviewer, at, first.verdict != state.verdict)
    action = ", ".join(dict.fromkeys(action for action, _ in steps))
    return Change(claim_id, action, first, state)


def reviews_of(workspace: Workspace, claim_id: int) -> list[dict[str, Any]]:
    """Every reviewer's review of a claim, oldest first (`Workspace.claim_reviews`)."""
    return workspace.claim_reviews(claim_id)


def _decide(
    workspace: Workspace, claim_id: int, reviewer: str, at: str, verdict_changed: bool
) -> None:
    """Double mode, inside the writer's transaction: derive the claim's final verdict from
    its reviews. Two or more reviewers who agree make it final (their notes and citations
    together); disagreement leaves it to an editor (no final verdict: disputed); an
    editor's adjudication stands until the editor changes it. A final verdict from before the
    workspace turned to double review (`decided_by` review) stands until a review's verdict
    changes: a note alone does not undo it."""
    conn = workspace.conn
    decided = workspace.decided_by(claim_id)
    if decided == "adjudication" or (decided == "review" and not verdict_changed):
        return
    given = [r for r in reviews_of(workspace, claim_id) if r["verdict"]]
    old = get_state(workspace, claim_id)
    if len(given) >= 2 and len({r["verdict"] for r in given}) == 1:
        new = _merged(given)
        if decided is None or old != new:
            by = "+".join(r["reviewer"] for r in given)
            workspace.save_final(conn, claim_id, _fields(new), by, "agreement", at)
            _audit(conn, claim_id, at, reviewer, "final (reviews agree)", old, new)
    elif decided is not None:
        workspace.drop_final(conn, claim_id)
        what = "in dispute" if len(given) >= 2 else "needs a second review"
        _audit(conn, claim_id, at, reviewer, f"no final verdict ({what})", old, ReviewState())


def _merged(reviews: Sequence[dict[str, Any]]) -> ReviewState:
    """Agreeing reviews as one final verdict: each reviewer's note under their name, every
    cited passage once."""
    notes = [f"{r['reviewer']}: {r['note']}" for r in reviews if r["note"].strip()]
    cited: dict[int, dict[str, Any]] = {}
    for r in reviews:
        for citation in r["cited"]:
            cited.setdefault(int(citation["passage_id"]), citation)
    return ReviewState(reviews[0]["verdict"], "\n".join(notes), tuple(cited.values()))


def _audit(conn: Any, claim_id: int, at: str, who: str, action: str, old: Any, new: Any) -> None:
    """One audit row in the caller's transaction (`conn`): a ReviewState as its JSON, any other
    state (an edit's wording, an assignment) as plain JSON."""
    ReviewStore.record_audit(
        conn,
        claim_id,
        at,
        who,
        action,
        old.as_json() if isinstance(old, ReviewState) else json.dumps(old),
        new.as_json() if isinstance(new, ReviewState) else json.dumps(new),
        new.note if isinstance(new, ReviewState) else "",
    )


def apply_changes(
    workspace: Workspace,
    claim_id: int,
    reviewer: str,
    *,
    verdict: str | None = None,
    note: str | None = None,
    cite: Iterable[int] = (),
    uncite: Iterable[int] = (),
    expected: ReviewState | None = None,
) -> Change:
    """Change a claim's verdict, note and citations together: all of it is written, or none.

    `verdict` is an id, label or key of the scale ('' clears it); None leaves a field as it
    is. Everything is checked before anything is written (the claim, the verdict, every cited
    passage), then each part is applied in order (verdict, note, citations) in one transaction
    with one audit row per part. The returned change spans them all, so one undo reverts it.
    `expected` is the state the change was made from (the review UI's view): if someone
    changed the claim since, ConflictError says who and when, and nothing is written."""
    _require_claim(workspace, claim_id)
    cite_ids = list(dict.fromkeys(int(i) for i in cite))
    uncite_ids = list(dict.fromkeys(int(i) for i in uncite))
    both = [str(i) for i in cite_ids if i in uncite_ids]
    if both:
        raise InputError(f"cannot both cite and uncite passage {', '.join(both)}")
    steps: list[_Step] = []
    if verdict is not None:
        if verdict:
            verdict_id = parse_verdict(verdict).id
            steps.append(("verdict", lambda old: replace(old, verdict=verdict_id)))
        else:
            steps.append(("clear verdict", lambda old: replace(old, verdict="")))
    if note is not None:
        steps.append(("note", lambda old: replace(old, note=note)))
    for citation in _citations(workspace, cite_ids):
        steps.append(("cite", functools.partial(_add_citation, citation=citation)))
    for passage_id in uncite_ids:
        steps.append(("uncite", functools.partial(_drop_citation, passage_id=passage_id)))
    if not steps:
        raise InputError(f"nothing to change on claim {claim_id}")
    return _write(workspace, claim_id, reviewer, steps, expected)


def _add_citation(old: ReviewState, citation: dict[str, Any]) -> ReviewState:
    if citation["passage_id"] in old.cited_ids:
        return old
    return replace(old, cited=(*old.cited, citation))


def _drop_citation(old: ReviewState, passage_id: int) -> ReviewState:
    return replace(old, cited=tuple(c for c in old.cited if c["passage_id"] != passage_id))


def set_verdict(
    workspace: Workspace,
    claim_id: int,
    verdict: str,
    reviewer: str,
    expected: ReviewState | None = None,
) -> Change:
    """Give a claim a verdict (an id, label or key of the scale; '' clears it)."""
    return apply_changes(workspace, claim_id, reviewer, verdict=verdict, expected=expected)


def set_note(
    workspace: Workspace,
    claim_id: int,
    note: str,
    reviewer: str,
    expected: ReviewState | None = None,
) -> Change:
    return apply_changes(workspace, claim_id, reviewer, note=note, expected=expected)


def cite(workspace: Workspace, claim_id: int, passage_id: int, reviewer: str) -> Change:
    """Attach an evidence passage to the claim's verdict (no-op if already cited)."""
    return apply_changes(workspace, claim_id, reviewer, cite=[passage_id])


def uncite(workspace: Workspace, claim_id: int, passage_id: int, reviewer: str) -> Change:
    return apply_changes(workspace, claim_id, reviewer, uncite=[passage_id])


def toggle_cite(
    workspace: Workspace,
    claim_id: int,
    passage_id: int,
    reviewer: str,
    expected: ReviewState | None = None,
) -> Change:
    """Cite the passage, or uncite it if cited: in the state the reviewer saw (`expected`,
    checked as `apply_changes` does), else the stored one."""
    seen = expected if expected is not None else get_state(workspace, claim_id, reviewer)
    side = "uncite" if passage_id in seen.cited_ids else "cite"
    return apply_changes(workspace, claim_id, reviewer, **{side: [passage_id]}, expected=expected)


def restore(
    workspace: Workspace,
    claim_id: int,
    state: ReviewState,
    reviewer: str,
    action: str,
    expected: ReviewState | None = None,
) -> Change:
    """Put back a whole earlier state (undo, redo), itself recorded in the audit log.

    With `expected`, only if the stored state still is that one: an undo in the review UI
    must not wipe out what another reviewer (or a CLI command) wrote on the claim since.
    The comparison runs inside the write's transaction, so nobody can slip in between."""
    _require_claim(workspace, claim_id)
    return _write(workspace, claim_id, reviewer, [(action, lambda old: state)], expected)


# Rows the workbench files itself when reviews decide (or stop deciding) a final verdict: the
# action, then a LIKE pattern of actions.
_DERIVED = ("final (reviews agree)", "no final verdict%")


def _changed_since(
    workspace: Workspace,
    claim_id: int,
    action: str,
    reviewer: str | None = None,
    only: str | Sequence[str] | None = None,
) -> str:
    """The refusal of a write made from a stale view, naming the change that overtook it.

    In double mode a reviewer's state is their own review: the change that overtook it is
    one of theirs (another window), never one of the rows the workbench derives, and naming
    someone else's action would break the blind. `only`: the one kind of action that can
    overtake this write (an `edit` is overtaken by another edit, not by a verdict)."""
    if reviewer is not None and policy_of(workspace).double:
        row = workspace.last_audit(
            claim_id, by=reviewer, skip=_DERIVED[:1], skip_like=_DERIVED[1:], only=only
        )
    else:
        row = workspace.last_audit(claim_id, only=only)
    who = f" ({row[2]} by {row[0] or 'someone'} at {row[1]})" if row else ""
    return (
        f"claim {claim_id} was changed since{who}: nothing done ({action}), to keep that "
        "change; reload the claim (r in the review UI) to see it"
    )


def _require_editor(workspace: Workspace, who: str, what: str) -> ReviewPolicy:
    policy = policy_of(workspace)
    if not policy.is_editor(who):
        editors = ", ".join(policy.editors) or "nobody yet"
        raise NotAllowedError(
            f"{who or 'an unnamed reviewer'} may not {what}: only editors may "
            f"([review] editors in {workspace.root / 'config.toml'}: {editors})"
        )
    return policy


def decision_basis(workspace: Workspace, claim_id: int) -> dict[str, Any]:
    """What an editor decides from: the claim's wording, its final verdict record (None when
    it has none) and every review (`reviews_of`), as plain data. The adjudication screen
    keeps the basis it displayed and passes it to `adjudicate` and `approve` as `expected`:
    a reviewer's change, another editor's decision or a new wording since is then refused,
    not decided over."""
    return {
        "claim": workspace.claim_text(claim_id),
        "final": workspace.verdict_record(claim_id),
        "reviews": reviews_of(workspace, claim_id),
    }


def _unapproved(basis: dict[str, Any] | None) -> dict[str, Any] | None:
    """`basis` without the final verdict's approval: approving a claim another editor has
    approved since changes nothing, so it is no reason to refuse."""
    if not basis or not isinstance(basis.get("final"), dict):
        return basis
    final = {k: v for k, v in basis["final"].items() if k not in ("approved_by", "approved_at")}
    return {**basis, "final": final}


def adjudicate(
    workspace: Workspace,
    claim_id: int,
    verdict: str,
    editor: str,
    note: str | None = None,
    expected: dict[str, Any] | None = None,
    cited: Sequence[dict[str, Any]] | None = None,
) -> Change:
    """An editor sets the final verdict of a claim in double mode (a dispute, or an agreed
    verdict overridden), with the reviews' citations (or `cited`: those of the review the
    editor picked, so that evidence for the other verdict is not published with it);
    audited. It stands until the editor adjudicates again: later reviews no longer change it.

    `expected` is the `decision_basis` the editor decided from (the adjudication screen's):
    if a review, the final verdict or the claim's wording changed since, ConflictError says
    who and when, and nothing is written. Without it (the CLI's explicit command) the
    current state is decided over, as `workbench verdict` does."""
    policy = _require_editor(workspace, editor, "adjudicate")
    if not policy.double:
        raise InputError(
            'adjudication decides between reviews: set [review] mode = "double" in '
            f"{workspace.root / 'config.toml'} (in single mode a review is final)"
        )
    _require_claim(workspace, claim_id)
    verdict_id = parse_verdict(verdict).id if verdict.strip() else ""
    if not verdict_id:
        raise InputError(f"empty verdict for claim {claim_id}: name the final verdict")
    with workspace.transaction() as conn:
        # Compared inside the transaction: no reviewer can slip a change in between.
        if expected is not None and decision_basis(workspace, claim_id) != expected:
            raise ConflictError(_changed_since(workspace, claim_id, "adjudicate"))
        at = _now()
        old = get_state(workspace, claim_id)
        given = [r for r in reviews_of(workspace, claim_id) if r["verdict"]]
        if not given:
            raise InputError(f"claim {claim_id} has no review yet: nothing to adjudicate")
        chosen = tuple(cited) if cited is not None else _merged(given).cited
        new = ReviewState(verdict_id, note if note is not None else old.note, chosen)
        workspace.save_final(conn, claim_id, _fields(new), editor, "adjudication", at)
        # An adjudication is a decision even when it keeps the verdict: approval stands
        # only if nothing changed, as for any final verdict.
        _audit(conn, claim_id, at, editor, "adjudicate", old, new)
    return Change(claim_id, "adjudicate", old, new)


def approve(
    workspace: Workspace,
    claim_ids: Sequence[int],
    editor: str,
    expected: dict[int, dict[str, Any]] | None = None,
) -> list[int]:
    """An editor signs off the final verdicts of `claim_ids` for publication, all or none:
    a claim without a final verdict (unreviewed, waiting for a second review, in dispute)
    is named and nothing is approved. Returns the claims newly approved; audited.

    `expected` maps claim ids to the `decision_basis` the editor saw (the adjudication
    screen's): a claim whose final verdict, reviews or wording changed since is refused
    (ConflictError, who and when), and nothing is approved. Its approval by another editor
    since is no conflict (approving again changes nothing). Claims not in it (and every
    claim without it, the CLI's explicit command) are approved as they stand."""
    _require_editor(workspace, editor, "approve")
    for claim_id in claim_ids:
        _require_claim(workspace, claim_id)
    approved = []
    with workspace.transaction() as conn:
        # Read and compared inside the transaction: the verdict approved is the one checked.
        finals = workspace.final_approvals(claim_ids)
        for claim_id in dict.fromkeys(claim_ids):
            seen = (expected or {}).get(claim_id)
            now = decision_basis(workspace, claim_id) if seen is not None else None
            if seen is not None and _unapproved(now) != _unapproved(seen):
                raise ConflictError(_changed_since(workspace, claim_id, "approve"))
        missing = [str(c) for c in claim_ids if c not in finals]
        if missing:
            raise InputError(
                f"no final verdict to approve for claim{'s' * (len(missing) > 1)} "
                f"{', '.join(missing)} (unreviewed, waiting for a second review, or in dispute)"
            )
        at = _now()
        for claim_id in dict.fromkeys(claim_ids):
            if finals[claim_id]:
                continue  # already approved: approving again changes nothing
            workspace.set_approval(conn, claim_id, editor, at)
            _audit(conn, claim_id, at, editor, "approve", {"approved_by": ""},
                   {"approved_by": editor, "approved_at": at})  # fmt: skip
            approved.append(claim_id)
    return approved


def claim_status(workspace: Workspace, claim_id: int) -> str:
    """Where a claim stands: unreviewed, needs a second review, in dispute, final, approved."""
    given = workspace.verdicts_given(claim_id)
    return status_of(workspace.verdict_record(claim_id), given, policy_of(workspace).double)


def status_of(final: dict[str, Any] | None, given: int, double: bool) -> str:
    """A claim's status from its final verdict record (or None) and how many reviews give a
    verdict (the rule `claim_status` and the export apply to rows they already hold)."""
    if final is not None and final["verdict"]:
        return "approved" if final["approved_by"] else "final"
    if not double or given == 0:
        return "unreviewed"
    return "needs a second review" if given == 1 else "in dispute"


# Audit actions that change a claim's wording (what can overtake an edit made from a stale view).
EDIT_ACTIONS = ("edit", "undo edit", "redo edit")


@dataclass(frozen=True)
class Edit:
    """One rewording of a claim: enough to show it, undo it and redo it, as a `Change`."""

    claim_id: int
    action: str
    old: str
    new: str


def edit_claim(
    workspace: Workspace,
    claim_id: int,
    text: str,
    reviewer: str,
    expected: str | None = None,
    action: str = "edit",
) -> Edit:
    """Reword a claim; its original wording is kept, and the edit is audited. With
    `expected` (the wording the reviewer edited), a claim reworded since by someone else is
    refused (ConflictError), not overwritten. The claim is marked for a re-match (its
    evidence is that of the old wording) until `match` stores evidence for the new one.
    A wording equal to the current one changes nothing and writes nothing."""
    text = text.strip()
    if not text:
        raise InputError("a claim cannot be empty")
    _require_claim(workspace, claim_id)
    with workspace.transaction() as conn:
        old = workspace.claim_text(claim_id) or ""
        if expected is not None and old != expected:
            raise ConflictError(_changed_since(workspace, claim_id, action, only=EDIT_ACTIONS))
        if text == old:
            return Edit(claim_id, action, old, old)
        # The reviewer's wording is also what matching searches with from now on, and the
        # old wording's vectors go (`reword_claim`).
        workspace.reword_claim(conn, claim_id, text)
        _audit(conn, claim_id, _now(), reviewer, action, old, text)
    return Edit(claim_id, action, old, text)


def verdict_label(verdict_id: str, lang: str = "en") -> str:
    rating = BY_ID.get(verdict_id)
    if rating is None:
        return ""
    return rating.label_fr if lang == "fr" else rating.label_en
