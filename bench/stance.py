"""Stance of the verdict hints on public labelled pairs, against a majority-class baseline.

Builds claim/evidence pairs JSONL (`claim`, `evidence`, `label` supports/refutes/nei, the
languages) from the shared data into bench/out/stance-*.jsonl, then evaluates `pair_stance`
(without NLI unless --nli-model is given) and the majority label of each set, in one run:

- `climate-fever`: every labelled evidence sentence of each claim (SUPPORTS / REFUTES /
  NOT_ENOUGH_INFO), English.
- `scifact`: each rationale (its sentences joined) of train + dev claims, SUPPORT ->
  supports, CONTRADICT -> refutes; nei pairs are one non-rationale sentence drawn from each
  cited abstract. English.
- `rte3-fr`: premise = evidence, hypothesis = claim; entailment / contradiction / neutral ->
  supports / refutes / nei. French.

    python bench/stance.py [--data ../shared/data] [--sets climate-fever,scifact,rte3-fr]
                           [--limit N] [--nli-model PATH] [--json out.json]

All pairs (about 11,000) take under a minute on two cores; --limit 1000 a few seconds.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from workbench.hints.stance import (  # noqa: E402
    NEI,
    REFUTES,
    SUPPORTS,
    StanceReport,
    evaluate_stance,
    majority_predictor,
    read_pairs,
    report_tables,
    stance_label,
    suggestion_predictor,
)

SEED = 13
OUT = ROOT / "bench" / "out"


def climate_fever(data: Path) -> list[dict]:
    pairs = []
    with open(data / "climate-fever" / "climate-fever.jsonl", encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            for evidence in record["evidences"]:
                pairs.append(
                    {
                        "claim": record["claim"],
                        "evidence": evidence["evidence"],
                        "label": stance_label(evidence["evidence_label"]),
                        "claim_lang": "en",
                        "evidence_lang": "en",
                    }
                )
    return pairs


def scifact(data: Path) -> list[dict]:
    folder = data / "scifact"
    abstracts = {}
    with open(folder / "corpus.jsonl", encoding="utf-8") as handle:
        for line in handle:
            doc = json.loads(line)
            abstracts[str(doc["doc_id"])] = doc["abstract"]
    rng = random.Random(SEED)
    pairs = []
    for name in ("claims_train.jsonl", "claims_dev.jsonl"):
        with open(folder / name, encoding="utf-8") as handle:
            claims = [json.loads(line) for line in handle if line.strip()]
        for claim in claims:
            rationale_lines: dict[str, set[int]] = {}
            for doc_id, rationales in claim.get("evidence", {}).items():
                sentences = abstracts.get(str(doc_id))
                if sentences is None:
                    continue
                for rationale in rationales:
                    ids = sorted(rationale["sentences"])
                    rationale_lines.setdefault(str(doc_id), set()).update(ids)
                    pairs.append(
                        {
                            "claim": claim["claim"],
                            "evidence": " ".join(sentences[i] for i in ids),
                            "label": stance_label(rationale["label"]),
                            "claim_lang": "en",
                            "evidence_lang": "en",
                        }
                    )
            # A sentence of a cited abstract that no rationale uses: the abstract is on topic,
            # the sentence does not decide the claim.
            for doc_id in claim.get("cited_doc_ids", []):
                sentences = abstracts.get(str(doc_id), [])
                others = [
                    i
                    for i in range(len(sentences))
                    if i not in rationale_lines.get(str(doc_id), set())
                ]
                if others:
                    pairs.append(
                        {
                            "claim": claim["claim"],
                            "evidence": sentences[rng.choice(others)],
                            "label": NEI,
                            "claim_lang": "en",
                            "evidence_lang": "en",
                        }
                    )
    return pairs


def rte3_fr(data: Path) -> list[dict]:
    labels = {"entailment": SUPPORTS, "contradiction": REFUTES, "neutral": NEI, "unknown": NEI}
    path = data / "rte3-fr" / "RTE3-FR-dev-set-3class.tsv"
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [
        {
            "claim": row["hypothesis"],
            "evidence": row["premise"],
            "label": labels[row["label_text"].strip().lower()],
            "claim_lang": "fr",
            "evidence_lang": "fr",
        }
        for row in rows
    ]


SETS = {"climate-fever": climate_fever, "scifact": scifact, "rte3-fr": rte3_fr}


def write_pairs(name: str, pairs: list[dict], limit: int) -> Path:
    if limit and len(pairs) > limit:
        # A seeded sample keeps the label distribution and the run short.
        pairs = random.Random(SEED).sample(pairs, limit)
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"stance-{name}.jsonl"
    with open(path, "w", encoding="utf-8") as handle:
        for pair in pairs:
            handle.write(json.dumps(pair, ensure_ascii=False) + "\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument(
        "--limit", type=int, default=0, help="pairs per set, a seeded sample (default 0: all)"
    )
    parser.add_argument("--nli-model", help="a local NLI model for pair_stance")
    parser.add_argument("--json", type=Path, help="write the reports here")
    args = parser.parse_args()
    # Piped output (a log, a report) gets room for the summary's columns.
    console = Console(width=None if sys.stdout.isatty() else 120)
    nli = None
    if args.nli_model:
        from workbench.hints.nli import load_nli

        nli = load_nli(args.nli_model)
    try:
        predictor = suggestion_predictor(nli)
    except ImportError as exc:  # the suggestion module is written separately
        predictor = None
        console.print(f"[yellow]pair_stance unavailable ({exc}): baseline only[/]")

    summary = Table(title="stance: pair_stance vs majority label")
    for column in ("set", "pairs", "accuracy", "macro-F1", "majority acc.", "majority macro-F1"):
        if column == "set":
            summary.add_column(column, no_wrap=True, min_width=len("climate-fever"))
        else:
            summary.add_column(column, justify="right")
    summary.add_column("macro-F1 diff.", justify="right")
    summary.add_column("seconds", justify="right")
    results: dict[str, dict] = {}
    for name in [s.strip() for s in args.sets.split(",") if s.strip()]:
        if name not in SETS:
            parser.error(f"unknown set {name!r}; known: {', '.join(SETS)}")
        path = write_pairs(name, SETS[name](args.data), args.limit)
        pairs = read_pairs(path)
        baseline = evaluate_stance(pairs, majority_predictor(pairs))
        started = time.perf_counter()
        report: StanceReport | None = None
        if predictor is not None:
            report = evaluate_stance(pairs, predictor)
            for table in report_tables(report, f"{name} ({path.relative_to(ROOT)})"):
                console.print(table)
        seconds = time.perf_counter() - started
        results[name] = {
            "pairs_file": str(path.relative_to(ROOT)),
            "pair_stance": report.as_dict() if report else None,
            "majority": baseline.as_dict(),
            "seconds": round(seconds, 1),
        }
        summary.add_row(
            name,
            str(len(pairs)),
            f"{report.accuracy:.3f}" if report else "-",
            f"{report.macro_f1:.3f}" if report else "-",
            f"{baseline.accuracy:.3f}",
            f"{baseline.macro_f1:.3f}",
            f"{report.macro_f1 - baseline.macro_f1:+.3f}" if report else "-",
            f"{seconds:.0f}",
        )
    console.print(summary)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
