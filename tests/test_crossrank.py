"""Tests for the cross-language ranking stage: language-blind features, where it applies."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from reviewdata import MINI_EVIDENCE, hash_retriever

from workbench import crossrank
from workbench.crossrank import FEATURES, CrossRanker, facts, features
from workbench.embed import HashingEmbedder
from workbench.errors import WorkbenchError
from workbench.ingest import ingest
from workbench.models import Hit
from workbench.retrieve import FusionConfig, Retriever
from workbench.workspace import Workspace

CLAIM = "Le 7 novembre 2024, la Réserve fédérale a abaissé ses taux d'un quart de point."
# The same words in French with another date, and the fact itself in English.
NEAR_MISS = "Le 18 septembre 2024, la Réserve fédérale a abaissé ses taux d'un demi-point."
ANSWER = "On 7 November 2024 the Federal Reserve cut its rate by a quarter point."
TEXTS = {1: NEAR_MISS, 2: ANSWER}
LANGS = {1: "fr", 2: "en"}


def _hits() -> list[Hit]:
    # The order earlier stages gave: the French near miss first.
    return [
        Hit(1, 0.9, {"usem3": 0.62, "usem3:focus": 0.55}),
        Hit(2, 0.8, {"usem3": 0.60, "usem3:focus": 0.56}),
    ]


def test_features_never_say_which_language_a_passage_is_in() -> None:
    rows = features(CLAIM, "fr", _hits(), TEXTS, LANGS, "usem3")
    swapped = features(CLAIM, "fr", _hits(), TEXTS, {1: "en", 2: "fr"}, "usem3")
    assert len(rows[0]) == len(FEATURES)
    # The language labels change nothing (tokens are read the same way in both languages).
    assert rows == swapped


def test_facts_are_normalised_across_languages() -> None:
    french, english = facts(CLAIM, "fr"), facts(ANSWER, "en")
    assert french["date"] == english["date"] == {"d11-07"}
    assert facts("Mueller's team examined it.", "en")["name"] == {"mueller"}


def test_the_shipped_stage_puts_the_fact_above_a_same_language_near_miss() -> None:
    ranker = crossrank.load()
    assert ranker is not None and ranker.meta["trained_on"].startswith("bench/data/xling-dev")
    reordered = ranker.rerank(CLAIM, "fr", _hits(), TEXTS, LANGS, "usem3")
    assert [h.passage_id for h in reordered] == [2, 1]
    # Slots keep their scores (still decreasing); the stage's probability is in the signals.
    assert [h.score for h in reordered] == [0.9, 0.8]
    assert "crossrank" in reordered[0].signals


def test_a_list_in_one_language_is_left_as_it_is() -> None:
    ranker = crossrank.load()
    assert ranker is not None
    one_language = {1: "fr", 2: "fr"}
    assert not ranker.applies("fr", _hits(), one_language)
    assert ranker.rerank(CLAIM, "fr", _hits(), TEXTS, one_language, "usem3") == _hits()


def test_a_list_wholly_in_another_language_is_ordered_by_the_stage() -> None:
    # A French claim whose top candidates are all English: the re-ranker (same-language
    # pairs) leaves them in the fusion's order, so this stage is the one that decides; an
    # English near miss with the date changed must lose to the English answer.
    ranker = crossrank.load()
    assert ranker is not None
    near_miss = "On 18 September 2024 the Federal Reserve cut its rate by half a point."
    texts, english = {1: near_miss, 2: ANSWER}, {1: "en", 2: "en"}
    assert ranker.applies("fr", _hits(), english)
    reordered = ranker.rerank(CLAIM, "fr", _hits(), texts, english, "usem3")
    assert [h.passage_id for h in reordered] == [2, 1]


def test_a_damaged_model_file_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "crossrank.json"
    path.write_text("{not json")
    crossrank.load.cache_clear()
    try:
        with pytest.raises(WorkbenchError, match="cannot read the cross-language ranker"):
            crossrank.load(path)
        path.write_text(json.dumps({"features": ["other"]}))
        with pytest.raises(WorkbenchError, match="other features"):
            crossrank.load(path)
        assert crossrank.load(tmp_path / "absent.json") is None
    finally:
        crossrank.load.cache_clear()


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    n = len(FEATURES)
    ranker = CrossRanker((0.0,) * n, (1.0,) * n, tuple(range(n)), 0.5, 5, {"note": "x"})
    crossrank.save(ranker, tmp_path / "m.json")
    crossrank.load.cache_clear()
    try:
        again = crossrank.load(tmp_path / "m.json")
    finally:
        crossrank.load.cache_clear()
    assert again is not None
    assert (again.weights, again.bias, again.depth) == (ranker.weights, 0.5, 5)


def test_the_retriever_runs_the_stage_only_when_asked(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence.jsonl"
    evidence.write_text("".join(json.dumps(r) + "\n" for r in MINI_EVIDENCE))
    with Workspace.open(tmp_path / "ws", create=True) as ws:
        ingest(ws, [evidence], [HashingEmbedder(64)])
        base = hash_retriever(ws)
        # The hashing embedder stands in for a multilingual model (no language list): the
        # stage reads its signals as it reads USE-m3's.
        (embedder,) = base.embedders
        embedder.languages = None
        on = Retriever([embedder], base.indexes, FusionConfig(), ws.passage_index_texts)
        off = Retriever(
            [embedder],
            base.indexes,
            replace(FusionConfig(), crossrank=False),
            ws.passage_index_texts,
        )
        assert on.crossranker is not None and off.crossranker is None
        query = ["Poutine et Pompeo se sont rencontrés à Sotchi le 14 mai 2019."]
        with_stage = on.search(query, ["fr"], k=5)[0]
        without = off.search(query, ["fr"], k=5)[0]
        assert {h.passage_id for h in with_stage} == {h.passage_id for h in without}
        assert any("crossrank" in h.signals for h in with_stage)
        assert not any("crossrank" in h.signals for h in without)


def test_a_one_language_corpus_gets_the_single_language_weights(tmp_path: Path) -> None:
    from workbench.retrieve import LEXICAL

    evidence = tmp_path / "evidence.jsonl"
    evidence.write_text("".join(json.dumps(r) + "\n" for r in MINI_EVIDENCE))
    with Workspace.open(tmp_path / "ws", create=True) as ws:
        ingest(ws, [evidence], [HashingEmbedder(64)])
        retriever = hash_retriever(ws)
        french = [pid for pid, lang in retriever.indexes.langs.items() if lang == "fr"]
        english = [pid for pid, lang in retriever.indexes.langs.items() if lang == "en"]
        only_french = {LEXICAL: [(pid, 1.0) for pid in french]}
        mixed = {LEXICAL: [(pid, 1.0) for pid in french + english]}
        bm25 = {s.name: s.weight for s in retriever._sources_for(only_french, "fr")}[LEXICAL]
        assert bm25 == dict(FusionConfig().single_language_weights)[LEXICAL] == 3.0
        assert {s.name: s.weight for s in retriever._sources_for(mixed, "fr")}[LEXICAL] == 1.0
        # Unknown claim language: never "one language".
        assert retriever._sources_for(only_french, "") is retriever.sources


def test_it_applies_only_to_claims_in_the_languages_it_learned() -> None:
    ranker = crossrank.load()
    assert ranker is not None and ranker.meta["languages"] == ["fr"]
    assert ranker.applies("fr", _hits(), LANGS)
    # An English claim over a mixed corpus: no figure covers it, the earlier order stands.
    assert not ranker.applies("en", _hits(), LANGS)
