"""Tests of the command line through its real entry point: outputs, exit codes, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from workbench.cli import app
from workbench.errors import ExitCode

runner = CliRunner()


def _run(*args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input)


def _jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture
def ingested(evidence_file: Path) -> Path:
    result = _run("ingest", str(evidence_file), "--model", "hash:64")
    assert result.exit_code == 0, result.output
    return Path(os.environ["WORKBENCH_HOME"])


def test_help_is_fast_and_imports_no_heavy_library() -> None:
    code = (
        "import sys, workbench.cli\n"
        "heavy = [m for m in ('torch', 'faiss', 'sentence_transformers', 'bm25s', 'numpy')"
        " if m in sys.modules]\n"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "workbench", "--help"], capture_output=True, text=True, check=True
    )
    assert time.perf_counter() - started < 2.0  # generous for a loaded CI machine
    for command in ("ingest", "extract", "match", "export"):
        assert command in done.stdout


def test_ingest_match_export_round_trip(ingested: Path, seed_article: Path) -> None:
    result = _run("match", str(seed_article), "--top-k", "3")
    assert result.exit_code == 0, result.output
    records = _jsonl(result.stdout)
    # The top 3, then at most 2 counter-evidence passages from the wider pool.
    assert records and all(
        [("counter" in m["signals"]) for m in r["matches"]][:3] == [False] * 3
        and len(r["matches"]) <= 5
        for r in records
    )
    text = seed_article.read_text(encoding="utf-8")
    for record in records:
        assert text[record["start"] : record["end"]] == record["claim"]
        assert set(record["matches"][0]) >= {
            "evidence_id",
            "passage_id",
            "score",
            "title",
            "url",
            "published",
            "lang",
            "text",
        }
    assert not any(r["claim"].startswith("Dernière mise à jour") for r in records)
    # Matching the same article again adds no duplicate claims.
    again = _jsonl(_run("match", str(seed_article)).stdout)
    assert [r["claim_id"] for r in again] == [r["claim_id"] for r in records]
    exported = _jsonl(_run("export", "--format", "jsonl").stdout)
    assert len(exported) == len(records)
    assert exported[0]["matches"][0]["evidence_id"] == records[0]["matches"][0]["evidence_id"]
    assert exported[0]["verdict"] is None and exported[0]["audit"] == []


def test_match_reads_claims_from_stdin_and_jsonl(ingested: Path, tmp_path: Path) -> None:
    claims = '{"text": "Putin and Trump met in Osaka", "lang": "en"}\n'
    result = _run("match", "-", "-k", "2", input=claims)
    assert result.exit_code == 0, result.output
    (record,) = _jsonl(result.stdout)
    assert record["matches"][0]["evidence_id"] == "en-osaka"
    path = tmp_path / "claims.jsonl"
    path.write_text(claims + '{"claim": "Pompeo in Sochi", "article": "a1"}\n')
    records = _jsonl(_run("match", str(path)).stdout)
    assert [r["article"] for r in records] == ["claims.jsonl", "a1"]


@pytest.mark.parametrize(
    "option, value",
    [("--top-k", "0"), ("--top-k", "99999999999999999999"), ("--counter-pool", "1001")],
)
def test_match_refuses_unbounded_passages_per_claim(
    ingested: Path, seed_article: Path, option: str, value: str
) -> None:
    # A huge --top-k used to read, score and store every passage of the corpus per claim.
    before = _jsonl(_run("info").stdout)[0]["claims"]
    result = _run("match", str(seed_article), option, value)
    assert result.exit_code == 1, result.output
    assert result.stderr.strip().splitlines() == [
        f"workbench: error: {option} must be from {0 if 'pool' in option else 1} to 1000, "
        f"not {value}"
    ]
    assert _jsonl(_run("info").stdout)[0]["claims"] == before


def test_malformed_claims_name_the_line(ingested: Path, tmp_path: Path) -> None:
    path = tmp_path / "claims.jsonl"
    path.write_text('{"text": "ok"}\n\n{"text": }\n')
    result = _run("match", str(path))
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "claims.jsonl:3: not valid JSON" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\x00\x01\x02\x03binary\x00" * 50, "binary"),
        (b'{"title": "no id", "text": "x"}\n', "id"),
        (b'{"id": "a"}\n', "text"),
    ],
)
def test_bad_evidence_is_one_clear_line(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "evidence.jsonl"
    path.write_bytes(content)
    result = _run("ingest", str(path), "--model", "hash:64")
    assert result.exit_code == ExitCode.BAD_INPUT, result.output
    assert message in result.stderr.lower()
    assert len(result.stderr.strip().splitlines()) == 1
    assert not Path(os.environ["WORKBENCH_HOME"]).exists()  # nothing created


def test_latin1_evidence_is_decoded(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes("Poutine a déclaré que la réunion était utile.\n".encode("cp1252"))
    assert _run("ingest", str(path), "--model", "hash:64").exit_code == 0
    exported = _run("info")
    assert json.loads(exported.stdout)["passages"] == 1


def test_missing_path_and_missing_workspace(tmp_path: Path, seed_article: Path) -> None:
    result = _run("ingest", str(tmp_path / "nope.jsonl"))
    assert result.exit_code == ExitCode.BAD_INPUT and "no such file" in result.stderr
    result = _run("match", str(seed_article))
    assert result.exit_code == ExitCode.WORKSPACE
    assert "workbench ingest" in result.stderr


def test_not_a_workspace(tmp_path: Path, seed_article: Path) -> None:
    (tmp_path / "random.txt").write_text("hi")
    result = _run("match", str(seed_article), "--workspace", str(tmp_path))
    assert result.exit_code == ExitCode.WORKSPACE and "not a workbench workspace" in result.stderr


def test_workspace_of_another_model(ingested: Path, seed_article: Path) -> None:
    result = _run("match", str(seed_article), "--model", "hash:32")
    assert result.exit_code == ExitCode.MODEL_MISMATCH
    assert "built with 'hash:64'" in result.stderr and "--model hash:64" in result.stderr


def test_extract_prints_claims_without_a_workspace(seed_article: Path) -> None:
    result = _run("extract", str(seed_article))
    assert result.exit_code == 0
    records = _jsonl(result.stdout)
    assert len(records) >= 4 and all(r["lang"] == "fr" for r in records)
    mueller = next(r for r in records if "collusion" in r["claim"])
    assert mueller["claimant"] == "Vladimir Poutine"
    assert mueller["standalone"].startswith("Vladimir Poutine a par ailleurs félicité")
    dated = _jsonl(_run("extract", str(seed_article), "--published", "2019-05-15").stdout)
    assert "mardi 14 mai 2019 à Sotchi" in dated[0]["standalone"]
    assert dated[0]["claim"] == records[0]["claim"]  # the original span is kept
    call = next(r for r in dated if "3 mai" in r["claim"])
    assert {"text": "3 mai", "value": "2019-05-03"}.items() <= call["dates"][0].items()
    assert not Path(os.environ["WORKBENCH_HOME"]).exists()


def test_extract_fields_with_the_rules_scorer_and_bad_languages(
    seed_article: Path, tmp_path: Path
) -> None:
    result = _run("extract", str(seed_article), "--scorer", "rules", "--published", "2019-05-15")
    assert result.exit_code == 0, result.output
    records = _jsonl(result.stdout)
    assert {r["scorer"] for r in records} == {"rules"}
    osaka = next(r for r in records if "Osaka" in r["claim"])
    assert osaka["speakers"] == ["Youri Ouchakov", "Mike Pompeo"]
    assert osaka["content"].startswith("Donald Trump était prêt")
    assert {"Osaka", "Japan", "G20"} <= {e["normal"] for e in osaka["entities"]}
    assert osaka["spans"] == [[osaka["start"], osaka["end"]]]
    german = tmp_path / "de.txt"
    german.write_text(
        "Der russische Präsident Wladimir Putin hat am Dienstag in Sotschi den amerikanischen "
        "Außenminister Mike Pompeo empfangen. Beide Seiten wollen die Beziehungen verbessern.",
        encoding="utf-8",
    )
    result = _run("extract", str(german), "--scorer", "rules")
    assert result.exit_code == ExitCode.BAD_INPUT and "supported: fr, en" in result.stderr
    result = _run("extract", str(german), "--scorer", "rules", "--lang", "fr")
    assert result.exit_code == 0  # the reader said so
    result = _run("extract", str(seed_article), "--scorer", "magic")
    assert result.exit_code != 0 and "unknown scorer" in result.stderr


@pytest.mark.slow
def test_extract_with_the_model_needs_no_torch_for_french(seed_article: Path) -> None:
    code = (
        "import sys\n"
        "from workbench.cli import main\n"
        f"sys.argv = ['workbench', 'extract', {str(seed_article)!r}]\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "assert 'torch' not in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    records = _jsonl(done.stdout)
    assert {r["scorer"] for r in records} == {"model"}
    assert any("collusion" in r["claim"] and r["score"] > 0.5 for r in records)


def test_export_to_file_and_to_an_unwritable_place(ingested: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    result = _run("export", "-o", str(out))
    assert result.exit_code == 0 and out.read_text() == ""
    assert "no claims yet" in result.stderr
    result = _run("export", "-o", str(tmp_path / "missing-dir" / "out.jsonl"))
    assert result.exit_code == ExitCode.FAILURE and "cannot write" in result.stderr
    result = _run("export", "--format", "docx")
    assert result.exit_code != 0 and "unknown format" in result.stderr


def test_python_dash_m_entry_point(evidence_file: Path, tmp_path: Path) -> None:
    env = {**os.environ, "WORKBENCH_HOME": str(tmp_path / "ws2")}
    done = subprocess.run(
        [sys.executable, "-m", "workbench", "ingest", str(evidence_file), "--model", "hash:64"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["ingest"]["passages_total"] == 6


def test_reindex_switches_models_and_keeps_claims(ingested: Path, seed_article: Path) -> None:
    assert _run("match", str(seed_article)).exit_code == 0
    refused = _run("match", str(seed_article), "--model", "hash:32")
    assert "workbench reindex --model hash:32" in refused.stderr
    result = _run("reindex", "--model", "hash:32")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["reindex"]["passages_total"] == 6
    info = json.loads(_run("info").stdout)
    assert [m["name"] for m in info["models"]] == ["hash:32"]
    assert info["index"]["models"][0]["dim"] == 32 and info["claims"] > 0
    again = _run("match", str(seed_article), "--model", "hash:32", "-k", "1")
    assert again.exit_code == 0, again.output


def test_verdict_and_claims_commands(ingested: Path, seed_article: Path) -> None:
    records = _jsonl(_run("match", str(seed_article)).stdout)
    claim_id, passage_id = records[0]["claim_id"], records[0]["matches"][0]["passage_id"]
    result = _run(
        "verdict", str(claim_id), "Plutôt faux", "--note", "voir source",
        "--cite", str(passage_id), "--reviewer", "ana",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "claim_id": claim_id, "verdict": "mostly-false", "note": "voir source",
        "cited": [passage_id], "reviewer": "ana", "status": "final",
    }  # fmt: skip
    reviewed = _jsonl(_run("claims", "--status", "reviewed").stdout)
    assert [(r["claim_id"], r["verdict"], r["status"]) for r in reviewed] == [
        (claim_id, "mostly-false", "final")
    ]
    # Claims under the check-worthiness threshold are stored and matched, not listed.
    checkworthy = [r for r in records if r["checkworthy"]]
    assert len(_jsonl(_run("claims", "--status", "unreviewed").stdout)) == len(checkworthy) - 1
    exported = {r["claim_id"]: r for r in _jsonl(_run("export").stdout)}
    row = exported[claim_id]
    assert row["verdict"]["note"] == "voir source"
    assert row["verdict"]["cited"][0]["passage_id"] == passage_id
    assert [a["reviewer"] for a in row["audit"]] == ["ana", "ana", "ana"]
    bad = _run("verdict", str(claim_id), "maybe")
    assert bad.exit_code == ExitCode.BAD_INPUT and "unknown verdict" in bad.stderr
    missing = _run("verdict", "9999", "true")
    assert missing.exit_code == ExitCode.BAD_INPUT and "no claim with id 9999" in missing.stderr


def _review_of(claim_id: int) -> dict:
    """The claim's stored verdict and audit trail, as `export` writes them."""
    row = {r["claim_id"]: r for r in _jsonl(_run("export").stdout)}[claim_id]
    return {"verdict": row["verdict"], "audit": row["audit"]}


