"""Provides a claim's history: every audited action on it, in order, described for people.

The audit log keeps, for each action, the claim's review state before and after it (JSON of
`ReviewState` for verdicts, notes, citations, undo and redo; the wording as a JSON string for
an edit). This module reads those rows back and says what each one changed: verdict labels,
note excerpts, cited passages by id and title, the claim's wording. The CLI's `history` and
the review UI's history screen show the same events, and keep double review blind the same
way (`visible_history`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from workbench.errors import InputError
from workbench.verdicts import _SQLITE_IDS, ReviewState, policy_of, verdict_label
from workbench.workspace import Workspace

NONE = "(none)"
NOTE_CHARS = 60
WORDING_CHARS = 100

# Text in the log was typed by other reviewers (or pasted from anywhere): shown on one line,
# and never able to steer the terminal. Control characters (escape sequences, a carriage
# return that overwrites the line) and the bidirectional overrides (which can make a note
# read backwards) are shown as escapes instead of acting.
_WHITESPACE = re.compile(r"\s+")
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def one_line(text: str) -> str:
    """`text` on one line, with nothing in it that a terminal would act on."""
    text = _WHITESPACE.sub(" ", text).strip()
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def excerpt(text: str, limit: int = NOTE_CHARS) -> str:
    """`text` on one line, cut at a word near `limit` characters with an ellipsis."""
    text = one_line(text)
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.") + "…"


@dataclass(frozen=True)
class Event:
    """One audited action on a claim: who did what, when, and the state before and after."""

    claim_id: int
    at: str
    """When, as stored: ISO 8601 in UTC ('2026-12-06T18:57:03Z')."""
    reviewer: str
    action: str
    what: str
    """What changed, for people ('(none) -> False')."""
    old: Any
    """The stored state before, as JSON data (a ReviewState's fields, or an edit's wording)."""
    new: Any
    note: str = ""

    @property
    def who(self) -> str:
        return one_line(self.reviewer) or "(unknown)"

    @property
    def when(self) -> str:
        """The time in UTC to the minute ('2026-12-06 18:57'), or as stored if unreadable."""
        try:
            moment = datetime.fromisoformat(self.at.replace("Z", "+00:00"))
        except ValueError:
            return one_line(self.at)
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC)
        return moment.strftime("%Y-%m-%d %H:%M")

    def as_record(self) -> dict[str, Any]:
        return {
            "claim_id": self.claim_id,
            "at": self.at,
            "reviewer": self.reviewer,
            "action": self.action,
            "what": self.what,
            "old": self.old,
            "new": self.new,
            "note": self.note,
        }


def claim_history(workspace: Workspace, claim_id: int) -> list[Event]:
    """Every action on the claim from the audit log, oldest first.

    A claim that does not exist is an InputError (one with no actions yet has an empty
    history)."""
    if claim_id not in _SQLITE_IDS or not workspace.claims([claim_id]):
        raise InputError(f"no claim with id {claim_id} in {workspace.root}")
    return [
        Event(
            claim_id=claim_id,
            at=row["at"] or "",
            reviewer=row["reviewer"] or "",
            action=row["action"],
            what=describe(row["action"], row["old"], row["new"]),
            old=row["old"],
            new=row["new"],
            note=row["note"] or "",
        )
        for row in workspace.audit_trail(claim_id)
    ]


# Actions that hold no reviewer's verdict, note or citations: a blind reviewer sees them
# whoever took them (who is assigned, how the claim is worded: the claim as they review it).
BLIND_SAFE_ACTIONS = frozenset({"assign", "edit", "undo edit", "redo edit"})
# Actions on the claim's final verdict: their states hold the reviews' verdicts, notes and
# citations (merged, adjudicated, withdrawn), whoever's write led to them.
FINAL_ACTIONS = frozenset({"adjudicate", "approve", "final (reviews agree)"})


def visible_history(
    workspace: Workspace, claim_id: int, viewer: str | None
) -> tuple[list[Event], int]:
    """The claim's history as `viewer` may see it, and how many actions are hidden.

    Double review is blind: a reviewer who is not an editor and has no verdict of their own
    on the claim sees no other reviewer's verdict, note or citations, so the actions by
    others that hold them, and every action on the final verdict (even one their own write
    led to), are left out and counted. Once they have a verdict of their own, for editors,
    in single mode, or with no viewer named (None), every action shows."""
    events = claim_history(workspace, claim_id)
    policy = policy_of(workspace)
    if viewer is None or not policy.double or policy.is_editor(viewer):
        return events, 0
    if workspace.has_verdict_by(claim_id, viewer):
        return events, 0
    shown = [
        e
        for e in events
        if not _on_final(e.action) and (e.reviewer == viewer or e.action in BLIND_SAFE_ACTIONS)
    ]
    return shown, len(events) - len(shown)


def _on_final(action: str) -> bool:
    return action in FINAL_ACTIONS or action.startswith("no final verdict")


def hidden_line(hidden: int) -> str:
    """The one line that says how many actions a blind reviewer does not see; "" for none."""
    if not hidden:
        return ""
    noun = "action" if hidden == 1 else "actions"
    return (
        f"{hidden} {noun} by other reviewers hidden until you give your own verdict (double review)"
    )


def describe(action: str, old: Any, new: Any) -> str:
    """What an action changed, for people, from the audit row's before and after."""
    if action in ("edit", "undo edit", "redo edit"):
        return _before_after(_wording(old), _wording(new))
    if action == "assign":
        return "assigned to " + _before_after(_assignees(old), _assignees(new))
    before, after = _state(old), _state(new)
    if action in ("verdict", "clear verdict"):
        return _before_after(_verdict(before.verdict), _verdict(after.verdict))
    if action == "note":
        return _before_after(_quoted(before.note), _quoted(after.note))
    if action in ("cite", "uncite"):
        # A citation of a passage already cited is audited but changes nothing.
        none = "(already cited)" if action == "cite" else "(was not cited)"
        return "; ".join(_citation_changes(before, after)) or none
    # undo, redo and anything newer: each field that changed, named.
    parts = []
    if before.verdict != after.verdict:
        parts.append("verdict " + _before_after(_verdict(before.verdict), _verdict(after.verdict)))
    if before.note != after.note:
        parts.append("note " + _before_after(_quoted(before.note), _quoted(after.note)))
    parts += _citation_changes(before, after)
    return "; ".join(parts) or "(no change)"


