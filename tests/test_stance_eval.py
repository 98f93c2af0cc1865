"""Tests of `workbench eval --task stance`: pair reading, counted metrics, the command."""

from __future__ import annotations

import json
import random
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support
from typer.testing import CliRunner

from workbench.cli import app
from workbench.errors import ExitCode, InputError, WorkbenchError
from workbench.hints import nli as nli_module
from workbench.hints.nli import NO_MODEL_WARNING
from workbench.hints.stance import (
    STANCE_LABELS,
    StancePair,
    evaluate_stance,
    majority_predictor,
    parse_pairs,
    read_pairs,
    stance_label,
    stance_metrics,
    suggestion_predictor,
)

runner = CliRunner()

PAIRS = [
    {"claim": "Rain fell in Paris in June.", "evidence": "Rain fell.", "label": "supports"},
    {"claim": "Rain fell in Paris.", "evidence": "It did not rain.", "label": "REFUTES"},
    {"claim": "Il a plu à Paris.", "evidence": "Le ciel est bleu.", "label": "NOT_ENOUGH_INFO",
     "claim_lang": "fr", "evidence_lang": "fr"},
    {"claim": "Rain in June.", "evidence": "Snow in June, not rain.", "label": "CONTRADICT"},
    {"claim": "Rain in June.", "evidence": "There was rain in June.", "label": "SUPPORT"},
    {"claim": "Snow in May.", "evidence": "Rain in June.", "label": "nei"},
]  # fmt: skip


def _words(text: str) -> set[str]:
    return {word.strip(".,").lower() for word in text.split()} - {"in", "the"}


def _fake_stance(claim: str, evidence: str, **kwargs: Any) -> Any:
    """Keyword stance: a negation refutes, a shared word supports, else nei."""
    if "not" in _words(evidence):
        label = "refutes"
    elif _words(claim) & _words(evidence):
        label = "supports"
    else:
        label = "nei"
    return types.SimpleNamespace(label=label, confidence=0.5, reasons=[], kwargs=kwargs)


@pytest.fixture
def fake_suggest(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """A stand-in for workbench.hints.suggest (written separately), recording each call."""
    calls: list[dict[str, Any]] = []

    def pair_stance(claim: str, evidence: str, **kwargs: Any) -> Any:
        calls.append({"claim": claim, "evidence": evidence, **kwargs})
        return _fake_stance(claim, evidence, **kwargs)

    module = types.ModuleType("workbench.hints.suggest")
    module.pair_stance = pair_stance  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "workbench.hints.suggest", module)
    monkeypatch.delenv("WORKBENCH_NLI_MODEL", raising=False)
    return calls


