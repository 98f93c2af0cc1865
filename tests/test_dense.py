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
