"""Check-worthiness classifiers on ClaimBuster, cross-validated, against the baseline in one run.

Features: multilingual USE-m3 sentence embeddings (so a model trained on English transfers to
French) and the extractor's explainable rule features (number, date, named person or
organisation, attribution, quantity, first-person opinion, ...). Models: logistic regression
on embeddings alone (the baseline quoted in the issue: F1 0.78, macro-F1 0.85), on embeddings +
rule features, and a small MLP on both. Reports 4-fold stratified CV (fixed seed) on the
9,674 ClaimBuster sentences, and average precision on the CLEF 2020 task 5 debate test set
(trained on ClaimBuster + the task 5 training debates).

    python bench/train_checkworthy.py [--data ../shared/data] [--limit N]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from workbench.embed import USEEmbedder  # noqa: E402
from workbench.extract.claims import score_sentence  # noqa: E402

SEED = 13
RULE_FEATURES = (
    "contains a date",
    "contains a number",
    "names a person or organisation",
    "attributed to a speaker",
    "states an event",
    "quantity or comparison",
    "no checkable detail",
    "hope or wish",
    "first-person opinion",
    "first-person statement",
    "speculative or vague future",
)


def rule_features(sentences: list[str]) -> np.ndarray:
    """The extractor's reasons as 0/1 columns, plus its rule score and whether it filtered."""
    rows = []
    for sentence in sentences:
        score, reasons = score_sentence(sentence, "en")
        row = [1.0 if r in reasons else 0.0 for r in RULE_FEATURES]
        row += [score, 1.0 if score == 0.0 else 0.0, min(len(sentence.split()), 60) / 60]
        rows.append(row)
    return np.array(rows, dtype=np.float32)


def load_claimbuster(data: Path) -> tuple[list[str], np.ndarray]:
    records = json.loads((data / "claimbuster-checkworthy/kfold_25ncs.json").read_text())
    return [r["text"] for r in records], np.array([int(r["label"]) for r in records])


def load_debates(data: Path, name: str) -> tuple[list[str], np.ndarray]:
    path = data / "claimbuster-checkworthy/clef2020-task5-debates" / name
    with open(path, encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle, delimiter="\t") if r["text"].strip()]
    return [r["text"] for r in rows], np.array([int(r["label"]) for r in rows])


def models() -> dict:
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return {
        "LR on USE-m3 (baseline)": ("emb", LogisticRegression(C=1.0, max_iter=2000)),
        "LR on USE-m3 + rule features": (
            "both",
            make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=4000)),
        ),
        "MLP on USE-m3 + rule features": (
            "both",
            make_pipeline(
                StandardScaler(),
                MLPClassifier(
                    hidden_layer_sizes=(256,),
                    alpha=1e-2,
                    early_stopping=True,
                    random_state=SEED,
                    max_iter=200,
                ),
            ),
        ),
    }


def main() -> None:
    from sklearn.metrics import average_precision_score, f1_score
    from sklearn.model_selection import StratifiedKFold

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--limit", type=int, default=0, help="Use only N sentences (smoke test).")
    args = parser.parse_args()
    texts, labels = load_claimbuster(args.data)
    if args.limit:
        texts, labels = texts[: args.limit], labels[: args.limit]
    use = USEEmbedder()
    started = time.perf_counter()
    emb = use.encode(texts)
    rules = rule_features(texts)
    print(f"features for {len(texts)} sentences in {time.perf_counter() - started:.0f}s",
          file=sys.stderr)  # fmt: skip
    features = {"emb": emb, "both": np.hstack([emb, rules])}
    folds = StratifiedKFold(n_splits=4, shuffle=True, random_state=SEED)
    rows = []
    for name, (kind, model) in models().items():
        x = features[kind]
        f1s, macros = [], []
        for train, test in folds.split(x, labels):
            model.fit(x[train], labels[train])
            predicted = model.predict(x[test])
            f1s.append(f1_score(labels[test], predicted))
            macros.append(f1_score(labels[test], predicted, average="macro"))
        rows.append((name, float(np.mean(f1s)), float(np.mean(macros))))
    debate_train, y_train = load_debates(args.data, "train.tsv")
    debate_test, y_test = load_debates(args.data, "test-gold.tsv")
    x_train_emb = np.vstack([emb, use.encode(debate_train)])
    x_test_emb = use.encode(debate_test)
    x_train = {"emb": x_train_emb, "both": np.hstack(
        [x_train_emb, np.vstack([rules, rule_features(debate_train)])])}  # fmt: skip
    x_test = {"emb": x_test_emb, "both": np.hstack([x_test_emb, rule_features(debate_test)])}
    y_all = np.concatenate([labels, y_train])
    print("| model | ClaimBuster 4-fold F1 (check-worthy) | macro-F1 | CLEF 2020 task 5 test AP |")
    print("|---|---|---|---|")
    for (name, f1, macro), (kind, model) in zip(rows, models().values(), strict=True):
        model.fit(x_train[kind], y_all)
        ap = average_precision_score(y_test, model.predict_proba(x_test[kind])[:, 1])
        print(f"| {name} | {f1:.3f} | {macro:.3f} | {ap:.3f} |")
    print("reference: LR on USE-m3 F1 0.78 / macro-F1 0.85 (issue); Full Fact reports F1 0.83")


if __name__ == "__main__":
    main()