def _one_line_error(result, exit_code: int, text: str) -> None:
    assert result.exit_code == exit_code, result.output
    assert isinstance(result.exception, SystemExit)  # handled, not a crash
    assert result.stdout == "" and result.stderr.count("\n") == 1 and text in result.stderr


def test_a_rejected_verdict_command_changes_nothing(ingested: Path, seed_article: Path) -> None:
    records = _jsonl(_run("match", str(seed_article)).stdout)
    claim_id, passage_id = records[0]["claim_id"], records[0]["matches"][0]["passage_id"]
    args = ["verdict", str(claim_id)]
    done = _run(*args, "false", "--note", "checked", "--cite", str(passage_id), "-r", "ana")
    assert done.exit_code == 0, done.output
    before = _review_of(claim_id)
    attempts = [
        ([*args, "true", "--cite", "99999"], "no evidence passage with id 99999"),
        ([*args, "true", "--note", "new", "--cite", str(passage_id), "--cite", "99999"], "99999"),
        ([*args, "maybe", "--note", "new"], "unknown verdict"),
        ([*args, ""], f"'workbench verdict {claim_id} --clear'"),
        ([*args, "  ", "--note", "new"], "empty verdict"),
        (["verdict", "9" * 23, "false"], f"no claim with id {'9' * 23} in"),
        ([*args, "true", "--cite", "99999999999999999999999"], "no evidence passage with id 9999"),
    ]
    for attempt, text in attempts:
        _one_line_error(_run(*attempt, "-r", "ben"), ExitCode.BAD_INPUT, text)
        assert _review_of(claim_id) == before, attempt
    _one_line_error(_run(*args, "-r", "ben"), ExitCode.USAGE, "--clear")
    _one_line_error(_run(*args, "true", "--clear"), ExitCode.USAGE, "not both")
    assert _review_of(claim_id) == before


