"""Tests of the report exports: golden files, ClaimReview schema, CSV, HTML in a browser, errors.

Golden files are compared byte for byte; regenerate them on purpose with UPDATE_GOLDEN=1.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from reviewdata import MINI_EVIDENCE, build_workspace
from typer.testing import CliRunner

from workbench import verdicts
from workbench.cli import app
from workbench.errors import ExitCode
from workbench.extract.claimant import guess_claimant
from workbench.report import ReportOptions, render
from workbench.report.claimreview import short_claim
from workbench.settings import load_settings
from workbench.workspace import Workspace

GOLDEN = Path(__file__).parent / "golden"
runner = CliRunner()

FIXTURES = Path(__file__).parent / "fixtures"
FIXED_AT = "2024-05-16T09:30:00Z"
HOSTILE = (
    "Le rapport <script>document.title='PWNED'</script> ne conclut pas "
    "<img src=x onerror=\"document.body.appendChild(document.createElement('pwned-marker'))\">"
    " à une collusion."
)
_MINI = {record["id"]: record for record in MINI_EVIDENCE}
EVIDENCE = [
    _MINI["en-call"],
    _MINI["en-mueller"],
    {
        "id": "fr-hostile",
        "title": "Une source <b>piégée</b> & « citée »",
        "text": HOSTILE,
        "url": "javascript:alert(1)",
        "publisher": "Exemple",
        "published": "2019-04-19",
        "lang": "fr",
    },
    _MINI["fr-helsinki"],
]
PUBLISH = """\
[publish]
organization = "Les Vérificateurs"
url = "https://example.org"
review_url = "https://example.org/fact-checks/{claim_id}"
"""


def passage_of(ws: Workspace, evidence_id: str) -> int:
    (passage_id,) = ws.conn.execute(
        "SELECT p.id FROM passages p JOIN documents d ON d.id = p.document_id "
        "WHERE d.doc_key = ? ORDER BY p.seq LIMIT 1",
        (evidence_id,),
    ).fetchone()
    return int(passage_id)


def fix_timestamps(ws: Workspace, at: str = FIXED_AT) -> None:
    """Replace the clock's times with a fixed one, so exports are byte-for-byte stable."""
    with ws.transaction() as conn:
        conn.execute("UPDATE verdicts SET updated_at = ?", (at,))
        conn.execute("UPDATE audit_log SET at = ?", (at,))
        conn.execute("UPDATE matches SET matched_at = ?", (at,))


def build_reviewed(root: Path, tmp: Path) -> Workspace:
    """The seed article's claims matched against EVIDENCE, four of them reviewed by "ana"."""
    evidence = tmp / "report-evidence.jsonl"
    evidence.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in EVIDENCE), encoding="utf-8"
    )
    ws = build_workspace(
        root,
        evidence,
        FIXTURES / "sotchi-poutine-pompeo.fr.txt",
        url="https://example.org/articles/sotchi-poutine-pompeo",
        published="2019-05-15",
    )
    verdicts.set_verdict(ws, 2, "mostly-true", "ana")
    verdicts.set_note(ws, 2, "L'appel du 3 mai a bien eu lieu.", "ana")
    verdicts.cite(ws, 2, passage_of(ws, "en-call"), "ana")
    verdicts.set_verdict(ws, 3, "false", "ana")
    verdicts.set_note(
        ws, 3, 'Le rapport ne dit pas cela; "collusion" <non> établie & c\'est tout.', "ana"
    )
    verdicts.cite(ws, 3, passage_of(ws, "en-mueller"), "ana")
    verdicts.cite(ws, 3, passage_of(ws, "fr-hostile"), "ana")
    verdicts.set_verdict(ws, 4, "not-a-claim", "ana")
    verdicts.set_verdict(ws, 5, "unverifiable", "ana")
    verdicts.set_note(ws, 5, "Aucune source publique.", "ana")
    (root / "config.toml").write_text(PUBLISH, encoding="utf-8")
    fix_timestamps(ws)
    return ws


@pytest.fixture
def reviewed(tmp_path: Path) -> Path:
    root = tmp_path / "reviewed"
    build_reviewed(root, tmp_path).close()
    return root


def _export(root: Path, *args: str):
    return runner.invoke(app, ["export", "--workspace", str(root), *args])


