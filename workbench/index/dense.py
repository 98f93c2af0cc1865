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


def _ivf_params(n: int) -> tuple[int, int]:
    # FAISS's guidance: nlist ~ 4*sqrt(n), at least ~39 training points per list;
    # nprobe of about nlist/16 keeps recall@10 high on sentence embeddings.
    nlist = max(1, min(int(4 * math.sqrt(n)), n // 39))
    nprobe = max(1, min(nlist, max(8, nlist // 16)))
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
        nlist, nprobe = _ivf_params(len(vectors))
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
        # Train on a fixed-seed sample: k-means on everything costs much and gains little.
        rng = np.random.default_rng(seed)
        sample = vectors
        if len(vectors) > nlist * 256:
            sample = vectors[rng.choice(len(vectors), nlist * 256, replace=False)]
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
