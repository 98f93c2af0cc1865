"""Provides the dense vector index: exact when small, IVF when large, IVF-PQ when huge (FAISS)."""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import NamedTuple

import numpy as np

# Below this many vectors an exact scan is both fast enough (a few ms per query at 100k x 512)
# and exact; above it an inverted-file index keeps query time flat as the store grows.
APPROX_THRESHOLD = 100_000
# From this many vectors the lists hold product-quantised codes instead of float vectors.
# bench/index_scale.py at 1M (USE-m3 512 + MiniLM 384 dimensions): IVFFlat keeps 3.6 GB per
# million passages resident, IVF-PQ 0.15 GB, at recall@10 0.99 against IVFFlat's 1.00 and
# twice IVFFlat's build time (30 s against 15 s at 1M x 512). At 2M passages IVFFlat already
# needs 7.2 GB resident (a streamed rebuild adds one chunk and FAISS's buffers, not a second
# copy of the vectors): about what a 16 GB machine can give. Below that IVFFlat's exact lists
# are worth their memory.
PQ_THRESHOLD = 2_000_000

INDEX_TYPES = ("flat", "ivf", "ivfpq")


def choose_index_type(
    n: int, threshold: int = APPROX_THRESHOLD, pq_threshold: int = PQ_THRESHOLD
) -> str:
    """'flat' (exact) under `threshold` vectors, 'ivf' from it, 'ivfpq' from `pq_threshold`.

    `pq_threshold` is checked first, so lowering it alone forces IVF-PQ on a small store
    (as tests do); a store of 0 or 1 vector is always 'flat' (too few to train a quantiser).
    """
    if n < 2:
        return "flat"
    if n >= pq_threshold:
        return "ivfpq"
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


# Dimensions per sub-quantiser: one byte (8 bits) codes 8 float dimensions, a 32-fold saving.
# At 1M x 512 (bench/index_scale.py's vectors, 200 queries), 64 sub-quantisers put 99% of the
# exact top 10 among the codes' first 100 candidates, 32 sub-quantisers (16 dimensions) 95%.
DIMS_PER_SUBQUANTIZER = 8
# FAISS trains each sub-quantiser on at most 256 points per centroid (65,536 for 8 bits):
# more would be subsampled away, so the sample is at least that, when the store has it.
PQ_TRAIN_POINTS = 256 * 256
# Candidates re-scored with the exact vectors, per result wanted. The codes alone order close
# neighbours poorly (recall@10 0.46 at 1M x 512); re-scoring 10 times the results wanted with
# the float vectors, read from the memory-mapped file, brings it to 0.99 (bench/index_scale.py)
# for a few hundred KB read per query. The vectors stay on disk, out of resident memory.
REFINE_FACTOR = 10


class PQParams(NamedTuple):
    """The shape of an IVF-PQ index (see `pq_params`)."""

    nlist: int
    nprobe: int
    m: int
    nbits: int
    train_size: int
    k_factor: int


