"""Provides the speed benchmark: ingest vs the raw encoders; latency, memory, load at scale."""

from __future__ import annotations

import argparse
import collections
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from retrieval import MINILM, USE, load_clef  # noqa: E402

from workbench import config  # noqa: E402
from workbench.embed import Embedder, canonical_ref  # noqa: E402
from workbench.index import dense, store  # noqa: E402
from workbench.index.lexical import LexicalIndex, tokenize  # noqa: E402
from workbench.ingest import ENCODE_GROUP_BATCHES, ingest, plan_passages, read_documents  # noqa: E402
from workbench.retrieve import Retriever  # noqa: E402
from workbench.workspace import Workspace  # noqa: E402

USAGE = """
Ingest against the raw encoders (the same models encoding the same passage texts in the same
calls, half before the ingest and half after it, so that load drifting during the run weighs
on both), then query latency per claim over 10k, 100k and 1M passages: the real models embed
each claim, FAISS (index type chosen by size) searches synthetic vectors seeded from the real
ones, BM25 scores synthetic text, and the fusion ranks. Then index memory, load time from disk,
and start-up time of the command line. Models and libraries are loaded before any timing.

    python bench/speed.py [--data ../shared/data] [--quick] [--sizes 10000,100000] [--json F]
"""

BATCH = 256  # ingest's default batch (the command line's --batch-size)
K = 10
# Noise added to a point between two neighbouring real vectors: cosine about 0.8 with the
# clean point (a paraphrase), so the synthetic store keeps the real embeddings' shape.
NOISE = 0.75
RECALL_QUERIES = 200


def _rss_mb() -> float:
    return _status_kb("VmRSS") / 1024


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _reset_peak() -> bool:
    # Linux resets VmHWM (the peak resident size) when "5" is written to clear_refs.
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


class TimedEmbedder:
    """Wraps an embedder to add up the seconds spent encoding (the query's embedding share)."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name, self.dim, self.languages = inner.name, inner.dim, inner.languages
        self.seconds = 0.0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        started = time.perf_counter()
        try:
            return self.inner.encode(texts)
        finally:
            self.seconds += time.perf_counter() - started


def load_models() -> list[Embedder]:
    import bm25s  # noqa: F401  (imported here so that no timing pays for it)
    import faiss  # noqa: F401

    embedders = config.load_embedders([USE, MINILM])
    for embedder in embedders:
        embedder.encode(["warm up"] * 8)
        embedder.encode(["warm up"] * 300)
    return embedders


# ---------------------------------------------------------------- ingest against raw encoders


def _raw(embedders: Sequence[Embedder], texts: list[str]) -> dict[str, float]:
    # The calls ingest makes: each model encodes a group of batches before the next one
    # (ingest's groups end on document boundaries, so their sizes differ by a few passages).
    step = BATCH * ENCODE_GROUP_BATCHES
    seconds = {}
    for embedder in embedders:
        started = time.perf_counter()
        for i in range(0, len(texts), step):
            embedder.encode(texts[i : i + step])
        seconds[embedder.name] = time.perf_counter() - started
    return seconds


def bench_ingest(name: str, corpus: Path, embedders: list[Embedder], workdir: Path) -> dict:
    texts = [p["index_text"] for doc in read_documents([corpus]) for p in plan_passages(doc)]
    group = BATCH * ENCODE_GROUP_BATCHES
    # Half the groups before the ingest, half after; a corpus under two groups is encoded
    # whole before and after, and the two passes averaged.
    half = len(texts) // 2 // group * group
    before = _raw(embedders, texts[:half] if half else texts)
    ws = Workspace.open(workdir / f"ws-{name}", create=True)
    started = time.perf_counter()
    report = ingest(ws, [corpus], embedders, batch_size=BATCH)
    ingest_s = time.perf_counter() - started
    after = _raw(embedders, texts[half:] if half else texts)
    share = 1.0 if half else 0.5
    raw = {e.name: (before[e.name] + after[e.name]) * share for e in embedders}
    raw_s = sum(raw.values())
    n = report.passages_total
    assert n == len(texts), (n, len(texts))
    return {
        "set": name,
        "passages": n,
        "raw_rate": n / raw_s,
        "ingest_rate": n / ingest_s,
        "ratio": raw_s / ingest_s,
        "embed_share": report.embed_seconds / ingest_s,
        "embed_vs_raw": raw_s / report.embed_seconds,
        "index_seconds": report.index_seconds,
        "per_model": {k: n / v for k, v in raw.items()},
        "workspace": ws,
    }


# ----------------------------------------------------------------------------- scale section


def _neighbours(seeds: np.ndarray, k: int = 10) -> np.ndarray:
    """Each seed's k nearest other seeds (rows), by inner product."""
    out = np.empty((len(seeds), k), dtype=np.int64)
    for start in range(0, len(seeds), 2000):
        scores = seeds[start : start + 2000] @ seeds.T
        rows = np.arange(start, start + len(scores))
        scores[rows - start, rows] = -np.inf
        out[start : start + len(scores)] = np.argpartition(-scores, k, axis=1)[:, :k]
    return out