def _report(root: Path, tmp_path: Path, *args: str) -> bytes:
    out = tmp_path / "report.out"
    result = _export(root, "-o", str(out), *args)
    assert result.exit_code == 0, result.output
    return out.read_bytes()


GOLDEN_CASES = [
    ("report.jsonl", ("--format", "jsonl")),
    ("report.claimreview.json", ("--format", "claimreview")),
    ("report.csv", ("--format", "csv")),
    ("report.fr.csv", ("--format", "csv", "--lang", "fr", "--status", "all")),
    ("report.md", ("--format", "markdown")),
    ("report.fr.md", ("--format", "markdown", "--lang", "fr")),
    ("report.html", ("--format", "html")),
]


@pytest.mark.parametrize(("name", "args"), GOLDEN_CASES, ids=[c[0] for c in GOLDEN_CASES])
def test_reports_match_their_golden_files(
    reviewed: Path, tmp_path: Path, name: str, args: tuple[str, ...]
) -> None:
    got = _report(reviewed, tmp_path, *args)
    golden = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.write_bytes(got)
    assert golden.exists(), f"{golden} is missing; run with UPDATE_GOLDEN=1 to create it"
    assert got == golden.read_bytes(), f"{name} differs; UPDATE_GOLDEN=1 regenerates on purpose"


def test_reports_never_read_the_clock(reviewed: Path, tmp_path: Path) -> None:
    for fmt in ("claimreview", "csv", "markdown", "html"):
        text = _report(reviewed, tmp_path, "--format", fmt).decode("utf-8")
        assert "2024-05-16" in text and "2025" not in text and "2026" not in text


CLAIMREVIEW_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "required": [
            "@context",
            "@type",
            "claimReviewed",
            "author",
            "datePublished",
            "itemReviewed",
            "reviewRating",
        ],
        "properties": {
            "@context": {"const": "https://schema.org"},
            "@type": {"const": "ClaimReview"},
            "url": {"type": "string", "pattern": "^https?://"},
            "claimReviewed": {"type": "string", "minLength": 1, "maxLength": 75},
            "datePublished": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
            "author": {
                "type": "object",
                "required": ["@type", "name"],
                "properties": {"@type": {"const": "Organization"}, "name": {"minLength": 1}},
            },
            "itemReviewed": {
                "type": "object",
                "required": ["@type", "author", "appearance", "datePublished"],
                "properties": {
                    "@type": {"const": "Claim"},
                    "datePublished": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
                    "author": {
                        "type": "object",
                        "required": ["@type", "name"],
                        "properties": {"@type": {"enum": ["Person", "Organization"]}},
                    },
                    "appearance": {
                        "type": "object",
                        "required": ["@type", "url"],
                        "properties": {"url": {"type": "string", "pattern": "^https?://"}},
                    },
                },
            },
            "reviewRating": {
                "type": "object",
                "required": ["@type", "alternateName", "name"],
                "properties": {
                    "@type": {"const": "Rating"},
                    "alternateName": {"type": "string", "minLength": 1},
                    "ratingValue": {"type": "integer", "minimum": 1, "maximum": 6},
                    "bestRating": {"const": 6},
                    "worstRating": {"const": 1},
                },
                "dependentRequired": {"ratingValue": ["bestRating", "worstRating"]},
            },
        },
    },
}


def test_claimreview_is_valid_and_skips_unreviewed_and_not_a_claim(
    reviewed: Path, tmp_path: Path
) -> None:
    jsonschema = pytest.importorskip(
        "jsonschema", reason="jsonschema is not installed (add it to the dev extras)"
    )
    reviews = json.loads(_report(reviewed, tmp_path, "--format", "claimreview"))
    jsonschema.Draft202012Validator(CLAIMREVIEW_SCHEMA).validate(reviews)
    assert [r["url"].rsplit("/", 1)[1] for r in reviews] == ["2", "3", "5"]
    assert reviews[0]["author"] == {
        "@type": "Organization",
        "name": "Les Vérificateurs",
        "url": "https://example.org",
    }
    # The claimant, with the short name expanded from the article ("M. Poutine").
    assert reviews[0]["itemReviewed"]["author"] == {"@type": "Person", "name": "Vladimir Poutine"}
    assert reviews[1]["itemReviewed"]["author"] == {"@type": "Person", "name": "Vladimir Poutine"}
    assert reviews[0]["itemReviewed"]["datePublished"] == "2019-05-15"
    assert reviews[0]["itemReviewed"]["appearance"]["url"].endswith("/sotchi-poutine-pompeo")
    assert reviews[1]["reviewRating"]["ratingValue"] == 1
    assert reviews[1]["reviewRating"]["alternateName"] == "False"
    assert "ratingValue" not in reviews[2]["reviewRating"]  # unverifiable is not on the scale
    everything = json.loads(
        _report(reviewed, tmp_path, "--format", "claimreview", "--status", "all")
    )
    jsonschema.Draft202012Validator(CLAIMREVIEW_SCHEMA).validate(everything)
    assert len(everything) == 4  # not-a-claim included; unreviewed claims have no review