def _assignees(data: Any) -> str:
    names = data.get("assigned") if isinstance(data, dict) else None
    return ", ".join(one_line(str(n)) for n in names) if names else NONE


def _wording(value: Any) -> str:
    return _quoted(value, WORDING_CHARS) if isinstance(value, str) else NONE


def _state(data: Any) -> ReviewState:
    if isinstance(data, dict):
        cited = tuple(c for c in data.get("cited") or () if isinstance(c, dict))
        return ReviewState(str(data.get("verdict") or ""), str(data.get("note") or ""), cited)
    if isinstance(data, str):  # an old audit row that holds only a verdict id
        return ReviewState(verdict=data)
    return ReviewState()


def _before_after(before: str, after: str) -> str:
    return f"{before} -> {after}"


def _verdict(verdict_id: str) -> str:
    if not verdict_id:
        return NONE
    return verdict_label(verdict_id) or one_line(verdict_id)


def _quoted(text: str, limit: int = NOTE_CHARS) -> str:
    return f'"{excerpt(text, limit)}"' if text.strip() else NONE


def _citation_changes(before: ReviewState, after: ReviewState) -> list[str]:
    old_ids, new_ids = set(before.cited_ids), set(after.cited_ids)
    added = [c for c in after.cited if int(c["passage_id"]) not in old_ids]
    removed = [c for c in before.cited if int(c["passage_id"]) not in new_ids]
    return [f"+ {_passage(c)}" for c in added] + [f"- {_passage(c)}" for c in removed]


def _passage(citation: dict[str, Any]) -> str:
    title = citation.get("title") or citation.get("evidence_id") or ""
    name = f" {_quoted(str(title), NOTE_CHARS)}" if str(title).strip() else ""
    return f"passage {citation['passage_id']}{name}"


def format_lines(events: list[Event]) -> list[str]:
    """One line per event for people: `2026-12-06 18:57  ana  verdict  (none) -> False`."""
    # Columns as wide as their widest entry, within reason: a long name does not push every
    # description off the screen.
    who_width = min(max((len(e.who) for e in events), default=0), 16)
    action_width = min(max((len(one_line(e.action)) for e in events), default=0), 20)
    return [
        f"{e.when}  {e.who.ljust(who_width)}  {one_line(e.action).ljust(action_width)}  {e.what}"
        for e in events
    ]
