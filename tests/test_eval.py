"""Tests of `workbench eval`: input parsing, ranx metrics, and the command end to end."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from workbench.cli import app
from workbench.errors import ExitCode, InputError, WorkbenchError
from workbench.evaluate import (
    MINILM,
    USE,
    evaluate_run,
    fusion_config,
    parse_metrics,
    parse_qrels,
    parse_queries,
)

# ranx's metrics are numba functions; compiling them and the typed containers they read
# costs tens of seconds per process, more than these tests. The same Python code runs
# uncompiled (numba reads this before its first import; nothing else here uses numba).
if "numba" not in sys.modules:
    os.environ.setdefault("NUMBA_DISABLE_JIT", "1")

runner = CliRunner()

CORPUS = [
    {"id": "d1", "text": "Vladimir Putin met Mike Pompeo in Sochi on Tuesday.", "title": "Sochi"},
    {"id": "d2", "text": "The G20 summit will take place in Osaka, Japan, in June."},
    {"id": "d3", "text": "Robert Mueller found no collusion between the campaign and Russia."},
    {"id": "d4", "text": "Inflation rose sharply in the euro area last month, to 5 percent."},
    {"id": "d5", "text": "Le sommet du G20 se tiendra à Osaka au mois de juin.", "lang": "fr"},
]


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, Path, Path]:
    corpus = _write(
        tmp_path / "corpus.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in CORPUS)
    )
    queries = _write(
        tmp_path / "queries.tsv",
        "id\ttext\nq1\tPutin and Pompeo met in Sochi\nq2\tMueller: no collusion\n"
        "q3\tInflation in the euro area\nq4\tnot judged at all\n",
    )
    qrels = _write(tmp_path / "qrels.txt", "q1 0 d1 1\nq2 0 d3 1\nq3 0 d4 1\nq3 0 d2 0\n")
    return corpus, queries, qrels


def _eval(*args: str):
    return runner.invoke(app, ["eval", *args, "--model", "hash:64"])


# ----- parsing -----------------------------------------------------------------------------


def test_tsv_queries_with_and_without_header(tmp_path: Path) -> None:
    plain = parse_queries(_write(tmp_path / "a.tsv", "1\tFirst query\n\n2\tSecond\tquery\n"))
    assert [(q.id, q.text, q.line) for q in plain] == [
        ("1", "First query", 1),
        ("2", "Second\tquery", 3),
    ]
    headed = parse_queries(_write(tmp_path / "b.tsv", "id\ttext\n1\tFirst query\n"))
    assert [(q.id, q.text) for q in headed] == [("1", "First query")]
    # CLEF 2020's header has an empty id column; a whole-field quote is removed.
    clef = parse_queries(_write(tmp_path / "c.tsv", '\ttweet_content\n7\t"He said ""no"""\n'))
    assert [(q.id, q.text) for q in clef] == [("7", 'He said "no"')]