def test_claimreview_without_review_url_omits_url_and_warns(reviewed: Path) -> None:
    (reviewed / "config.toml").unlink()
    result = _export(reviewed, "--format", "claimreview")
    assert result.exit_code == 0
    assert all("url" not in r for r in json.loads(result.stdout))
    assert "review_url" in result.stderr
    assert json.loads(result.stdout)[0]["author"]["name"] == "Fact-check workbench"


def test_claimant_guess_and_short_claim() -> None:
    assert guess_claimant("M. Poutine a déclaré qu'il viendrait.") == "Poutine"
    assert guess_claimant("Vladimir Putin said the talks went well.") == "Vladimir Putin"
    assert guess_claimant('"Nous le ferons", a indiqué M. Poutine à M. Pompeo.') == "Poutine"
    assert guess_claimant("Russia and the US share interests.") == ""
    long = "word " * 40
    assert len(short_claim(long)) <= 75 and short_claim(long).endswith("…")
    assert short_claim("Short claim.") == "Short claim."


def test_publish_settings_are_read(tmp_path: Path) -> None:
    assert load_settings(tmp_path).publish.organization == "Fact-check workbench"
    (tmp_path / "config.toml").write_text(PUBLISH, encoding="utf-8")
    publish = load_settings(tmp_path).publish
    assert publish.review_url.format(claim_id=7) == "https://example.org/fact-checks/7"
    assert publish.url == "https://example.org"


def test_csv_is_rfc4180_with_bom_and_crlf(reviewed: Path, tmp_path: Path) -> None:
    data = _report(reviewed, tmp_path, "--format", "csv", "--lang", "fr")
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [r["claim_id"] for r in rows] == ["2", "3", "5"]
    assert rows[1]["verdict"] == "Faux" and rows[0]["verdict"] == "Plutôt vrai"
    assert rows[1]["note"].startswith("Le rapport ne dit pas cela;")
    assert rows[1]["evidence_url"] == "https://example.org/mueller"
    assert rows[1]["date"] == FIXED_AT and rows[1]["reviewer"] == "ana"


def test_article_filter(reviewed: Path, tmp_path: Path) -> None:
    name = "sotchi-poutine-pompeo.fr.txt"
    md = _report(reviewed, tmp_path, "--format", "markdown", "--article", name).decode()
    assert md.startswith(f"# Fact-check report: {name}")
    result = _export(reviewed, "--format", "markdown", "--article", "nope.txt")
    assert result.exit_code != 0 and "no article named 'nope.txt'" in result.stderr


def test_html_escapes_every_piece_of_text(reviewed: Path, tmp_path: Path) -> None:
    page = _report(reviewed, tmp_path, "--format", "html").decode()
    assert "<script" not in page and "<img" not in page and "<b>" not in page
    assert "&lt;script&gt;document.title=&#x27;PWNED&#x27;&lt;/script&gt;" in page
    assert "javascript:" not in page  # an unsafe link is shown as text, not linked
    assert "&lt;non&gt; établie &amp; c&#x27;est tout" in page
    assert "Content-Security-Policy" in page and "script-src &#x27;none&#x27;" in page
    assert 'name="viewport"' in page and "@media print" in page and "<svg" in page
    assert "<link" not in page and 'src="' not in page and "url(" not in page  # self-contained


