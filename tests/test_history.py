"""Tests for a claim's history: the core's events, `workbench history`, the UI's history screen."""

from __future__ import annotations

import asyncio
import json
import os
import re
from pathlib import Path

import pytest
from reviewdata import build_workspace
from reviewdata import hash_retriever as _retriever
from typer.testing import CliRunner

from workbench import verdicts
from workbench.cli import app as cli_app
from workbench.errors import ExitCode, InputError
from workbench.history import (
    claim_history,
    excerpt,
    format_lines,
    one_line,
    visible_history,
)
from workbench.review.app import ReviewApp
from workbench.settings import Settings
from workbench.undo import History
from workbench.workspace import Workspace

HOSTILE = "[bold]x[/] <script>alert(1)</script>"
runner = CliRunner()


@pytest.fixture
def ws(tmp_path: Path, evidence_file: Path, seed_article: Path) -> Workspace:
    return build_workspace(tmp_path / "ws", evidence_file, seed_article)


def _whats(ws: Workspace, claim_id: int) -> list[tuple[str, str, str]]:
    return [(e.reviewer, e.action, e.what) for e in claim_history(ws, claim_id)]


# ----- core ------------------------------------------------------------------------------
def test_every_action_is_described_in_order(ws: Workspace) -> None:
    first, second = ws.matches(1)[0], ws.matches(1)[1]
    wording = ws.claims([1])[0].text
    history = History()
    history.record(verdicts.set_verdict(ws, 1, "false", "ana"))
    history.record(verdicts.set_note(ws, 1, "Le rapport dit autre chose.", "ana"))
    history.record(verdicts.cite(ws, 1, first["passage_id"], "ben"))
    history.record(verdicts.apply_changes(ws, 1, "ana", verdict="misleading", note="Revu."))
    history.undo(ws, "ana")
    history.redo(ws, "ana")
    verdicts.cite(ws, 1, second["passage_id"], "ana")
    verdicts.uncite(ws, 1, first["passage_id"], "ben")
    verdicts.edit_claim(ws, 1, "Poutine et Pompeo ont parlé à Sotchi.", "ana")
    verdicts.set_verdict(ws, 1, "", "ben")
    verdicts.cite(ws, 1, second["passage_id"], "ben")  # already cited: audited, no change
    p1 = f'passage {first["passage_id"]} "{first["title"]}"'
    p2 = f'passage {second["passage_id"]} "{second["title"]}"'
    assert _whats(ws, 1) == [
        ("ana", "verdict", "(none) -> False"),
        ("ana", "note", '(none) -> "Le rapport dit autre chose."'),
        ("ben", "cite", f"+ {p1}"),
        ("ana", "verdict", "False -> Misleading"),
        ("ana", "note", '"Le rapport dit autre chose." -> "Revu."'),
        (
            "ana",
            "undo verdict, note",
            'verdict Misleading -> False; note "Revu." -> "Le rapport dit autre chose."',
        ),
        (
            "ana",
            "redo verdict, note",
            'verdict False -> Misleading; note "Le rapport dit autre chose." -> "Revu."',
        ),
        ("ana", "cite", f"+ {p2}"),
        ("ben", "uncite", f"- {p1}"),
        ("ana", "edit", f'"{excerpt(wording, 100)}" -> "Poutine et Pompeo ont parlé à Sotchi."'),
        ("ben", "clear verdict", "Misleading -> (none)"),
        ("ben", "cite", "(already cited)"),
    ]
    events = claim_history(ws, 1)
    # The raw states are there for machines: the whole citation, the edit's full wording.
    assert events[2].old["cited"] == [] and events[2].new["cited"][0]["text"] == first["text"]
    assert (events[9].old, events[9].new) == (wording, "Poutine et Pompeo ont parlé à Sotchi.")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", events[0].at)
    assert events[0].when == events[0].at[:10] + " " + events[0].at[11:16]
    assert claim_history(ws, 2) == []  # untouched claims have an empty history


