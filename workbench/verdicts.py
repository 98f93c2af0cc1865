"""Provides the reviewer's actions on claims: verdicts, notes, citations, edits, undo and redo.

Each action is one transaction that writes the claim's new review state and an audit row
holding the state before and after, so nothing a reviewer does is ever lost and every change
can be undone (by another audited action). The CLI and the review UI call these functions.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from workbench.errors import InputError
from workbench.scale import BY_ID, parse_verdict
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


def get_state(workspace: Workspace, claim_id: int) -> ReviewState:
    row = workspace.conn.execute(
        "SELECT verdict, note, cited FROM verdicts WHERE claim_id = ?", (claim_id,)
    ).fetchone()
    if row is None:
        return ReviewState()
    return ReviewState(row[0], row[1], tuple(json.loads(row[2])))


def _require_claim(workspace: Workspace, claim_id: int) -> None:
    if not workspace.conn.execute("SELECT 1 FROM claims WHERE id = ?", (claim_id,)).fetchone():
        raise InputError(f"no claim with id {claim_id} in {workspace.root}")


def _apply(
    workspace: Workspace,
    claim_id: int,
    action: str,
    reviewer: str,
    change: Any,
) -> Change:
    """Read the state, compute the new one with `change(old)`, write both in one transaction."""
    _require_claim(workspace, claim_id)
    with workspace.transaction() as conn:
        old = get_state(workspace, claim_id)
        new = change(old)
        conn.execute(
            "INSERT INTO verdicts(claim_id, verdict, note, reviewer, cited, updated_at) "
            "VALUES (?,?,?,?,?,?) ON CONFLICT(claim_id) DO UPDATE SET verdict = excluded.verdict,"
            " note = excluded.note, reviewer = excluded.reviewer, cited = excluded.cited,"
            " updated_at = excluded.updated_at",
            (
                claim_id,
                new.verdict,
                new.note,
                reviewer,
                json.dumps(list(new.cited), ensure_ascii=False),
                _now(),
            ),
        )
        conn.execute(
            "INSERT INTO audit_log(claim_id, at, reviewer, action, old, new, note) "
            "VALUES (?,?,?,?,?,?,?)",
            (claim_id, _now(), reviewer, action, old.as_json(), new.as_json(), new.note),
        )
    return Change(claim_id, action, old, new)


def set_verdict(workspace: Workspace, claim_id: int, verdict: str, reviewer: str) -> Change:
    """Give a claim a verdict (an id, label or key of the scale; '' clears it)."""
    verdict_id = parse_verdict(verdict).id if verdict else ""
    return _apply(
        workspace, claim_id, "verdict", reviewer, lambda old: replace(old, verdict=verdict_id)
    )


def set_note(workspace: Workspace, claim_id: int, note: str, reviewer: str) -> Change:
    return _apply(workspace, claim_id, "note", reviewer, lambda old: replace(old, note=note))


def _citation(workspace: Workspace, passage_id: int) -> dict[str, Any]:
    # A citation keeps a copy of what was cited: the reviewer's evidence survives a later
    # re-ingest that changes or removes the passage.
    rows = workspace.passages([passage_id])
    if passage_id not in rows:
        raise InputError(f"no evidence passage with id {passage_id} in {workspace.root}")
    row = rows[passage_id]
    return {
        "passage_id": row.id,
        "evidence_id": row.doc_key,
        "title": row.title,
        "url": row.url,
        "publisher": row.publisher,
        "published": row.published,
        "lang": row.lang,
        "text": row.text,
    }


def cite(workspace: Workspace, claim_id: int, passage_id: int, reviewer: str) -> Change:
    """Attach an evidence passage to the claim's verdict (no-op if already cited)."""
    citation = _citation(workspace, passage_id)

    def change(old: ReviewState) -> ReviewState:
        if passage_id in old.cited_ids:
            return old
        return replace(old, cited=(*old.cited, citation))

    return _apply(workspace, claim_id, "cite", reviewer, change)


def uncite(workspace: Workspace, claim_id: int, passage_id: int, reviewer: str) -> Change:
    def change(old: ReviewState) -> ReviewState:
        return replace(old, cited=tuple(c for c in old.cited if c["passage_id"] != passage_id))

    return _apply(workspace, claim_id, "uncite", reviewer, change)


def toggle_cite(workspace: Workspace, claim_id: int, passage_id: int, reviewer: str) -> Change:
    if passage_id in get_state(workspace, claim_id).cited_ids:
        return uncite(workspace, claim_id, passage_id, reviewer)
    return cite(workspace, claim_id, passage_id, reviewer)


def restore(
    workspace: Workspace, claim_id: int, state: ReviewState, reviewer: str, action: str
) -> Change:
    """Put back a whole earlier state (undo, redo), itself recorded in the audit log."""
    return _apply(workspace, claim_id, action, reviewer, lambda old: state)


def edit_claim(workspace: Workspace, claim_id: int, text: str, reviewer: str) -> None:
    """Reword a claim; its original wording is kept, and the edit is audited."""
    text = text.strip()
    if not text:
        raise InputError("a claim cannot be empty")
    _require_claim(workspace, claim_id)
    with workspace.transaction() as conn:
        old = conn.execute("SELECT text FROM claims WHERE id = ?", (claim_id,)).fetchone()[0]
        conn.execute(
            # The reviewer's wording is also what matching searches with from now on.
            "UPDATE claims SET original_text = COALESCE(original_text, text), text = ?, "
            "standalone = ? WHERE id = ?",
            (text, text, claim_id),
        )
        # The old wording's vectors would let verdict memory compare the wrong text; the
        # re-match stores the new ones.
        conn.execute("DELETE FROM claim_vectors WHERE claim_id = ?", (claim_id,))
        conn.execute(
            "INSERT INTO audit_log(claim_id, at, reviewer, action, old, new, note) "
            "VALUES (?,?,?,?,?,?,'')",
            (claim_id, _now(), reviewer, "edit", json.dumps(old), json.dumps(text)),
        )


@dataclass
class History:
    """Undo and redo over this session's changes (each step is itself an audited action)."""

    undo_stack: list[Change] = field(default_factory=list)
    redo_stack: list[Change] = field(default_factory=list)

    def record(self, change: Change) -> Change:
        if change.old != change.new:
            self.undo_stack.append(change)
            self.redo_stack.clear()
        return change

    def undo(self, workspace: Workspace, reviewer: str) -> Change | None:
        if not self.undo_stack:
            return None
        change = self.undo_stack[-1]
        # Popped only once written: a failed write (a locked database) keeps the step.
        restore(workspace, change.claim_id, change.old, reviewer, f"undo {change.action}")
        self.redo_stack.append(self.undo_stack.pop())
        return change

    def redo(self, workspace: Workspace, reviewer: str) -> Change | None:
        if not self.redo_stack:
            return None
        change = self.redo_stack[-1]
        restore(workspace, change.claim_id, change.new, reviewer, f"redo {change.action}")
        self.undo_stack.append(self.redo_stack.pop())
        return change


def verdict_label(verdict_id: str, lang: str = "en") -> str:
    rating = BY_ID.get(verdict_id)
    if rating is None:
        return ""
    return rating.label_fr if lang == "fr" else rating.label_en