def test_markdown_has_counts_and_quoted_evidence(reviewed: Path, tmp_path: Path) -> None:
    md = _report(reviewed, tmp_path, "--format", "markdown").decode()
    assert "| False | 1 |" in md and "| Mostly true | 1 |" in md and "| Unverifiable | 1 |" in md
    assert "Not a claim" not in md
    assert "> — [What the special counsel found](<https://example.org/mueller>)" in md
    assert "<script>" not in md and "&lt;script&gt;" in md


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(
    _chromium() is None,
    reason="chromium is not installed (CI installs it: apt-get install -y chromium)",
)
def test_html_renders_in_a_headless_browser_without_running_injected_script(
    reviewed: Path, tmp_path: Path
) -> None:
    page = tmp_path / "report.html"
    assert _export(reviewed, "--format", "html", "-o", str(page)).exit_code == 0
    shot = tmp_path / "shot.png"
    common = [
        _chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
    ]  # fmt: skip
    subprocess.run(
        [*common, f"--screenshot={shot}", "--window-size=1200,2000", page.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.exists() and shot.read_bytes().startswith(b"\x89PNG")
    dom = subprocess.run(
        [*common, "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert "<title>Fact-check report</title>" in dom  # the injected script did not rename it
    assert "PWNED</title>" not in dom and "pwned-marker" not in dom.replace(
        "createElement('pwned-marker')", ""
    )
    assert "<pwned-marker" not in dom
    assert 'id="claim-2"' in dom and 'id="claim-3"' in dom and 'id="claim-5"' in dom
    assert "&lt;script&gt;document.title='PWNED'&lt;/script&gt;" in dom  # shown as text


@pytest.fixture
def empty_root(tmp_path: Path) -> Path:
    root = tmp_path / "empty"
    Workspace.open(root, create=True).close()
    return root


@pytest.mark.parametrize("fmt", ["jsonl", "claimreview", "csv", "markdown", "html"])
def test_an_empty_workspace_gives_a_valid_empty_report(empty_root: Path, fmt: str) -> None:
    result = _export(empty_root, "--format", fmt)
    assert result.exit_code == 0, result.output
    assert "no " in result.stderr and "empty" in result.stderr
    out = result.stdout
    if fmt == "claimreview":
        assert json.loads(out) == []
    elif fmt == "csv":
        data = result.stdout_bytes
        assert data.startswith("\ufeffclaim_id,".encode()) and data.count(b"\r\n") == 1
    elif fmt == "jsonl":
        assert out == ""
    else:
        assert "No claims to report." in out


def test_an_unwritable_output_leaves_no_partial_file(
    reviewed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _export(reviewed, "--format", "html", "-o", str(tmp_path / "missing" / "r.html"))
    assert result.exit_code == ExitCode.FAILURE and "cannot write" in result.stderr
    result = _export(reviewed, "--format", "csv", "-o", str(tmp_path))
    assert result.exit_code == ExitCode.FAILURE and "is a folder" in result.stderr
    out_dir = tmp_path / "out"
    out_dir.mkdir()

    def full_disk(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    result = _export(reviewed, "--format", "markdown", "-o", str(out_dir / "r.md"))
    assert result.exit_code == ExitCode.FAILURE
    assert "cannot write" in result.stderr and "No space left" in result.stderr
    assert list(out_dir.iterdir()) == []


def test_unknown_format_status_and_language_are_refused(reviewed: Path) -> None:
    result = _export(reviewed, "--format", "docx")
    assert result.exit_code != 0 and "unknown format 'docx'" in result.stderr
    result = _export(reviewed, "--format", "csv", "--status", "some")
    assert result.exit_code != 0 and "unknown status" in result.stderr
    result = _export(reviewed, "--format", "csv", "--lang", "de")
    assert result.exit_code != 0 and "unknown language" in result.stderr


def test_render_is_pure() -> None:
    row = {
        "claim_id": 1, "claim": "X said <b>it</b>.", "article": "a.txt", "lang": "en",
        "verdict": {"verdict": "true", "note": "", "reviewer": "r", "cited": [],
                    "updated_at": FIXED_AT},
    }  # fmt: skip
    for fmt in ("claimreview", "csv", "markdown", "html"):
        assert render(fmt, [row], ReportOptions()) == render(fmt, [row], ReportOptions())
