"""Tests for archives of earlier fact-checks: parsing, `workbench import-reviews`, and memory."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from fakes import ConceptEmbedder
from typer.testing import CliRunner

from workbench.cli import app
from workbench.errors import ExitCode, InputError
from workbench.hints.archive import (
    read_archive,
    read_archives,
    review_hash,
    verdict_from_value,
    verdict_from_wording,
)
from workbench.hints.memory import describe, earlier_reviews
from workbench.index import store
from workbench.ingest import ingest, ingest_documents
from workbench.match import add_article, match_claims
from workbench.retrieve import Retriever
from workbench.workspace import Workspace

DATA = Path(__file__).parent / "data"
runner = CliRunner()

REVIEW = {
    "@context": "https://schema.org",
    "@type": "ClaimReview",
    "url": "https://factdesk.example.org/checks/sochi",
    "headline": "Yes, Pompeo met Putin in Sochi",
    "datePublished": "2019-05-15",
    "inLanguage": "en-GB",
    "author": {"@type": "Organization", "name": "Fact Desk", "url": "https://factdesk.example"},
    "claimReviewed": "Mike Pompeo met Vladimir Putin in Sochi on 14 May 2019.",
    "itemReviewed": {
        "@type": "Claim",
        "author": {"@type": "Person", "name": "Maria Zakharova"},
        "datePublished": "2019-05-14",
    },
    "reviewRating": {"@type": "Rating", "ratingValue": "6", "bestRating": "6", "worstRating": "1"},
}
OTHER = {"@context": "https://schema.org", "@type": "Organization", "name": "Fact Desk"}


def _run(*args: str):
    return runner.invoke(app, list(args))


def _page(*blocks: dict) -> str:
    scripts = "".join(
        f'<script type="application/ld+json">{json.dumps(b)}</script>\n' for b in blocks
    )
    return f"<!doctype html>\n<html><head>\n{scripts}</head><body>x</body></html>\n"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("object.json", json.dumps(REVIEW, indent=2)),
        ("list.json", json.dumps([OTHER, REVIEW])),
        ("graph.jsonld", json.dumps({"@context": "https://schema.org", "@graph": [OTHER, REVIEW]})),
        ("lines.jsonl", json.dumps(OTHER) + "\n\n" + json.dumps(REVIEW) + "\n"),
        ("page.html", _page(OTHER, REVIEW)),
        ("typed.json", json.dumps({**REVIEW, "@type": ["schema:ClaimReview", "CreativeWork"]})),
        (
            "feed.json",
            json.dumps(
                {
                    "@type": "DataFeed",
                    "dataFeedElement": [{"@type": "DataFeedItem", "item": [REVIEW]}],
                }
            ),
        ),
        ("nested.json", json.dumps({"@type": "NewsArticle", "headline": "x", "review": REVIEW})),
    ],
)
def test_claimreview_variants_give_the_same_review(tmp_path: Path, name: str, content: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    archive = read_archive(path)
    assert len(archive.documents) == 1
    doc = archive.documents[0]
    assert doc.id == doc.url == "https://factdesk.example.org/checks/sochi"
    assert doc.text == "Mike Pompeo met Vladimir Putin in Sochi on 14 May 2019."
    assert (doc.title, doc.publisher, doc.published, doc.lang) == (
        "Yes, Pompeo met Putin in Sochi", "Fact Desk", "2019-05-15", "en",
    )  # fmt: skip
    review = doc.extra["review"]
    assert review["verdict"] == "true"  # 6 of 1..6, no wording
    assert (review["rating"], review["rating_value"], review["best"], review["worst"]) == (
        "6", 6.0, 6.0, 1.0,
    )  # fmt: skip
    assert review["claimant"] == "Maria Zakharova" and review["claim_date"] == "2019-05-14"
    assert review["author"] == "Fact Desk" and review["archive"] == name
    assert archive.skipped == (1 if name in ("list.json", "graph.jsonld", "lines.jsonl",
                                             "page.html") else 0)  # fmt: skip


def test_fixture_archives_and_rating_wordings() -> None:
    archive = read_archives([DATA / "claimreview-page.html", DATA / "claimreviews.jsonld"])
    by_url = {doc.url: doc for doc in archive.documents}
    page = by_url["https://verif.example.fr/2019/05/16/mueller-collusion"]
    assert page.lang == "fr" and page.published == "2019-05-16"
    assert page.extra["review"]["verdict"] == "misleading"  # "Trompeur" wins over 2 of 1..5
    assert page.extra["review"]["claimant"] == "Vladimir Poutine"
    call = by_url["https://factdesk.example.org/checks/phone-call"]
    assert call.extra["review"]["verdict"] == "false" and call.lang == "en"  # detected
    assert call.extra["review"]["rating"] == "Pants on Fire!"
    assert archive.skipped == 2  # the page's Organization, the feed's WebSite
    for wording, verdict in [
        ("Pants on Fire!", "false"), ("Faux", "false"), ("FAUX", "false"),
        ("Trompeur", "misleading"), ("Mostly False", "mostly-false"),
        ("Plutôt vrai", "mostly-true"),
        ("Faux : la photo date de 2015", "false"), ("Mixture", "half-true"),
        ("True but misleading", None), ("Labeled Satire", None), ("", None),
    ]:  # fmt: skip
        assert verdict_from_wording(wording) == verdict, wording
    assert verdict_from_value(1, 5, 1) == "false"
    assert verdict_from_value("3", None, None) == "half-true"  # schema.org's 1..5 defaults
    assert verdict_from_value(5, 5, 1) == "true"
    assert verdict_from_value(-1, 5, 1) is None and verdict_from_value("n/a", 5, 1) is None


def test_clef_verified_claims_tsv() -> None:
    archive = read_archive(DATA / "clef-vclaims.tsv")
    docs = archive.documents
    assert len(docs) == 3
    assert docs[2].text == (
        "Account describes Pamela Murphy's efforts on behalf of patients at a Veterans "
        "Administration hospital."
    )  # a quoted claim over two lines
    assert docs[0].title.startswith("Did 122 Prisoners") and docs[0].lang == "en"
    review = docs[0].extra["review"]
    assert review["verdict"] is None and review["rating"] == "" and review["archive_id"] == "0"
    assert all(doc.id.startswith("review:") for doc in docs)
    assert read_archive(DATA / "clef-vclaims.tsv").documents[0].id == docs[0].id  # stable


def test_reviews_sharing_a_page_and_duplicates(tmp_path: Path) -> None:
    second = {**REVIEW, "claimReviewed": "Putin and Pompeo met in Sochi for three hours."}
    path = tmp_path / "page.json"
    path.write_text(json.dumps([REVIEW, second, REVIEW]), encoding="utf-8")
    archive = read_archive(path)
    ids = [doc.id for doc in archive.documents]
    assert len(ids) == 2 and len(set(ids)) == 2
    assert all(i.startswith("https://factdesk.example.org/checks/sochi#") for i in ids)
    assert archive.duplicates == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\x00\x01\x02binary\x00" * 50, "binary"),
        (b'{"@type": "ClaimReview",\n "claimReviewed": "x",,}\n', "archive.json:2: not valid json"),
        (json.dumps(REVIEW).encode() + b"\n{broken\n", "archive.json:2: not valid json"),
        (json.dumps([OTHER, OTHER]).encode(), "no claimreview in the file (2 items"),
        (b"just some text\n", "not a claimreview archive"),
        (b"<html><body>no json-ld</body></html>", "no <script"),
        (b"vclaim_id\tvclaim\ttitle\n1\tone claim\n", "archive.json:2: expected 3"),
        (json.dumps({**REVIEW, "claimReviewed": ""}).encode(), "no claimreview in the file"),
    ],
)
def test_bad_archives_are_one_clear_line(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "archive.json"
    path.write_bytes(content)
    with pytest.raises(InputError, match=r"(?i)" + message.replace("(", r"\(")):
        read_archive(path)
    result = _run("import-reviews", str(path), "--model", "hash:64")
    assert result.exit_code == ExitCode.BAD_INPUT, result.output
    assert message.split(":")[-1].strip() in result.stderr.lower()
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert not Path(os.environ["WORKBENCH_HOME"]).exists()  # nothing created


def test_a_review_without_claim_is_skipped_with_its_place(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    broken = {**REVIEW, "claimReviewed": "", "url": "https://x.example/broken"}
    path.write_text(json.dumps(REVIEW) + "\n" + json.dumps(broken) + "\n", encoding="utf-8")
    archive = read_archive(path)
    assert len(archive.documents) == 1
    assert archive.problems == ["mixed.jsonl:2: ClaimReview without claimReviewed"]


def test_import_reviews_command_is_incremental(tmp_path: Path) -> None:
    archive = tmp_path / "reviews.jsonld"
    archive.write_text((DATA / "claimreviews.jsonld").read_text(encoding="utf-8"), "utf-8")
    args = ("import-reviews", str(archive), str(DATA / "clef-vclaims.tsv"), "--model", "hash:64")
    first = _run(*args)
    assert first.exit_code == 0, first.output
    assert "imported 5 new and 0 changed reviews, 0 unchanged, 1 skipped" in first.stderr
    report = json.loads(first.stdout)["import_reviews"]
    assert report["documents_added"] == 5 and report["skipped_not_claimreview"] == 1
    again = _run(*args)
    assert "imported 0 new and 0 changed reviews, 5 unchanged" in again.stderr
    assert json.loads(again.stdout)["import_reviews"]["passages_added"] == 0  # nothing embedded
    # A corrected rating is a changed review; the rest stays as it was.
    archive.write_text(archive.read_text("utf-8").replace('"True"', '"Mostly true"'), "utf-8")
    third = _run(*args)
    assert "imported 0 new and 1 changed reviews, 4 unchanged" in third.stderr
    info = json.loads(_run("info").stdout)
    assert info["documents"] == 5
    with Workspace.open(Path(os.environ["WORKBENCH_HOME"])) as ws:
        extra = ws.conn.execute(
            "SELECT extra FROM documents WHERE doc_key = ?",
            ("https://factdesk.example.org/checks/osaka-meeting",),
        ).fetchone()[0]
    assert json.loads(extra)["review"]["verdict"] == "mostly-true"


def test_review_hash_ignores_the_archive_name() -> None:
    doc = read_archive(DATA / "claimreview-page.html").documents[0]
    review = {**doc.extra["review"], "archive": "other.html"}
    renamed = type(doc)(**{**doc.__dict__, "extra": {"review": review}})
    assert review_hash(doc) == review_hash(renamed)


def test_imported_review_surfaces_through_verdict_memory(
    tmp_path: Path, evidence_file: Path
) -> None:
    embedder = ConceptEmbedder()
    ws = Workspace.open(tmp_path / "ws", create=True)
    ingest(ws, [evidence_file], [embedder])
    archive = read_archives([DATA / "claimreview-page.html", DATA / "claimreviews.jsonld"])
    ingest_documents(ws, archive.documents, [embedder], digest=review_hash)
    retriever = Retriever([embedder], store.load(ws, ws.get_meta("models")))
    article = tmp_path / "putin-mueller.en.txt"
    article.write_text(
        "Russian President Vladimir Putin praised special counsel Robert Mueller, saying his "
        "objective inquiry had confirmed the absence of any collusion between Russia and the "
        "American government.\n",
        encoding="utf-8",
    )
    ids = add_article(ws, article, published="2019-05-20")
    match_claims(ws, retriever, ids, 5)
    found = earlier_reviews(ws, ids[0])
    assert found, ws.matches(ids[0])
    first = found[0]
    assert (first.source, first.verdict, first.rating) == ("archive", "misleading", "Trompeur")
    assert first.evidence_id == "https://verif.example.fr/2019/05/16/mueller-collusion"
    assert first.date.startswith("2019-05-16") and first.reviewer == "Vérif Exemple"
    assert describe(first).startswith(
        "Fact-checked before: Misleading ('Trompeur') (2019-05-16, by Vérif Exemple): "
        "'https://verif.example.fr/2019/05/16/mueller-collusion'"
    )
    # Archived reviews of other claims (Osaka, the phone call) are matches, not memories.
    assert all(r.evidence_id.startswith("https://verif.example.fr") for r in found)
    ws.close()
