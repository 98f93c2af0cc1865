"""Checks the frozen cross-lingual held-out test set (bench/data/xling-test) is well formed."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from workbench.evaluate import parse_qrels, parse_queries
from workbench.ingest import read_documents
from workbench.models import Document

DATA = Path(__file__).resolve().parents[1] / "bench" / "data" / "xling-test"
DEV = DATA.parent / "xling-dev"
KINDS = {"date", "number", "person", "place", "event"}
# The seed article (Putin and Pompeo in Sochi, the Mueller report, the G20) is what the
# workbench was built on: a set about it would measure in-sample.
SEED_WORDS = ("pompeo", "sotchi", "sochi", "putin", "poutine", "mueller", "g20")
# A sentence ends before a capital, except after "v." (Roe v. Wade) and "U.S.".
SENTENCE_END = re.compile(r"(?<!\bv)(?<!U\.S)[.!?]\s+(?=[A-ZÀ-ÖØ-Þ«])")
# Frozen before any use: changing any of these files makes a new set (a new folder), so
# figures measured on this one stay comparable. Update a digest only to fix the set
# before its first commit. (The first 16 hex digits of each SHA-256.)
FROZEN = {
    "claims.jsonl": "71b954d5c3d75b43",
    "evidence.jsonl": "74f2d5f021f7bdc7",
    "qrels.tsv": "6f46b2132f2af4f1",
}


def _jsonl(path: Path) -> list[dict[str, Any]]:
    lines = path.read_text(encoding="utf-8").split("\n")
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="module")
def claims() -> list[dict[str, Any]]:
    return _jsonl(DATA / "claims.jsonl")


@pytest.fixture(scope="module")
def evidence() -> dict[str, Document]:
    # What `workbench ingest` reads with: unreadable records or duplicate ids raise.
    return {doc.id: doc for doc in read_documents([DATA / "evidence.jsonl"])}


def test_files_match_their_frozen_digests() -> None:
    assert {p.name for p in DATA.iterdir()} == {*FROZEN, "README.md"}
    for name, digest in FROZEN.items():
        assert hashlib.sha256((DATA / name).read_bytes()).hexdigest()[:16] == digest, name


def test_evidence_records_carry_their_metadata(evidence: dict[str, Document]) -> None:
    assert len(evidence) >= 150
    for doc in evidence.values():
        assert doc.lang in {"en", "fr"}, doc.id
        assert re.fullmatch(rf"xt-{doc.lang}-\d{{3}}", doc.id), doc.id
        assert doc.title and doc.publisher, doc.id
        assert doc.url.startswith("https://example.org/"), doc.id
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", doc.published), doc.id
        # Short news paragraphs, so passage length says nothing about relevance.
        assert 2 <= len(SENTENCE_END.findall(doc.text)) + 1 <= 4, doc.id


def test_claims_are_eval_queries(claims: list[dict[str, Any]]) -> None:
    queries = parse_queries(DATA / "claims.jsonl")  # raises on a duplicate id
    assert [q.id for q in queries] == [c["id"] for c in claims]
    assert {q.lang for q in queries} == {"fr"}
    assert all(re.fullmatch(r"xt-\d{3}", c["id"]) for c in claims)
    # One sentence each, as in a news article.
    assert all(not SENTENCE_END.search(c["text"]) for c in claims)


def test_each_claim_has_one_relevant_passage_and_near_misses(
    claims: list[dict[str, Any]], evidence: dict[str, Document]
) -> None:
    relevant = parse_qrels(DATA / "qrels.tsv")
    judged: dict[str, set[str]] = {}
    for line in (DATA / "qrels.tsv").read_text(encoding="utf-8").split("\n"):
        if line.strip():
            qid, _, doc, rel = line.split()
            if rel == "0":
                judged.setdefault(qid, set()).add(doc)
    assert set(relevant) == {c["id"] for c in claims}
    used = Counter()
    for claim in claims:
        assert relevant[claim["id"]] == {claim["relevant"]: 1}, claim["id"]
        assert evidence[claim["relevant"]].lang == claim["relevant_lang"], claim["id"]
        near = claim["near_misses"]
        # At least one near miss in each language: the French one is the hard case.
        assert {m["lang"] for m in near} == {"fr", "en"}, claim["id"]
        assert judged[claim["id"]] == {m["id"] for m in near}, claim["id"]
        for miss in near:
            assert miss["kind"] in KINDS, claim["id"]
            assert evidence[miss["id"]].lang == miss["lang"], claim["id"]
        assert claim["stance"] in {"supports", "refutes"}
        used.update([claim["relevant"], *(m["id"] for m in near)])
    # Every passage serves exactly one claim, as relevant or as near miss.
    assert used == Counter(set(evidence))


def test_size_topics_and_languages(claims: list[dict[str, Any]]) -> None:
    assert len(claims) >= 50
    assert len({c["topic"] for c in claims}) >= 5
    english = sum(c["relevant_lang"] == "en" for c in claims)
    assert english >= 0.85 * len(claims)
    miss_langs = Counter(m["lang"] for c in claims for m in c["near_misses"])
    assert min(miss_langs["fr"], miss_langs["en"]) >= sum(miss_langs.values()) / 3


def test_no_claim_is_about_the_seed_article(
    claims: list[dict[str, Any]], evidence: dict[str, Document]
) -> None:
    texts = [c["text"] for c in claims] + [d.title + " " + d.text for d in evidence.values()]
    for text in texts:
        assert not any(word in text.lower() for word in SEED_WORDS), text


def test_held_out_from_the_development_set(
    claims: list[dict[str, Any]], evidence: dict[str, Document]
) -> None:
    # A test set sharing topics or passages with the development set would reward tuning.
    dev_claims = _jsonl(DEV / "claims.jsonl")
    dev_evidence = _jsonl(DEV / "evidence.jsonl")
    assert not {c["topic"] for c in claims} & {c["topic"] for c in dev_claims}
    assert not {c["text"] for c in claims} & {c["text"] for c in dev_claims}
    assert not {d.text for d in evidence.values()} & {d["text"] for d in dev_evidence}
    assert not set(evidence) & {d["id"] for d in dev_evidence}
