"""Tests that `workbench eval` measures what `workbench match` ships: the same retriever (the
learned re-ranker included), the same lists, the same ranking for the same text."""

from __future__ import annotations

import json
import os
import random
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from workbench import retrieve
from workbench.cli import app
from workbench.errors import ExitCode
from workbench.evaluate import MINILM, USE, fusion_config
from workbench.rerank import Model, Reranker, feature_names

# As in test_eval.py: ranx's metrics run uncompiled (compiling costs more than these tests).
if "numba" not in sys.modules:
    os.environ.setdefault("NUMBA_DISABLE_JIT", "1")

runner = CliRunner()
MODEL = "hash:64"
SOURCES = (MODEL, "bm25", "bridge")  # the retrievers the default fusion runs with hash:64
WORDS = [
    "senate", "budget", "vaccine", "border", "tariff", "election", "court", "strike", "pension",
    "climate", "housing", "inflation", "refugee", "police", "minister", "oil", "grain", "wage",
    "rail", "drought",
]  # fmt: skip
QUERIES = {
    "q1": "senate budget vote on pension and wage",
    "q2": "vaccine court ruling on border police",
    "q3": "climate drought hits grain and oil",
    "q4": "rail strike over wage and pension",
    "q5": "minister says inflation raised housing costs",
    "q6": "election tariff on oil and grain",
}


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, Path, Path]:
    """Over 100 documents sharing words with every query, so that each retriever's list is
    cut: how deep eval reads the lists shows in its top ranks."""
    rng = random.Random(7)
    docs = [
        {"id": f"d{i:03d}", "text": " ".join(rng.sample(WORDS, 6)) + f" report {i}.", "lang": "en"}
        for i in range(240)
    ]
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    queries = tmp_path / "queries.jsonl"
    queries.write_text(
        "".join(json.dumps({"id": q, "text": t, "lang": "en"}) + "\n" for q, t in QUERIES.items()),
        encoding="utf-8",
    )
    # Every query is judged (any document will do: the metrics are not what is tested here).
    qrels = tmp_path / "qrels"
    qrels.write_text("".join(f"{q} 0 d00{i} 1\n" for i, q in enumerate(QUERIES)), encoding="utf-8")
    return corpus, queries, qrels


def _reversing_reranker() -> Reranker:
    """A re-ranker for the hashing model's retrievers that turns the fused order upside down
    (its only weight is against the fused reciprocal rank): unmistakable when it runs."""
    names = feature_names(SOURCES, (MODEL,))
    weights = np.zeros(len(names))
    weights[names.index("fused_rr")] = -10.0
    model = Model(
        np.zeros(len(names)), np.ones(len(names)), weights, 0.0, np.eye(64, dtype=np.float32), MODEL
    )
    return Reranker(SOURCES, (MODEL,), {"en": model}, 500, 20, 30, {})


def _ranking(run_file: Path) -> dict[str, list[str]]:
    """query id -> document ids in rank order, from a TREC run file."""
    ranked: dict[str, list[tuple[int, str]]] = {}
    for line in run_file.read_text(encoding="utf-8").splitlines():
        qid, q0, doc, rank, _score, _tag = line.split()
        assert q0 == "Q0"
        ranked.setdefault(qid, []).append((int(rank), doc))
    return {qid: [doc for _, doc in sorted(rows)] for qid, rows in ranked.items()}


def test_eval_default_ranks_as_match_stores(
    inputs: tuple[Path, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retrieve, "_shipped_reranker", _reversing_reranker)
    corpus, queries, qrels = inputs
    ws, runs = tmp_path / "ws-eval", tmp_path / "runs"
    result = runner.invoke(
        app,
        ["eval", str(corpus), str(queries), str(qrels), "--model", MODEL, "--workspace-dir",
         str(ws), "-c", "default", "-c", "default-no-rerank", "--save-runs", str(runs)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert [line.split(" | ")[0] for line in result.stdout.splitlines()[2:]] == [
        "| default",
        "| default-no-rerank",
    ]
    assert "is the fusion alone" not in result.stderr  # the re-ranker ran
    ranked = _ranking(runs / "default.run")
    fused = _ranking(runs / "default-no-rerank.run")
    assert set(ranked) == set(QUERIES)
    # The re-ranker reorders what eval measures under 'default', and only there.
    assert all(ranked[q][:5] != fused[q][:5] for q in QUERIES)

    # The same texts matched on the same workspace, as a newsroom runs it.
    claims = tmp_path / "claims.jsonl"
    claims.write_text(
        "".join(
            json.dumps({"text": t, "lang": "en", "article": q}) + "\n" for q, t in QUERIES.items()
        ),
        encoding="utf-8",
    )
    top_k = 10
    matched = runner.invoke(app, ["match", str(claims), "--workspace", str(ws), "-k", str(top_k)])
    assert matched.exit_code == 0, matched.output
    records = [json.loads(line) for line in matched.stdout.splitlines()]
    assert len(records) == len(QUERIES)
    for record in records:
        # Counter-evidence is added after the top k, outside the ranking.
        stored = [m["evidence_id"] for m in record["matches"] if "counter" not in m["signals"]]
        assert len(stored) == top_k
        assert stored == ranked[record["article"]][:top_k], record["article"]


def test_without_the_reranker_default_says_it_is_the_fusion(
    inputs: tuple[Path, Path, Path],
) -> None:
    corpus, queries, qrels = inputs
    result = runner.invoke(
        app,
        ["eval", str(corpus), str(queries), str(qrels), "--model", MODEL, "--json",
         "-c", "default,default-no-rerank"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert "runs" not in report  # the rankings go to --save-runs, not into the JSON
    # The shipped re-ranker reads the default models' signals, not the hashing model's.
    (note,) = [n for n in report["notes"] if "re-ranker" in n]
    assert note.startswith("'default' is the fusion alone")
    default, no_rerank = report["rows"]
    assert {k: v for k, v in default.items() if k not in ("config", "ms_per_query")} == {
        k: v for k, v in no_rerank.items() if k not in ("config", "ms_per_query")
    }


def test_only_default_reranks() -> None:
    models = [USE, MINILM]
    assert fusion_config("default", models) == retrieve.FusionConfig()  # what match builds
    assert fusion_config("DEFAULT-no-rerank", models).rerank is False
    assert fusion_config("default-no-rerank", models).weights == retrieve.FusionConfig().weights
    for baseline in ("bm25", "minilm", "use+minilm+bm25", "usem3+bridge"):
        assert fusion_config(baseline, models).rerank is False, baseline


def test_save_runs_needs_a_folder(inputs: tuple[Path, Path, Path], tmp_path: Path) -> None:
    corpus, queries, qrels = inputs
    taken = tmp_path / "taken"
    taken.write_text("not a folder", encoding="utf-8")
    result = runner.invoke(
        app,
        ["eval", str(corpus), str(queries), str(qrels), "--model", MODEL,
         "--save-runs", str(taken), "--workspace-dir", str(tmp_path / "never")],
    )  # fmt: skip
    assert result.exit_code == ExitCode.BAD_INPUT
    assert result.stderr.strip().splitlines() == [
        f"workbench: error: {taken}: not a folder (--save-runs takes a folder)"
    ]
    assert not (tmp_path / "never").exists()  # refused before any work
