"""Tests for the FAISS index: exact and approximate types, chosen by size, saved and loaded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from workbench.index import dense


def _vectors(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    v = rng.normal(size=(n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_choose_index_type_by_size() -> None:
    assert dense.choose_index_type(10) == "flat"
    assert dense.choose_index_type(dense.APPROX_THRESHOLD - 1) == "flat"
    assert dense.choose_index_type(dense.APPROX_THRESHOLD) == "ivf"
    assert dense.choose_index_type(500, threshold=400) == "ivf"


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
