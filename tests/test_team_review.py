"""Tests for team review: reviews kept per reviewer, double mode, adjudication, sign-off."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from workbench import verdicts
from workbench.cli import app
from workbench.errors import ConflictError, ExitCode
from workbench.undo import History
from workbench.workspace import Workspace

runner = CliRunner()
DOUBLE = '[review]\nmode = "double"\neditors = ["Eve"]\n'


def _run(*args: str):
    return runner.invoke(app, list(args))


def _jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _ok(*args: str) -> list[dict]:
    result = _run(*args)
    assert result.exit_code == 0, result.output
    return _jsonl(result.stdout)


@pytest.fixture
def desk(evidence_file: Path, seed_article: Path) -> Path:
    """The seed article matched, in a workspace set to double review with Eve as editor."""
    _ok("ingest", str(evidence_file), "--model", "hash:64")
    _ok("match", str(seed_article), "--top-k", "2")
    root = Path(os.environ["WORKBENCH_HOME"])
    (root / "config.toml").write_text(DOUBLE, encoding="utf-8")
    return root


def _row(claim_id: int) -> dict:
    return {r["claim_id"]: r for r in _ok("export")}[claim_id]


def _published(root: Path) -> set[str]:
    result = _run("export", "--format", "claimreview")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout) if result.stdout.strip() else []
    items = data if isinstance(data, list) else data.get("@graph", [data])
    return {item["claimReviewed"] for item in items if isinstance(item, dict)}


def test_issue_acceptance_dispute_adjudication_and_sign_off(desk: Path) -> None:
    out = _ok("verdict", "3", "false", "--reviewer", "A", "--note", "A's reading")
    assert out[0]["status"] == "needs a second review"
    out = _ok("verdict", "3", "mostly-false", "--reviewer", "B")
    assert out[0]["status"] == "in dispute"
    row = _row(3)
    assert [(r["reviewer"], r["verdict"]) for r in row["reviews"]] == [
        ("A", "false"),
        ("B", "mostly-false"),
    ]
    assert row["verdict"] is None and row["status"] == "in dispute"
    assert _published(desk) == set()
    agreement = _ok("agreement", "--json")[0]
    assert [d["claim_id"] for d in agreement["disputes"]] == [3]
    assert agreement["disputes"][0]["verdicts"] == {"A": "false", "B": "mostly-false"}
    assert agreement["claims"] == 1 and "alpha" in agreement
    # Only an editor decides: anyone else is refused in one line, and nothing changes.
    refused = _run("adjudicate", "3", "true", "--reviewer", "A")
    assert refused.exit_code == ExitCode.NOT_ALLOWED
    assert refused.stderr.strip().splitlines() == [
        f"workbench: error: A may not adjudicate: only editors may ([review] editors in "
        f"{desk / 'config.toml'}: Eve)"
    ]
    assert _row(3)["verdict"] is None
    out = _ok("adjudicate", "3", "misleading", "--reviewer", "Eve", "--note", "Eve decides")
    assert out[0]["status"] == "final"
    final = _row(3)["verdict"]
    assert (final["verdict"], final["decided_by"], final["reviewer"]) == (
        "misleading",
        "adjudication",
        "Eve",
    )
    assert final["note"] == "Eve decides" and final["approved_by"] == ""
    assert _published(desk) == set()  # final, not yet approved: not published
    assert _run("approve", "3", "--reviewer", "A").exit_code == ExitCode.NOT_ALLOWED
    _ok("approve", "3", "--reviewer", "Eve")
    assert _row(3)["status"] == "approved"
    (published,) = _published(desk)
    assert published.startswith("Vladimir Poutine a par ailleurs")
    # A review after the adjudication does not overturn it: the editor's decision stands.
    _ok("verdict", "3", "true", "--reviewer", "B")
    assert _row(3)["verdict"]["verdict"] == "misleading"
    actions = [(a["reviewer"], a["action"]) for a in _row(3)["audit"]]
    assert ("Eve", "adjudicate") in actions and ("Eve", "approve") in actions


def test_agreeing_reviews_make_the_verdict_final_and_a_change_withdraws_approval(
    desk: Path,
) -> None:
    passage = _row(1)["matches"][0]["passage_id"]
    _ok("verdict", "1", "false", "--reviewer", "A", "--note", "first", "--cite", str(passage))
    _ok("verdict", "1", "false", "--reviewer", "B", "--note", "second")
    final = _row(1)["verdict"]
    assert (final["verdict"], final["decided_by"], final["reviewer"]) == (
        "false",
        "agreement",
        "A+B",
    )
    assert final["note"] == "A: first\nB: second"
    assert [c["passage_id"] for c in final["cited"]] == [passage]
    _ok("approve", "1", "--reviewer", "eve")  # editors' names match whatever their case
    assert _row(1)["status"] == "approved"
    # B changes their mind: the claim is in dispute again, and its approval is withdrawn.
    _ok("verdict", "1", "true", "--reviewer", "B")
    row = _row(1)
    assert row["verdict"] is None and row["status"] == "in dispute"
    _ok("verdict", "1", "false", "--reviewer", "B")
    assert _row(1)["status"] == "final"  # agreed again, but it needs a new sign-off


def test_double_review_is_blind(desk: Path) -> None:
    _ok("verdict", "2", "true", "--reviewer", "A", "--note", "A's secret")
    with Workspace.open(desk) as ws:
        # B works on B's own review: nothing of A's shows.
        assert verdicts.get_state(ws, 2, "B") == verdicts.ReviewState()
        assert verdicts.get_state(ws, 2, "A").note == "A's secret"
    listed = {r["claim_id"]: r for r in _ok("claims")}
    assert listed[2]["verdict"] is None and listed[2]["status"] == "needs a second review"
    shown = _ok("verdict", "2", "false", "--reviewer", "B")[0]
    assert shown["note"] == "" and shown["verdict"] == "false"


def test_undo_in_double_mode_reverts_only_the_undoers_review(desk: Path) -> None:
    with Workspace.open(desk) as ws:
        history = History()
        history.record(verdicts.set_verdict(ws, 4, "false", "A", verdicts.get_state(ws, 4, "A")))
        verdicts.set_verdict(ws, 4, "true", "B")
        assert verdicts.claim_status(ws, 4) == "in dispute"
        history.undo(ws, "A")
        assert verdicts.get_state(ws, 4, "A").verdict == ""
        assert verdicts.get_state(ws, 4, "B").verdict == "true"  # B's review untouched
        assert verdicts.claim_status(ws, 4) == "needs a second review"
        # A stale write from A's own second window is refused, naming A's own change only.
        stale = verdicts.get_state(ws, 4, "A")
        verdicts.set_verdict(ws, 4, "half-true", "A")
        with pytest.raises(ConflictError, match=r"\(verdict by A at"):
            verdicts.set_verdict(ws, 4, "false", "A", stale)


def test_single_mode_keeps_each_reviewers_review_and_the_last_is_final(
    evidence_file: Path, seed_article: Path
) -> None:
    _ok("ingest", str(evidence_file), "--model", "hash:64")
    _ok("match", str(seed_article), "--top-k", "2")
    _ok("verdict", "1", "false", "--reviewer", "A")
    _ok("verdict", "1", "true", "--reviewer", "B")
    row = _row(1)
    assert (row["verdict"]["verdict"], row["status"]) == ("true", "final")
    assert [(r["reviewer"], r["verdict"]) for r in row["reviews"]] == [
        ("A", "false"),
        ("B", "true"),
    ]
    refused = _run("adjudicate", "1", "true", "--reviewer", "Eve")
    assert refused.exit_code == ExitCode.NOT_ALLOWED  # no editors configured
    assert len(_published(Path(os.environ["WORKBENCH_HOME"]))) == 1  # no approval needed


def test_review_ui_in_double_mode_shows_and_writes_only_my_review(desk: Path) -> None:
    import asyncio

    from workbench.review.app import ReviewApp
    from workbench.settings import Settings

    _ok("verdict", "1", "true", "--reviewer", "A", "--note", "A's note")

    async def review() -> None:
        ui = ReviewApp(desk, "B", Settings())
        async with ui.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            first = ui.claim.id
            assert first == 1  # B's queue: claim 1 still needs B's review
            assert ui.state == verdicts.ReviewState()  # nothing of A's
            assert ui.verdicts[1] == "" and ui.counts[""][0] == 0
            await pilot.press("1")  # B: False
            assert ui.counts[""][0] == 1

    asyncio.run(review())
    with Workspace.open(desk) as ws:
        assert verdicts.get_state(ws, 1, "B").verdict == "false"
        assert verdicts.get_state(ws, 1, "A") == verdicts.ReviewState("true", "A's note")
        assert verdicts.claim_status(ws, 1) == "in dispute"


# ----- agreement in the HTML report ------------------------------------------------------
HOSTILE_NAME = '<script>alert("B")</script>&amp;'


def _html(*args: str) -> str:
    result = _run("export", "--format", "html", *args)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_html_report_shows_the_agreement_figures_of_workbench_agreement(desk: Path) -> None:
    _ok("verdict", "3", "false", "--reviewer", "A")
    _ok("verdict", "3", "mostly-false", "--reviewer", HOSTILE_NAME)
    _ok("verdict", "4", "true", "--reviewer", "A")
    _ok("verdict", "4", "true", "--reviewer", HOSTILE_NAME)
    _ok("verdict", "5", "half-true", "--reviewer", "A")
    figures = _ok("agreement", "--json")[0]
    page = _html()  # reviewed claims only: claim 4 (agreed), not claim 3 (in dispute)
    assert 'id="claim-4"' in page and 'id="claim-3"' not in page
    section = page[page.index('<section class="agreement">') :]
    section = section[: section.index("</section>")]
    assert "<h2>Agreement between reviewers</h2>" in section
    ordinal, nominal = figures["alpha"]["ordinal"], figures["alpha"]["nominal"]
    assert ordinal["value"] is not None and nominal["value"] is not None
    assert (
        f"<td>Krippendorff&#x27;s alpha, ordinal (the six rated verdicts)</td>"
        f"<td>{ordinal['value']}</td><td>{ordinal['claims']}</td><td>{ordinal['ratings']}</td>"
    ) in section
    assert f"<td>{nominal['value']}</td><td>{nominal['claims']}</td>" in section
    (pair,) = figures["pairs"]
    kappa = "undefined" if pair["kappa"] is None else str(pair["kappa"])
    escaped = "&lt;script&gt;alert(&quot;B&quot;)&lt;/script&gt;&amp;amp;"
    assert (
        f"<td>{escaped} / A</td><td>2</td><td>1</td><td>{kappa}</td>" in section
        or f"<td>A / {escaped}</td><td>2</td><td>1</td><td>{kappa}</td>" in section
    )
    assert "<tr><td>A</td><td>3</td></tr>" in section
    # The dispute is reported although its claim is not (no link to a missing anchor);
    # reviewers by name, as `workbench agreement` lists them ("<" sorts before "A").
    assert f"<li>Claim 3: {escaped}: Mostly false, A: False</li>" in section
    assert "<script>" not in page and 'alert("B")' not in page


def test_html_report_has_no_agreement_section_with_one_reviewer(desk: Path) -> None:
    _ok("verdict", "3", "false", "--reviewer", "A")
    _ok("verdict", "4", "true", "--reviewer", "A")
    _ok("verdict", "5", "true", "--reviewer", "B")  # two reviewers, but no claim in common
    page = _html("--status", "all")
    assert "Agreement between reviewers" not in page and 'class="agreement"' not in page


def test_adjudication_and_approval_name_the_basis_the_editor_saw(desk: Path) -> None:
    with Workspace.open(desk) as ws:
        two_editors = '[review]\nmode = "double"\neditors = ["Eve", "Ed"]\n'
        (desk / "config.toml").write_text(two_editors, encoding="utf-8")
        verdicts.set_verdict(ws, 3, "false", "A")
        verdicts.set_verdict(ws, 3, "mostly-false", "B")
        seen = verdicts.decision_basis(ws, 3)
        assert [r["reviewer"] for r in seen["reviews"]] == ["A", "B"] and seen["final"] is None
        verdicts.set_verdict(ws, 3, "half-true", "B")  # B changes their mind meanwhile
        trail = len(ws.audit_trail(3))
        with pytest.raises(ConflictError) as refused:
            verdicts.adjudicate(ws, 3, "false", "Eve", expected=seen)
        at = ws.audit_trail(3)[-1]["at"]
        assert f"claim 3 was changed since (verdict by B at {at})" in str(refused.value)
        assert ws.verdict_record(3) is None and len(ws.audit_trail(3)) == trail
        # From what is there now, the decision is taken; the CLI's call names no basis.
        seen = verdicts.decision_basis(ws, 3)
        verdicts.adjudicate(ws, 3, "false", "Eve", expected=seen)
        seen = verdicts.decision_basis(ws, 3)
        # Another editor's approval since is no conflict: approving again changes nothing.
        assert verdicts.approve(ws, [3], "Ed") == [3]
        assert verdicts.approve(ws, [3], "Eve", expected={3: seen}) == []
        # A final verdict changed since is refused, and nothing is approved.
        verdicts.adjudicate(ws, 3, "true", "Ed")
        seen_other = verdicts.decision_basis(ws, 1)
        verdicts.set_verdict(ws, 1, "true", "A")
        verdicts.set_verdict(ws, 1, "true", "B")
        with pytest.raises(ConflictError, match=r"\(adjudicate by Ed at "):
            verdicts.approve(ws, [1, 3], "Eve", expected={3: seen})
        assert ws.verdict_record(1)["approved_by"] == "" == ws.verdict_record(3)["approved_by"]
        with pytest.raises(ConflictError, match="claim 1 was changed since"):
            verdicts.approve(ws, [3, 1], "Eve", expected={1: seen_other})
        assert verdicts.approve(ws, [1, 3], "Eve") == [1, 3]


def test_single_mode_keeps_only_the_writers_own_decisions_in_their_review(
    evidence_file: Path, seed_article: Path
) -> None:
    # A decides; B only adds a note: B's review holds B's note, never A's verdict or citation.
    _ok("ingest", str(evidence_file), "--model", "hash:64")
    _ok("match", str(seed_article), "--top-k", "2")
    passage = _row(1)["matches"][0]["passage_id"]
    _ok("verdict", "1", "false", "--reviewer", "A", "--cite", str(passage))
    _ok("verdict", "1", "--clear", "--reviewer", "C")  # the claim is cleared; C gave nothing
    _ok("verdict", "2", "true", "--reviewer", "A")
    _ok("verdict", "2", "true", "--reviewer", "B", "--note", "seen")  # B's own verdict, agreed
    root = Path(os.environ["WORKBENCH_HOME"])
    with Workspace.open(root) as ws:
        verdicts.set_note(ws, 1, "B's remark", "B")
        reviews = {r["reviewer"]: r for r in ws.claim_reviews(1)}
        assert (reviews["B"]["verdict"], reviews["B"]["note"], reviews["B"]["cited"]) == (
            "",
            "B's remark",
            [],
        )
        assert reviews["A"]["verdict"] == "false" and "C" not in reviews  # C had nothing own
        # The claim's shared state is as today: the last write is the final verdict.
        assert verdicts.get_state(ws, 1).note == "B's remark"
    agreement = _ok("agreement")[0]
    pairs = {tuple(p["reviewers"]): p for p in agreement["pairs"]}
    assert pairs[("A", "B")]["claims"] == 1  # claim 2 only: B never rated claim 1


def test_switching_to_double_mode_keeps_earlier_finals_until_a_verdict_changes(
    evidence_file: Path, seed_article: Path
) -> None:
    _ok("ingest", str(evidence_file), "--model", "hash:64")
    _ok("match", str(seed_article), "--top-k", "2")
    _ok("verdict", "2", "true", "--reviewer", "A")
    root = Path(os.environ["WORKBENCH_HOME"])
    (root / "config.toml").write_text(DOUBLE, encoding="utf-8")
    _ok("verdict", "2", "--reviewer", "D", "--note", "a remark only", "--clear")
    assert _row(2)["status"] == "final"  # D gave no verdict: A's earlier final stands
    _ok("verdict", "2", "false", "--reviewer", "D")
    assert _row(2)["status"] == "in dispute"  # now the reviews decide, and they differ


def test_refusals_name_the_change_that_overtook_the_write(desk: Path) -> None:
    with Workspace.open(desk) as ws:
        seen = ws.claims([5])[0].text
        verdicts.edit_claim(ws, 5, "Reworded by C.", "C")
        verdicts.set_verdict(ws, 5, "true", "B", verdicts.get_state(ws, 5, "B"))
        with pytest.raises(ConflictError, match=r"\(edit by C at") as refused:
            verdicts.edit_claim(ws, 5, "Reworded by A.", "A", seen)
        assert "by B" not in str(refused.value)  # B's verdict is not A's business


def test_picking_a_review_publishes_only_its_citations(desk: Path) -> None:
    first, second = (m["passage_id"] for m in _row(6)["matches"][:2])
    _ok("verdict", "6", "false", "--reviewer", "A", "--cite", str(first))
    _ok("verdict", "6", "true", "--reviewer", "B", "--cite", str(second))
    with Workspace.open(desk) as ws:
        a_review = next(r for r in ws.claim_reviews(6) if r["reviewer"] == "A")
        change = verdicts.adjudicate(ws, 6, "false", "Eve", cited=a_review["cited"])
    assert change.new.cited_ids == (first,)
    assert [c["passage_id"] for c in _row(6)["verdict"]["cited"]] == [first]


def test_review_ui_export_is_an_editors_action_in_double_mode(desk: Path) -> None:
    import asyncio

    from workbench.review.app import ReviewApp
    from workbench.settings import Settings

    async def review(who: str) -> list[str]:
        ui = ReviewApp(desk, who, Settings())
        seen: list[str] = []
        real = ui.notify
        ui.notify = lambda message, **kw: seen.append(message) or real(message, **kw)  # type: ignore[method-assign]
        async with ui.run_test(size=(120, 40)) as pilot:
            await pilot.press("ctrl+e")
            await pilot.pause()
            shown = type(ui.screen).__name__
            await pilot.press("escape")
        return [*seen, shown]

    refused = asyncio.run(review("B"))
    assert refused[0].startswith("Double review: only an editor may export")
    assert refused[-1] == "Screen"  # no export dialog opened
    allowed = asyncio.run(review("Eve"))
    assert allowed[-1] == "PromptDialog"
