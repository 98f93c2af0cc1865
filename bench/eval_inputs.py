"""Writes the shared retrieval sets as files `workbench eval` reads (JSONL corpus and queries).

    python bench/eval_inputs.py [OUT]     # default OUT: bench/out/eval-inputs

Then, for example (the French posts are the re-ranker's French training data: in-sample):

    workbench eval OUT/fr-corpus.jsonl OUT/fr-queries.jsonl \
        ../shared/data/checkthat2025-fr/train.qrels -c default -c default-no-rerank -c bm25
    workbench eval OUT/clef-corpus.jsonl OUT/clef-dev-queries.jsonl \
        ../shared/data/clef2020-task2/dev/tweet-vclaim-pairs.qrels -c default -c bm25
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"


def _rows(path: Path, quoting: int = csv.QUOTE_MINIMAL) -> list[list[str]]:
    # The French posts are CSV-quoted over several lines; CLEF's quotes are literal text.
    csv.field_size_limit(1 << 30)
    with open(path, encoding="utf-8", newline="") as handle:
        return [row for row in list(csv.reader(handle, delimiter="\t", quoting=quoting))[1:] if row]


def _write(path: Path, records: Iterable[dict[str, str]]) -> int:
    count = 0
    with open(path, "w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    print(f"{path}: {count} records")
    return count


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    fr = DATA / "checkthat2025-fr"
    _write(
        out / "fr-corpus.jsonl",
        ({"id": r[0], "text": r[1], "lang": "fr"} for r in _rows(fr / "vclaims.tsv")),
    )
    # No language on the queries: eval detects it as match does for an article.
    _write(
        out / "fr-queries.jsonl",
        ({"id": r[0], "text": r[1]} for r in _rows(fr / "train.queries.tsv")),
    )
    clef = DATA / "clef2020-task2"
    docs = _rows(clef / "verified_claims.docs.tsv", csv.QUOTE_NONE)
    _write(
        out / "clef-corpus.jsonl",
        (
            {"id": r[0], "text": r[1], "title": r[2], "lang": "en"}
            for r in docs
            if len(r) >= 3 and r[1].strip()
        ),
    )
    for split in ("train", "dev", "test"):
        queries = clef / split / "tweets.queries.tsv"
        if queries.exists():
            _write(
                out / f"clef-{split}-queries.jsonl",
                (
                    {"id": r[0], "text": r[1], "lang": "en"}
                    for r in _rows(queries, csv.QUOTE_NONE)
                    if len(r) >= 2 and r[0]
                ),
            )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "bench" / "out" / "eval-inputs")