def test_verdict_clear_removes_the_verdict_audited(ingested: Path, seed_article: Path) -> None:
    claim_id = _jsonl(_run("match", str(seed_article)).stdout)[0]["claim_id"]
    assert _run("verdict", str(claim_id), "true", "--note", "vu", "-r", "ana").exit_code == 0
    result = _run("verdict", str(claim_id), "--clear", "-r", "ben")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "claim_id": claim_id, "verdict": "", "note": "vu", "cited": [], "reviewer": "ben",
        "status": "unreviewed",
    }  # fmt: skip
    audit = _review_of(claim_id)["audit"]
    assert [(a["reviewer"], a["action"]) for a in audit] == [
        ("ana", "verdict"), ("ana", "note"), ("ben", "clear verdict")
    ]  # fmt: skip
    assert (audit[-1]["old"]["verdict"], audit[-1]["new"]["verdict"]) == ("true", "")
    assert _jsonl(_run("claims", "--status", "reviewed").stdout) == []


def test_review_without_claims_says_what_to_run(ingested: Path, tmp_path: Path) -> None:
    result = _run("review")
    assert result.exit_code == ExitCode.WORKSPACE
    assert "workbench match" in result.stderr and "Traceback" not in result.output
    result = _run("review", "--workspace", str(tmp_path / "none"))
    assert result.exit_code == ExitCode.WORKSPACE and "workbench ingest" in result.stderr


