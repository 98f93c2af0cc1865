"""Tests of the store's boundary: reviewer actions, queue and history hold no SQL of their own,
and the reviews store's writes keep their rules (approval withdrawn, audit filters)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import workbench
from workbench.workspace import Workspace

PACKAGE = Path(workbench.__file__).parent
# Modules of rules over the store: every statement they run is a store method's.
NO_SQL = ("verdicts.py", "queue.py", "history.py")


@pytest.mark.parametrize("name", NO_SQL)
def test_rule_modules_run_no_sql_of_their_own(name: str) -> None:
    tree = ast.parse((PACKAGE / name).read_text(encoding="utf-8"))
    calls = [
        f"line {node.lineno}: .{node.func.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("execute", "executemany", "executescript")
    ]
    assert calls == [], f"{name} runs SQL itself; move it into workbench/store/"


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    ws = Workspace.open(tmp_path / "ws", create=True)
    text = "Poutine a reçu Pompeo à Sotchi."
    ws.add_article("a", "a.txt", "h1", "fr", text, [{"text": text, "start": 0, "end": len(text)}])
    return ws


CITED = [{"passage_id": 7, "title": "Sotchi"}]


def test_save_final_keeps_approval_only_while_nothing_changes(ws: Workspace) -> None:
    with ws.transaction() as conn:
        ws.save_final(conn, 1, ("false", "Non.", CITED), "ana", "review", "t1")
        ws.set_approval(conn, 1, "eve", "t2")
    with ws.transaction() as conn:  # the same verdict again, by someone else: still approved
        ws.save_final(conn, 1, ("false", "Non.", CITED), "ben", "review", "t3")
    record = ws.verdict_record(1)
    assert record is not None
    approval = (record["approved_by"], record["approved_at"], record["reviewer"])
    assert approval == ("eve", "t2", "ben")
    for changed in (("true", "Non.", CITED), ("true", "Oui.", CITED), ("true", "Oui.", [])):
        with ws.transaction() as conn:
            ws.set_approval(conn, 1, "eve", "t4")
            ws.save_final(conn, 1, changed, "ana", "review", "t5")
        record = ws.verdict_record(1)
        assert record is not None
        assert (record["approved_by"], record["approved_at"]) == ("", ""), changed
        assert (record["verdict"], record["note"], record["cited"]) == changed


def test_drop_final_and_audit_roll_back_together(ws: Workspace) -> None:
    with ws.transaction() as conn:
        ws.save_final(conn, 1, ("false", "", []), "ana", "review", "t1")
    with pytest.raises(RuntimeError), ws.transaction() as conn:
        ws.drop_final(conn, 1)
        ws.record_audit(conn, 1, "t2", "ana", "no final verdict (in dispute)", "{}", "{}")
        raise RuntimeError("killed before the commit")
    assert ws.final_verdict(1) == ("false", "", [])
    assert ws.audit_trail(1) == []


def test_last_audit_filters_by_reviewer_and_action(ws: Workspace) -> None:
    with ws.transaction() as conn:
        for who, action in [
            ("ana", "verdict"),
            ("ben", "note"),
            ("ana", "final (reviews agree)"),
            ("ana", "no final verdict (in dispute)"),
            ("ben", "edit"),
        ]:
            ws.record_audit(conn, 1, f"at-{action}", who, action, "{}", "{}")
    assert ws.last_audit(1) == ("ben", "at-edit", "edit")
    skip = {"skip": ["final (reviews agree)"], "skip_like": ["no final verdict%"]}
    assert ws.last_audit(1, by="ana", **skip) == ("ana", "at-verdict", "verdict")
    assert ws.last_audit(1, only="note") == ("ben", "at-note", "note")
    assert ws.last_audit(1, by="ana", only="edit") is None
    assert ws.last_audit(2) is None
