"""Tests for language-aware fusion."""

from __future__ import annotations

import pytest

from workbench.index.hybrid import Source, can_judge, fuse

USE = Source("usem3", 1.0, None)
MINILM = Source("st:minilm", 1.0, frozenset({"en"}))
BM25 = Source("bm25", 1.0, frozenset())


@pytest.mark.parametrize(
    ("source", "query", "passage", "expected"),
    [
        (USE, "fr", "en", True),
        (MINILM, "fr", "en", False),
        (MINILM, "fr", "fr", False),
        (MINILM, "en", "en", True),
        (BM25, "fr", "fr", True),
        (BM25, "fr", "en", False),
        (BM25, "en", "", True),  # unknown language: do not silence a retriever
    ],
)
def test_can_judge(source: Source, query: str, passage: str, expected: bool) -> None:
    assert can_judge(source, query, passage) is expected


def test_french_near_miss_does_not_win_by_extra_votes() -> None:
    # Passage 1 is the English answer (first for the multilingual model); passage 2 a French
    # near miss that shares words with the claim (first for BM25, second for the model).
    langs = {1: "en", 2: "fr", 3: "en"}
    ranked = {
        "usem3": [(1, 0.8), (2, 0.7), (3, 0.5)],
        "st:minilm": [(2, 0.6), (3, 0.5), (1, 0.4)],
        "bm25": [(2, 9.0), (3, 2.0)],
    }
    sources = [USE, MINILM, BM25]
    lang_aware = fuse(ranked, sources, "fr", langs, k=3, mode="lang")
    assert [h.passage_id for h in lang_aware] == [1, 2, 3]
    plain = fuse(ranked, sources, "fr", langs, k=3, mode="rrf")
    assert plain[0].passage_id == 2  # the failure mode the language-aware mode removes


def test_english_query_uses_every_source_like_plain_rrf() -> None:
    langs = {1: "en", 2: "en", 3: "en"}
    ranked = {
        "usem3": [(1, 0.9), (2, 0.8), (3, 0.1)],
        "st:minilm": [(2, 0.9), (1, 0.8)],
        "bm25": [(2, 5.0), (3, 1.0)],
    }
    sources = [USE, MINILM, BM25]
    lang_aware = fuse(ranked, sources, "en", langs, k=3, mode="lang")
    plain = fuse(ranked, sources, "en", langs, k=3, mode="rrf")
    assert [h.passage_id for h in lang_aware] == [h.passage_id for h in plain] == [2, 1, 3]


def test_score_is_one_when_first_for_every_voter_and_signals_kept() -> None:
    hits = fuse({"usem3": [(7, 0.9)], "bm25": [(7, 3.0)]}, [USE, BM25], "en", {7: "en"}, k=5)
    assert hits[0].score == pytest.approx(1.0)
    assert hits[0].signals == {"usem3": 0.9, "usem3_rank": 1, "bm25": 3.0, "bm25_rank": 1}


def test_weights_shift_the_ranking() -> None:
    langs = {1: "en", 2: "en"}
    ranked = {"usem3": [(1, 0.9), (2, 0.8)], "bm25": [(2, 4.0), (1, 1.0)]}
    heavy_bm25 = [Source("usem3", 1.0, None), Source("bm25", 3.0, frozenset())]
    assert fuse(ranked, heavy_bm25, "en", langs, k=2)[0].passage_id == 2
    heavy_use = [Source("usem3", 3.0, None), Source("bm25", 1.0, frozenset())]
    assert fuse(ranked, heavy_use, "en", langs, k=2)[0].passage_id == 1


def test_monolingual_only_config_still_ranks_cross_language_passages() -> None:
    # With only an English model, a French query still gets results rather than nothing.
    hits = fuse({"st:minilm": [(1, 0.5), (2, 0.4)]}, [MINILM], "fr", {1: "en", 2: "en"}, k=2)
    assert [h.passage_id for h in hits] == [1, 2]
    assert hits[0].score == pytest.approx(1.0)