def _write_pairs(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    return path


# ----- reading pairs -----------------------------------------------------------------------


def test_labels_and_their_synonyms() -> None:
    assert [stance_label(r["label"]) for r in PAIRS] == [
        "supports", "refutes", "nei", "refutes", "supports", "nei",
    ]  # fmt: skip
    assert stance_label("Not Enough Info") == "nei"
    assert stance_label("maybe") is None


def test_pairs_are_read_with_languages_and_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "pairs.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in PAIRS[:3]).replace("\n", "\n\n", 1))
    pairs = read_pairs(path)
    assert [p.line for p in pairs] == [1, 3, 4]
    assert pairs[2] == StancePair("Il a plu à Paris.", "Le ciel est bleu.", "nei", "fr", "fr", 4)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", r"pairs:2: not valid JSON"),
        ("[1, 2]", r"pairs:2: expected a JSON object, got an array"),
        ('{"evidence": "e", "label": "nei"}', r"pairs:2: field 'claim' must be .* \(missing\)"),
        ('{"claim": "c", "evidence": 3, "label": "nei"}', r"pairs:2: field 'evidence'.*a number"),
        ('{"claim": "c", "evidence": "e"}', r"pairs:2: field 'label' must be .* not missing"),
        ('{"claim": "c", "evidence": "e", "label": "maybe"}', r"pairs:2: .* not 'maybe'"),
        ('{"claim": "c", "evidence": "e", "label": "nei", "claim_lang": 1}', r"'claim_lang'"),
    ],
)
def test_malformed_pairs_name_the_line(line: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_pairs([json.dumps(PAIRS[0]), line], "pairs")


def test_empty_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no pairs"):
        parse_pairs(["", "  "], "empty.jsonl")
    with pytest.raises(InputError, match=r"nope\.jsonl: no such file"):
        read_pairs(tmp_path / "nope.jsonl")


# ----- metrics -----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_metrics_match_scikit_learn(seed: int) -> None:
    rng = random.Random(seed)
    gold = [rng.choice(STANCE_LABELS) for _ in range(60)]
    # Right two times in three, so the scores are neither 0 nor 1.
    predicted = [g if rng.random() < 0.66 else rng.choice(STANCE_LABELS) for g in gold]
    report = stance_metrics(gold, predicted)
    labels = list(STANCE_LABELS)
    assert report.confusion == confusion_matrix(gold, predicted, labels=labels).tolist()
    assert report.macro_f1 == pytest.approx(f1_score(gold, predicted, average="macro"))
    assert report.accuracy == pytest.approx(np.mean(np.array(gold) == np.array(predicted)))
    precision, recall, f1, support = precision_recall_fscore_support(
        gold, predicted, labels=labels, zero_division=0
    )
    for i, label in enumerate(labels):
        scores = report.per_class[label]
        assert (scores.precision, scores.recall, scores.f1) == pytest.approx(
            (precision[i], recall[i], f1[i])
        )
        assert scores.support == support[i]


def test_macro_f1_with_an_absent_or_never_predicted_label() -> None:
    # No nei anywhere: macro-F1 averages supports and refutes only, as scikit-learn does.
    gold = ["supports", "supports", "refutes", "refutes"]
    predicted = ["supports", "refutes", "refutes", "refutes"]
    report = stance_metrics(gold, predicted)
    assert report.macro_f1 == pytest.approx(f1_score(gold, predicted, average="macro"))
    assert report.per_class["nei"].support == 0 and report.per_class["nei"].f1 == 0.0
    # A gold label never predicted counts as F1 0 in the average.
    gold, predicted = ["nei", "supports", "supports"], ["supports", "supports", "supports"]
    report = stance_metrics(gold, predicted)
    assert report.macro_f1 == pytest.approx(f1_score(gold, predicted, average="macro"))
    assert report.per_class["nei"].precision == 0.0


def test_evaluate_in_batches_and_check_the_predictor() -> None:
    pairs = parse_pairs([json.dumps(r) for r in PAIRS], "p")
    sizes: list[int] = []

    def predict(batch):
        sizes.append(len(batch))
        return [p.label.upper() for p in batch]  # any accepted spelling

    report = evaluate_stance(pairs, predict, batch_size=4)
    assert sizes == [4, 2]
    assert report.accuracy == 1.0 and report.macro_f1 == 1.0
    assert report.confusion == [[2, 0, 0], [0, 2, 0], [0, 0, 2]]
    baseline = evaluate_stance(pairs, majority_predictor(pairs))
    assert baseline.accuracy == pytest.approx(2 / 6)
    with pytest.raises(WorkbenchError, match="returned 1 labels for 6 pairs"):
        evaluate_stance(pairs, lambda batch: ["nei"])
    with pytest.raises(WorkbenchError, match="returned 'maybe' for line 1"):
        evaluate_stance(pairs, lambda batch: ["maybe"] * len(batch))


def test_suggestion_predictor_runs_nli_once_per_batch(fake_suggest) -> None:
    pairs = parse_pairs([json.dumps(r) for r in PAIRS], "p")

    class FakeNLI:
        name = "fake"
        calls: list[list[tuple[str, str]]] = []

        def predict(self, batch):
            self.calls.append(list(batch))
            return np.array([[0.1 * i, 0.5, 0.5 - 0.1 * i] for i in range(len(batch))])

    model = FakeNLI()
    report = evaluate_stance(pairs, suggestion_predictor(model), batch_size=4)  # type: ignore[arg-type]
    assert [len(c) for c in model.calls] == [4, 2]
    # The evidence is the premise and the claim the hypothesis.
    assert model.calls[0][0] == (PAIRS[0]["evidence"], PAIRS[0]["claim"])
    np.testing.assert_allclose(fake_suggest[1]["nli_probs"], [0.1, 0.5, 0.4])
    assert fake_suggest[2]["claim_lang"] == "fr" and fake_suggest[2]["evidence_lang"] == "fr"
    assert all(call["nli"] is model for call in fake_suggest)
    assert report.accuracy == 1.0
    # Without a model, no probabilities.
    fake_suggest.clear()
    evaluate_stance(pairs, suggestion_predictor(None))
    assert all(call["nli_probs"] is None and call["nli"] is None for call in fake_suggest)


# ----- the command -------------------------------------------------------------------------


def test_eval_stance_table_and_json(tmp_path: Path, fake_suggest, monkeypatch) -> None:
    monkeypatch.setattr(nli_module, "_warned_no_model", False)
    path = _write_pairs(tmp_path / "pairs.jsonl", PAIRS)
    result = runner.invoke(app, ["eval", "--task", "stance", str(path)])
    assert result.exit_code == 0, result.output
    assert "accuracy 1.000, macro-F1 1.000" in result.stdout
    assert "confusion (rows: gold, columns: predicted)" in result.stdout
    for label in STANCE_LABELS:
        assert label in result.stdout
    assert result.stderr.count(NO_MODEL_WARNING) == 1
    assert len(fake_suggest) == len(PAIRS)

    result = runner.invoke(app, ["eval", "--task", "stance", str(path), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["task"] == "stance" and report["nli_model"] is None
    assert report["pairs"] == 6 and report["accuracy"] == 1.0 and report["macro_f1"] == 1.0
    assert report["per_class"]["refutes"] == {
        "precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 2,
    }  # fmt: skip
    assert report["confusion"]["labels"] == list(STANCE_LABELS)
    assert report["confusion"]["rows_gold_cols_predicted"] == [[2, 0, 0], [0, 2, 0], [0, 0, 2]]


def test_eval_stance_errors(tmp_path: Path, fake_suggest) -> None:
    path = _write_pairs(tmp_path / "pairs.jsonl", PAIRS)
    wrong = runner.invoke(app, ["eval", "--task", "stance", str(path), str(path)])
    assert wrong.exit_code == ExitCode.USAGE
    assert "eval --task stance takes one PAIRS file, got 2 files" in wrong.stderr
    retrieval = runner.invoke(app, ["eval", str(path)])
    assert retrieval.exit_code == ExitCode.USAGE
    assert "eval --task retrieval takes CORPUS QUERIES QRELS, got 1" in retrieval.stderr
    unknown = runner.invoke(app, ["eval", "--task", "sentiment", str(path)])
    assert unknown.exit_code == ExitCode.USAGE

    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(PAIRS[0]) + '\n{"claim": "c", "evidence": "e", "label": "x"}\n')
    result = runner.invoke(app, ["eval", "--task", "stance", str(bad)])
    assert result.exit_code == ExitCode.BAD_INPUT
    assert f"{bad}:2: field 'label'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1

    missing = runner.invoke(
        app, ["eval", "--task", "stance", str(path), "--nli-model", str(tmp_path / "no-model")]
    )
    assert missing.exit_code == ExitCode.BAD_INPUT
    assert "NLI model" in missing.stderr and "not found locally" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1


def test_real_pair_stance_if_present(tmp_path: Path) -> None:
    """The suggestion module, once it exists, gives valid labels through the command."""
    pytest.importorskip("workbench.hints.suggest")
    path = _write_pairs(tmp_path / "pairs.jsonl", PAIRS)
    result = runner.invoke(app, ["eval", "--task", "stance", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["pairs"] == len(PAIRS)
