"""Provides the checks the hand-made cross-lingual sets (bench/data/xling-*) share."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

from workbench.evaluate import parse_qrels, parse_queries
from workbench.ingest import read_documents
from workbench.models import Document

SETS = Path(__file__).resolve().parents[1] / "bench" / "data"
KINDS = {"date", "number", "person", "place", "event"}
# A sentence ends before a capital, except after "v." (Roe v. Wade) and "U.S.".
SENTENCE_END = re.compile(r"(?<!\bv)(?<!U\.S)[.!?]\s+(?=[A-ZÀ-ÖØ-Þ«])")


def jsonl(path: Path) -> list[dict[str, Any]]:
    lines = path.read_text(encoding="utf-8").split("\n")
    return [json.loads(line) for line in lines if line.strip()]


def read_evidence(data: Path) -> dict[str, Document]:
    # What `workbench ingest` reads with: unreadable records or duplicate ids raise.
    return {doc.id: doc for doc in read_documents([data / "evidence.jsonl"])}


def check_digests(data: Path, frozen: dict[str, str]) -> None:
    """Each file's SHA-256 starts with its pinned 16 hex digits."""
    for name, digest in frozen.items():
        assert hashlib.sha256((data / name).read_bytes()).hexdigest()[:16] == digest, name


def check_evidence_metadata(evidence: dict[str, Document]) -> None:
    assert len(evidence) >= 150
    for doc in evidence.values():
        assert doc.lang in {"en", "fr"}, doc.id
        assert doc.title and doc.publisher, doc.id
        assert doc.url.startswith("https://example.org/"), doc.id
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", doc.published), doc.id
        # Short news paragraphs, so passage length says nothing about relevance.
        assert 2 <= len(SENTENCE_END.findall(doc.text)) + 1 <= 4, doc.id


def check_claims_are_queries(data: Path, claims: list[dict[str, Any]], prefix: str) -> None:
    queries = parse_queries(data / "claims.jsonl")  # raises on a duplicate id
    assert [q.id for q in queries] == [c["id"] for c in claims]
    assert {q.lang for q in queries} == {"fr"}
    assert all(re.fullmatch(rf"{prefix}-\d{{3}}", c["id"]) for c in claims)


def check_judgements(
    data: Path, claims: list[dict[str, Any]], evidence: dict[str, Document]
) -> None:
    """One relevant passage per claim, its near misses judged 0, each passage used once."""
    relevant = parse_qrels(data / "qrels.tsv")
    judged: dict[str, set[str]] = {}
    for line in (data / "qrels.tsv").read_text(encoding="utf-8").split("\n"):
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
        assert near, claim["id"]
        assert judged[claim["id"]] == {m["id"] for m in near}, claim["id"]
        for miss in near:
            assert miss["kind"] in KINDS, claim["id"]
            assert evidence[miss["id"]].lang == miss["lang"], claim["id"]
        assert claim["stance"] in {"supports", "refutes"}
        used.update([claim["relevant"], *(m["id"] for m in near)])
    # Every passage serves exactly one claim, as relevant or as near miss.
    assert used == Counter(set(evidence))


def check_size_and_languages(claims: list[dict[str, Any]], english_share: float) -> None:
    assert len(claims) >= 50
    assert len({c["topic"] for c in claims}) >= 5
    english = sum(c["relevant_lang"] == "en" for c in claims)
    assert english >= english_share * len(claims)
    miss_langs = Counter(m["lang"] for c in claims for m in c["near_misses"])
    assert min(miss_langs["fr"], miss_langs["en"]) >= sum(miss_langs.values()) / 3


def check_not_about(texts: list[str], words: tuple[str, ...]) -> None:
    for text in texts:
        assert not any(word in text.lower() for word in words), text
