"""Provides the dense vector index: exact inner product when small, IVF when large (FAISS)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

# Below this many vectors an exact scan is both fast enough (a few ms per query at 100k x 512)
# and exact; above it an inverted-file index keeps query time flat as the store grows.
APPROX_THRESHOLD = 100_000


def choose_index_type(n: int, threshold: int = APPROX_THRESHOLD) -> str:
    """'flat' (exact) for stores under `threshold` vectors, else 'ivf' (approximate)."""
    return "flat" if n < threshold else "ivf"


# k-means iterations and training points per list: FAISS's defaults (25 iterations, up to 256
# points per list) cost minutes at a million 512-dimension vectors on two cores; 64 points and
# 10 iterations place the centroids about as well for search (recall checked in bench/speed.py).
KMEANS_ITERATIONS = 10
TRAIN_POINTS_PER_LIST = 64


def ivf_params(n: int) -> tuple[int, int]:
    """(nlist, nprobe) for an inverted-file index over `n` vectors.

    nlist grows as sqrt(n) (1,000 lists at a million), below the 4-16 sqrt(n) FAISS suggests,
    because the index is rebuilt from scratch after every ingest and k-means time grows
    with nlist; each list keeps at least 39 training points. nprobe visits about 1/32 of the
    lists and never fewer than 16: the lists get longer as the store grows, so a fixed nprobe
    would let recall slip while a fixed fraction keeps it (bench/speed.py: recall@10 against
    exact search 0.97-1.0 at 100k and 1M vectors synthesised from real embeddings).
    """
    nlist = max(1, min(int(math.sqrt(n)), n // 39))
    nprobe = min(nlist, max(16, math.ceil(nlist / 32)))
    return nlist, nprobe


def build_index(ids: np.ndarray, vectors: np.ndarray, index_type: str, seed: int = 0):
    """Build a FAISS inner-product index over L2-normalised `vectors` keyed by `ids`."""
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    ids = np.ascontiguousarray(ids, dtype=np.int64)
    dim = vectors.shape[1]
    if index_type == "flat":
        index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
    elif index_type == "ivf":
        nlist, nprobe = ivf_params(len(vectors))
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
        index.cp.niter = KMEANS_ITERATIONS
        # Train on a fixed-seed sample: k-means on everything costs much and gains little.
        rng = np.random.default_rng(seed)
        sample = vectors
        if len(vectors) > nlist * TRAIN_POINTS_PER_LIST:
            picked = rng.choice(len(vectors), nlist * TRAIN_POINTS_PER_LIST, replace=False)
            sample = vectors[np.sort(picked)]
        index.train(sample)
        index.nprobe = nprobe
    else:
        raise ValueError(f"unknown index type {index_type!r}")
    if len(vectors):
        index.add_with_ids(vectors, ids)
    return index


def save_index(index, path: Path) -> None:
    import faiss

    faiss.write_index(index, str(path))


def load_index(path: Path, nprobe: int | None = None):
    import faiss

    index = faiss.read_index(str(path))
    if nprobe is not None and hasattr(index, "nprobe"):
        index.nprobe = nprobe
    return index


def search(index, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k (scores, ids) per query; missing slots have id -1."""
    k = max(1, min(k, index.ntotal)) if index.ntotal else 1
    if index.ntotal == 0:
        n = len(queries)
        return np.zeros((n, 0), dtype=np.float32), np.zeros((n, 0), dtype=np.int64)
    return index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
