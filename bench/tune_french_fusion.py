"""Tune the fusion's weights on French pairs (French posts), by CV grouped by claim.

    python bench/tune_french_fusion.py [--data ../shared/data]

Where every candidate is in the claim's language, French-French pairs are voted on by USE-m3's
sentence and focus queries, BM25 and the bridge tokens with FusionConfig.single_language_weights
(English-English pairs keep the covered weights; a corpus in several languages keeps
FusionConfig.weights): the weights tuned here change only French (and other uncovered
languages') pairs of a one-language corpus. Each fold's weights
are chosen on the other three folds (CheckThat! 2025 French posts, train split; posts about one
claim stay in one fold), and the table gives the fused ranking alone (no re-ranker) against
BM25 and USE-m3 + BM25 RRF on the same lists, as MAP@5 over held-out folds.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from workbench import config  # noqa: E402
from workbench.extract import detect_language  # noqa: E402
from workbench.index import store  # noqa: E402
from workbench.index.hybrid import fuse  # noqa: E402
from workbench.ingest import ingest  # noqa: E402
from workbench.retrieve import (  # noqa: E402
    BRIDGE,
    FOCUS,
    LEXICAL,
    MULTILINGUAL,
    FusionConfig,
    Retriever,
)
from workbench.workspace import Workspace  # noqa: E402

OUT = ROOT / "bench" / "out" / "french-fusion"
FOLDS = 4
# USE-m3's sentence query, its focus query, BM25 and the bridge tokens, on French pairs.
GRID_USE = (0.5, 0.75, 1.0, 1.5)
GRID_FOCUS = (0.0, 0.25, 0.5)
GRID_BM25 = (1.0, 2.0, 3.0)
GRID_BRIDGE = (0.0, 0.25, 0.5)


def _rows(path: Path) -> list[list[str]]:
    csv.field_size_limit(1 << 30)
    with open(path, encoding="utf-8", newline="") as handle:
        return [r for r in list(csv.reader(handle, delimiter="\t"))[1:] if r]


def _map5(ranked: list[int], relevant: set[int]) -> float:
    hits, total = 0, 0.0
    for position, passage in enumerate(ranked[:5], 1):
        if passage in relevant:
            hits += 1
            total += hits / position
    return total / min(len(relevant), 5) if relevant else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    fr = args.data / "checkthat2025-fr"
    OUT.mkdir(parents=True, exist_ok=True)
    corpus = OUT / "fr-corpus.jsonl"
    if not corpus.exists():
        import json

        with open(corpus, "w", encoding="utf-8") as out:
            for row in _rows(fr / "vclaims.tsv"):
                out.write(json.dumps({"id": row[0], "text": row[1], "lang": "fr"}) + "\n")
    ws = Workspace.open(OUT / "ws", create=True)
    embedders = config.load_embedders(config.model_names(ws, None))
    if ws.count("passages") == 0:
        ingest(ws, [corpus], embedders)
    indexes = store.load(ws, ws.get_meta("models"))
    passage_of = {
        key: pid
        for pid, key in ws.conn.execute(
            "SELECT p.id, d.doc_key FROM passages p JOIN documents d ON d.id = p.document_id"
        )
    }
    queries = [(r[0], r[1]) for r in _rows(fr / "train.queries.tsv")]
    qrels: dict[str, set[int]] = {}
    for line in (fr / "train.qrels").read_text().splitlines():
        qid, _, doc, rel = line.split()
        if int(rel) > 0 and doc in passage_of:
            qrels.setdefault(qid, set()).add(passage_of[doc])
    queries = [q for q in queries if q[0] in qrels]
    langs = [detect_language(text)[0] for _, text in queries]  # as eval and match detect
    # Plain-RRF mode: every retriever lists every post (the language-aware default skips
    # English MiniLM for French ones), so that any configuration can be scored on the lists.
    retriever = Retriever(embedders, indexes, replace(FusionConfig(), mode="rrf"))
    ranked = retriever.ranked_lists([t for _, t in queries], langs, retriever.fusion.pool)
    print(f"{len(queries)} posts, lists read", file=sys.stderr)

    def per_query(fusion: FusionConfig) -> list[float]:
        # The weights `search` would use for each post's lists (single-language ones where
        # every candidate is in the post's language), as match fuses them.
        tuned = Retriever(embedders, indexes, fusion)
        return [
            _map5(
                [
                    h.passage_id
                    for h in fuse(
                        ranked[i],
                        tuned._sources_for(ranked[i], langs[i]),
                        langs[i],
                        indexes.langs,
                        5,
                        fusion.mode,
                    )
                ],
                qrels[queries[i][0]],
            )
            for i in range(len(queries))
        ]

    def weights(use: float, focus: float, bm25: float, bridge: float) -> FusionConfig:
        return replace(
            FusionConfig(),
            single_language_weights=(
                (MULTILINGUAL, use), (FOCUS, focus), (LEXICAL, bm25), (BRIDGE, bridge),
            ),
        )  # fmt: skip

    def mean(values: list[float], rows: list[int]) -> float:
        return sum(values[i] for i in rows) / max(1, len(rows))

    # Posts grouped by their claim: every post of one claim is in one fold.
    claim_of = [min(qrels[q]) for q, _ in queries]
    groups = sorted(set(claim_of))
    fold_of_claim = {c: i % FOLDS for i, c in enumerate(groups)}
    folds = [
        [i for i in range(len(queries)) if fold_of_claim[claim_of[i]] == f] for f in range(FOLDS)
    ]
    grid = list(itertools.product(GRID_USE, GRID_FOCUS, GRID_BM25, GRID_BRIDGE))
    # Every post's AP@5 under every combination, once; folds then only pick among them.
    table = {w: per_query(weights(*w)) for w in grid}
    held_scores, chosen = [], []
    for f, held in enumerate(folds):
        train = [i for g, fold in enumerate(folds) if g != f for i in fold]
        best = max(grid, key=lambda w: (mean(table[w], train), -sum(w)))
        chosen.append(best)
        held_scores.append((mean(table[best], held), len(held)))
    cv = sum(s * n for s, n in held_scores) / sum(n for _, n in held_scores)
    everyone = list(range(len(queries)))
    final = max(grid, key=lambda w: (mean(table[w], everyone), -sum(w)))

    def score(fusion: FusionConfig, rows: list[int]) -> float:
        return mean(per_query(fusion), rows)

    plain = dict(
        weights=(), single_language_weights=None, cross_weights=(), covered_weights=(),
        focus_weight=0.0, rerank=False, crossrank=False, mode="rrf",
    )  # fmt: skip
    names = [s.name for s in retriever.sources]
    bm25_only = FusionConfig(**plain | {"weights": tuple((n, 0.0) for n in names if n != LEXICAL)})
    use_bm25 = FusionConfig(
        **plain | {"weights": tuple((n, 0.0) for n in names if n not in (LEXICAL, "usem3"))}
    )
    shipped = FusionConfig()
    # The French weights before this tuning (taken from the bundled seed queries).
    previous = replace(FusionConfig(), single_language_weights=None)
    print("\nCheckThat! 2025 French posts (train), fused ranking alone, MAP@5")
    print("| configuration | MAP@5 | x BM25 |")
    print("|---|---|---|")
    base = score(bm25_only, everyone)
    for label, value in (
        ("BM25", base),
        ("USE-m3 + BM25 RRF", score(use_bm25, everyone)),
        ("previous French weights (USE 0.5, focus 1.0, BM25 1.0, bridge 1.0)",
         score(previous, everyone)),
        ("shipped (FusionConfig's weights)", score(shipped, everyone)),
        (f"tuned, 4-fold CV grouped by claim (folds chose {chosen})", cv),
        (f"tuned on every post (in-sample): USE, focus, BM25, bridge = {final}",
         mean(table[final], everyone)),
    ):  # fmt: skip
        print(f"| {label} | {value:.3f} | {value / base:.3f} |")


if __name__ == "__main__":
    main()
