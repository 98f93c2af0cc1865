"""Verdict hints end to end: signals stored with matches, counter-evidence, suggestions, the
review UI showing them only when asked."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

import pytest
from reviewdata import hash_retriever as _retriever

from workbench.embed import HashingEmbedder
from workbench.hints.claim import claim_hints
from workbench.hints.signals import Signal
from workbench.hints.suggest import (
    NEI,
    REFUTES,
    SUPPORTS,
    pair_stance,
    stance_from_signals,
    suggest_verdict,
)
from workbench.ingest import ingest
from workbench.match import add_claim_records, match_claims
from workbench.review.app import ReviewApp
from workbench.settings import Settings
from workbench.verdicts import set_verdict
from workbench.workspace import Workspace

EVIDENCE = [
    {
        "id": "call-right",
        "text": "Donald Trump and Vladimir Putin spoke by phone on 3 May 2019 about Venezuela.",
        "published": "2019-05-04",
        "lang": "en",
    },
    {
        "id": "barr",
        "text": "Robert Mueller's inquiry did not establish that members of the Trump campaign "
        "conspired with the Russian government, wrote William Barr.",
        "published": "2019-03-24",
        "lang": "en",
    },
    {
        "id": "osaka",
        "text": "Donald Trump and Vladimir Putin met at the G20 in Osaka on 28-29 June 2019.",
        "published": "2019-06-29",
        "lang": "en",
    },
]
CLAIMS = [
    {"text": "Donald Trump a parlé avec Vladimir Poutine le 3 mai au téléphone.", "lang": "fr"},
    {
        "text": "L'enquête de Robert Mueller a confirmé l'absence de collusion entre la Russie "
        "et le gouvernement américain.",
        "lang": "fr",
    },
]


@pytest.fixture
def matched(tmp_path: Path) -> Path:
    evidence = tmp_path / "evidence.jsonl"
    evidence.write_text("".join(json.dumps(r) + "\n" for r in EVIDENCE), encoding="utf-8")
    root = tmp_path / "ws"
    with Workspace.open(root, create=True) as ws:
        ingest(ws, [evidence], [HashingEmbedder(64)])
        ids = add_claim_records(ws, CLAIMS, "given.jsonl")
        match_claims(ws, _retriever(ws), ids, 3)
    return root


def _stored(root: Path, claim_id: int) -> dict[str, list[Signal]]:
    with Workspace.open(root) as ws:
        return {
            m["evidence_id"]: [Signal.from_dict(s) for s in m["agreement"]]
            for m in ws.matches(claim_id)
        }


def test_matches_store_their_agreement_signals_and_the_claim_vectors(matched: Path) -> None:
    call = _stored(matched, 1)
    (date,) = [s for s in call["call-right"] if s.kind == "date"]
    assert (date.status, date.claim, date.evidence) == ("agrees", "3 mai", "3 May 2019")
    mueller = _stored(matched, 2)
    kinds = {s.kind for s in mueller["barr"] if s.status == "conflicts"}
    assert {"party", "modality"} <= kinds
    with Workspace.open(matched) as ws:
        vectors = ws.claim_vectors("hash:64")
        assert set(vectors) == {1, 2}
        assert vectors[1].shape == (64,)


def _echoes_and_barr(tmp_path: Path) -> Path:
    """Many passages echo the Mueller claim's words; the one that conflicts (Barr's summary)
    shares few of them, so it ranks below them."""
    evidence = tmp_path / "evidence.jsonl"
    echo = [
        {"id": f"echo-{i}", "text": f"Robert Mueller inquiry collusion Russia government {i}.",
         "lang": "en"}
        for i in range(6)
    ]  # fmt: skip
    evidence.write_text(
        "".join(json.dumps(r) + "\n" for r in [*echo, EVIDENCE[1]]), encoding="utf-8"
    )
    return evidence


def test_counter_evidence_is_brought_in_from_beyond_the_top_k(tmp_path: Path) -> None:
    evidence = _echoes_and_barr(tmp_path)
    with Workspace.open(tmp_path / "ws", create=True) as ws:
        ingest(ws, [evidence], [HashingEmbedder(64)])
        ids = add_claim_records(ws, CLAIMS[1:], "given.jsonl")
        (record,) = match_claims(ws, _retriever(ws), ids, 2, counter_pool=10)
        ranked = [m["evidence_id"] for m in record["matches"]]
        assert ranked[:2] != ["barr"] and "barr" in ranked[2:]
        counter = next(m for m in record["matches"] if m["evidence_id"] == "barr")
        assert counter["signals"]["counter"] > 2
        assert [m["evidence_id"] for m in ws.matches(ids[0])] == ranked
        (plain,) = match_claims(ws, _retriever(ws), ids, 2, counter_pool=0)
        # Reading the wider pool never changes the top k.
        assert [m["evidence_id"] for m in plain["matches"]] == ranked[:2]


def test_stance_from_signals_without_and_with_nli() -> None:
    date_conflict = [Signal("date", "conflicts", "3 mai", "4 May 2019")]
    framing = [Signal("party", "conflicts", "gouvernement", "campaign")]
    agreed = [Signal("date", "agrees", "3 mai", "3 May 2019")]
    assert stance_from_signals(date_conflict).label == REFUTES
    assert stance_from_signals(framing).label == REFUTES
    assert stance_from_signals(agreed).label == SUPPORTS
    assert stance_from_signals([]).label == NEI
    assert stance_from_signals([], (0.1, 0.1, 0.8)).label == REFUTES
    assert stance_from_signals(agreed, (0.9, 0.05, 0.05)).confidence == 0.9
    # A model's entailment does not outvote a wrong date.
    assert stance_from_signals(date_conflict, (0.9, 0.05, 0.05)).label == REFUTES
    assert stance_from_signals([], (0.2, 0.7, 0.1)).label == NEI


def test_pair_stance_reads_the_texts() -> None:
    claim = "Donald Trump a parlé avec Vladimir Poutine le 3 mai au téléphone."
    wrong = "Donald Trump spoke with Vladimir Putin by phone on 5 May 2019."
    stance = pair_stance(claim, wrong, "fr", "en", evidence_date="2019-05-06")
    assert stance.label == REFUTES and "--05-03 vs 2019-05-05" in stance.reasons[0]


def _match(evidence_id: str, rank: int, *signals: Signal, **scores: float) -> dict:
    return {
        "evidence_id": evidence_id,
        "rank": rank,
        "agreement": [s.as_dict() for s in signals],
        "signals": scores,
    }


def test_suggested_verdicts_follow_the_signals() -> None:
    wrong_date = _match("a", 1, Signal("date", "conflicts", "3 mai", "4 May 2019", "x"))
    framing = _match(
        "b", 2, Signal("modality", "conflicts", "a confirmé", "did not establish"),
        Signal("party", "conflicts", "gouvernement", "campaign"),
    )  # fmt: skip
    agreeing = _match("c", 1, Signal("date", "agrees", "juin", "28-29 June"))
    assert suggest_verdict([wrong_date]).label == "mostly-false"
    misleading = suggest_verdict([framing])
    assert misleading.label == "misleading"
    assert any("did not establish" in r for r in misleading.reasons)
    weak = suggest_verdict([agreeing])
    assert weak.label == "mostly-true" and weak.confidence <= 0.3
    assert "without an NLI model" in weak.reasons[-1]
    assert suggest_verdict([]).label == "unverifiable"
    modelled = _match("d", 1, nli_entailment=0.05, nli_neutral=0.05, nli_contradiction=0.9)
    assert suggest_verdict([modelled]).label == "false"
    # Beyond the top 3 only counter-evidence counts.
    deep = _match("e", 7, Signal("date", "conflicts", "3 mai", "9 May 2019"))
    assert suggest_verdict([agreeing, deep]).label == "mostly-true"
    deep["signals"]["counter"] = 7.0
    assert suggest_verdict([agreeing, deep]).label == "mostly-false"


def test_an_earlier_verdict_comes_first(matched: Path) -> None:
    with Workspace.open(matched) as ws:
        hints = claim_hints(ws, 2)
        assert hints.suggestion.label == "misleading"
        lines = hints.lines()
        assert lines[0].startswith("Suggested verdict: Misleading")
        assert any("did not establish" in line for line in lines)


def test_review_ui_shows_the_signals_always_and_the_hints_when_asked(matched: Path) -> None:
    async def run() -> None:
        app = ReviewApp(matched, "alice", Settings(), retriever_factory=_retriever)
        async with app.run_test(size=(120, 40)) as pilot:
            claim_view = app.query_one("ClaimView")
            detail = app.query_one("EvidenceDetail")
            await pilot.press("j")  # the Mueller claim
            assert app.claim is not None and app.claim.id == 2
            while app.evidence[app.evidence_index]["evidence_id"] != "barr":
                await pilot.press("J")
            shown = str(detail.render())
            assert "Signals" in shown and "party: claim: gouvernement américain" in shown
            assert "Suggested verdict" not in str(claim_view.render())
            await pilot.press("h")
            await app.workers.wait_for_complete()  # hints are computed in a worker
            await pilot.pause()
            assert "Suggested verdict: Misleading" in str(claim_view.render())
            await pilot.press("h")
            assert "Suggested verdict" not in str(claim_view.render())

    asyncio.run(run())


def test_review_ui_after_verdict_mode_shows_the_suggestion_once_decided(matched: Path) -> None:
    async def run() -> None:
        app = ReviewApp(
            matched, "alice", Settings(hints="after-verdict"), retriever_factory=_retriever
        )
        async with app.run_test(size=(120, 40)) as pilot:
            claim_view = app.query_one("ClaimView")
            assert "Suggested verdict" not in str(claim_view.render())
            await pilot.press("1", "k")  # a verdict on claim 1, then back to it
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert "Suggested verdict" in str(claim_view.render())

    asyncio.run(run())


def test_review_ui_computes_the_hints_in_a_worker_once_per_verdict_change(
    matched: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import workbench.hints.claim

    real = workbench.hints.claim.claim_hints
    gate = threading.Event()
    threads: list[threading.Thread] = []

    def gated(*args, **kwargs):
        threads.append(threading.current_thread())
        gate.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(workbench.hints.claim, "claim_hints", gated)

    async def run() -> None:
        app = ReviewApp(matched, "alice", Settings(), retriever_factory=_retriever)
        async with app.run_test(size=(120, 40)) as pilot:
            claim_view = app.query_one("ClaimView")
            await pilot.press("j", "h")  # the Mueller claim, its hints asked for
            assert "Hints: computing…" in str(claim_view.render())
            await pilot.press("J")  # the app answers meanwhile
            assert app.evidence_index == 1
            gate.set()
            await app.workers.wait_for_complete()
            await pilot.pause()
            shown = str(claim_view.render())
            assert "Suggested verdict: Misleading" in shown and "computing" not in shown
            assert threads and threading.main_thread() not in threads
            await pilot.press("h", "h")  # hidden and shown again: kept
            await app.workers.wait_for_complete()
            assert len(threads) == 1
            await pilot.press("k", "1")  # a verdict on claim 1, then claim 2, hints hidden
            await app.workers.wait_for_complete()
            assert len(threads) == 1  # stale, recomputed only when shown
            await pilot.press("h")
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert len(threads) == 2
            assert "Suggested verdict" in str(claim_view.render())

    asyncio.run(run())


def test_review_ui_hint_failure_is_shown_and_the_review_goes_on(
    matched: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import workbench.hints.claim

    def broken(*args, **kwargs):
        raise ValueError("memory exploded")

    monkeypatch.setattr(workbench.hints.claim, "claim_hints", broken)

    async def run() -> None:
        app = ReviewApp(matched, "alice", Settings(hints="always"), retriever_factory=_retriever)
        seen: list[tuple[str, str]] = []
        original = app.notify

        def notify(message: str, *, severity: str = "information", **kwargs) -> None:
            seen.append((severity, message))
            original(message, severity=severity, **kwargs)  # type: ignore[arg-type]

        app.notify = notify  # type: ignore[method-assign]
        async with app.run_test(size=(120, 40)) as pilot:
            claim_view = app.query_one("ClaimView")
            await app.workers.wait_for_complete()
            await pilot.pause()
            shown = str(claim_view.render())
            assert "Suggested verdict" not in shown and "computing" not in shown
            await pilot.press("j")
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert app.claim is not None and app.claim.id == 2
        assert any(s == "error" and "memory exploded" in m for s, m in seen)

    asyncio.run(run())


def test_rewording_rematches_with_the_top_k_without_counter_evidence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import workbench.match

    evidence = _echoes_and_barr(tmp_path)
    root = tmp_path / "ws"
    with Workspace.open(root, create=True) as ws:
        ingest(ws, [evidence], [HashingEmbedder(64)])
        ids = add_claim_records(ws, CLAIMS[1:], "given.jsonl")
        match_claims(ws, _retriever(ws), ids, 2, counter_pool=10)
        assert any("counter" in m["signals"] for m in ws.matches(ids[0]))
    asked: list[int] = []
    real = workbench.match.match_claims

    def recording(ws, retriever, claim_ids, k, *args, **kwargs):
        asked.append(k)
        return real(ws, retriever, claim_ids, k, *args, **kwargs)

    monkeypatch.setattr(workbench.match, "match_claims", recording)

    async def run() -> None:
        app = ReviewApp(root, "alice", Settings(), retriever_factory=_retriever)
        async with app.run_test(size=(120, 40)) as pilot:
            for text in ("Mueller n'a pas établi de collusion.", "Mueller et la Russie."):
                await pilot.press("e")
                app.screen.query_one("TextArea").text = text
                await pilot.press("ctrl+s")
                await app.workers.wait_for_complete()
                await pilot.pause()
                assert app.claim is not None and app.claim.text == text
            ranked = [m for m in app.evidence if "counter" not in m["signals"]]
            assert len(ranked) == 2

    asyncio.run(run())
    assert asked == [2, 2]


def test_hints_never_write_a_verdict(matched: Path) -> None:
    with Workspace.open(matched) as ws:
        claim_hints(ws, 1)
        claim_hints(ws, 2)
        assert ws.count("verdicts") == 0
        set_verdict(ws, 1, "false", "ana")
        assert ws.count("verdicts") == 1


def test_rewording_a_claim_drops_its_old_vectors_until_it_is_matched_again(matched: Path) -> None:
    from workbench.verdicts import edit_claim

    with Workspace.open(matched) as ws:
        assert 1 in ws.claim_vectors("hash:64")
        edit_claim(ws, 1, "Donald Trump a parlé avec Vladimir Poutine le 4 mai.", "ana")
        assert 1 not in ws.claim_vectors("hash:64") and 2 in ws.claim_vectors("hash:64")
        match_claims(ws, _retriever(ws), [1], 3)
        assert 1 in ws.claim_vectors("hash:64")


def test_hint_lines_use_one_language_for_every_label(matched: Path) -> None:
    with Workspace.open(matched) as ws:
        hints = claim_hints(ws, 2)
        assert hints.lines("fr")[0].startswith("Suggested verdict: Trompeur")
        assert hints.lines("en")[0].startswith("Suggested verdict: Misleading")
