"""Tests for the learned re-ranker: features, candidates, language slots, arrays on disk, when
it applies, and the stored vectors it reads from FAISS."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from workbench.errors import WorkbenchError
from workbench.models import Hit
from workbench.rerank import (
    LEXICAL_FEATURES,
    MODEL_DIR,
    IdfTable,
    Inputs,
    Model,
    Reranker,
    adapter_features,
    candidate_features,
    feature_names,
    index_inputs,
    lexical_features,
    load_reranker,
    save_reranker,
    stored_vectors,
)

SOURCES = ("dense", "bm25")
DENSE = ("dense",)
TEXTS = {
    1: "Unemployment fell to 3.6 percent in April, the lowest since 1969.",
    2: "Trump met Putin in Osaka\nTrump met Putin in Osaka at the G20 summit in June 2019.",
    3: "Le chômage a baissé à 7,1 % au premier trimestre.",
    4: "Putin praised the Mueller report in Sochi.",
}
LANGS = {1: "en", 2: "en", 3: "fr", 4: "en"}
DIM = 4
VECTORS = {pid: np.eye(DIM, dtype=np.float32)[pid - 1] for pid in TEXTS}


def _hits() -> list[Hit]:
    return [
        Hit(1, 0.9, {"dense": 0.8, "dense_rank": 1, "bm25": 3.0, "bm25_rank": 2}),
        Hit(3, 0.8, {"dense": 0.7, "dense_rank": 2}),
        Hit(2, 0.7, {"dense": 0.6, "dense_rank": 3, "bm25": 9.0, "bm25_rank": 1}),
        Hit(4, 0.6, {"dense": 0.5, "dense_rank": 4}),
    ]


def _inputs(query_vector: np.ndarray | None = None) -> Inputs:
    frequencies = {"putin": 3, "trump": 2, "osaka": 1}
    vector = np.full(DIM, 0.5, dtype=np.float32) if query_vector is None else query_vector
    return Inputs(
        {"dense": vector},
        lambda model, ids: np.array([VECTORS[i] for i in ids]).reshape(len(ids), DIM),
        lambda token: frequencies.get(token, 0),
        100,
    )


def _reranker(weights: np.ndarray, languages=("en",), adapter=None, top_fused=20) -> Reranker:
    n = len(feature_names(SOURCES, DENSE))
    adapter = np.eye(DIM, dtype=np.float32) if adapter is None else adapter
    model = Model(np.zeros(n), np.ones(n), weights, 0.0, adapter, "dense")
    return Reranker(SOURCES, DENSE, dict.fromkeys(languages, model), 500, top_fused, 30, {})


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


def test_lexical_features_weigh_rare_words_and_read_title_and_body_apart() -> None:
    query = "Trump will meet Putin in Osaka"
    x = lexical_features(query, _hits(), TEXTS, _inputs())
    assert x.shape == (4, len(LEXICAL_FEATURES))
    rows = [dict(zip(LEXICAL_FEATURES, r, strict=True)) for r in x]
    osaka, sochi = rows[2], rows[3]
    assert osaka["idf_query_cover"] > sochi["idf_query_cover"] > 0  # Osaka is rarer than Putin
    assert osaka["gram_query_cover"] > sochi["gram_query_cover"]
    assert osaka["title_bm25"] > 0 and sochi["title_bm25"] == 0  # no title line in passage 4
    assert sochi["body_bm25"] > 0
    assert rows[0]["idf_query_cover"] == 0 and rows[0]["max_shared_idf"] == 0


def test_one_idf_table_serves_every_claim_of_an_index_and_changes_no_feature() -> None:
    frequencies = {"putin": 3, "trump": 2, "osaka": 1}
    asked: list[str] = []

    def document_frequency(token: str) -> int:
        asked.append(token)
        return frequencies.get(token, 0)

    shared = IdfTable(document_frequency, 100)
    claims = ["Trump will meet Putin in Osaka", "Putin praised the Mueller report"]
    for query in claims:
        inputs = Inputs({}, _inputs().passage_vectors, document_frequency, 100, shared)
        fresh = lexical_features(query, _hits(), TEXTS, _inputs())
        assert lexical_features(query, _hits(), TEXTS, inputs).tolist() == fresh.tolist()
    assert asked and len(asked) == len(set(asked))  # each word's frequency read once

    class Lexical:  # what index_inputs reads of a loaded word index
        def __init__(self) -> None:
            self.retriever = type("R", (), {"vocab_dict": {"putin": 0}, "scores": {}})()
            self.retriever.scores = {"indptr": np.array([0, 3]), "num_docs": 100}
            self.ids = np.arange(100)

    index, other = Lexical(), Lexical()
    first = index_inputs({}, {}, index)
    assert index_inputs({}, {}, index).idf_table is first.idf_table
    assert index_inputs({}, {}, other).idf_table is not first.idf_table
    assert first.idf("putin") == pytest.approx(np.log(1 + 97.5 / 3.5))


def test_adapter_maps_the_query_before_the_cosine() -> None:
    passages = np.eye(DIM)[:3]
    query = np.eye(DIM)[0]
    swap = np.eye(DIM)[[1, 0, 2, 3]]  # the adapter sends direction 0 to direction 1
    plain = adapter_features(query, passages, np.eye(DIM))
    mapped = adapter_features(query, passages, swap)
    assert plain[0, 2] == 1.0 and mapped[1, 2] == 1.0  # reciprocal rank 1 moves
    assert mapped[1, 0] == pytest.approx(1.0) and mapped[0, 1] == pytest.approx(-1.0)


def test_rerank_reorders_same_language_candidates_and_keeps_the_others_in_place() -> None:
    names = feature_names(SOURCES, DENSE)
    weights = np.zeros(len(names))
    weights[names.index("adapter:cos")] = 1.0  # prefer the passage the adapted query points at
    query = "Trump will meet Putin at the G20 in Osaka"
    inputs = _inputs(np.eye(DIM, dtype=np.float32)[1])  # points at passage 2
    hits = _reranker(weights).rerank(query, "en", _hits(), TEXTS, LANGS, 4, inputs)
    assert hits[0].passage_id == 2 and hits[1].passage_id == 3  # the French passage stays 2nd
    assert [h.score for h in hits] == [0.9, 0.8, 0.7, 0.6]  # slots keep their scores
    assert hits[0].signals["fused"] == 0.7
    assert "rerank" in hits[0].signals and "rerank" not in hits[1].signals
    # A language it was not trained for: the fusion's order stands.
    same = _reranker(weights).rerank(query, "de", _hits(), TEXTS, LANGS, 3, inputs)
    assert [h.passage_id for h in same] == [1, 3, 2]


def test_rerank_returns_k_hits_even_beyond_its_candidates() -> None:
    names = feature_names(SOURCES, DENSE)
    weights = np.zeros(len(names))
    weights[names.index("adapter:cos")] = 1.0
    deep = [
        *_hits(),
        *(Hit(10 + i, 0.5 - i / 100, {"dense": 0.1, "dense_rank": 40 + i}) for i in range(6)),
    ]
    texts = {**TEXTS, **{10 + i: f"passage {i}" for i in range(6)}}
    langs = {**LANGS, **dict.fromkeys(range(10, 16), "en")}
    vectors = {**VECTORS, **{10 + i: np.zeros(DIM, np.float32) for i in range(6)}}
    inputs = Inputs(
        {"dense": np.eye(DIM, dtype=np.float32)[1]},
        lambda model, ids: np.array([vectors[i] for i in ids]).reshape(len(ids), DIM),
        lambda token: 0,
        100,
    )
    reranker = _reranker(weights, top_fused=4)
    hits = reranker.rerank("Trump Osaka", "en", deep, texts, langs, 8, inputs)
    assert len(hits) == 8
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert hits[0].passage_id == 2 and [h.passage_id for h in hits[4:]] == [10, 11, 12, 13]


def test_candidates_are_the_fused_top_and_each_retrievers_top() -> None:
    deep = [Hit(10 + i, 1.0 - i / 100, {"dense": 0.1, "dense_rank": 40 + i}) for i in range(5)]
    deep.append(Hit(99, 0.1, {"bm25": 1.0, "bm25_rank": 3}))  # fused last, BM25's third
    reranker = _reranker(np.zeros(len(feature_names(SOURCES, DENSE))), top_fused=2)
    assert [h.passage_id for h in reranker.candidates(deep)] == [10, 11, 99]


def test_applies_only_to_the_retrievers_it_was_trained_on() -> None:
    reranker = _reranker(np.zeros(len(feature_names(SOURCES, DENSE))))
    assert reranker.applies(["bm25", "dense"])
    assert not reranker.applies(["bm25", "hash:64"])


def test_round_trip_through_plain_arrays(tmp_path: Path) -> None:
    weights = np.linspace(-1, 1, len(feature_names(SOURCES, DENSE)))
    adapter = np.arange(DIM * DIM, dtype=np.float32).reshape(DIM, DIM)
    save_reranker(_reranker(weights, ("en", "fr"), adapter), tmp_path)
    loaded = load_reranker(tmp_path)
    assert loaded.sources == SOURCES and loaded.languages == {"en", "fr"}
    assert loaded.dense_models == DENSE and (loaded.top_fused, loaded.top_each) == (20, 30)
    assert np.array_equal(loaded.models["fr"].adapter, adapter)
    query, hits = "Trump Putin Osaka 2019", _hits()
    original = _reranker(weights, adapter=adapter)
    x = original.features(query, original.models["en"], hits, TEXTS, _inputs())
    assert np.allclose(loaded.models["fr"].scores(x), original.models["en"].scores(x))
    meta = json.loads((tmp_path / "reranker.json").read_text())
    meta["features"] = ["other"]
    (tmp_path / "reranker.json").write_text(json.dumps(meta))
    with pytest.raises(WorkbenchError, match="other features"):
        load_reranker(tmp_path)
    with pytest.raises(WorkbenchError, match="cannot read the re-ranker"):
        load_reranker(tmp_path / "missing")


@pytest.mark.parametrize("index_type", ["flat", "ivf", "ivfpq"])
def test_stored_vectors_come_back_from_every_index_type(index_type: str, tmp_path) -> None:
    from workbench.index import dense

    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(200, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = np.arange(1000, 1200, dtype=np.int64)
    index = dense.build_index(ids, vectors, index_type)
    dense.save_index(index, tmp_path / "index.faiss")
    mapped = dense.load_index(tmp_path / "index.faiss")
    read = dense.load_index(tmp_path / "index.faiss", mmap=False)
    for each in (index, mapped, read):  # exact vectors, even from IVF-PQ's codes
        got = stored_vectors(each, [1005, 1199, 1000])
        assert np.allclose(got, vectors[[5, 199, 0]], atol=1e-6)
        assert stored_vectors(each, []).shape == (0, 8)
    with pytest.raises(RuntimeError):
        stored_vectors(mapped, [5])


def test_stored_vectors_of_ivfpq_with_ids_out_of_order(tmp_path) -> None:
    from workbench.index import dense

    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(200, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = np.arange(1000, 1400, 2, dtype=np.int64)[::-1].copy()  # not in row order
    dense.save_index(dense.build_index(ids, vectors, "ivfpq"), tmp_path / "pq.faiss")
    loaded = dense.load_index(tmp_path / "pq.faiss")
    got = stored_vectors(loaded, [1398, 1000, 1200])
    assert np.allclose(got, vectors[[0, 199, 99]], atol=1e-6)
    assert np.allclose(stored_vectors(loaded, [1002]), vectors[[198]], atol=1e-6)
    with pytest.raises(RuntimeError, match="1001"):
        stored_vectors(loaded, [1000, 1001])


def test_the_shipped_reranker_matches_the_default_retrievers() -> None:
    shipped = load_reranker()
    assert set(shipped.sources) == {
        "usem3", "usem3:focus", "st:all-MiniLM-L6-v2", "bm25", "bridge",
    }  # fmt: skip
    assert shipped.languages == {"en", "fr"}
    assert set(shipped.dense_models) == {"usem3", "st:all-MiniLM-L6-v2"}
    assert shipped.models["en"].adapter.shape == (384, 384)
    assert shipped.models["fr"].adapter.shape == (512, 512)
    assert sum(p.stat().st_size for p in MODEL_DIR.glob("reranker.*")) < 4_000_000  # a few MB


def test_memoised_tokens_equal_the_bm25_index_tokens() -> None:
    from workbench.index.lexical import tokenize as index_tokenize
    from workbench.rerank import tokenize

    texts = [*TEXTS.values(), "L’enquête qu’il a menée jusqu'à l'été: Élysée, ÉTATS-UNIS, 1 550 €"]
    for text in texts:
        assert tokenize(text) == index_tokenize(text)


def test_bench_training_features_equal_the_features_search_computes(
    evidence_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rows bench/train_reranker.py trains on (its `Blocks`, from cached ranked lists and
    separately encoded claims) are the rows `Retriever.search` scores at match time: same
    candidates, same order, same values. A skew here ships weights measured on inputs match
    never builds."""
    from dataclasses import replace

    from workbench.embed import HashingEmbedder
    from workbench.index import store
    from workbench.index.hybrid import fuse
    from workbench.ingest import ingest
    from workbench.retrieve import FusionConfig, Retriever, workspace_retriever
    from workbench.workspace import Workspace

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "bench"))
    train = pytest.importorskip("train_reranker")
    model_name = "hash:64"
    monkeypatch.setattr(train, "DENSE", (model_name,))
    monkeypatch.setattr(train, "ADAPTER_MODEL", {"en": model_name})

    ws = Workspace.open(tmp_path / "ws", create=True)
    embedders = [HashingEmbedder(64)]
    ingest(ws, [evidence_file], embedders)
    indexes = store.load(ws, ws.get_meta("models"))
    queries = [
        ("q1", "Trump and Putin spoke on the phone on 3 May 2019", "en"),
        ("q2", "Pompeo met Putin in Sochi in May", "en"),
    ]
    default = replace(FusionConfig(), rerank=False)
    plain = Retriever(embedders, indexes, default)
    sources = tuple(s.name for s in plain.sources)
    rng = np.random.default_rng(0)
    n = len(feature_names(sources, (model_name,)))
    adapter = (np.eye(64) + 0.1 * rng.normal(size=(64, 64))).astype(np.float32)
    model = Model(rng.normal(size=n), rng.uniform(0.5, 2, n), rng.normal(size=n), 0.0,
                  adapter, model_name)  # fmt: skip
    reranker = Reranker(sources, (model_name,), {"en": model}, 500, 2, 3, {})

    # The bench's training path: a Set read from the cached lists and claim vectors.
    data = train.Set.__new__(train.Set)
    data.queries, data.qrels, data.ws, data.indexes = queries, {}, ws, indexes
    data.doc_of = dict(
        ws.conn.execute(
            "SELECT p.id, d.doc_key FROM passages p JOIN documents d ON d.id = p.document_id"
        )
    )
    texts, langs = [q[1] for q in queries], [q[2] for q in queries]
    data.lists = plain.ranked_lists(texts, langs, 100)
    data.query_vectors = {model_name: embedders[0].encode(texts)}
    pools = [
        fuse(lists, plain.sources, q[2], indexes.langs, reranker.pool, default.mode)
        for q, lists in zip(queries, data.lists, strict=True)
    ]
    blocks = train.Blocks(data, reranker, pools)
    xs, _ = blocks.matrix(range(len(queries)), dict.fromkeys(range(len(queries)), adapter))
    assert len(xs) == len(queries)

    # What search computes, through the Retriever `match` builds.
    seen: list[tuple[str, list[int], np.ndarray]] = []
    features = Reranker.features

    def spy(self, query, model, hits, texts, inputs):
        x = features(self, query, model, hits, texts, inputs)
        seen.append((query, [h.passage_id for h in hits], x))
        return x

    monkeypatch.setattr(Reranker, "features", spy)
    retriever = workspace_retriever(ws, embedders, indexes, FusionConfig())
    monkeypatch.setattr(retriever, "reranker", reranker)
    retriever.search(texts, langs, 10)
    assert [s[0] for s in seen] == texts
    for i, (_, ids, x) in enumerate(seen):
        assert ids == [h.passage_id for h in reranker.candidates(pools[i])
                       if indexes.langs.get(h.passage_id) == "en"]  # fmt: skip
        assert x.shape == xs[i].shape
        assert np.allclose(x, xs[i], atol=1e-6), np.flatnonzero(~np.isclose(x, xs[i]).all(0))


