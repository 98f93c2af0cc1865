"""Tests for assignment: balanced and deterministic, per claim, audited; the "mine" queue."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from reviewdata import hash_retriever as _retriever
from typer.testing import CliRunner

from workbench import verdicts
from workbench.assign import assign
from workbench.cli import app
from workbench.embed import HashingEmbedder
from workbench.errors import ExitCode, InputError
from workbench.history import claim_history
from workbench.ingest import ingest
from workbench.match import add_article, add_claim_records, match_claims
from workbench.queue import list_queue
from workbench.review.app import ReviewApp
from workbench.settings import Settings
from workbench.workspace import Workspace

runner = CliRunner()
SEED = "sotchi-poutine-pompeo.fr.txt"
GIVEN = [
    {"text": "Trump and Putin spoke by phone on 3 May 2019.", "lang": "en", "score": 0.9},
    {"text": "Putin met Trump at the G20 summit in Osaka.", "lang": "en", "score": 0.7},
]
DOUBLE = '[review]\nmode = "double"\neditors = ["Eve"]\n'


def _build(root: Path, seed_article: Path, double: bool = False) -> tuple[list[int], list[int]]:
    """The seed article's claims and 2 given claims (no evidence: assignment needs none)."""
    with Workspace.open(root, create=True) as ws:
        add_article(ws, seed_article)
        given = add_claim_records(ws, GIVEN, "given.jsonl")
        # The claims a desk works on, in review order: those under the check-worthiness
        # threshold stay out of the queue and are never handed out.
        seed = [r.claim_id for r in list_queue(ws) if r.claim_id not in given]
    if double:
        (root / "config.toml").write_text(DOUBLE, encoding="utf-8")
    return seed, given


@pytest.fixture
def root() -> Path:
    return Path(os.environ["WORKBENCH_HOME"])


@pytest.fixture
def claims(root: Path, seed_article: Path) -> list[int]:
    seed, given = _build(root, seed_article)
    return seed + given


@pytest.fixture
def double(root: Path, seed_article: Path) -> list[int]:
    seed, given = _build(root, seed_article, double=True)
    return seed + given


def _assign(root: Path, *args, **kwargs) -> list[tuple[int, str]]:
    with Workspace.open(root) as ws:
        return assign(ws, *args, **kwargs)


def _assigned(root: Path) -> list[tuple[int, str]]:
    with Workspace.open(root) as ws:
        return ws.conn.execute(
            "SELECT claim_id, reviewer FROM assignments ORDER BY claim_id, reviewer"
        ).fetchall()


def _run(*args: str):
    return runner.invoke(app, list(args))


def _jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# ----- the core ----------------------------------------------------------------------------
def test_single_mode_spreads_one_reviewer_per_claim_in_turn(root: Path, claims: list[int]) -> None:
    made = _assign(root, ["A", "B", "C"])
    # Review order, one each, ties to the first named: A, B, C, A, B, C...
    assert made == [(claim, "ABC"[i % 3]) for i, claim in enumerate(claims)]
    counts = Counter(name for _, name in made)
    assert max(counts.values()) - min(counts.values()) <= 1
    assert sorted(made) == _assigned(root)


def test_double_mode_gives_each_claim_two_different_reviewers(
    root: Path, double: list[int]
) -> None:
    made = _assign(root, ["A", "B", "C"])
    per_claim: dict[int, list[str]] = {}
    for claim, name in made:
        per_claim.setdefault(claim, []).append(name)
    assert list(per_claim) == double
    assert all(len(set(names)) == 2 for names in per_claim.values())
    counts = Counter(name for _, name in made)
    assert sum(counts.values()) == 2 * len(double)
    assert max(counts.values()) - min(counts.values()) <= 1
    assert per_claim[double[0]] == ["A", "B"] and per_claim[double[1]] == ["C", "A"]


def test_same_input_same_output_and_a_second_run_assigns_nothing(
    tmp_path: Path, seed_article: Path
) -> None:
    results = []
    for name in ("one", "two"):
        _build(tmp_path / name, seed_article, double=True)
        results.append(_assign(tmp_path / name, ["Zoe", "Al", "Mo"], per_claim=2))
    assert results[0] == results[1] and results[0]
    assert _assign(tmp_path / "one", ["Zoe", "Al", "Mo"], per_claim=2) == []


def test_per_claim_can_ask_for_every_reviewer(root: Path, claims: list[int]) -> None:
    made = _assign(root, ["A", "B"], per_claim=2)
    assert made == [(claim, name) for claim in claims for name in ("A", "B")]


def test_who_reviewed_or_is_assigned_counts_and_is_not_assigned_again(
    root: Path, double: list[int]
) -> None:
    first, second, third = double[:3]
    with Workspace.open(root) as ws:
        verdicts.set_verdict(ws, first, "false", "B")  # needs one more review
        verdicts.set_verdict(ws, second, "true", "A")
        verdicts.set_verdict(ws, second, "true", "B")  # final: not assigned at all
    # B's review is one reviewer on the first claim: C goes to every other open claim.
    assert {c for c, _ in _assign(root, ["C"], per_claim=1)} == set(double) - {first, second}
    made = _assign(root, ["A", "B", "C"])
    mine = {claim: [n for c, n in made if c == claim] for claim in double}
    assert mine[first] == ["A"]  # B reviewed it: not B again, and C has more open work
    assert mine[second] == []
    assert all(len(names) == 1 and "C" not in names for c, names in mine.items() if c > second)
    assert mine[third] == ["B"]  # A took the first claim: B has less open work