def test_long_notes_are_cut_on_one_line_and_hostile_text_cannot_act(ws: Workspace) -> None:
    note = "Premier paragraphe\n\nqui continue " + "longuement " * 20
    verdicts.set_note(ws, 1, note, "ana")
    (event,) = claim_history(ws, 1)
    shown = event.what.removeprefix('(none) -> "').removesuffix('"')
    assert shown.endswith("…") and "\n" not in shown
    assert shown.startswith("Premier paragraphe qui continue longuement")
    assert len(shown) <= 60 and event.new["note"] == note  # the raw note is whole
    # A terminal escape or a bidi override in someone's note or name is shown, not obeyed.
    assert one_line("rouge\x1b[31m\u202eevil\r") == "rouge\\u001b[31m\\u202eevil"
    verdicts.set_note(ws, 2, "\x1b[2J" + HOSTILE, "eve\x1b[0m")
    (line,) = format_lines(claim_history(ws, 2))
    assert "\x1b" not in line and "\\u001b[2J[bold]x[/] <script>" in line
    assert "eve\\u001b[0m" in line


def test_missing_claims_and_old_audit_rows(ws: Workspace) -> None:
    for missing in (99999, 2**63, -(2**70)):
        with pytest.raises(InputError, match=f"^no claim with id {missing} in "):
            claim_history(ws, missing)
    # Rows of an older version held only the verdict id; a scale id this version lacks is
    # shown as stored.
    with ws.transaction() as conn:
        conn.execute(
            "INSERT INTO audit_log(claim_id, at, reviewer, action, old, new, note) VALUES "
            "(3, '2019-05-14T09:05:00Z', 'old', 'verdict', '\"false\"', '\"pants-on-fire\"', '')"
        )
    (event,) = claim_history(ws, 3)
    assert (event.when, event.what) == ("2019-05-14 09:05", "False -> pants-on-fire")


# ----- command line ----------------------------------------------------------------------
def _run(*args: str):
    return runner.invoke(cli_app, list(args))