def test_jsonl_queries(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "q.jsonl",
        '{"id": "a", "text": " Poutine a dit ", "lang": "fr-FR"}\n\n{"id": 2, "text": "x"}\n',
    )
    queries = parse_queries(path)
    assert [(q.id, q.text, q.lang, q.line) for q in queries] == [
        ("a", "Poutine a dit", "fr", 1),
        ("2", "x", "", 3),
    ]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("q.tsv", "1\tok\n2 no tab here\n", "q.tsv:2: expected 'id<TAB>text'"),
        ("q.tsv", "1\tok\n2\t\n", "q.tsv:2: query '2' has no text"),
        ("q.tsv", "1\tok\n1\tagain\n", "q.tsv:2: duplicate query id '1' (first used on line 1)"),
        ("q.tsv", "id\ttext\n", "q.tsv: no queries"),
        ("q.tsv", "", "q.tsv: file is empty"),
        ("q.jsonl", '{"id": "1", "text": "ok"}\n{"id": "2", "text": \n', "q.jsonl:2: not valid"),
        ("q.jsonl", '{"id": "1"}\n', "q.jsonl:1: record has no 'text'"),
        ("q.jsonl", '{"text": "no id"}\n', "q.jsonl:1: record has no 'id'"),
        ("q.jsonl", "[1, 2]\n", "q.jsonl:1: expected a JSON object"),
    ],
)
def test_bad_queries_name_the_line(tmp_path: Path, name: str, text: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_queries(_write(tmp_path / name, text))
    assert message in caught.value.message


def test_qrels(tmp_path: Path) -> None:
    path = _write(tmp_path / "qrels", "q1 0 d1 1\nq1\t0\td2\t2\n\nq2 0 d3 0\n")
    assert parse_qrels(path) == {"q1": {"d1": 1, "d2": 2}}  # relevance 0 is not relevant
    with pytest.raises(InputError, match=r"qrels:2: expected 'query-id 0 doc-id relevance'"):
        parse_qrels(_write(tmp_path / "qrels", "q1 0 d1 1\nq1 0 d2\n"))
    with pytest.raises(InputError, match=r"qrels:1: relevance 'yes' is not an integer"):
        parse_qrels(_write(tmp_path / "qrels", "q1 0 d1 yes\n"))
    with pytest.raises(InputError, match="no relevant document"):
        parse_qrels(_write(tmp_path / "qrels", "q1 0 d1 0\n"))


def test_metric_names() -> None:
    assert parse_metrics("MAP@5, mrr@10,ndcg@10,map@5") == ["map@5", "mrr@10", "ndcg@10"]
    for bad in ("precison@5", "map@0", "map@x", ""):
        with pytest.raises(WorkbenchError):
            parse_metrics(bad)


# ----- metrics and configurations ----------------------------------------------------------


def test_metrics_match_a_hand_computed_example() -> None:
    run = {
        "q1": {"a": 3.0, "b": 2.0, "c": 1.0},  # relevant a (rank 1) and c (rank 3)
        "q2": {"y": 2.0, "x": 1.0},  # relevant x at rank 2
        "q9": {"a": 1.0},  # not judged: left out
    }
    qrels = {"q1": {"a": 1, "c": 1}, "q2": {"x": 1}}
    scores = evaluate_run(run, qrels, ["map@5", "mrr@10", "recall@1"])
    # AP(q1) = (1/1 + 2/3) / 2, AP(q2) = 1/2.
    assert scores["map@5"] == pytest.approx(((1 + 2 / 3) / 2 + 0.5) / 2)
    assert scores["mrr@10"] == pytest.approx((1 + 0.5) / 2)
    assert scores["recall@1"] == pytest.approx((0.5 + 0) / 2)
    # A judged query the run has nothing for scores 0.
    with_missing = evaluate_run(run, {**qrels, "q3": {"z": 1}}, ["map@5"])
    assert with_missing["map@5"] == pytest.approx(((1 + 2 / 3) / 2 + 0.5) / 3)


def test_presets_switch_off_every_other_retriever() -> None:
    models = [USE, MINILM]
    minilm = fusion_config("minilm", models)
    assert minilm.mode == "rrf" and minilm.focus_weight == 0
    assert [minilm.weight(s) for s in (USE, MINILM, "bm25", "bridge")] == [0, 1, 0, 0]
    fused = fusion_config("minilm+bm25", models)
    assert [fused.weight(s) for s in (USE, MINILM, "bm25", "bridge")] == [0, 1, 1, 0]
    assert fusion_config("use", models).weight(USE) == 1
    assert fusion_config("default", models).mode == "lang"
    assert fusion_config("hash:64+bm25", ["hash:64"]).weight("hash:64") == 1
    with pytest.raises(WorkbenchError, match="needs st:all-MiniLM-L6-v2"):
        fusion_config("minilm", ["hash:64"])


# ----- the command -------------------------------------------------------------------------


def test_eval_prints_a_table_and_json(
    inputs: tuple[Path, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    corpus, queries, qrels = inputs
    result = _eval(str(corpus), str(queries), str(qrels), "--config", "bm25,default,hash:64")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert (
        lines[0] == "| configuration | map@5 | mrr@10 | recall@5 | recall@10 | ndcg@10 | ms/query |"
    )
    assert [line.split(" | ")[0] for line in lines[2:]] == ["| bm25", "| default", "| hash:64"]
    assert lines[2].startswith("| bm25 | 1.000 | 1.000 |")
    assert "3 queries, 5 documents, models hash:64" in result.stderr
    assert "1 queries of" in result.stderr  # q4 has no judgment
    assert list(scratch.iterdir()) == []  # the temporary workspace is gone

    result = _eval(str(corpus), str(queries), str(qrels), "--json", "-k", "2", "-c", "bm25")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["queries"] == 3 and report["documents"] == 5 and report["k"] == 2
    assert report["models"] == ["hash:64"] and report["workspace"] is None
    (row,) = report["rows"]
    assert row["config"] == "bm25" and row["map@5"] == pytest.approx(1.0)
    assert row["ms_per_query"] >= 0
    assert set(report["metrics"]) == {"map@5", "mrr@10", "recall@5", "recall@10", "ndcg@10"}


def test_named_workspace_is_reused_without_re_embedding(
    inputs: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    corpus, queries, qrels = inputs
    ws = tmp_path / "evalws"
    args = (str(corpus), str(queries), str(qrels), "--workspace-dir", str(ws), "--json")
    first = _eval(*args)
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["ingest"]["passages_added"] == len(CORPUS)
    second = _eval(*args, "--metrics", "map@5")
    assert second.exit_code == 0, second.output
    report = json.loads(second.stdout)
    assert report["ingest"]["passages_added"] == 0
    assert report["ingest"]["documents_unchanged"] == len(CORPUS)
    assert report["ingest"]["passages_total"] == len(CORPUS)
    assert report["workspace"] == str(ws)
    assert [r["map@5"] for r in report["rows"]] == [
        r["map@5"] for r in json.loads(first.stdout)["rows"]
    ]
    # The workspace's models are kept: another model is refused.
    other = runner.invoke(app, ["eval", *args, "--model", "hash:32"])
    assert other.exit_code == ExitCode.MODEL_MISMATCH


def test_bad_inputs(inputs: tuple[Path, Path, Path], tmp_path: Path) -> None:
    corpus, queries, qrels = inputs
    missing = _eval(str(corpus), str(tmp_path / "nope.tsv"), str(qrels))
    assert missing.exit_code == ExitCode.BAD_INPUT and "nope.tsv: no such file" in missing.stderr
    empty = _eval(str(corpus), str(_write(tmp_path / "empty.tsv", "")), str(qrels))
    assert empty.exit_code == ExitCode.BAD_INPUT and "empty.tsv: file is empty" in empty.stderr
    strangers = _write(tmp_path / "other.qrels", "x1 0 d1 1\nx2 0 d2 1\n")
    unknown = _eval(str(corpus), str(queries), str(strangers))
    assert unknown.exit_code == ExitCode.BAD_INPUT
    assert "none of the 2 queries judged in" in unknown.stderr
    bad_metric = _eval(str(corpus), str(queries), str(qrels), "--metrics", "map@5,auc")
    assert bad_metric.exit_code != 0 and "unknown metric 'auc'" in bad_metric.stderr
    ws = tmp_path / "never"
    bad_config = _eval(
        str(corpus), str(queries), str(qrels), "-c", "minilm", "--workspace-dir", str(ws)
    )
    assert bad_config.exit_code != 0 and "configuration 'minilm' needs" in bad_config.stderr
    assert not ws.exists()  # checked before the workspace is created
    for result in (missing, empty, unknown, bad_metric, bad_config):
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_partly_unknown_queries_are_left_out_with_a_note(
    inputs: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    corpus, queries, _ = inputs
    qrels = _write(tmp_path / "qrels", "q1 0 d1 1\nzz 0 d2 1\nq2 0 nowhere 1\n")
    result = _eval(str(corpus), str(queries), str(qrels), "-c", "bm25", "--json")
    assert result.exit_code == 0, result.output
    assert "1 queries judged in" in result.stderr and "(e.g. 'zz')" in result.stderr
    assert "1 relevant documents of" in result.stderr and "'nowhere'" in result.stderr
    report = json.loads(result.stdout)
    assert report["queries"] == 2
    # q2's only relevant document is not in the corpus: it scores 0.
    assert report["rows"][0]["map@5"] == pytest.approx(0.5)
