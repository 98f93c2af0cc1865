"""Provides the stance evaluation: labelled claim/evidence pairs, a predictor, counted metrics."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.errors import InputError, WorkbenchError
from workbench.hints.suggest import NEI, REFUTES, SUPPORTS
from workbench.jsonl import json_objects, json_type

if TYPE_CHECKING:
    from workbench.hints.nli import NLIModel

STANCE_LABELS = (SUPPORTS, REFUTES, NEI)

# Spellings of the public sets (FEVER, Climate-FEVER, SciFact) and of NLI, after lowercasing
# and turning spaces and dashes into underscores.
_LABEL_SYNONYMS = {
    "supports": SUPPORTS,
    "support": SUPPORTS,
    "supported": SUPPORTS,
    "refutes": REFUTES,
    "refute": REFUTES,
    "refuted": REFUTES,
    "contradict": REFUTES,
    "contradicts": REFUTES,
    "nei": NEI,
    "not_enough_info": NEI,
    "not_enough_information": NEI,
}

Predictor = Callable[[Sequence["StancePair"]], list[str]]


def stance_label(value: str) -> str | None:
    """The canonical label (supports, refutes, nei) of a spelling, or None."""
    key = str(value).strip().lower().replace("-", "_").replace(" ", "_")
    return _LABEL_SYNONYMS.get(key)


@dataclass(frozen=True)
class StancePair:
    """One labelled (claim, evidence) pair; `line` is where it was read (0 when built)."""

    claim: str
    evidence: str
    label: str
    claim_lang: str = ""
    evidence_lang: str = ""
    line: int = 0


def _text_field(record: dict[str, Any], name: str, where: str, required: bool = True) -> str:
    value = record.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        got = "missing" if name not in record else json_type(value)
        raise InputError(f"{where}: field {name!r} must be a non-empty string ({got})")
    return value


def parse_pairs(lines: Iterable[str], name: str) -> list[StancePair]:
    """Pairs from JSONL lines: `claim`, `evidence`, `label`, optional `claim_lang`,
    `evidence_lang`; an error names the line."""
    pairs = []
    for number, where, record in json_objects(lines, name):
        claim = _text_field(record, "claim", where)
        evidence = _text_field(record, "evidence", where)
        raw = record.get("label")
        label = stance_label(raw) if isinstance(raw, str) else None
        if label is None:
            got = "missing" if "label" not in record else repr(raw)
            raise InputError(
                f"{where}: field 'label' must be supports, refutes or nei "
                f"(or SUPPORTS/REFUTES/NOT_ENOUGH_INFO, SUPPORT/CONTRADICT), not {got}"
            )
        pairs.append(
            StancePair(
                claim,
                evidence,
                label,
                _text_field(record, "claim_lang", where, required=False),
                _text_field(record, "evidence_lang", where, required=False),
                number,
            )
        )
    if not pairs:
        raise InputError(f"{name}: no pairs (expected JSONL with claim, evidence, label)")
    return pairs


def read_pairs(path: Path) -> list[StancePair]:
    """The pairs of a JSONL file (see parse_pairs)."""
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return parse_pairs(text.splitlines(), str(path))


@dataclass(frozen=True)
class ClassScores:
    """Precision, recall and F1 of one label, and how many gold pairs have it."""

    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class StanceReport:
    """Accuracy, macro-F1, per-label scores and the confusion matrix (rows gold, cols predicted).

    Macro-F1 averages the labels present in the gold or predicted labels (as scikit-learn's
    `f1_score(average="macro")` does), so a set without nei pairs is not marked down for it.
    """

    pairs: int
    accuracy: float
    macro_f1: float
    per_class: dict[str, ClassScores]
    confusion: list[list[int]]
    labels: tuple[str, ...] = STANCE_LABELS
    predicted: list[str] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "pairs": self.pairs,
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "per_class": {
                label: {
                    "precision": round(s.precision, 4),
                    "recall": round(s.recall, 4),
                    "f1": round(s.f1, 4),
                    "support": s.support,
                }
                for label, s in self.per_class.items()
            },
            "confusion": {"labels": list(self.labels), "rows_gold_cols_predicted": self.confusion},
        }


def _ratio(numerator: int, denominator: int) -> float:
    # An undefined ratio (no prediction of a label, no gold pair of it) counts as 0.
    return numerator / denominator if denominator else 0.0


def stance_metrics(gold: Sequence[str], predicted: Sequence[str]) -> StanceReport:
    """Counted metrics of predicted labels against gold ones (both canonical labels)."""
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold labels but {len(predicted)} predictions")
    index = {label: i for i, label in enumerate(STANCE_LABELS)}
    confusion = [[0] * len(STANCE_LABELS) for _ in STANCE_LABELS]
    for g, p in zip(gold, predicted, strict=True):
        confusion[index[g]][index[p]] += 1
    per_class = {}
    for i, label in enumerate(STANCE_LABELS):
        hits = confusion[i][i]
        predicted_as = sum(row[i] for row in confusion)
        support = sum(confusion[i])
        precision, recall = _ratio(hits, predicted_as), _ratio(hits, support)
        f1 = _ratio(2 * hits, predicted_as + support)
        per_class[label] = ClassScores(precision, recall, f1, support)
    present = [label for label in STANCE_LABELS if label in set(gold) | set(predicted)]
    macro = sum(per_class[label].f1 for label in present) / len(present) if present else 0.0
    correct = sum(confusion[i][i] for i in range(len(STANCE_LABELS)))
    return StanceReport(
        pairs=len(gold),
        accuracy=_ratio(correct, len(gold)),
        macro_f1=macro,
        per_class=per_class,
        confusion=confusion,
        predicted=list(predicted),
    )


def evaluate_stance(
    pairs: Sequence[StancePair],
    predict: Predictor,
    batch_size: int = 64,
    progress: Callable[[int, int], None] | None = None,
) -> StanceReport:
    """Run `predict` over the pairs in batches and count its labels against the gold ones."""
    predicted: list[str] = []
    for start in range(0, len(pairs), batch_size):
        batch = pairs[start : start + batch_size]
        labels = list(predict(batch))
        if len(labels) != len(batch):
            raise WorkbenchError(
                f"the stance predictor returned {len(labels)} labels for {len(batch)} pairs"
            )
        for pair, raw in zip(batch, labels, strict=True):
            label = stance_label(raw)
            if label is None:
                raise WorkbenchError(
                    f"the stance predictor returned {raw!r} for line {pair.line}, "
                    "not supports, refutes or nei"
                )
            predicted.append(label)
        if progress is not None:
            progress(len(predicted), len(pairs))
    return stance_metrics([pair.label for pair in pairs], predicted)


def majority_predictor(pairs: Sequence[StancePair]) -> Predictor:
    """A baseline that always says the most frequent gold label of `pairs`."""
    counts = {label: 0 for label in STANCE_LABELS}
    for pair in pairs:
        counts[pair.label] += 1
    majority = max(STANCE_LABELS, key=lambda label: counts[label])
    return lambda batch: [majority] * len(batch)


def suggestion_predictor(nli: NLIModel | None = None) -> Predictor:
    """The verdict hints' pair stance (`pair_stance`), with the NLI model run once per batch."""
    from workbench.hints.suggest import pair_stance

    def predict(batch: Sequence[StancePair]) -> list[str]:
        # The evidence is the premise, the claim the hypothesis: "does the evidence entail it".
        probs = nli.predict([(p.evidence, p.claim) for p in batch]) if nli is not None else None
        return [
            pair_stance(
                pair.claim,
                pair.evidence,
                claim_lang=pair.claim_lang,
                evidence_lang=pair.evidence_lang,
                nli=nli,
                nli_probs=None if probs is None else probs[i],
            ).label
            for i, pair in enumerate(batch)
        ]

    return predict


def report_tables(report: StanceReport, title: str = "") -> list[Any]:
    """Rich tables: per-label scores (accuracy and macro-F1 in the caption), confusion matrix."""
    from rich.table import Table

    scores = Table(
        title=title or None,
        caption=f"accuracy {report.accuracy:.3f}, macro-F1 {report.macro_f1:.3f}",
    )
    for name in ("label", "precision", "recall", "F1", "support"):
        scores.add_column(name, justify="left" if name == "label" else "right")
    for label, s in report.per_class.items():
        cells = (f"{value:.3f}" for value in (s.precision, s.recall, s.f1))
        scores.add_row(label, *cells, str(s.support))
    confusion = Table(title="confusion (rows: gold, columns: predicted)")
    confusion.add_column("gold \\ predicted")
    for label in report.labels:
        confusion.add_column(label, justify="right")
    for label, row in zip(report.labels, report.confusion, strict=True):
        confusion.add_row(label, *(str(n) for n in row))
    return [scores, confusion]


def print_report(report: StanceReport, title: str = "") -> None:
    """Print the report's tables on stdout."""
    from rich.console import Console

    console = Console()
    for table in report_tables(report, title):
        console.print(table)