def test_history_command_prints_jsonl_and_lines_for_people(
    evidence_file: Path, seed_article: Path
) -> None:
    assert _run("ingest", str(evidence_file), "--model", "hash:64").exit_code == 0
    records = [json.loads(line) for line in _run("match", str(seed_article)).stdout.splitlines()]
    claim_id = records[0]["claim_id"]
    passage = records[0]["matches"][0]
    done = _run(
        "verdict", str(claim_id), "mostly-false", "--note", HOSTILE,
        "--cite", str(passage["passage_id"]), "-r", "ana",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert _run("verdict", str(claim_id), "--clear", "-r", "ben").exit_code == 0

    default = _run("history", str(claim_id))
    assert default.exit_code == 0, default.output
    assert _run("history", str(claim_id), "--json").stdout == default.stdout
    events = [json.loads(line) for line in default.stdout.splitlines()]
    assert [(e["reviewer"], e["action"], e["what"]) for e in events] == [
        ("ana", "verdict", "(none) -> Mostly false"),
        ("ana", "note", f'(none) -> "{HOSTILE}"'),
        ("ana", "cite", f'+ passage {passage["passage_id"]} "{passage["title"]}"'),
        ("ben", "clear verdict", "Mostly false -> (none)"),
    ]
    assert events[1]["new"]["note"] == HOSTILE and events[3]["old"]["verdict"] == "mostly-false"
    assert all(e["claim_id"] == claim_id for e in events)

    pretty = _run("history", str(claim_id), "--pretty")
    assert pretty.exit_code == 0, pretty.output
    lines = pretty.stdout.splitlines()
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d"
    assert re.fullmatch(stamp + r"  ana  verdict        \(none\) -> Mostly false", lines[0])
    assert lines[1].endswith(f'ana  note           (none) -> "{HOSTILE}"')
    assert re.fullmatch(stamp + r"  ben  clear verdict  Mostly false -> \(none\)", lines[3])
    assert len(lines) == 4

    untouched = _run("history", str(records[1]["claim_id"]))
    assert untouched.exit_code == 0 and untouched.stdout == ""
    assert "no action recorded" in untouched.stderr
    assert "JSONL" in _run("history", "--help").stdout


@pytest.mark.parametrize("claim", ["99999", "9" * 23])
def test_history_of_a_missing_claim_is_one_line(evidence_file: Path, claim: str) -> None:
    assert _run("ingest", str(evidence_file), "--model", "hash:64").exit_code == 0
    result = _run("history", claim)
    assert result.exit_code == ExitCode.BAD_INPUT, result.output
    assert isinstance(result.exception, SystemExit)  # handled, not a crash
    assert result.stdout == "" and result.stderr.count("\n") == 1
    assert f"no claim with id {claim} in {os.environ['WORKBENCH_HOME']}" in result.stderr


# ----- review UI -------------------------------------------------------------------------


def _table_text(screen) -> str:
    table = screen.query_one("HistoryTable")
    return "\n".join(
        "".join(segment.text for segment in table.render_line(y)) for y in range(table.size.height)
    )


def test_history_screen_shows_the_claims_actions(ws: Workspace) -> None:
    root = ws.root
    verdicts.set_note(ws, 1, HOSTILE, "ben")
    ws.close()

    async def scenario() -> None:
        app = ReviewApp(root, "alice", Settings(), retriever_factory=_retriever)
        async with app.run_test(size=(120, 40)) as pilot:
            app._select(1)
            await pilot.press("2")  # this session's verdict is in the history too
            app._select(1)
            await pilot.pause()
            await pilot.press("H")
            await pilot.pause()
            screen = app.screen
            assert type(screen).__name__ == "HistoryScreen"
            table = screen.query_one("HistoryTable")
            rows = [[cell.plain for cell in table.get_row_at(i)] for i in range(table.row_count)]
            assert [row[1:] for row in rows] == [
                ["ben", "note", f'(none) -> "{HOSTILE}"'],
                ["alice", "verdict", "(none) -> Mostly false"],
            ]
            # On screen as typed: the markup and the tag are text, not styling.
            shown = _table_text(screen)
            assert "[bold]x[/] <script>alert(1)</script>" in shown
            assert "(none) -> Mostly false" in shown and "alice" in shown
            assert table.cursor_row == 1  # on the latest action
            await pilot.press("escape")
            assert type(app.screen).__name__ != "HistoryScreen"
            await pilot.press("H", "H")  # the key that opened it closes it
            assert type(app.screen).__name__ != "HistoryScreen"
            await pilot.press("question_mark")
            assert ("H", "History") in app.screen.rows
            await pilot.press("escape")
            app._select(2)  # a claim nobody has touched
            await pilot.pause()
            await pilot.press("H")
            assert "No action recorded" in str(app.screen.query_one("#history-empty").render())

    asyncio.run(scenario())


# ----- blind history in double review ----------------------------------------------------
DOUBLE = '[review]\nmode = "double"\neditors = ["Eve"]\n'
A_NOTE = "A read the Kremlin transcript"
HIDDEN_LINE = "by other reviewers hidden until you give your own verdict (double review)"


def _visible(ws: Workspace, claim_id: int, viewer: str) -> tuple[list[tuple[str, str]], int]:
    events, hidden = visible_history(ws, claim_id, viewer)
    return [(e.reviewer, e.action) for e in events], hidden


def _leaks(ws: Workspace, claim_id: int, viewer: str) -> str:
    """Everything the viewer's history holds, raw states included, as one string."""
    events, _ = visible_history(ws, claim_id, viewer)
    return json.dumps([e.as_record() for e in events], ensure_ascii=False)


def test_double_review_history_is_blind_until_the_viewer_gives_a_verdict(ws: Workspace) -> None:
    (ws.root / "config.toml").write_text(DOUBLE, encoding="utf-8")
    passage = ws.matches(1)[0]["passage_id"]
    verdicts.apply_changes(ws, 1, "A", verdict="false", note=A_NOTE, cite=[passage])
    verdicts.edit_claim(ws, 1, "Poutine et Pompeo ont parlé à Sotchi.", "A")
    verdicts.set_note(ws, 1, "B's own first thoughts", "B")  # a note only: still blind

    # B before a verdict: B's own note and the rewording (no review in it), nothing of A's.
    assert _visible(ws, 1, "B") == ([("A", "edit"), ("B", "note")], 3)
    assert A_NOTE not in _leaks(ws, 1, "B") and "False" not in _leaks(ws, 1, "B")
    # The editor, and A (who has given a verdict), see everything.
    assert _visible(ws, 1, "Eve")[1] == 0 and len(_visible(ws, 1, "Eve")[0]) == 5
    assert _visible(ws, 1, "A")[1] == 0

    # B agrees: the final verdict (A's note merged in) is audited under B's name.
    verdicts.set_verdict(ws, 1, "false", "B")
    shown, hidden = _visible(ws, 1, "B")
    assert hidden == 0 and ("A", "note") in shown and ("B", "final (reviews agree)") in shown
    assert A_NOTE in _leaks(ws, 1, "B")

    # C, a third reviewer with no verdict: neither A's nor B's work, nor the final verdict.
    verdicts.adjudicate(ws, 1, "misleading", "Eve")
    verdicts.approve(ws, [1], "Eve")
    verdicts.set_note(ws, 1, "C's note", "C")
    shown, hidden = _visible(ws, 1, "C")
    assert shown == [("A", "edit"), ("C", "note")] and hidden == 8
    assert A_NOTE not in _leaks(ws, 1, "C") and "Misleading" not in _leaks(ws, 1, "C")

    # B withdraws their verdict: blind again, even to the final-verdict actions B's own
    # writes led to (their states hold A's note).
    verdicts.set_verdict(ws, 2, "false", "A")
    verdicts.set_verdict(ws, 2, "false", "B")
    verdicts.set_verdict(ws, 2, "", "B")
    shown, hidden = _visible(ws, 2, "B")
    assert shown == [("B", "verdict"), ("B", "clear verdict")]
    assert hidden == 3  # A's verdict, "final (reviews agree)", "no final verdict (...)"
    assert _visible(ws, 2, "A")[1] == 0


def test_single_mode_history_shows_everything_to_everyone(ws: Workspace) -> None:
    verdicts.apply_changes(ws, 1, "A", verdict="false", note=A_NOTE)
    assert _visible(ws, 1, "B") == ([("A", "verdict"), ("A", "note")], 0)
    assert A_NOTE in _leaks(ws, 1, "B")


def test_history_command_is_blind_for_the_reviewer(
    evidence_file: Path, seed_article: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _run("ingest", str(evidence_file), "--model", "hash:64").exit_code == 0
    assert _run("match", str(seed_article)).exit_code == 0
    root = Path(os.environ["WORKBENCH_HOME"])
    (root / "config.toml").write_text(DOUBLE, encoding="utf-8")
    assert _run("verdict", "1", "false", "--note", A_NOTE, "-r", "A").exit_code == 0

    for args in (("--json",), ("--pretty",)):
        blind = _run("history", "1", *args, "--reviewer", "B")
        assert blind.exit_code == 0, blind.output
        assert blind.stdout == ""
        assert blind.stderr == f"workbench: 2 actions {HIDDEN_LINE}\n"
    # The viewer comes from $WORKBENCH_REVIEWER as for any other command.
    monkeypatch.setenv("WORKBENCH_REVIEWER", "B")
    assert _run("history", "1").stderr == f"workbench: 2 actions {HIDDEN_LINE}\n"
    monkeypatch.delenv("WORKBENCH_REVIEWER")

    editor = _run("history", "1", "-r", "Eve")
    assert editor.exit_code == 0 and editor.stderr == ""
    assert [json.loads(line)["action"] for line in editor.stdout.splitlines()] == [
        "verdict",
        "note",
    ]

    assert _run("verdict", "1", "mostly-false", "-r", "B").exit_code == 0
    after = _run("history", "1", "--pretty", "-r", "B")
    assert after.exit_code == 0 and after.stderr == ""
    assert A_NOTE in after.stdout and len(after.stdout.splitlines()) == 3


def test_history_screen_is_blind_for_the_apps_reviewer(ws: Workspace) -> None:
    root = ws.root
    (root / "config.toml").write_text(DOUBLE, encoding="utf-8")
    verdicts.apply_changes(ws, 1, "A", verdict="false", note=A_NOTE)
    ws.close()

    async def scenario() -> None:
        app = ReviewApp(root, "B", Settings(), retriever_factory=_retriever)
        async with app.run_test(size=(120, 40)) as pilot:
            app._select(1)
            await pilot.pause()
            await pilot.press("H")
            await pilot.pause()
            screen = app.screen
            assert type(screen).__name__ == "HistoryScreen"
            line = str(screen.query_one("#history-hidden").render())
            assert line == f"2 actions {HIDDEN_LINE}"
            assert not screen.query("HistoryTable") and not screen.query("#history-empty")
            await pilot.press("escape")
            app._select(1)
            await pilot.press("2")  # B's own verdict: now the whole history shows
            app._select(1)
            await pilot.pause()
            await pilot.press("H")
            await pilot.pause()
            screen = app.screen
            table = screen.query_one("HistoryTable")
            rows = [[cell.plain for cell in table.get_row_at(i)] for i in range(table.row_count)]
            assert [row[1:3] for row in rows] == [["A", "verdict"], ["A", "note"], ["B", "verdict"]]
            assert not screen.query("#history-hidden")

    asyncio.run(scenario())