def pq_params(n: int, dim: int) -> PQParams:
    """The IVF-PQ index for `n` vectors of `dim` dimensions.

    - nlist, nprobe: as `ivf_params` (the coarse lists work the same way).
    - m: sub-quantisers, dim / 8 (64 at 512, 48 at 384), the largest divisor of dim not above
      it: m bytes of code per vector.
    - nbits: 8 (256 centroids per sub-quantiser), fewer only when the store is too small to
      train them (FAISS wants about 39 points per centroid), so that a store forced to IVF-PQ
      by a low threshold still builds.
    - train_size: a fixed-seed sample of max(64 per list, 65,536) vectors (the coarse k-means'
      share and what PQ training would use), or all of them when fewer.
    - k_factor: candidates re-scored exactly per result (`REFINE_FACTOR`).
    """
    nlist, nprobe = ivf_params(n)
    m = max(1, dim // DIMS_PER_SUBQUANTIZER)
    while dim % m:
        m -= 1
    nbits = min(8, int(math.log2(max(n / 39, 2))))
    train_size = min(n, max(nlist * TRAIN_POINTS_PER_LIST, PQ_TRAIN_POINTS))
    return PQParams(nlist, nprobe, m, nbits, train_size, REFINE_FACTOR)


def training_rows(n: int, dim: int, index_type: str, seed: int = 0) -> np.ndarray:
    """The sorted row numbers, among `n` vectors, that an index of `index_type` trains on.

    A fixed-seed sample (k-means on everything costs much and gains little): `ivf` takes 64
    rows per list (`ivf_params`), `ivfpq` `pq_params`' train_size, each all rows when the store
    has no more; `flat` trains on nothing. The same (n, seed) gives the same rows, so a build
    that reads the vectors in chunks (`store.rebuild`) trains as one given the whole matrix.
    """
    if index_type == "flat":
        return np.zeros(0, dtype=np.int64)
    if index_type == "ivf":
        size = ivf_params(n)[0] * TRAIN_POINTS_PER_LIST
    elif index_type == "ivfpq":
        size = pq_params(n, dim).train_size
    else:
        raise ValueError(f"unknown index type {index_type!r} (one of {', '.join(INDEX_TYPES)})")
    if n <= size:
        return np.arange(n, dtype=np.int64)
    picked = np.random.default_rng(seed).choice(n, size, replace=False)
    return np.sort(picked).astype(np.int64)


def _reserve(codes, size: int) -> None:
    # Grow an empty code vector to its final size and back: the capacity stays, so adding the
    # vectors chunk by chunk never reallocates it (a reallocation holds the old and new copies).
    codes.resize(size)
    codes.resize(0)


def _new_ivf(dim: int, n: int, sample: np.ndarray):
    import faiss

    nlist, nprobe = ivf_params(n)
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
    index.cp.niter = KMEANS_ITERATIONS
    index.train(sample)
    index.nprobe = nprobe
    return index


def _new_ivfpq(dim: int, n: int, sample: np.ndarray):
    """IVF-PQ (codes in the lists) wrapped in an exact re-ranker, keyed by an id map.

    The re-ranker looks candidates up by their row number, so the ids live in the id map
    around it rather than in the inverted lists (a plain IndexIDMap: an IndexIDMap2's hash
    map would cost memory and load time; `rerank.stored_vectors` finds rows through the map).
    """
    import faiss

    p = pq_params(n, dim)
    ivf = faiss.IndexIVFPQ(
        faiss.IndexFlatIP(dim), dim, p.nlist, p.m, p.nbits, faiss.METRIC_INNER_PRODUCT
    )
    ivf.cp.niter = KMEANS_ITERATIONS
    ivf.pq.cp.niter = KMEANS_ITERATIONS
    ivf.train(sample)
    ivf.nprobe = p.nprobe
    refine = faiss.IndexRefineFlat(ivf)
    refine.k_factor = p.k_factor
    _reserve(faiss.downcast_index(refine.refine_index).codes, n * dim * 4)
    return faiss.IndexIDMap(refine)


def new_index(dim: int, n: int, index_type: str, sample: np.ndarray | None = None):
    """An empty index of `index_type` for `n` vectors of `dim` dimensions, trained on `sample`
    (the vectors at `training_rows(n, dim, index_type)`; None for 'flat'), for `add_chunk`.

    'flat' scans every vector; 'ivf' (IndexIVFFlat) the lists nearest the query; 'ivfpq'
    (IndexIVFPQ) does the same over 8-bit product-quantised codes, then re-scores its best
    candidates with the exact vectors (IndexRefineFlat), which the file keeps for
    `load_index` to memory-map. Exact vectors are given room for all `n` up front.
    """
    import faiss

    if index_type == "flat":
        flat = faiss.IndexFlatIP(dim)
        _reserve(flat.codes, n * dim * 4)
        return faiss.IndexIDMap2(flat)
    if index_type not in INDEX_TYPES:
        raise ValueError(f"unknown index type {index_type!r} (one of {', '.join(INDEX_TYPES)})")
    if sample is None:
        raise ValueError(f"an {index_type} index needs its training sample")
    sample = np.ascontiguousarray(sample, dtype=np.float32)
    return (_new_ivf if index_type == "ivf" else _new_ivfpq)(dim, n, sample)


def add_chunk(index, ids: np.ndarray, vectors: np.ndarray) -> None:
    """Add L2-normalised `vectors` keyed by `ids` to an index from `new_index`: chunks added in
    id order give the index one add of the whole matrix gives."""
    if len(vectors):
        index.add_with_ids(
            np.ascontiguousarray(vectors, dtype=np.float32),
            np.ascontiguousarray(ids, dtype=np.int64),
        )


def build_index(ids: np.ndarray, vectors: np.ndarray, index_type: str, seed: int = 0):
    """Build a FAISS inner-product index over L2-normalised `vectors` keyed by `ids`.

    The same two steps as a streamed build (`store.rebuild`): `new_index` trained on the
    fixed-seed sample `training_rows` picks (the same input gives the same index), then
    `add_chunk` with every vector.
    """
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dim = vectors.shape
    rows = training_rows(n, dim, index_type, seed)
    sample = None if index_type == "flat" else vectors if len(rows) == n else vectors[rows]
    index = new_index(dim, n, index_type, sample)
    add_chunk(index, ids, vectors)
    return index


def save_index(index, path: Path) -> None:
    """Write `index` to `path` through a file beside it, renamed into place.

    A loaded index maps its file: rewriting that file in place would pull it from under the
    reader, while a rename leaves the reader its old copy.
    """
    import faiss

    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # matches TEMP_FILE
    try:
        faiss.write_index(index, str(tmp))
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


# What `save_index` writes before the rename, with the writer's pid; a writer killed
# mid-write leaves one behind (`stale_temp_files`).
TEMP_FILE = re.compile(r"\.(?P<name>.+\.faiss)\.(?P<pid>\d+)\.tmp")


def pid_alive(pid: int) -> bool:
    """Whether a process `pid` is running (another user's counts)."""
    try:
        os.kill(pid, 0)
    except PermissionError:
        return True  # another user's process
    except (OSError, OverflowError):
        return False  # no such process
    return True


def stale_temp_files(folder: Path) -> list[Path]:
    """`save_index`'s temporary files in `folder` whose writer is no longer running."""
    found = []
    for path in Path(folder).glob(".*.faiss.*.tmp"):
        match = TEMP_FILE.fullmatch(path.name)
        if match and path.is_file() and not pid_alive(int(match["pid"])):
            found.append(path)
    return found


def ivf_part(index):
    """The inverted-file index inside `index` (IVF or IVF-PQ), or None for an exact one."""
    import faiss

    ivf = faiss.try_extract_index_ivf(index)
    return None if ivf is None else faiss.downcast_index(ivf)


def load_index(path: Path, nprobe: int | None = None, mmap: bool = True):
    """Read an index saved by `save_index`, memory-mapped unless `mmap` is False.

    Mapped (FAISS's IO_FLAG_MMAP_IFC, all three types), loading takes milliseconds instead of
    reading the whole file (bench/index_scale.py, 1M x 512: 0.07 s against 1.6 s for IVF,
    from the page cache; a cold disk costs more), pages come
    in as searches touch them and stay in the page cache, shared by every process that maps
    the same file (one copy for several workers), and the kernel can drop them under memory
    pressure. For IVF-PQ this is what keeps its exact vectors out of memory: a search reads
    only its candidates' rows. The mapped index is read-only: build a new one to change it.
    """
    import faiss

    flags = (faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY) if mmap else 0
    index = faiss.read_index(str(path), flags)
    ivf = ivf_part(index)
    if nprobe is not None and ivf is not None:
        ivf.nprobe = nprobe
    return index


def search(index, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k (scores, ids) per query; missing slots have id -1."""
    k = max(1, min(k, index.ntotal)) if index.ntotal else 1
    if index.ntotal == 0:
        n = len(queries)
        return np.zeros((n, 0), dtype=np.float32), np.zeros((n, 0), dtype=np.int64)
    return index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
