"""Precision and coverage of each agreement signal on public labelled pairs, and on the same
pairs with one fact changed.

Two measurements, in one run, per signal kind (number, date, place, person, party,
negation, modality, time):

1. **Labelled pairs** (Climate-FEVER evidence sentences, SciFact rationales, RTE3-FR; built
   by bench/stance.py into bench/out/stance-*.jsonl): coverage = share of pairs where the
   kind fires at all (agrees, conflicts or caution); conflict precision = share of its
   conflicts on pairs labelled refutes; agreement precision = share of its agreements on
   pairs labelled supports. The base rates (share of refutes / supports pairs) are printed
   beside them: a signal is only useful above its base rate.
2. **Changed facts** (the precision that matters to a reviewer): every pair whose claim and
   evidence agree on a number or a date is taken twice: as it is (a conflict there is a false
   alarm) and with that number or date in the claim changed (+1 day / +1 month for a day /
   a month, +30 % for a number: a conflict there is caught). False-alarm rate on the
   originals and recall on the changed copies, for numbers and dates.

    python bench/signals.py [--data ../shared/data] [--limit N]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from workbench.hints.signals import (  # noqa: E402
    AGREES,
    CAUTION,
    CONFLICTS,
    KINDS,
    Side,
    Signal,
    agreement,
)

OUT = ROOT / "bench" / "out"
SETS = ("climate-fever", "scifact", "rte3-fr")
SEED = 13


def load_pairs(data: Path, name: str, limit: int) -> list[dict]:
    path = OUT / f"stance-{name}.jsonl"
    if not path.exists():
        subprocess.run(
            [sys.executable, str(ROOT / "bench" / "stance.py"), "--data", str(data), "--sets",
             name, "--limit", "0"],
            check=True,
            capture_output=True,
        )  # fmt: skip
    pairs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    if limit and len(pairs) > limit:
        pairs = random.Random(SEED).sample(pairs, limit)
    return pairs


def same_claim_pairs(data: Path, limit: int) -> dict[str, list[dict]]:
    """Pairs that state the same claim, where every conflict is a false alarm: French posts
    -> their normalised claim (CheckThat! 2025 train), English tweets -> the fact-checked
    claim they repeat (CLEF 2020 train)."""
    csv.field_size_limit(1 << 30)  # posts run over many lines
    french = []
    with open(data / "checkthat2025-fr" / "train-fra.csv", encoding="utf-8", newline="") as f:
        for row in list(csv.reader(f))[1:]:
            if len(row) == 2 and row[0].strip() and row[1].strip():
                french.append({"claim": row[1], "evidence": row[0][:2000], "label": "supports",
                               "claim_lang": "fr", "evidence_lang": ""})  # fmt: skip
    base = data / "clef2020-task2"
    vclaims = {}
    with open(base / "verified_claims.docs.tsv", encoding="utf-8", newline="") as f:
        for row in list(csv.reader(f, delimiter="\t"))[1:]:
            if len(row) >= 3:
                vclaims[row[0]] = f"{row[2]}\n{row[1]}"
    with open(base / "train" / "tweets.queries.tsv", encoding="utf-8", newline="") as f:
        tweets = {r[0]: r[1] for r in csv.reader(f, delimiter="\t") if len(r) >= 2}
    english = []
    for line in (base / "train" / "tweet-vclaim-pairs.qrels").read_text().splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[0] in tweets and parts[2] in vclaims:
            english.append(
                {"claim": tweets[parts[0]], "evidence": vclaims[parts[2]], "label": "supports",
                 "claim_lang": "en", "evidence_lang": "en"}
            )  # fmt: skip
    out = {"checkthat-fr (post -> claim)": french, "clef-en (tweet -> fact-check)": english}
    if limit:
        out = {k: random.Random(SEED).sample(v, min(limit, len(v))) for k, v in out.items()}
    return out


def same_claim_table(sets: dict[str, list[dict]]) -> Table:
    table = Table(title="Same-claim pairs: every conflict is a false alarm")
    table.add_column("signal")
    for name in sets:
        table.add_column(f"{name}: fires", justify="right")
        table.add_column("false conflicts", justify="right")
    computed = {name: [signals_of(p) for p in pairs] for name, pairs in sets.items()}
    for kind in KINDS:
        if kind == "nli":
            continue
        row = [kind]
        for name, pairs in sets.items():
            fired = sum(any(s.kind == kind and s.status != "absent" for s in sig)
                        for sig in computed[name])  # fmt: skip
            false = sum(any(s.kind == kind and s.status == CONFLICTS for s in sig)
                        for sig in computed[name])  # fmt: skip
            row += [f"{fired / len(pairs):.1%}", f"{false} ({_ratio(false, len(pairs))})"]
        table.add_row(*row)
    return table


def signals_of(pair: dict) -> list[Signal]:
    return agreement(
        Side(pair["claim"], pair.get("claim_lang", "")),
        Side(pair["evidence"], pair.get("evidence_lang", "")),
    )


def labelled_table(name: str, pairs: list[dict]) -> Table:
    fired: Counter[str] = Counter()
    conflicts: Counter[str] = Counter()
    conflicts_right: Counter[str] = Counter()
    agrees: Counter[str] = Counter()
    agrees_right: Counter[str] = Counter()
    for pair in pairs:
        signals = signals_of(pair)
        for kind in {s.kind for s in signals if s.status in (AGREES, CONFLICTS, CAUTION)}:
            fired[kind] += 1
        for kind in {s.kind for s in signals if s.status == CONFLICTS}:
            conflicts[kind] += 1
            conflicts_right[kind] += pair["label"] == "refutes"
        for kind in {s.kind for s in signals if s.status == AGREES}:
            agrees[kind] += 1
            agrees_right[kind] += pair["label"] == "supports"
    labels = Counter(p["label"] for p in pairs)
    table = Table(
        title=f"{name}: {len(pairs)} pairs (refutes {labels['refutes'] / len(pairs):.1%}, "
        f"supports {labels['supports'] / len(pairs):.1%})"
    )
    for column in ("signal", "coverage", "conflicts", "conflict precision", "agrees",
                   "agree precision"):  # fmt: skip
        table.add_column(column, justify="right" if column != "signal" else "left")
    for kind in KINDS:
        if kind == "nli":
            continue
        table.add_row(
            kind,
            f"{fired[kind] / len(pairs):.1%}",
            str(conflicts[kind]),
            _ratio(conflicts_right[kind], conflicts[kind]),
            str(agrees[kind]),
            _ratio(agrees_right[kind], agrees[kind]),
        )
    return table


def _ratio(part: int, whole: int) -> str:
    return f"{part / whole:.2f}" if whole else "-"


_DAY = re.compile(r"\b(\d{1,2})(\s+(?:January|February|March|April|May|June|July|August|"
                  r"September|October|November|December|janvier|février|mars|avril|mai|juin|"
                  r"juillet|août|septembre|octobre|novembre|décembre)\b)")  # fmt: skip
_NUMBER = re.compile(r"(?<![\w.,])(\d+(?:\.\d+)?)(\s?(?:%|percent|per cent|million|billion|"
                     r"people|deaths|years|pour cent|millions|milliards))")  # fmt: skip


def changed(claim: str, kind: str) -> str | None:
    """The claim with its first day-month date moved a day, or its first counted number
    raised by 30 %; None when it has none."""
    if kind == "date":
        match = _DAY.search(claim)
        if not match or not 1 <= int(match.group(1)) <= 27:
            return None
        return claim[: match.start(1)] + str(int(match.group(1)) + 1) + claim[match.end(1) :]
    match = _NUMBER.search(claim)
    if not match:
        return None
    value = float(match.group(1)) * 1.3
    new = f"{value:.0f}" if value >= 10 else f"{value:.1f}"
    return claim[: match.start(1)] + new + claim[match.end(1) :]


def changed_table(all_pairs: list[dict]) -> Table:
    table = Table(
        title="Changed facts: pairs that agree on a fact, as they are and with it changed"
    )
    for column in ("signal", "pairs", "false conflicts (original)", "conflicts caught (changed)",
                   "precision"):  # fmt: skip
        table.add_column(column, justify="right" if column != "signal" else "left")
    for kind in ("date", "number"):
        originals = false_alarms = caught = 0
        for pair in all_pairs:
            signals = [s for s in signals_of(pair) if s.kind == kind]
            if not any(s.status == AGREES for s in signals):
                continue
            claim = changed(pair["claim"], kind)
            if claim is None:
                continue
            originals += 1
            false_alarms += any(s.status == CONFLICTS for s in signals)
            moved = agreement(
                Side(claim, pair.get("claim_lang", "")),
                Side(pair["evidence"], pair.get("evidence_lang", "")),
            )
            caught += any(s.kind == kind and s.status == CONFLICTS for s in moved)
        precision = caught / (caught + false_alarms) if caught + false_alarms else 0.0
        table.add_row(
            kind,
            str(originals),
            f"{false_alarms} ({_ratio(false_alarms, originals)})",
            f"{caught} ({_ratio(caught, originals)})",
            f"{precision:.2f}",
        )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--limit", type=int, default=0, help="pairs per set (0: all)")
    args = parser.parse_args()
    console = Console()
    started = time.perf_counter()
    everything = []
    for name in SETS:
        pairs = load_pairs(args.data, name, args.limit)
        everything += pairs
        console.print(labelled_table(name, pairs))
    same = same_claim_pairs(args.data, args.limit)
    console.print(same_claim_table(same))
    for pairs in same.values():
        everything += pairs
    console.print(changed_table(everything))
    console.print(f"[dim]{len(everything)} pairs in {time.perf_counter() - started:.0f} s[/]")


if __name__ == "__main__":
    main()
