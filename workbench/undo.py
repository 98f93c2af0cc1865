"""Provides undo and redo of a reviewer's own actions, kept across restarts by the audit log."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from workbench.errors import ConflictError
from workbench.verdicts import EDIT_ACTIONS, Change, Edit, ReviewState, edit_claim, restore
from workbench.workspace import Workspace

Step = Change | Edit
# The actions a reviewer takes on their own review (the workbench's derived rows, an
# editor's decisions and assignments are not undone from here).
REVIEW_ACTIONS = frozenset({"verdict", "clear verdict", "note", "cite", "uncite"})
# How far back a restarted session can undo: the reviewer's latest audit rows read.
REMEMBERED_ROWS = 500


@dataclass
class History:
    """Undo and redo over a reviewer's changes (each step is itself an audited action).

    Only the reviewer's own actions are on the stacks, and each undo or redo is refused
    (ConflictError) when someone changed the claim since: undo never reverts another
    reviewer's work. `load` rebuilds the stacks from the audit log after a restart."""

    undo_stack: list[Step] = field(default_factory=list)
    redo_stack: list[Step] = field(default_factory=list)

    def record(self, change: Step) -> Step:
        if change.old != change.new:
            self.undo_stack.append(change)
            self.redo_stack.clear()
        return change

    def undo(self, workspace: Workspace, reviewer: str) -> Step | None:
        if not self.undo_stack:
            return None
        change = self.undo_stack[-1]
        # Popped only once written: a failed write (a locked database) keeps the step; a
        # step that someone else's later change has overtaken is dropped, never forced.
        try:
            _apply(workspace, change, reviewer, undo=True)
        except ConflictError:
            self.undo_stack.pop()
            raise
        self.redo_stack.append(self.undo_stack.pop())
        return change

    def redo(self, workspace: Workspace, reviewer: str) -> Step | None:
        if not self.redo_stack:
            return None
        change = self.redo_stack[-1]
        try:
            _apply(workspace, change, reviewer, undo=False)
        except ConflictError:
            self.redo_stack.pop()
            raise
        self.undo_stack.append(self.redo_stack.pop())
        return change

    @classmethod
    def load(cls, workspace: Workspace, reviewer: str) -> History:
        """The reviewer's undo and redo stacks as their audit rows leave them: each action
        pushed, each `undo X` moving it to the redo stack, each `redo X` back."""
        history = cls()
        rows = workspace.audit_by(reviewer, REMEMBERED_ROWS)
        index = 0
        while index < len(rows):
            claim_id, at, action, old, new = rows[index]
            index += 1
            verb, _, rest = action.partition(" ")
            if verb in ("undo", "redo") and rest:
                source, target = (
                    (history.undo_stack, history.redo_stack)
                    if verb == "undo"
                    else (history.redo_stack, history.undo_stack)
                )
                if source and source[-1].claim_id == claim_id:
                    target.append(source.pop())
                continue
            if action in EDIT_ACTIONS:
                history.record(Edit(claim_id, action, json.loads(old), json.loads(new)))
                continue
            if action not in REVIEW_ACTIONS:
                continue
            # One write's parts (a verdict and a note given together) share their claim and
            # time: one step, as they were one change.
            parts, first = [action], ReviewState.from_json(old)
            last = ReviewState.from_json(new)
            # A following row joins only if it took the claim from where this one left it:
            # two separate actions in one second, with someone else's change between them,
            # stay two steps (each undone only from the state it left).
            while index < len(rows) and rows[index][:2] == (claim_id, at):
                if rows[index][2] not in REVIEW_ACTIONS:
                    break
                if ReviewState.from_json(rows[index][3]) != last:
                    break
                parts.append(rows[index][2])
                last = ReviewState.from_json(rows[index][4])
                index += 1
            history.record(Change(claim_id, ", ".join(dict.fromkeys(parts)), first, last))
        return history


def _apply(workspace: Workspace, change: Step, reviewer: str, undo: bool) -> None:
    """Write a step's old state (undo) or new one (redo), from the state it left (or found)."""
    verb = "undo" if undo else "redo"
    before, after = (change.new, change.old) if undo else (change.old, change.new)
    if isinstance(change, Edit):
        edit_claim(
            workspace, change.claim_id, after, reviewer, expected=before, action=f"{verb} edit"
        )
    else:
        restore(
            workspace, change.claim_id, after, reviewer, f"{verb} {change.action}", expected=before
        )