def _synthetic_vectors(
    seeds: np.ndarray, neighbours: np.ndarray, n: int, rng: np.random.Generator
) -> np.ndarray:
    # A point on the segment from a real vector to one of its real neighbours, plus noise:
    # the synthetic store fills the real embeddings' manifold instead of piling up copies
    # of each seed (which would make search easier the larger the store).
    dim = seeds.shape[1]
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 100_000):
        stop = min(n, start + 100_000)
        pick = rng.integers(0, len(seeds), stop - start)
        other = neighbours[pick, rng.integers(0, neighbours.shape[1], len(pick))]
        t = rng.random((len(pick), 1), dtype=np.float32)
        chunk = seeds[pick] * (1 - t) + seeds[other] * t
        chunk += rng.standard_normal(chunk.shape, dtype=np.float32) * np.float32(
            NOISE / math.sqrt(dim)
        )
        chunk /= np.linalg.norm(chunk, axis=1, keepdims=True)
        out[start:stop] = chunk
    return out


def _exact_top(vectors: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Exact top-k ids (row numbers) by inner product, block by block (no second copy)."""
    best_s = np.full((len(queries), 0), -np.inf, dtype=np.float32)
    best_i = np.zeros((len(queries), 0), dtype=np.int64)
    for start in range(0, len(vectors), 200_000):
        scores = queries @ vectors[start : start + 200_000].T
        top = np.argpartition(-scores, min(k, scores.shape[1] - 1), axis=1)[:, :k]
        best_s = np.hstack([best_s, np.take_along_axis(scores, top, axis=1)])
        best_i = np.hstack([best_i, top + start])
        keep = np.argsort(-best_s, axis=1)[:, :k]
        best_s = np.take_along_axis(best_s, keep, axis=1)
        best_i = np.take_along_axis(best_i, keep, axis=1)
    return best_i


def _zipf_ranks(rng: np.random.Generator, count: int, vocab: int) -> np.ndarray:
    ranks = rng.zipf(1.1, size=count) - 1
    over = ranks >= vocab
    ranks[over] = rng.integers(0, vocab, int(over.sum()))
    return ranks.astype(np.int64)


def _synthetic_bm25(vocab: list[str], n: int, mean_len: float, rng: np.random.Generator):
    """A bm25s retriever over `n` synthetic passages (Zipf words of `vocab`), built with numpy.

    bm25s's own builder loops over documents in Python (minutes at a million); the arrays
    built here are the ones it would build (method 'lucene', its defaults), and the query path
    (`get_scores`, then our ranking) is the real one.
    """
    import bm25s

    lengths = np.maximum(1, rng.poisson(mean_len, n))
    docs = np.repeat(np.arange(n, dtype=np.int64), lengths)
    tokens = _zipf_ranks(rng, len(docs), len(vocab))
    pairs, tf = np.unique(docs * len(vocab) + tokens, return_counts=True)
    doc, tok = pairs // len(vocab), pairs % len(vocab)
    df = np.bincount(tok, minlength=len(vocab))
    retriever = bm25s.BM25()
    k1, b = retriever.k1, retriever.b
    idf = np.log(1 + (n - df + 0.5) / (df + 0.5))
    norm = k1 * (1 - b + b * lengths[doc] / lengths.mean())
    data = (idf[tok] * tf / (tf + norm)).astype(np.float32)
    order = np.lexsort((doc, tok))
    indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
    np.cumsum(df, out=indptr[1:])
    retriever.scores = {
        "data": data[order],
        "indices": doc[order].astype(np.int32),
        "indptr": indptr,
        "num_docs": n,
    }
    retriever.vocab_dict = {word: i for i, word in enumerate(vocab)}
    retriever.nonoccurrence_array = None  # lucene scoring has none
    return retriever


def _vocabulary(texts: list[str], analyze, size: int, filler: str) -> list[str]:
    counts = collections.Counter(t for text in texts for t in analyze(text))
    words = [w for w, _ in counts.most_common()]
    return words + [f"{filler}{i}" for i in range(max(0, size - len(words)))]


# Read whole, not memory-mapped as the workbench loads them: the resident memory measured is
# then what a serving process reaches once its searches have touched every page.
_LOAD_SCRIPT = """
import json, resource, sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
import faiss, bm25s
from workbench.index import dense
from workbench.index.lexical import LexicalIndex
def rss():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
before = rss()
started = time.perf_counter()
kept = [dense.load_index(Path(p), mmap=False) for p in {dense_files!r}]
kept += [LexicalIndex.load(Path(p)) for p in {lexical_folders!r}]
seconds = time.perf_counter() - started
print(json.dumps({{"seconds": seconds, "rss_mb": rss() - before}}))
"""


def _load_in_fresh_process(dense_files: list[Path], lexical_folders: list[Path]) -> dict:
    script = _LOAD_SCRIPT.format(
        root=str(ROOT),
        dense_files=[str(p) for p in dense_files],
        lexical_folders=[str(p) for p in lexical_folders],
    )
    out = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def bench_scale(
    sizes: list[int],
    embedders: list[Embedder],
    seed_ws: Workspace,
    claims: list[tuple[str, str]],
    corpus_texts: list[str],
    workdir: Path,
) -> tuple[list[dict], dict]:
    from workbench.index.bridge import bridge_tokens

    rng = np.random.default_rng(13)
    biggest = max(sizes)
    synthetic: dict[str, np.ndarray] = {}
    queries: dict[str, np.ndarray] = {}
    seeds_count = 0
    started = time.perf_counter()
    for embedder in embedders:
        name = canonical_ref(embedder.name)
        _, seeds = seed_ws.load_vectors(name, embedder.dim)
        seeds_count = len(seeds)
        near = _neighbours(seeds)
        synthetic[name] = _synthetic_vectors(seeds, near, biggest, rng)
        queries[name] = _synthetic_vectors(seeds, near, RECALL_QUERIES, rng)
    words = _vocabulary(corpus_texts, tokenize, 100_000, "zw")
    bridge_vocab = _vocabulary(
        corpus_texts[:2000] + [c[0] for c in claims], lambda t: bridge_tokens(t, ""), 20_000, "@z"
    )
    langs_all = np.where(rng.random(biggest) < 0.2, "fr", "en")
    setup = {
        "seed_vectors": seeds_count,
        "generate_seconds": time.perf_counter() - started,
        "vocabulary": len(words),
    }

    rows = []
    for n in sizes:
        ids = np.arange(1, n + 1, dtype=np.int64)
        folder = workdir / f"scale-{n}"
        folder.mkdir()
        row: dict[str, Any] = {"passages": n, "index_type": dense.choose_index_type(n)}
        if row["index_type"] == "ivf":
            row["nlist"], row["nprobe"] = dense.ivf_params(n)
        # Peak resident memory while the dense indexes are built, beyond the input vectors
        # (which store.rebuild holds as well): the index's copy and k-means' working set.
        rss_before = _rss_mb()
        peak_ok = _reset_peak()
        started = time.perf_counter()
        indexes = {
            name: dense.build_index(ids, matrix[:n], row["index_type"])
            for name, matrix in synthetic.items()
        }
        row["dense_build_seconds"] = time.perf_counter() - started
        row["build_peak_mb_per_million"] = (
            (_status_kb("VmHWM") / 1024 - rss_before) * 1e6 / n if peak_ok else None
        )
        recall = {}
        if row["index_type"] == "ivf":
            for name, matrix in synthetic.items():
                truth = _exact_top(matrix[:n], queries[name], K) + 1
                _, found = dense.search(indexes[name], queries[name], K)
                recall[name] = float(
                    np.mean([len(set(t) & set(f)) / K for t, f in zip(truth, found, strict=True)])
                )
        started = time.perf_counter()
        lexical = {
            "words": LexicalIndex(_synthetic_bm25(words, n, 20, rng), ids, "words"),
            "bridge": LexicalIndex(_synthetic_bm25(bridge_vocab, n, 3, rng), ids, "bridge"),
        }
        row["bm25_build_seconds"] = time.perf_counter() - started
        row["recall_at_10"] = recall or None
        dense_files = []
        for name, index in indexes.items():
            path = folder / f"dense-{name.replace(':', '_')}.faiss"
            dense.save_index(index, path)
            dense_files.append(path)
        lexical_folders = []
        for analyzer, index in lexical.items():
            index.save(folder / analyzer)
            lexical_folders.append(folder / analyzer)
        row["disk_mb"] = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 2**20
        loaded = _load_in_fresh_process(dense_files, lexical_folders)
        row["load_seconds"] = loaded["seconds"]
        row["index_mb"] = loaded["rss_mb"]
        row["index_mb_per_million"] = loaded["rss_mb"] * 1e6 / n

        timed = [TimedEmbedder(e) for e in embedders]
        index_set = store.IndexSet(
            dense=indexes,
            lexical=lexical,
            langs=dict(zip(ids.tolist(), langs_all[:n].tolist(), strict=True)),
        )
        retriever = Retriever(timed, index_set)
        retriever.search([claims[0][0]], [claims[0][1]], K)  # warm caches
        for t in timed:
            t.seconds = 0.0
        latencies = []
        for text, lang in claims:
            started = time.perf_counter()
            retriever.search([text], [lang], K)
            latencies.append(time.perf_counter() - started)
        embed_s = sum(t.seconds for t in timed) / len(claims)
        row["latency_ms"] = 1000 * float(np.mean(latencies))
        row["latency_p90_ms"] = 1000 * float(np.percentile(latencies, 90))
        row["embed_ms"] = 1000 * embed_s
        row["search_fuse_ms"] = row["latency_ms"] - row["embed_ms"]
        rows.append(row)
        del indexes, lexical, index_set, retriever
    return rows, setup


# ----------------------------------------------------------------------------------- start-up


def startup() -> dict:
    """Median wall time of `workbench --help`, `workbench extract` and a bare Python start."""

    def median(cmd: list[str]) -> float:
        times = []
        for _ in range(5):
            started = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            times.append(time.perf_counter() - started)
        return sorted(times)[2]

    seed = str(ROOT / "seeds/sotchi-poutine-pompeo.fr.txt")
    probe = (
        "import runpy, sys; sys.argv = ['workbench'] + sys.argv[1:]\n"
        "try:\n    runpy.run_module('workbench', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "print('\\nTORCH', 'torch' in sys.modules, file=sys.stderr)"
    )

    def imports_torch(*args: str) -> bool:
        out = subprocess.run(
            [sys.executable, "-c", probe, *args], capture_output=True, text=True, check=True
        )
        return "TORCH True" in out.stderr

    return {
        "help_seconds": median([sys.executable, "-m", "workbench", "--help"]),
        "extract_seconds": median([sys.executable, "-m", "workbench", "extract", seed]),
        "bare_seconds": median([sys.executable, "-c", "pass"]),
        "help_imports_torch": imports_torch("--help"),
        "extract_imports_torch": imports_torch("extract", seed),
    }


# ------------------------------------------------------------------------------------- output


def _fmt_n(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1000}k" if n >= 1000 else str(n)


def print_tables(result: dict) -> None:
    print("\n### Ingest against the raw encoders (same run)\n")
    print(
        "| corpus | passages | raw encoders (passages/s) | ingest (passages/s) | ingest / raw "
        "| embedding in ingest / raw | embedding share of ingest | index build |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in result["ingest"]:
        print(
            f"| {r['set']} | {r['passages']:,} | {r['raw_rate']:.1f} | {r['ingest_rate']:.1f} | "
            f"**{r['ratio']:.0%}** | {r['embed_vs_raw']:.0%} | {r['embed_share']:.0%} | "
            f"{r['index_seconds']:.1f} s |"
        )
    for r in result["ingest"]:
        rates = ", ".join(f"{k} {v:.0f}/s" for k, v in r["per_model"].items())
        print(f"\n{r['set']}: raw encoder rates {rates}")
    setup = result["scale_setup"]
    print(
        f"\n### Query latency per claim, memory and load time by store size\n\n"
        f"{result['claims']} claims, one at a time, top {K}; synthetic vectors: "
        f"points between {setup['seed_vectors']:,} real vectors per model and their real "
        "nearest neighbours, plus noise (cosine ~0.8); BM25 over synthetic Zipf text "
        f"({setup['vocabulary']:,} words, real ones "
        "first); 20% French passages.\n"
    )
    print(
        "| passages | dense index (nlist/nprobe) | recall@10 vs exact (USE / MiniLM) "
        "| latency per claim (p90) | of which embedding | search + fusion | dense build "
        "| index memory (per 1M) | dense build peak per 1M | load from disk | on disk |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in result["scale"]:
        kind = r["index_type"]
        if kind == "ivf":
            kind += f" ({r['nlist']}/{r['nprobe']})"
        recall = (
            " / ".join(f"{v:.3f}" for v in r["recall_at_10"].values())
            if r["recall_at_10"]
            else "exact"
        )
        peak = r["build_peak_mb_per_million"]
        print(
            f"| {_fmt_n(r['passages'])} | {kind} | {recall} | {r['latency_ms']:.0f} ms "
            f"({r['latency_p90_ms']:.0f}) | {r['embed_ms']:.0f} ms | {r['search_fuse_ms']:.1f} ms "
            f"| {r['dense_build_seconds']:.1f} s | {r['index_mb']:,.0f} MB "
            f"({r['index_mb_per_million']:,.0f} MB) "
            f"| {f'{peak:,.0f} MB' if peak is not None else '-'} | {r['load_seconds']:.2f} s "
            f"| {r['disk_mb']:,.0f} MB |"
        )
    s = result["startup"]
    print("\n### Start-up\n")
    print("| command | wall time | vs bare Python | imports torch |")
    print("|---|---|---|---|")
    print(f"| `python -c pass` | {s['bare_seconds'] * 1000:.0f} ms | 1.0x | - |")
    print(
        f"| `workbench --help` | {s['help_seconds'] * 1000:.0f} ms "
        f"| {s['help_seconds'] / s['bare_seconds']:.1f}x | {s['help_imports_torch']} |"
    )
    print(
        f"| `workbench extract` (seed article) | {s['extract_seconds'] * 1000:.0f} ms "
        f"| {s['extract_seconds'] / s['bare_seconds']:.1f}x | {s['extract_imports_torch']} |"
    )
    print(f"\ntotal bench time {result['seconds']:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog=USAGE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--quick", action="store_true", help="bundled corpus, 10k and 100k")
    parser.add_argument("--sizes", help="store sizes, comma-separated (default 10k,100k,1M)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = parser.parse_args()
    begun = time.perf_counter()
    sizes = (
        [int(s) for s in args.sizes.split(",")]
        if args.sizes
        else [10_000, 100_000]
        if args.quick
        else [10_000, 100_000, 1_000_000]
    )
    clef = (args.data / "clef2020-task2" / "verified_claims.docs.tsv").exists()
    queries = ROOT / "bench/data/seed-queries.tsv"
    claims = [
        (parts[2], parts[1])
        for parts in (line.split("\t") for line in queries.read_text("utf-8").splitlines())
        if len(parts) >= 3
    ]
    embedders = load_models()
    result: dict[str, Any] = {"ingest": [], "claims": len(claims)}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        bundled = ROOT / "evidence/sample-evidence.jsonl"
        sets = [("bundled", bundled)]
        if clef and not args.quick:
            corpus, _, _ = load_clef(args.data, "dev", workdir)
            sets.append(("clef-vclaims", corpus))
        elif not args.quick:
            print(f"no CLEF data under {args.data}: bundled corpus only", file=sys.stderr)
        for name, corpus in sets:
            print(f"ingest vs raw: {name}", file=sys.stderr)
            result["ingest"].append(bench_ingest(name, corpus, embedders, workdir))
        seed_ws = result["ingest"][-1]["workspace"]
        # A quick run seeds the synthetic store from the CLEF workspace bench/retrieval.py
        # leaves behind, when there is one: 102 bundled vectors make IVF recall trivially 1.
        cached = ROOT / "bench/out/ws-clef-vclaims"
        if len(sets) == 1 and (cached / "workbench.db").exists():
            seed_ws = Workspace.open(cached)
        corpus_texts = [row[1] for row in seed_ws.iter_passage_texts()]
        print(f"scale: {', '.join(map(_fmt_n, sizes))}", file=sys.stderr)
        result["scale"], result["scale_setup"] = bench_scale(
            sizes, embedders, seed_ws, claims, corpus_texts, workdir
        )
        for row in result["ingest"]:
            row.pop("workspace").close()
        seed_ws.close()
    result["startup"] = startup()
    result["seconds"] = time.perf_counter() - begun
    result["machine"] = {"cpus": os.cpu_count()}
    print_tables(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
