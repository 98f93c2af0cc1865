"""Checks the frozen cross-lingual held-out test set (bench/data/xling-test) is well formed."""

from __future__ import annotations

import re
from typing import Any

import pytest
from xlingsets import (
    SENTENCE_END,
    SETS,
    check_claims_are_queries,
    check_digests,
    check_evidence_metadata,
    check_judgements,
    check_not_about,
    check_size_and_languages,
    jsonl,
    read_evidence,
)

from workbench.models import Document

DATA = SETS / "xling-test"
DEV = SETS / "xling-dev"
# The seed article (Putin and Pompeo in Sochi, the Mueller report, the G20) is what the
# workbench was built on: a set about it would measure in-sample.
SEED_WORDS = ("pompeo", "sotchi", "sochi", "putin", "poutine", "mueller", "g20")
# Frozen before any use: changing any of these files makes a new set (a new folder), so
# figures measured on this one stay comparable. Update a digest only to fix the set
# before its first commit. (The first 16 hex digits of each SHA-256.)
FROZEN = {
    "claims.jsonl": "71b954d5c3d75b43",
    "evidence.jsonl": "74f2d5f021f7bdc7",
    "qrels.tsv": "6f46b2132f2af4f1",
}


@pytest.fixture(scope="module")
def claims() -> list[dict[str, Any]]:
    return jsonl(DATA / "claims.jsonl")


@pytest.fixture(scope="module")
def evidence() -> dict[str, Document]:
    return read_evidence(DATA)


def test_files_match_their_frozen_digests() -> None:
    assert {p.name for p in DATA.iterdir()} == {*FROZEN, "README.md"}
    check_digests(DATA, FROZEN)


def test_evidence_records_carry_their_metadata(evidence: dict[str, Document]) -> None:
    check_evidence_metadata(evidence)
    for doc in evidence.values():
        assert re.fullmatch(rf"xt-{doc.lang}-\d{{3}}", doc.id), doc.id


def test_claims_are_eval_queries(claims: list[dict[str, Any]]) -> None:
    check_claims_are_queries(DATA, claims, "xt")
    # One sentence each, as in a news article.
    assert all(not SENTENCE_END.search(c["text"]) for c in claims)


def test_each_claim_has_one_relevant_passage_and_near_misses(
    claims: list[dict[str, Any]], evidence: dict[str, Document]
) -> None:
    check_judgements(DATA, claims, evidence)
    for claim in claims:
        # At least one near miss in each language: the French one is the hard case.
        assert {m["lang"] for m in claim["near_misses"]} == {"fr", "en"}, claim["id"]


def test_size_topics_and_languages(claims: list[dict[str, Any]]) -> None:
    check_size_and_languages(claims, english_share=0.85)


def test_no_claim_is_about_the_seed_article(
    claims: list[dict[str, Any]], evidence: dict[str, Document]
) -> None:
    texts = [c["text"] for c in claims] + [d.title + " " + d.text for d in evidence.values()]
    check_not_about(texts, SEED_WORDS)


def test_held_out_from_the_development_set(
    claims: list[dict[str, Any]], evidence: dict[str, Document]
) -> None:
    # A test set sharing topics or passages with the development set would reward tuning.
    dev_claims = jsonl(DEV / "claims.jsonl")
    dev_evidence = jsonl(DEV / "evidence.jsonl")
    assert not {c["topic"] for c in claims} & {c["topic"] for c in dev_claims}
    assert not {c["text"] for c in claims} & {c["text"] for c in dev_claims}
    assert not {d.text for d in evidence.values()} & {d["text"] for d in dev_evidence}
    assert not set(evidence) & {d["id"] for d in dev_evidence}