def test_article_date_and_url_reach_the_workspace(ingested: Path, tmp_path: Path) -> None:
    article = tmp_path / "osaka.en.txt"
    article.write_text(
        "Updated 11:02 a.m. June 28, 2019\n"
        "President Donald Trump met Vladimir Putin on Friday at the G20 summit in Osaka.\n",
        encoding="utf-8",
    )
    assert _run("match", str(article)).exit_code == 0
    row = _jsonl(_run("export").stdout)[0]
    assert (row["article_published"], row["article_url"]) == ("2019-06-28", "")
    result = _run(
        "match", str(article), "--url", "https://example.org/a", "--published", "2019-06-29"
    )
    assert result.exit_code == 0, result.output
    row = _jsonl(_run("export").stdout)[0]
    assert (row["article_published"], row["article_url"]) == ("2019-06-29", "https://example.org/a")
    bad = _run("match", str(article), "--published", "29/06/2019")
    assert bad.exit_code == ExitCode.BAD_INPUT and "ISO date" in bad.stderr


def test_ingest_and_import_reviews_keep_the_workspace_thresholds(tmp_path: Path) -> None:
    def evidence(name: str, n: int) -> str:
        path = tmp_path / f"{name}.jsonl"
        path.write_text(
            "".join(
                json.dumps({"id": f"{name}{i}", "text": f"Passage {name}{i} on topic {i % 17}."})
                + "\n"
                for i in range(n)
            )
        )
        return str(path)

    def built() -> tuple[int, int, str]:
        manifest = json.loads(
            (Path(os.environ["WORKBENCH_HOME"]) / "index" / "manifest.json").read_text()
        )
        return (
            manifest["approx_threshold"],
            manifest["pq_threshold"],
            manifest["models"][0]["index_type"],
        )

    args = ("--model", "hash:32", "--approx-threshold", "100", "--pq-threshold", "200")
    assert _run("ingest", evidence("a", 400), *args).exit_code == 0
    assert built() == (100, 200, "ivfpq")
    result = _run("ingest", evidence("b", 20), "--model", "hash:32")
    assert result.exit_code == 0, result.output
    assert built() == (100, 200, "ivfpq")
    reviews = Path(__file__).parent / "data" / "claimreviews.jsonld"
    result = _run("import-reviews", str(reviews), "--model", "hash:32")
    assert result.exit_code == 0, result.output
    assert built() == (100, 200, "ivfpq")


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["--model", "hash:64"], {"WORKBENCH_PRECISION": "fp16"}),
        (["--model", "/nonexistent/model"], {}),
    ],
)
def test_a_failed_first_ingest_leaves_no_workspace(
    evidence_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args, env
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    home = Path(os.environ["WORKBENCH_HOME"])
    result = _run("ingest", str(evidence_file), *args)
    assert result.exit_code != 0 and len(result.stderr.strip().splitlines()) == 1
    assert not home.exists()  # no empty workspace for a later command to take as real
    # An existing folder given as the workspace stays, emptied of what the command made.
    folder = tmp_path / "given"
    (folder / "keep.txt").parent.mkdir()
    (folder / "keep.txt").write_text("the user's")
    result = _run("ingest", str(evidence_file), *args, "--workspace", str(folder))
    assert result.exit_code != 0
    assert sorted(p.name for p in folder.iterdir()) == ["keep.txt"]


def test_a_failed_ingest_into_an_existing_workspace_keeps_it(
    ingested: Path, evidence_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = json.loads(_run("info").stdout)
    monkeypatch.setenv("WORKBENCH_PRECISION", "fp16")
    assert _run("ingest", str(evidence_file), "--model", "hash:64").exit_code != 0
    monkeypatch.delenv("WORKBENCH_PRECISION")
    assert json.loads(_run("info").stdout) == before
