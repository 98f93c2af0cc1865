"""Tests for the FAISS index: exact and approximate types, chosen by size, saved and loaded."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from workbench.embed import HashingEmbedder
from workbench.index import dense, store
from workbench.ingest import ingest
from workbench.retrieve import Retriever
from workbench.workspace import Workspace


def _vectors(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    v = rng.normal(size=(n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_choose_index_type_by_size() -> None:
    assert dense.choose_index_type(10) == "flat"
    assert dense.choose_index_type(dense.APPROX_THRESHOLD - 1) == "flat"
    assert dense.choose_index_type(dense.APPROX_THRESHOLD) == "ivf"
    assert dense.choose_index_type(500, threshold=400) == "ivf"
    assert dense.choose_index_type(dense.PQ_THRESHOLD - 1) == "ivf"
    assert dense.choose_index_type(dense.PQ_THRESHOLD) == "ivfpq"
    assert dense.choose_index_type(500, threshold=400, pq_threshold=500) == "ivfpq"
    # Lowering the PQ threshold alone forces IVF-PQ, even under the IVF threshold.
    assert dense.choose_index_type(50, pq_threshold=10) == "ivfpq"
    assert dense.choose_index_type(1, pq_threshold=0) == "flat"  # nothing to train on
    assert dense.APPROX_THRESHOLD < dense.PQ_THRESHOLD


def test_flat_index_is_exact_and_keeps_ids(tmp_path: Path) -> None:
    vectors = _vectors(200)
    ids = np.arange(1000, 1200, dtype=np.int64)
    index = dense.build_index(ids, vectors, "flat")
    dense.save_index(index, tmp_path / "i.faiss")
    loaded = dense.load_index(tmp_path / "i.faiss")
    scores, found = dense.search(loaded, vectors[:5], 3)
    assert found[:, 0].tolist() == ids[:5].tolist()
    assert scores[:, 0] == pytest.approx(np.ones(5), abs=1e-5)


def test_ivf_recall_against_exact(tmp_path: Path) -> None:
    # Clustered data, like sentence embeddings: the approximate index must find
    # nearly all of the exact top 10.
    rng = np.random.default_rng(1)
    centres = _vectors(40, 48, seed=2)
    vectors = centres[rng.integers(0, 40, 8000)] + rng.normal(scale=0.15, size=(8000, 48))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    ids = np.arange(len(vectors), dtype=np.int64)
    queries = vectors[rng.choice(len(vectors), 50, replace=False)]
    exact = dense.build_index(ids, vectors, "flat")
    approx = dense.build_index(ids, vectors, "ivf")
    assert type(approx).__name__ == "IndexIVFFlat"
    dense.save_index(approx, tmp_path / "ivf.faiss")
    approx = dense.load_index(tmp_path / "ivf.faiss")
    _, truth = dense.search(exact, queries, 10)
    _, found = dense.search(approx, queries, 10)
    recall = np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found, strict=True)])
    assert recall >= 0.9


def test_search_on_small_and_empty_indexes() -> None:
    index = dense.build_index(np.array([5]), _vectors(1), "flat")
    _, ids = dense.search(index, _vectors(2, seed=3), 10)
    assert ids.shape == (2, 1) and ids[0, 0] == 5
    empty = dense.build_index(np.zeros(0, dtype=np.int64), np.zeros((0, 32), np.float32), "flat")
    _, ids = dense.search(empty, _vectors(2), 10)
    assert ids.shape == (2, 0)


def test_ivf_params_scale_with_size() -> None:
    assert dense.ivf_params(100_000) == (316, 16)
    assert dense.ivf_params(1_000_000) == (1000, 32)
    assert dense.ivf_params(10) == (1, 1)
    for n in (400, 5_000, 100_000, 1_000_000, 10_000_000):
        nlist, nprobe = dense.ivf_params(n)
        assert n // nlist >= 39  # enough training points per list
        assert 1 <= nprobe <= nlist
        # A fixed share of the lists is visited, so recall does not slip as lists grow.
        assert nprobe >= min(nlist, 16) and nprobe / nlist >= 1 / 32


def test_ivf_trained_on_a_sample_keeps_recall(tmp_path: Path) -> None:
    # Above nlist * TRAIN_POINTS_PER_LIST vectors, k-means sees a sample only: overlapping
    # clusters (neighbours span several lists) must still give recall@10 >= 0.9.
    n, dim = 30_000, 64
    nlist, nprobe = dense.ivf_params(n)
    assert n > nlist * dense.TRAIN_POINTS_PER_LIST
    rng = np.random.default_rng(7)
    centres = _vectors(1000, dim, seed=8)
    noise = rng.normal(scale=0.7 / np.sqrt(dim), size=(n + 100, dim))
    points = centres[rng.integers(0, len(centres), n + 100)] + noise
    points = (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32)
    vectors, queries = points[:n], points[n:]
    ids = np.arange(n, dtype=np.int64) + 1
    approx = dense.build_index(ids, vectors, dense.choose_index_type(n, threshold=n))
    assert (approx.nlist, approx.nprobe) == (nlist, nprobe)
    dense.save_index(approx, tmp_path / "ivf.faiss")
    approx = dense.load_index(tmp_path / "ivf.faiss")
    assert approx.nprobe == nprobe  # the saved index keeps its search depth
    _, truth = dense.search(dense.build_index(ids, vectors, "flat"), queries, 10)
    _, found = dense.search(approx, queries, 10)
    recall = np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found, strict=True)])
    assert recall >= 0.9
    approx.nprobe = 1  # the data is hard enough that one list would not do
    _, found = dense.search(approx, queries, 10)
    assert np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found, strict=True)]) < 0.9


def _recall(truth: np.ndarray, found: np.ndarray) -> float:
    return float(np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found, strict=True)]))


def test_pq_params_follow_size_and_dimension() -> None:
    big = dense.pq_params(1_000_000, 512)
    assert (big.nlist, big.nprobe) == dense.ivf_params(1_000_000)
    assert (big.m, big.nbits, big.train_size) == (64, 8, dense.PQ_TRAIN_POINTS)
    assert dense.pq_params(1_000_000, 384).m == 48
    assert dense.pq_params(10_000_000, 512).train_size == 3162 * dense.TRAIN_POINTS_PER_LIST
    for n in (2, 50, 1_000, 20_000, 10_000_000):
        for dim in (32, 100, 384, 512, 768):
            p = dense.pq_params(n, dim)
            assert dim % p.m == 0 and 1 <= p.m <= max(1, dim // 8)
            # Enough training points for 2**nbits centroids per sub-quantiser.
            assert 1 <= p.nbits <= 8 and 2**p.nbits <= p.train_size <= n
    assert dense.pq_params(100, 64).nbits < 8  # a tiny store trains fewer centroids


def test_ivfpq_recall_save_and_mapped_load(tmp_path: Path) -> None:
    # 20k clustered vectors, neighbours spread over several lists: the re-ranked PQ index
    # must find nearly all of the exact top 10, keep the ids and its search depth through a
    # save and a memory-mapped load, and answer the same as before it was saved.
    n, dim = 20_000, 64
    rng = np.random.default_rng(3)
    centres = _vectors(300, dim, seed=4)
    noise = rng.normal(scale=0.6 / np.sqrt(dim), size=(n + 100, dim))
    points = centres[rng.integers(0, len(centres), n + 100)] + noise
    points = (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32)
    vectors, queries = points[:n], points[n:]
    ids = np.arange(n, dtype=np.int64) * 3 + 1000
    index = dense.build_index(ids, vectors, "ivfpq")
    ivf = dense.ivf_part(index)
    params = dense.pq_params(n, dim)
    assert type(ivf).__name__ == "IndexIVFPQ"
    assert (ivf.pq.M, ivf.pq.nbits) == (params.m, 8)
    assert (ivf.nlist, ivf.nprobe) == (params.nlist, params.nprobe)
    scores, found = dense.search(index, queries, 10)
    dense.save_index(index, tmp_path / "pq.faiss")
    loaded = dense.load_index(tmp_path / "pq.faiss")
    assert dense.ivf_part(loaded).nprobe == params.nprobe
    loaded_scores, loaded_found = dense.search(loaded, queries, 10)
    assert np.array_equal(found, loaded_found)
    assert np.allclose(scores, loaded_scores)
    assert set(loaded_found.ravel()) <= set(ids.tolist())
    _, truth = dense.search(dense.build_index(ids, vectors, "flat"), queries, 10)
    assert _recall(truth, loaded_found) >= 0.95
    # The exact re-scoring is what gives that recall: PQ codes alone order neighbours worse.
    _, pq_only = ivf.search(queries, 10)
    assert _recall(truth, ids[pq_only]) < _recall(truth, loaded_found)
    # A loaded copy that is rewritten under its reader keeps answering (save renames).
    dense.save_index(dense.build_index(ids[:10], vectors[:10], "flat"), tmp_path / "pq.faiss")
    assert np.array_equal(dense.search(loaded, queries, 10)[1], loaded_found)


def test_indexes_load_with_or_without_mapping(tmp_path: Path) -> None:
    vectors = _vectors(3000)
    ids = np.arange(3000, dtype=np.int64) + 5
    for kind in dense.INDEX_TYPES:
        dense.save_index(dense.build_index(ids, vectors, kind), tmp_path / f"{kind}.faiss")
        mapped = dense.load_index(tmp_path / f"{kind}.faiss", nprobe=2)
        read = dense.load_index(tmp_path / f"{kind}.faiss", mmap=False)
        assert mapped.ntotal == read.ntotal == 3000
        for index in (mapped, read):  # each vector finds itself first
            assert dense.search(index, vectors[:20], 1)[1][:, 0].tolist() == ids[:20].tolist()
        if kind != "flat":
            assert dense.ivf_part(mapped).nprobe == 2
    with pytest.raises(ValueError, match="unknown index type"):
        dense.build_index(ids, vectors, "hnsw")


def test_workspace_forced_to_ivfpq_matches(tmp_path: Path) -> None:
    path = tmp_path / "many.jsonl"
    path.write_text(
        "".join(
            json.dumps({"id": f"d{i}", "text": f"Passage number {i} about topic {i % 17}."}) + "\n"
            for i in range(400)
        )
    )
    ws = Workspace.open(tmp_path / "ws", create=True)
    report = ingest(ws, [path], [HashingEmbedder(32)], approx_threshold=100, pq_threshold=200)
    assert report.index_types == {"hash:32": "ivfpq"}
    manifest = ws.read_manifest()
    assert manifest["pq_threshold"] == 200
    assert manifest["models"][0]["index_type"] == "ivfpq"
    indexes = store.load(ws, ws.get_meta("models"))
    assert type(dense.ivf_part(indexes.dense["hash:32"])).__name__ == "IndexIVFPQ"
    hits = Retriever([HashingEmbedder(32)], indexes).search(["Passage number 123"], ["en"], 3)
    assert hits[0][0].passage_id == 124  # passage ids start at 1
    # A stale index is rebuilt with the workspace's thresholds, not the defaults.
    (ws.index_dir / manifest["models"][0]["file"]).unlink()
    rebuilt = store.load(ws, ws.get_meta("models"))
    assert rebuilt.manifest["models"][0]["index_type"] == "ivfpq"


def _many(path: Path, n: int, prefix: str = "d") -> Path:
    path.write_text(
        "".join(
            json.dumps({"id": f"{prefix}{i}", "text": f"Passage {prefix}{i} on topic {i % 17}."})
            + "\n"
            for i in range(n)
        )
    )
    return path


def test_a_workspace_keeps_its_index_thresholds(tmp_path: Path) -> None:
    from workbench.ingest import reindex

    ws = Workspace.open(tmp_path / "ws", create=True)
    embedders = [HashingEmbedder(32)]
    ingest(
        ws, [_many(tmp_path / "a.jsonl", 400)], embedders, approx_threshold=100, pq_threshold=200
    )
    assert store.index_thresholds(ws) == (100, 200)
    assert store.index_thresholds(ws, pq_threshold=300) == (100, 300)
    # A plain ingest (no thresholds named) keeps the workspace's, not the defaults.
    report = ingest(ws, [_many(tmp_path / "b.jsonl", 20, "b")], embedders)
    assert report.index_types == {"hash:32": "ivfpq"}
    manifest = ws.read_manifest()
    assert (manifest["approx_threshold"], manifest["pq_threshold"]) == (100, 200)
    assert reindex(ws, embedders).index_types == {"hash:32": "ivfpq"}
    # Named thresholds replace them, and are kept in turn.
    report = ingest(ws, [_many(tmp_path / "c.jsonl", 5, "c")], embedders, pq_threshold=10**6)
    assert report.index_types == {"hash:32": "ivf"}
    assert ws.read_manifest()["pq_threshold"] == 10**6
    fresh = Workspace.open(tmp_path / "new", create=True)
    assert store.index_thresholds(fresh) == (dense.APPROX_THRESHOLD, dense.PQ_THRESHOLD)


def test_rebuild_removes_temporary_files_of_killed_builds(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    ws = Workspace.open(tmp_path / "ws", create=True)
    ingest(ws, [_many(tmp_path / "a.jsonl", 30)], [HashingEmbedder(32)])
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    stale = ws.index_dir / f".dense-hash_32.faiss.{int(dead.stdout)}.tmp"
    live = ws.index_dir / f".dense-hash_32.faiss.{os.getppid()}.tmp"  # a build still writing
    other = ws.index_dir / ".notes.txt.123.tmp"
    for path in (stale, live, other):
        path.write_bytes(b"partial")
    assert dense.stale_temp_files(ws.index_dir) == [stale]
    store.rebuild(ws, ws.get_meta("models"))
    assert not stale.exists() and live.exists() and other.exists()
    assert (ws.index_dir / "dense-hash_32.faiss").exists()


def _stored_vectors(root: Path, n: int, dim: int, model: str = "m") -> Workspace:
    # A workspace of `n` passages with clustered unit vectors, written straight to SQLite;
    # passage ids have gaps so that rows and ids differ.
    rng = np.random.default_rng(4)
    centres = _vectors(50, dim, seed=5)
    vectors = centres[rng.integers(0, 50, n)] + rng.normal(scale=0.2, size=(n, dim))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    ws = Workspace.open(root, create=True)
    with ws.transaction() as conn:
        conn.execute(
            "INSERT INTO documents(id, doc_key, content_hash, added_at) VALUES (1,'d','h','t')"
        )
        rows = [(3 * i + 2, i, f"passage {i}") for i in range(n)]
        conn.executemany(
            "INSERT INTO passages(id, document_id, seq, start, end, text) VALUES (?,1,?,0,1,?)",
            rows,
        )
        conn.executemany(
            "INSERT INTO vectors(passage_id, model, vec) VALUES (?,?,?)",
            ((pid, model, v.tobytes()) for (pid, _, _), v in zip(rows, vectors, strict=True)),
        )
        ws.bump_generation(conn)
    return ws


@pytest.mark.parametrize(
    ("kind", "n", "thresholds"),
    [("flat", 3_000, (10**9, 10**9)), ("ivf", 6_000, (1, 10**9)), ("ivfpq", 70_000, (1, 1))],
)
def test_streamed_rebuild_equals_build_from_the_whole_matrix(
    tmp_path: Path, kind: str, n: int, thresholds: tuple[int, int]
) -> None:
    import faiss

    from workbench.errors import WorkspaceError

    dim = 16
    ws = _stored_vectors(tmp_path / "ws", n, dim)
    models = [{"name": "m", "dim": dim}]
    # The sample is smaller than the store (ivf: 64 per list; ivfpq: 65,536 rows).
    assert 0 < len(dense.training_rows(n, dim, kind)) < n or kind == "flat"
    manifest = store.rebuild(ws, models, *thresholds, chunk_size=n // 7)
    assert manifest["models"][0]["index_type"] == kind
    streamed = dense.load_index(ws.index_dir / manifest["models"][0]["file"], mmap=False)
    ids, matrix = ws.load_vectors("m", dim)
    whole = dense.build_index(ids, matrix, kind)
    assert streamed.ntotal == whole.ntotal == n
    assert np.array_equal(faiss.serialize_index(streamed), faiss.serialize_index(whole))
    queries = matrix[:: n // 40]
    scores_a, found_a = dense.search(streamed, queries, 10)
    scores_b, found_b = dense.search(whole, queries, 10)
    assert np.array_equal(found_a, found_b) and np.array_equal(scores_a, scores_b)
    assert set(found_a[:, 0].tolist()) <= set(ids.tolist())
    # A passage without its vector is refused with the fix, as before streaming.
    ws.conn.execute("DELETE FROM vectors WHERE passage_id = ?", (int(ids[n // 2]),))
    with pytest.raises(WorkspaceError, match=f"has {n - 1} m vectors for {n} passages"):
        store.rebuild(ws, models, *thresholds, chunk_size=n // 7)