def test_bench_joins_train_and_dev_keeping_each_tweets_lists_vectors_and_qrels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shipped English model is refitted on CLEF train + dev: both number their tweets from
    0, so a join that merged ids would pair one tweet's lists with another's fact-checks."""
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "bench"))
    train = pytest.importorskip("train_reranker")

    def part(name: str, queries: list, qrels: dict, lists: list, vectors: np.ndarray):
        data = train.Set.__new__(train.Set)
        data.name, data.queries, data.qrels, data.lists = name, queries, qrels, lists
        data.ws = type("W", (), {"root": tmp_path})()
        data.query_vectors = {"m": vectors}
        return data

    first = part("a", [("0", "one", "en"), ("1", "two", "en")], {"0": {"d1": 1}, "1": {"d2": 1}},
                 [{"bm25": [(1, 1.0)]}, {"bm25": [(2, 1.0)]}], np.eye(2, 3))  # fmt: skip
    second = part("b", [("0", "three", "en")], {"0": {"d3": 1}}, [{"bm25": [(3, 1.0)]}],
                  np.full((1, 3), 7.0))  # fmt: skip
    joined = train.Set.joined("a+b", first, second)
    assert [q[0] for q in joined.queries] == ["a:0", "a:1", "b:0"]
    assert joined.qrels == {"a:0": {"d1": 1}, "a:1": {"d2": 1}, "b:0": {"d3": 1}}
    assert [row["bm25"][0][0] for row in joined.lists] == [1, 2, 3]
    assert joined.query_vectors["m"].shape == (3, 3) and joined.query_vectors["m"][2, 0] == 7.0
    assert first.queries[0][0] == "0" and len(first.lists) == 2  # the parts are unchanged
    other = part("c", [], {}, [], np.zeros((0, 3)))
    other.ws = type("W", (), {"root": tmp_path / "elsewhere"})()
    with pytest.raises(ValueError, match="share their corpus"):
        train.Set.joined("a+c", first, other)


def test_bench_folds_keep_each_claims_posts_together(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cross-validation groups by claim: two posts about one claim in different folds would
    let a fold learn the claim from one post and be scored on it through the other."""
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "bench"))
    train = pytest.importorskip("train_reranker")
    data = train.Set.__new__(train.Set)
    # Posts 0-2 share claim a; post 3 has claims b and c, so it links posts 4 (b) and 5 (c);
    # post 6 has no relevant claim; posts 7-11 each have their own.
    qrels = {"0": {"a": 1}, "1": {"a": 1}, "2": {"a": 1}, "3": {"b": 1, "c": 1}, "4": {"b": 1}}
    qrels |= {"5": {"c": 1}, **{str(i): {f"own{i}": 1} for i in range(7, 12)}}
    data.queries = [(str(i), f"post {i}", "fr") for i in range(12)]
    data.qrels = qrels
    rows = list(range(12))
    folds = train.claim_folds(data, rows, 4)
    assert sorted(i for fold in folds for i in fold) == rows  # every post once
    fold_of = {i: k for k, fold in enumerate(folds) for i in fold}
    assert fold_of[0] == fold_of[1] == fold_of[2]
    assert fold_of[3] == fold_of[4] == fold_of[5]
    assert all(folds) and len(folds) == 4
    assert folds == train.claim_folds(data, rows, 4)  # the same folds every run
    # A subset of the rows (the inner folds of a training split) is grouped the same way.
    inner = train.claim_folds(data, [1, 2, 4, 5, 6, 7, 8, 9], 3)
    inner_of = {i: k for k, fold in enumerate(inner) for i in fold}
    assert inner_of[1] == inner_of[2] and sorted(inner_of) == [1, 2, 4, 5, 6, 7, 8, 9]