def test_open_work_already_assigned_counts_toward_the_balance(
    root: Path, claims: list[int]
) -> None:
    seed = claims[:-2]
    with Workspace.open(root) as ws:
        assert assign(ws, ["A"], article=SEED) == [(c, "A") for c in seed]
        for claim in seed[: len(seed) - 2]:
            verdicts.set_verdict(ws, claim, "true", "A")  # single mode: final, A's work done
        # A has 2 claims still to do, B none: B takes claims until level, then turns.
        add_claim_records(ws, [{"text": f"New claim {i} said today."} for i in range(5)], "new")
        made = assign(ws, ["A", "B"])
    names = [name for _, name in made]
    assert names == ["B", "B", "A", "B", "A", "B", "A"]


def test_article_limits_the_claims(root: Path, seed_article: Path) -> None:
    _, given = _build(root, seed_article)
    made = _assign(root, ["A", "B"], article="given.jsonl")
    assert made == [(given[0], "A"), (given[1], "B")]


@pytest.mark.parametrize(
    ("reviewers", "kwargs", "message"),
    [
        (["A", "B"], {"per_claim": 3}, "3 reviewers per claim, but only 2 named (A, B): "),
        (["A"], {"per_claim": 0}, "reviewers per claim must be at least 1, not 0"),
        (["A", "B", "A"], {}, "reviewer named twice: A"),
        (["A", " "], {}, "empty reviewer name in 'A, '"),
        ([], {}, "name the reviewers to assign claims to"),
        (["A"], {"article": "nope"}, "no article named 'nope'; articles: "),
    ],
)
def test_refusals_are_one_line_and_write_nothing(
    root: Path, claims: list[int], reviewers: list[str], kwargs: dict, message: str
) -> None:
    with pytest.raises(InputError) as caught:
        _assign(root, reviewers, **kwargs)
    assert caught.value.message.startswith(message)
    assert "\n" not in caught.value.message
    if "article" in kwargs:
        assert f"{SEED}, given.jsonl" in caught.value.message
    assert _assigned(root) == []


def test_double_mode_cannot_default_to_two_with_one_reviewer(root: Path, double: list[int]) -> None:
    with pytest.raises(InputError, match="2 reviewers per claim, but only 1 named"):
        _assign(root, ["A"])
    assert _assign(root, ["A"], per_claim=1)  # asked for explicitly: fine


def test_one_audit_row_per_claim_with_who_before_and_after(root: Path, claims: list[int]) -> None:
    _assign(root, ["A"], article="given.jsonl", by="Eve")
    _assign(root, ["A", "B"], per_claim=2, by="Eve")
    with Workspace.open(root) as ws:
        rows = ws.conn.execute(
            "SELECT claim_id, reviewer, action, old, new FROM audit_log ORDER BY id"
        ).fetchall()
        events = claim_history(ws, claims[-1])
    by_claim = Counter(r[0] for r in rows)
    assert all(r[1] == "Eve" and r[2] == "assign" for r in rows)
    assert by_claim == {c: (2 if c in claims[-2:] else 1) for c in claims}
    last = [(json.loads(r[3]), json.loads(r[4])) for r in rows if r[0] == claims[-1]]
    assert last == [
        ({"assigned": []}, {"assigned": ["A"]}),
        ({"assigned": ["A"]}, {"assigned": ["A", "B"]}),
    ]
    assert [e.what for e in events] == ["assigned to (none) -> A", "assigned to A -> A, B"]


def test_mine_is_assigned_to_me_or_still_needing_my_review(root: Path, seed_article: Path) -> None:
    seed, given = _build(root, seed_article, double=True)
    with Workspace.open(root) as ws:
        assign(ws, ["A", "B", "C"], article=SEED)
        assigned_a = [c for c, n in ws.conn.execute("SELECT claim_id, reviewer FROM assignments")
                      if n == "A"]  # fmt: skip
        verdicts.set_verdict(ws, given[0], "false", "B")  # unassigned, needs a second review
        verdicts.set_verdict(ws, given[1], "false", "B")
        verdicts.set_verdict(ws, given[1], "false", "C")  # final: needs nobody
        mine = [r.claim_id for r in list_queue(ws, queue_of="A")]
        only = [r.claim_id for r in list_queue(ws, assigned_to="A")]
        of_b = [r.claim_id for r in list_queue(ws, queue_of="B")]
    # In review order: a low check-worthiness claim (stored after the others) sits among them.
    assert sorted(only) == sorted(assigned_a) and 0 < len(only) < len(seed)
    assert mine == [*only, given[0]]  # claims assigned to B and C only are theirs, not A's
    assert given[0] not in of_b  # B's review is given


