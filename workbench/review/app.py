"""Provides the review app: a keyboard-first queue of claims, their evidence and verdicts."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Footer

from workbench.errors import DamagedWorkspaceError, WorkbenchError
from workbench.history import hidden_line, visible_history
from workbench.queue import count_low, list_queue, load_position, progress, save_position
from workbench.review.article_view import ArticleScreen, article_view_data
from workbench.review.data import ArticleContexts, Context, claim_matches
from workbench.review.filters import QueueFilter
from workbench.review.highlight import shared_spans, terms
from workbench.review.keys import REVIEW_BINDINGS, keymap_from_settings
from workbench.review.messages import (
    ClaimRematched,
    ExportFailed,
    ExportFinished,
    HintsFailed,
    HintsReady,
    RematchFailed,
)
from workbench.review.modals import (
    ConfirmDialog,
    EditClaimDialog,
    FilterDialog,
    HelpScreen,
    HistoryScreen,
    NoteDialog,
    PassageScreen,
    PromptDialog,
)
from workbench.review.widgets.claim import ClaimView
from workbench.review.widgets.evidence import (
    MARKS_LEGEND,
    EvidenceDetail,
    EvidenceList,
    format_signals,
)
from workbench.review.widgets.header import ReviewHeader
from workbench.review.widgets.legend import VerdictKeys
from workbench.review.widgets.queue import ClaimQueue
from workbench.scale import SCALE
from workbench.settings import Settings
from workbench.undo import History
from workbench.verdicts import (
    Change,
    Edit,
    ReviewState,
    edit_claim,
    get_state,
    policy_of,
    set_note,
    set_verdict,
    toggle_cite,
)
from workbench.workspace import ClaimRow, Workspace, database_error

T = TypeVar("T")
RetrieverFactory = Callable[[Workspace], Any]
DEFAULT_EXPORT = "./workbench-export.jsonl"
# Evidence retrieved for an edited claim when it had none before (the CLI's default -k).
DEFAULT_TOP_K = 5
PAGE_ROWS = 20
# How often the app looks for other processes' writes (one PRAGMA: nothing to read if none).
WATCH_SECONDS = 2.0


def _open_retriever(workspace: Workspace) -> Any:
    # Imported here: the models and indexes load only when a claim is first re-matched.
    from workbench.retrieve import open_retriever

    return open_retriever(workspace)


class ReviewApp(App[None]):
    """Review the workspace's claims: read each in context, weigh its evidence, give a verdict."""

    # Absolute: Textual reads a relative path beside the module of the class that runs, and
    # a subclass (a test's, an embedding app's) lives elsewhere.
    CSS_PATH = Path(__file__).parent / "review.tcss"
    TITLE = "Fact-check review"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = REVIEW_BINDINGS
    # Under 120 columns the panes stack (review.tcss `.-narrow`); 34 rows give the queue more.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (34, "-tall")]

    def __init__(
        self,
        workspace_path: Path,
        reviewer: str,
        settings: Settings,
        *,
        retriever_factory: RetrieverFactory | None = None,
    ) -> None:
        super().__init__()
        self.workspace_path = Path(workspace_path)
        self.reviewer = reviewer
        self.settings = settings
        self.retriever_factory = retriever_factory or _open_retriever
        # Opened here so that a missing or broken workspace fails before the screen starts.
        self.ws = Workspace.open(self.workspace_path)
        self.changes = History()
        """The reviewer's undo and redo stacks (read from the audit log on mount)."""
        self.queue_filter = QueueFilter()
        self.low_count = 0
        """Claims under the check-worthiness threshold that nobody took up, of those the
        filter finds: hidden unless the filter shows them (L)."""
        self.contexts = ArticleContexts()
        self.verdicts: dict[int, str] = {}
        """Verdict of each claim in the queue, kept in step with the badges."""
        self.articles: dict[int, str] = {}
        self.counts: dict[str, list[int]] = {}
        """[reviewed, total] per article name and '' for all, updated in place on changes."""
        self.claim: ClaimRow | None = None
        self._last_claim: int | None = None
        """The claim shown last: a filter that shows none and is then cleared comes back to
        it, rather than to the first claim of the queue."""
        self.state = ReviewState()
        self.context = Context("", "", "")
        self.claim_terms: frozenset[str] = frozenset()
        self.evidence: list[dict[str, Any]] = []
        self.evidence_index = 0
        self.hints_revealed = False
        self._matches: dict[int, list[dict[str, Any]]] = {}
        self._hints: dict[int, list[str]] = {}
        """Hint lines per claim, computed in a worker; dropped when a verdict changes."""
        self._hints_generation = 0
        """Bumped when cached hints go stale, so that a worker's late result is not kept."""
        self._hints_computing: tuple[int, int] | None = None
        """(claim id, generation) the latest hints worker computes, None when none runs."""
        self._spans: dict[tuple[int, int], list[tuple[int, int]]] = {}
        self._retriever: Any = None
        self._retriever_lock = threading.Lock()
        keymap, unknown = keymap_from_settings(settings.keys)
        self._unknown_keys = unknown
        self._clashes_shown: set[str] = set()
        if keymap:
            self.set_keymap(keymap)

    # ----- layout --------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield ReviewHeader(id="header")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield ClaimQueue(id="queue")
                yield VerdictKeys(id="verdict-keys")
            with Vertical(id="side"):
                # Not focusable: a focused scroll view would take up/down from the app.
                yield VerticalScroll(ClaimView(id="claim"), id="claim-pane", can_focus=False)
                yield EvidenceList(id="evidence")
                yield VerticalScroll(
                    EvidenceDetail(id="evidence-text"), id="evidence-pane", can_focus=False
                )
        yield Footer(compact=True)

    @property
    def queue(self) -> ClaimQueue:
        return self.query_one(ClaimQueue)

    def on_mount(self) -> None:
        if self._unknown_keys:
            self.notify(
                "Unknown actions in [keys]: " + ", ".join(self._unknown_keys),
                severity="warning",
            )
        keys = self._keys_by_id()
        self.query_one(VerdictKeys).show([(keys.get(f"verdict-{r.id}", "-"), r.id) for r in SCALE])
        if self.ws.read_only:
            self.notify(
                "Read-only workspace: claims and evidence can be read, but verdicts, notes, "
                "citations and edits cannot be saved.",
                severity="warning",
                timeout=8,
            )
        else:
            self._check_integrity()
        saved = self._attempt("read your last position", load_position, self.ws, self.reviewer)
        if self._has_assignments():
            # A reviewer with assignments starts on their own queue (f offers everyone's).
            self.queue_filter = replace(self.queue_filter, mine=True)
        self._load_queue(keep=saved)
        self._seen_version = self._data_version()
        self.set_interval(WATCH_SECONDS, self._watch_others)
        # After the first screen: undo reaches back past a restart (own actions only), and
        # a re-match that a killed process left undone is run now.
        self.call_after_refresh(self._resume)

    def _resume(self) -> None:
        history = self._attempt("read your undo history", History.load, self.ws, self.reviewer)
        if history is not None and not self.changes.undo_stack and not self.changes.redo_stack:
            self.changes = history
        if self.ws.read_only:
            return
        pending = self._attempt("read the claims awaiting a re-match", self.ws.pending_rematches)
        if pending:
            self._rematch_pending(pending, DEFAULT_TOP_K)
            self.notify(
                f"Matching again {len(pending)} reworded claim(s) whose re-match was "
                "interrupted; their evidence is marked stale until then.",
                timeout=5,
            )

    def _data_version(self) -> int | None:
        try:
            return int(self.ws.conn.execute("PRAGMA data_version").fetchone()[0])
        except sqlite3.Error:
            return None

    def _watch_others(self) -> None:
        """Bring the progress counts and the shown claim up to date with other processes'
        writes (SQLite's data_version moves only on other connections' commits), so that the
        header is not stale and a changed claim is reread before the reviewer acts on it."""
        version = self._data_version()
        if version is None or version == self._seen_version:
            return
        self._seen_version = version
        claim = self.claim
        if claim is not None:
            state = self._attempt("read the claim", get_state, self.ws, claim.id, self.reviewer)
            if state is not None and state != self.state:
                self._state_changed(claim.id, state, render=True)
                self.notify(f"Claim {claim.id} was changed in another window.", timeout=4)
        self._sync_badges()
        # Counted afresh after: the counts then hold every process's changes exactly once.
        self._count_progress()
        self._render_header()

    def _sync_badges(self) -> None:
        """The queue's verdicts as stored now (another window's verdicts on other claims), so
        that badges, "next without a verdict" and later count updates start from the truth."""
        query = self.queue_filter.query()
        own = self.reviewer if self.queue_filter.mine else None
        rows = self._attempt(
            "read the queue",
            lambda: list_queue(self.ws, **query, reviewer=self._blind_reviewer(), queue_of=own),
        )
        for row in rows or ():
            if row.claim_id in self.verdicts and self.verdicts[row.claim_id] != row.verdict:
                self.verdicts[row.claim_id] = row.verdict
                self.queue.set_verdict(row.claim_id, row.verdict)

    def on_unmount(self) -> None:
        self.ws.close()

    def handle_bindings_clash(self, clashed_bindings: set[Binding], node: Any) -> None:
        # Textual reports a clash on every key press; the reviewer needs to hear it once.
        new = {b.key for b in clashed_bindings} - self._clashes_shown
        if new:
            self._clashes_shown |= new
            keys = ", ".join(sorted(new))
            self.notify(f"Remapped keys clash with other keys: {keys}", severity="warning")

    # ----- helpers -------------------------------------------------------------------------
    def _attempt(self, what: str, func: Callable[..., T], *args: Any) -> T | None:
        """Run a core call; on a workbench or database error show it and return None.

        The in-memory state is only updated from a call's result, so a failed write (say, a
        database locked by another process past its timeout) leaves the screen as it was.
        """
        try:
            return func(*args)
        except (WorkbenchError, sqlite3.Error, OSError) as exc:
            if isinstance(exc, sqlite3.Error):
                # One line that names the problem (a damaged file, a full disk, a lock).
                exc = database_error(exc, self.ws.db_path)
                if isinstance(exc, DamagedWorkspaceError):
                    self.ws.mark_damaged(exc.message)  # nothing more is written into it
            # Markup off: errors quote reviewers' names and what they typed.
            self.notify(f"Could not {what}: {exc}", severity="error", timeout=8, markup=False)
            return None

    def _refused_read_only(self) -> bool:
        """In a read-only workspace, one line instead of a write; True when refused."""
        if self.ws.read_only:
            self.notify(
                "Read-only workspace: nothing can be saved here.", severity="warning", timeout=4
            )
        return self.ws.read_only

    def _load_queue(self, keep: int | None = None) -> None:
        query = self.queue_filter.query()
        mine = self._blind_reviewer()
        own = self.reviewer if self.queue_filter.mine else None
        low = self.queue_filter.low
        rows = self._attempt(
            "load the queue",
            lambda: list_queue(self.ws, **query, reviewer=mine, queue_of=own, low=low),
        )
        if rows is None:
            return
        hidden = self._attempt(
            "count the low check-worthiness claims",
            lambda: count_low(self.ws, **query, reviewer=mine, queue_of=own),
        )
        self.low_count = hidden or 0
        self.verdicts = {row.claim_id: row.verdict for row in rows}
        self.articles = {row.claim_id: row.article for row in rows}
        self._count_progress()
        queue = self.queue
        queue.show_rows(rows)
        if keep not in self.verdicts:
            keep = next((r.claim_id for r in rows if not r.verdict), None)
            keep = keep if keep is not None else (rows[0].claim_id if rows else None)
        if keep is not None:
            queue.move_cursor(queue.index_of(keep) or 0)
        # Always read the claim again: a refresh may bring another process's changes.
        self._select(keep)

    def _has_assignments(self) -> bool:
        return bool(self._attempt("read your assignments", self.ws.has_assignments, self.reviewer))

    def _blind_reviewer(self) -> str | None:
        """In double review, this reviewer (the queue shows their own reviews), else None."""
        policy = self._attempt("read the review rules", policy_of, self.ws)
        return self.reviewer if policy is not None and policy.double else None

    def _count_progress(self) -> None:
        counts = self._attempt("count progress", progress, self.ws, self._blind_reviewer())
        if counts is not None:
            self.counts = {name: list(pair) for name, pair in counts.items()}

    def _move_to(self, index: int) -> None:
        queue = self.queue
        claim_id = queue.claim_at(index)
        if claim_id is None:
            return
        queue.move_cursor(index)
        if self.claim is None or self.claim.id != claim_id:
            self._select(claim_id)

    def _select(self, claim_id: int | None) -> None:
        """Show a claim, its context and its evidence, and remember it as the position."""
        self.evidence_index = 0
        self.hints_revealed = False
        if not self._attempt("read the claim", self._read_claim, claim_id):
            self._read_claim(None)
        # The position is saved once the integrity check is done (`_check_integrity`): never
        # into a damaged file, and the first screen does not wait for the check.
        if self.claim is not None and not self.ws.read_only and self.ws.integrity_known():
            self._attempt(
                "save your position", save_position, self.ws, self.reviewer, self.claim.id
            )
        self._render_claim()
        self._render_evidence()
        self._render_header()

    def _read_claim(self, claim_id: int | None) -> bool:
        """Read a claim and what the panels show of it; None clears them."""
        rows = self.ws.claims([claim_id]) if claim_id is not None else []
        self.claim = rows[0] if rows else None
        if self.claim is not None:
            self._last_claim = self.claim.id
        if self.claim is None:
            self.state, self.context, self.evidence = ReviewState(), Context("", "", ""), []
            self.claim_terms = frozenset()
            return True
        claim = self.claim
        self.state = get_state(self.ws, claim.id, self.reviewer)
        self.context = self.contexts.context(
            self.ws, claim.id, claim.start, claim.end, claim.claimant
        )
        self.claim_terms = terms(claim.text, claim.lang)
        if claim.id not in self._matches:
            self._matches[claim.id] = claim_matches(self.ws, claim.id)
        self.evidence = self._matches[claim.id]
        return True

    def _spans_of(self, match: dict[str, Any]) -> list[tuple[int, int]]:
        assert self.claim is not None
        key = (self.claim.id, match["passage_id"])
        if key not in self._spans:
            self._spans[key] = shared_spans(match["text"], match["lang"], self.claim_terms)
        return self._spans[key]

    def _hints_visible(self) -> bool:
        mode = self.settings.hints
        if mode == "always":
            return True
        if mode == "after-verdict":
            return bool(self.state.verdict)
        return self.hints_revealed

    # ----- rendering -----------------------------------------------------------------------
    def _render_header(self) -> None:
        article = self.claim.article if self.claim else ""
        overall = self.counts.get("", [0, 0])
        in_article = self.counts.get(article, [0, 0])
        shown = f"{self.queue.row_count} shown: {self.queue_filter.describe()}"
        low = ""
        if self.low_count:
            low = f"low check-worthiness: {self.low_count} " + (
                "shown (L hides them)" if self.queue_filter.low else "more (L shows them)"
            )
        self.query_one(ReviewHeader).show(
            self.reviewer,
            (overall[0], overall[1]),
            article,
            (in_article[0], in_article[1]),
            shown,
            low,
        )

    def _render_claim(self) -> None:
        hints = None
        computing = False
        claim = self.claim
        if claim is not None and self._hints_visible():
            hints = self._hints.get(claim.id)
            if hints is None:
                computing = True
                self._request_hints(claim)
        self.query_one(ClaimView).show(
            claim,
            self.context,
            self.state,
            hints,
            computing=computing,
            stale=claim is not None and claim.stale,
        )

    def _request_hints(self, claim: ClaimRow) -> None:
        """Start computing the shown claim's hints in a worker, unless one already does."""
        key = (claim.id, self._hints_generation)
        if self._hints_computing != key:
            self._hints_computing = key
            self._compute_hints(claim.id, list(self.evidence), key[1])

    def _drop_hints(self) -> None:
        """Forget every claim's hints: recomputed in the worker when next shown."""
        self._hints.clear()
        self._hints_generation += 1

    def _render_evidence(self) -> None:
        listing = self.query_one(EvidenceList)
        listing.show(self.evidence, self.state.cited_ids)
        if self.evidence:
            listing.move_cursor(row=self.evidence_index, animate=False)
        self._render_detail()

    def _render_detail(self) -> None:
        match = self.evidence[self.evidence_index] if self.evidence else None
        detail = self.query_one(EvidenceDetail)
        if match is None:
            detail.show(None, [], False, None)
            return
        hints = format_signals(match["signals"]) if self._hints_visible() else None
        cited = match["passage_id"] in self.state.cited_ids
        detail.show(match, self._spans_of(match), cited, hints)

    def _state_changed(self, claim_id: int, state: ReviewState, render: bool = True) -> None:
        """Bring the badge, the progress counts and the panels in line with a saved state.

        `render=False` when the app moves on to another claim right after, which redraws.
        """
        before = self.verdicts.get(claim_id)
        if before is None:
            self._count_progress()  # a claim outside the current filter (undo after a filter)
        elif bool(before) != bool(state.verdict):
            step = 1 if state.verdict else -1
            for name in ("", self.articles[claim_id]):
                if name in self.counts:
                    self.counts[name][0] += step
        # Any verdict can be another claim's memory, and this claim's own suggestion shows
        # after the reviewer's decision: hints are recomputed (lazily, in the worker).
        self._drop_hints()
        if before is not None:
            self.verdicts[claim_id] = state.verdict
            self.queue.set_verdict(claim_id, state.verdict)
        if self.claim is not None and self.claim.id == claim_id:
            self.state = state
            if render:
                self._render_claim()
                self.query_one(EvidenceList).set_cited(state.cited_ids)
                self._render_detail()
        if render:
            self._render_header()

    def _current_match(self) -> dict[str, Any] | None:
        return self.evidence[self.evidence_index] if self.evidence else None

    # ----- events --------------------------------------------------------------------------
    def on_claim_queue_row_clicked(self, message: ClaimQueue.RowClicked) -> None:
        self._move_to(message.index)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        # A click on a candidate; read the table's cursor, which the app may have moved since.
        row = event.data_table.cursor_row
        if self.evidence and row != self.evidence_index and 0 <= row < len(self.evidence):
            self.evidence_index = row
            self._render_detail()

    def _forget(self, claim_id: int) -> None:
        """Drop what was cached of a claim's evidence (its wording or its matches changed)."""
        self._matches.pop(claim_id, None)
        self._hints.pop(claim_id, None)
        self._hints_generation += 1  # a worker running on the old matches is not kept
        self._spans = {k: v for k, v in self._spans.items() if k[0] != claim_id}

    def on_claim_rematched(self, message: ClaimRematched) -> None:
        self._forget(message.claim_id)
        if self.claim is not None and self.claim.id == message.claim_id:
            index = self.evidence_index
            self._select(message.claim_id)
            self.evidence_index = min(index, max(len(self.evidence) - 1, 0))
            self._render_evidence()
        self.notify(f"Claim {message.claim_id} matched again: {message.count} candidates")

    def on_rematch_failed(self, message: RematchFailed) -> None:
        self.notify(
            f"Claim {message.claim_id} was saved but could not be matched again: {message.error}",
            severity="error",
            timeout=10,
        )

    def _hints_arrived(self, claim_id: int, generation: int, lines: list[str]) -> None:
        if self._hints_computing == (claim_id, generation):
            self._hints_computing = None
        if generation == self._hints_generation:
            self._hints[claim_id] = lines
        # Only the shown claim is redrawn (a stale result starts the worker again).
        if self.claim is not None and self.claim.id == claim_id and self._hints_visible():
            self._render_claim()

    def on_hints_ready(self, message: HintsReady) -> None:
        self._hints_arrived(message.claim_id, message.generation, message.lines)

    def on_hints_failed(self, message: HintsFailed) -> None:
        if message.generation == self._hints_generation:
            self.notify(
                f"Could not compute the hints of claim {message.claim_id}: {message.error}",
                severity="error",
                timeout=8,
            )
        self._hints_arrived(message.claim_id, message.generation, [])

    def on_export_finished(self, message: ExportFinished) -> None:
        self.notify(f"Exported {message.count} claims to {message.path}")

    def on_export_failed(self, message: ExportFailed) -> None:
        self.notify(f"Could not export to {message.path}: {message.error}", severity="error")

    # ----- moving --------------------------------------------------------------------------
    def action_next_claim(self) -> None:
        if self.queue.cursor_row + 1 < self.queue.row_count:
            self._move_to(self.queue.cursor_row + 1)
        elif self.queue.row_count:
            left = sum(1 for claim_id in self.queue.claim_ids if not self.verdicts.get(claim_id))
            more = f"; {left} still without a verdict above" if left else ""
            self.notify(f"That was the last claim of the queue{more}.", timeout=3)

    def action_previous_claim(self) -> None:
        if self.queue.cursor_row > 0:
            self._move_to(self.queue.cursor_row - 1)

    def action_page(self, direction: int) -> None:
        last = self.queue.row_count - 1
        if last >= 0:
            self._move_to(max(0, min(last, self.queue.cursor_row + direction * PAGE_ROWS)))

    def _move_evidence(self, step: int) -> None:
        index = self.evidence_index + step
        if 0 <= index < len(self.evidence):
            self.evidence_index = index
            self.query_one(EvidenceList).move_cursor(row=index, animate=False)
            self._render_detail()

    def action_next_evidence(self) -> None:
        self._move_evidence(1)

    def action_previous_evidence(self) -> None:
        self._move_evidence(-1)

    def _scroll_pane(self, pane_id: str, direction: int) -> None:
        # Half a pane at a time, as a pager's ctrl+d / ctrl+u: the line read last stays in view.
        pane = self.query_one(pane_id, VerticalScroll)
        step = max(1, pane.scrollable_content_region.height // 2)
        pane.scroll_relative(y=direction * step, animate=False)

    def action_scroll_claim(self, direction: int) -> None:
        self._scroll_pane("#claim-pane", direction)

    def action_scroll_evidence(self, direction: int) -> None:
        self._scroll_pane("#evidence-pane", direction)

    def action_toggle_queue(self) -> None:
        self.query_one("#left").toggle_class("collapsed")

    # ----- reviewing -----------------------------------------------------------------------
    def _record(self, change: Change | None, render: bool = True) -> None:
        if change is not None:
            self.changes.record(change)
            self._state_changed(change.claim_id, change.new, render)

    def action_verdict(self, verdict_id: str) -> None:
        if self.claim is None or self._refused_read_only():
            return
        # The state on screen goes with the write: a claim someone changed since is refused.
        change = self._attempt(
            "save the verdict",
            set_verdict,
            self.ws,
            self.claim.id,
            verdict_id,
            self.reviewer,
            self.state,
        )
        if change is None:
            return
        target = self._after_verdict()
        self._record(change, render=target is None)
        if target is not None:
            self._move_to(target)
        elif self.settings.after_verdict == "next-unreviewed":
            self.notify("Every claim of this queue has a verdict.", timeout=3)

    def _after_verdict(self) -> int | None:
        """The queue row a verdict moves to, None to stay: the next claim without a verdict
        (from the next row round to the first), or the next row with `after_verdict = next`."""
        queue, row = self.queue, self.queue.cursor_row
        if self.settings.after_verdict == "next":
            return row + 1 if row + 1 < queue.row_count else None
        for step in range(1, queue.row_count):
            index = (row + step) % queue.row_count
            claim_id = queue.claim_at(index)
            if claim_id is not None and not self.verdicts.get(claim_id):
                return index
        return None

    def action_toggle_cite(self) -> None:
        match = self._current_match()
        if self.claim is None or match is None:
            self.notify("No evidence to cite for this claim.", severity="warning")
            return
        if self._refused_read_only():
            return
        self._record(
            self._attempt(
                "cite the evidence",
                toggle_cite,
                self.ws,
                self.claim.id,
                match["passage_id"],
                self.reviewer,
                self.state,
            )
        )

    def action_note(self) -> None:
        if self.claim is None or self._refused_read_only():
            return
        claim_id, seen = self.claim.id, self.state

        def save(note: str | None) -> None:
            if note is None or note == seen.note:
                return
            self._record(
                self._attempt(
                    "save the note", set_note, self.ws, claim_id, note, self.reviewer, seen
                )
            )

        self.push_screen(NoteDialog(claim_id, self.state.note), save)

    def _step_history(self, undo: bool) -> None:
        stack = self.changes.undo_stack if undo else self.changes.redo_stack
        step = self.changes.undo if undo else self.changes.redo
        verb = "undo" if undo else "redo"
        if not stack:
            self.notify(f"Nothing to {verb}.", timeout=2)
            return
        if self._refused_read_only():
            return
        # History keeps the step on its stack when the write fails (a locked database).
        change = self._attempt(verb, step, self.ws, self.reviewer)
        if change is None:
            return
        index = self.queue.index_of(change.claim_id)
        if index is not None and (self.claim is None or self.claim.id != change.claim_id):
            self._move_to(index)
        if isinstance(change, Edit):
            self._reworded(change.claim_id, change.old if undo else change.new)
        else:
            self._state_changed(change.claim_id, change.old if undo else change.new)
        self.notify(f"{verb.capitalize()}: {change.action} on claim {change.claim_id}", timeout=3)

    def action_undo(self) -> None:
        self._step_history(undo=True)

    def action_redo(self) -> None:
        self._step_history(undo=False)

    def action_edit_claim(self) -> None:
        if self.claim is None or self._refused_read_only():
            return
        claim = self.claim

        def save(text: str | None) -> None:
            if text is None or text.strip() == claim.text:
                return
            # `claim.text` is the wording the reviewer edited: one reworded since is refused.
            edit = self._attempt(
                "reword the claim", edit_claim, self.ws, claim.id, text, self.reviewer, claim.text
            )
            if edit is None:
                return
            # An edit is undone and redone like a verdict (u, U).
            self.changes.record(edit)
            self._reworded(claim.id, edit.new)

        self.push_screen(EditClaimDialog(claim.id, claim.text), save)

    def _reworded(self, claim_id: int, text: str) -> None:
        """Show a claim's new wording at once, and match its evidence again in a worker."""
        self.queue.set_text(claim_id, text)
        # The top k, without the counter-evidence added after them.
        ranked = [m for m in self._matches.get(claim_id, ()) if "counter" not in m["signals"]]
        k = len(ranked) or DEFAULT_TOP_K
        self._forget(claim_id)  # the shared terms change with the wording
        if self.claim is not None and self.claim.id == claim_id:
            self._select(claim_id)
        self.notify(f"Claim {claim_id} reworded; matching its evidence again…", timeout=3)
        self._rematch(claim_id, k)

    def action_open_passage(self) -> None:
        match = self._current_match()
        if match is None:
            self.notify("No evidence to open for this claim.", severity="warning")
            return
        self.push_screen(PassageScreen(match, self._spans_of(match)))

    def action_history(self) -> None:
        if self.claim is None:
            return
        claim = self.claim
        # Blind in double review, as the claim's view is: the rule is the CLI's history's.
        seen = self._attempt(
            "read the claim's history", visible_history, self.ws, claim.id, self.reviewer
        )
        if seen is not None:
            events, hidden = seen
            self.push_screen(HistoryScreen(claim.id, claim.text, events, hidden_line(hidden)))

    def action_adjudicate(self) -> None:
        """An editor's adjudication screen on the shown claim (double review only)."""
        if self.claim is None:
            return
        from workbench.review.team import AdjudicationScreen, adjudication_refusal

        policy = self._attempt("read the review rules", policy_of, self.ws)
        if policy is None:
            return
        refusal = adjudication_refusal(policy, self.reviewer, self.ws.root)
        if refusal:
            self.notify(refusal, severity="warning", timeout=6, markup=False)
            return
        self.push_screen(
            AdjudicationScreen(
                self.claim,
                self.reviewer,
                self.ws,
                self._attempt,
                self._refused_read_only,
                self._claim_decided,
            )
        )

    def _claim_decided(self, claim_id: int) -> None:
        """An editor changed a claim's final verdict or approval: show it again."""
        self._drop_hints()  # earlier verdicts (memory) read final verdicts
        if self.claim is not None and self.claim.id == claim_id:
            self._select(claim_id)

    def action_agreement(self) -> None:
        """Agreement between reviewers; in double review, a reviewer who is not an editor
        sees the figures only (no claim's verdicts: the review is blind)."""
        from workbench.agreement import compute_agreement
        from workbench.review.team import AgreementScreen

        policy = self._attempt("read the review rules", policy_of, self.ws)
        if policy is None:
            return
        result = self._attempt(
            "compute the agreement", lambda: compute_agreement(self.ws.review_triples())
        )
        if result is not None:
            full = not policy.double or policy.is_editor(self.reviewer)
            self.push_screen(AgreementScreen(result, full))

    def action_hints(self) -> None:
        mode = self.settings.hints
        if mode == "always":
            self.notify("Hints are always shown (settings: review.hints = always).", timeout=3)
        elif mode == "after-verdict" and not self.state.verdict:
            self.notify(
                "Hints show once this claim has a verdict (settings: after-verdict).",
                severity="warning",
                timeout=3,
            )
        elif mode == "after-verdict":
            self.notify("Hints are shown for claims with a verdict.", timeout=3)
        else:
            self.hints_revealed = not self.hints_revealed
            self._render_claim()
            self._render_detail()

    # ----- queue ---------------------------------------------------------------------------
    def _apply_filter(self, new: QueueFilter | None) -> None:
        if new is None or new == self.queue_filter:
            return
        self.queue_filter = new
        self._load_queue(keep=self._last_claim)

    def action_toggle_low(self) -> None:
        """Show or hide the claims under their check-worthiness threshold: a mis-scored
        claim is one key away, never gone."""
        self._apply_filter(self.queue_filter.with_low(not self.queue_filter.low))
        shown = "shown" if self.queue_filter.low else "hidden"
        self.notify(f"Low check-worthiness claims {shown}: {self.low_count}.", timeout=2)

    def action_filter(self) -> None:
        articles = [name for name in self.counts if name]
        dialog = FilterDialog(self.queue_filter, articles, offer_mine=self._has_assignments())
        self.push_screen(dialog, self._apply_filter)

    def action_search(self) -> None:
        def search(text: str | None) -> None:
            if text is not None:
                self._apply_filter(replace(self.queue_filter, search=text.strip()))

        self.push_screen(
            PromptDialog(
                "Search claims and notes (empty shows all)",
                self.queue_filter.search,
                "a word, a name, a number",
            ),
            search,
        )

    def action_refresh(self) -> None:
        self._matches.clear()
        self._drop_hints()
        self._spans.clear()
        self.contexts.clear()
        self._load_queue(keep=self._last_claim)
        self.notify(f"Queue reloaded: {self.queue.row_count} claims.", timeout=2)

    # ----- export, help --------------------------------------------------------------------
    def action_export(self) -> None:
        # The export holds every reviewer's reviews and audit rows: in double review only an
        # editor may take it, or the review would no longer be blind.
        policy = self._attempt("read the review rules", policy_of, self.ws)
        if policy is not None and policy.double and not policy.is_editor(self.reviewer):
            self.notify(
                "Double review: only an editor may export every reviewer's work.",
                severity="warning",
                timeout=5,
            )
            return

        def start(path: str | None) -> None:
            if path is None or not path.strip():
                return
            target = Path(path.strip()).expanduser()
            if not target.exists():
                self._export(target)
                return
            size = target.stat().st_size if target.is_file() else 0

            def replace_it(yes: bool | None) -> None:
                if yes:
                    self._export(target)
                else:
                    self.notify(f"Not exported: {target} kept as it was.", timeout=3)

            # Never replaced without asking: it may be last week's report, or anything else.
            self.push_screen(
                ConfirmDialog(f"{target.name} exists: replace it?", f"{target} ({size:,} bytes)"),
                replace_it,
            )

        self.push_screen(
            PromptDialog("Export every claim as JSONL to", DEFAULT_EXPORT, DEFAULT_EXPORT), start
        )

    def _keys_by_id(self) -> dict[str, str]:
        """Each main-screen binding id with its keys as mapped now (remaps included)."""
        keys: dict[str, list[str]] = {}
        for key, active in self.screen.active_bindings.items():
            if active.binding.id:
                keys.setdefault(active.binding.id, []).append(
                    self.get_key_display(active.binding) or key
                )
        return {binding_id: " ".join(dict.fromkeys(k)) for binding_id, k in keys.items()}

    def action_help(self) -> None:
        keys = self._keys_by_id()
        unique = {b.id: b for b in REVIEW_BINDINGS}.values()
        rows = [(keys[b.id], b.description) for b in unique if b.id in keys]
        self.push_screen(HelpScreen(rows, MARKS_LEGEND))

    def action_article(self) -> None:
        """The whole article, this claim highlighted, the others marked; enter jumps."""
        if self.claim is None:
            return
        data = self._attempt(
            "read the article", article_view_data, self.ws, self.claim.id, self.reviewer
        )
        if data is None:
            return

        def jump(claim_id: int | None) -> None:
            if claim_id is None or (self.claim is not None and claim_id == self.claim.id):
                return
            index = self.queue.index_of(claim_id)
            if index is None:
                self.notify(
                    f"Claim {claim_id} is not in this queue ({self.queue_filter.describe()}): "
                    "f changes the filter; L shows the claims of low check-worthiness.",
                    severity="warning",
                    timeout=5,
                )
            else:
                self._move_to(index)

        self.push_screen(ArticleScreen(data.title, data.text, data.claims, data.current), jump)

    # ----- workers -------------------------------------------------------------------------
    def _retriever_in(self, workspace: Workspace) -> Any:
        # Models take seconds to load: once per app, on the first re-match, under a lock so
        # that two quick edits do not load them twice.
        with self._retriever_lock:
            if self._retriever is None:
                self._retriever = self.retriever_factory(workspace)
            return self._retriever

    @work(thread=True, group="rematch")
    def _rematch(self, claim_id: int, k: int) -> None:
        self._rematch_each([claim_id], k)

    @work(thread=True, group="rematch")
    def _rematch_pending(self, claim_ids: list[int], k: int) -> None:
        # One worker for all of them: a crash may leave many, and one thread per claim would
        # load them all at once.
        self._rematch_each(claim_ids, k)

    def _rematch_each(self, claim_ids: list[int], k: int) -> None:
        from workbench.match import match_claims

        for claim_id in claim_ids:
            try:
                # SQLite connections stay in the thread that opened them.
                with Workspace.open(self.workspace_path) as ws:
                    results = match_claims(ws, self._retriever_in(ws), [claim_id], k)
            except Exception as exc:
                # Anything from loading models or indexes is shown to the reviewer; the edit
                # is already saved (and still marked pending), so the app goes on.
                self.post_message(RematchFailed(claim_id, f"{type(exc).__name__}: {exc}"))
                continue
            count = len(results[0]["matches"]) if results else 0
            self.post_message(ClaimRematched(claim_id, count))

    @work(thread=True, group="hints", exclusive=True)
    def _compute_hints(self, claim_id: int, matches: list[dict[str, Any]], generation: int) -> None:
        # Earlier reviews scan every reviewed claim: seconds in a large workspace.
        from workbench.hints.claim import claim_hints

        try:
            # SQLite connections stay in the thread that opened them.
            with Workspace.open(self.workspace_path) as ws:
                # In the UI's language (English, as the verdict keys), whatever the claim's.
                lines = claim_hints(ws, claim_id, matches).lines("en")
        except Exception as exc:
            # Hints are an aid: whatever fails is shown, and the review goes on without them.
            self.post_message(HintsFailed(claim_id, generation, f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(HintsReady(claim_id, generation, lines))

    @work(thread=True, group="integrity")
    def _check_integrity(self) -> None:
        # The check before the first write reads the whole file (about a second per 100,000
        # passages, see workbench.workspace): run here, a verdict key pressed meanwhile waits
        # for its result instead of the first screen.
        try:
            with Workspace.open(self.workspace_path) as ws:
                ws.check_integrity()
        except (WorkbenchError, sqlite3.Error) as exc:
            if isinstance(exc, sqlite3.Error):
                exc = database_error(exc, self.ws.db_path)
            self.call_from_thread(
                self.notify, f"{exc}; nothing will be saved", severity="error", timeout=30
            )

    @work(thread=True, group="export")
    def _export(self, path: Path) -> None:
        from workbench.export import export_jsonl

        try:
            with Workspace.open(self.workspace_path) as ws:
                count = export_jsonl(ws, path)
        except (WorkbenchError, sqlite3.Error, OSError) as exc:
            self.post_message(ExportFailed(path, str(exc)))
            return
        self.post_message(ExportFinished(path, count))


def run_review(workspace_path: Path, reviewer: str, settings: Settings) -> None:
    """Run the review UI on a workspace until the reviewer quits."""
    ReviewApp(workspace_path, reviewer, settings).run()