# ----- the command line --------------------------------------------------------------------
def test_cli_assign_lines_summary_and_claims_assigned_to(root: Path, claims: list[int]) -> None:
    result = _run("assign", "--reviewers", "A, B", "--reviewer", "Eve")
    assert result.exit_code == 0, result.output
    lines = _jsonl(result.stdout)
    assert lines == [{"claim_id": c, "reviewers": ["AB"[i % 2]]} for i, c in enumerate(claims)]
    half = len(claims) // 2
    assert result.stderr.strip() == (
        f"workbench: assigned {len(claims)} claims: A {len(claims) - half}, B {half}"
    )
    listed = _jsonl(_run("claims", "--assigned-to", "B").stdout)
    assert [r["claim_id"] for r in listed] == claims[1::2]
    assert _run("verdict", str(claims[1]), "true", "--reviewer", "B").exit_code == 0
    unreviewed = _jsonl(_run("claims", "--assigned-to", "B", "--status", "unreviewed").stdout)
    assert [r["claim_id"] for r in unreviewed] == claims[3::2]
    in_given = _jsonl(_run("claims", "--assigned-to", "B", "--article", "given.jsonl").stdout)
    assert [r["claim_id"] for r in in_given] == [c for c in claims[1::2] if c in claims[-2:]]
    nobody = _run("claims", "--assigned-to", "Bee")
    assert nobody.exit_code == 0 and nobody.stdout == ""
    assert nobody.stderr.strip() == "workbench: no claim is assigned to 'Bee'"
    again = _run("assign", "--reviewers", "A,B")
    assert again.exit_code == 0 and again.stdout == ""
    assert again.stderr.strip() == "workbench: assigned 0 claims: A 0, B 0"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--reviewers", "A,A"], "reviewer named twice: A"),
        (["--reviewers", "A,,B"], "empty reviewer name in 'A,,B'"),
        (["--reviewers", "A", "--per-claim", "2"], "2 reviewers per claim, but only 1 named"),
        (["--reviewers", "A", "--article", "x"], "no article named 'x'; articles: "),
    ],
)
def test_cli_assign_refusals(root: Path, claims: list[int], args: list[str], message: str) -> None:
    result = _run("assign", *args)
    assert result.exit_code == ExitCode.BAD_INPUT
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"workbench: error: {message}")
    assert _assigned(root) == []


def test_python_dash_m_assign(root: Path, claims: list[int]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "workbench", "assign", "--reviewers", "A,B,C", "--per-claim", "3"],
        capture_output=True,
        text=True,
        env={**os.environ, "WORKBENCH_HOME": str(root)},
    )
    assert done.returncode == 0, done.stderr
    assert len(_jsonl(done.stdout)) == len(claims)
    n = len(claims)
    assert done.stderr.strip() == f"workbench: assigned {n} claims: A {n}, B {n}, C {n}"


# ----- the review UI -----------------------------------------------------------------------


def _choose(app: ReviewApp, option_id: str) -> None:
    options = app.screen.query_one("OptionList")
    ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
    options.highlighted = ids.index(option_id)


def test_ui_shows_my_claims_by_default_and_all_on_request(
    tmp_path: Path, evidence_file: Path, seed_article: Path
) -> None:
    root = tmp_path / "ui"
    with Workspace.open(root, create=True) as ws:
        ingest(ws, [evidence_file], [HashingEmbedder(64)])
        stored = add_article(ws, seed_article)
        given = add_claim_records(ws, GIVEN, "given.jsonl")
        match_claims(ws, _retriever(ws), stored + given, 2)
        assign(ws, ["alice", "bob"], article=SEED)
        # In review order, without the claims under the check-worthiness threshold.
        seed = [r.claim_id for r in list_queue(ws) if r.claim_id not in given]
    theirs = seed[0::2]
    total = len(seed) + len(given)

    async def check() -> None:
        app = ReviewApp(root, "alice", Settings(), retriever_factory=_retriever)
        async with app.run_test(size=(120, 40)) as pilot:
            shown = [app.queue.claim_at(i) for i in range(app.queue.row_count)]
            # Assigned to alice, plus the claims nobody was asked to review; not bob's.
            assert shown == [*theirs, *given]
            assert app.queue_filter.mine
            header = str(app.query_one("ReviewHeader").render())
            assert f"{len(shown)} shown: all claims (mine)" in header
            await pilot.press("f")
            _choose(app, "mine:off")
            await pilot.press("enter")
            assert app.queue.row_count == total and not app.queue_filter.mine
            await pilot.press("f")
            _choose(app, "mine:on")
            await pilot.press("enter")
            assert app.queue.row_count == len(shown)

        # Someone without assignments keeps today's queue, and no "mine" choice.
        app = ReviewApp(root, "carol", Settings(), retriever_factory=_retriever)
        async with app.run_test(size=(120, 40)) as pilot:
            assert app.queue.row_count == total and not app.queue_filter.mine
            await pilot.press("f")
            options = app.screen.query_one("OptionList")
            ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
            assert "mine:on" not in ids

    asyncio.run(check())
