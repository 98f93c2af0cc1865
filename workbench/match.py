"""Provides match: articles or claim records in, claims stored with their ranked evidence out."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from workbench.errors import InputError
from workbench.extract.context import article_date
from workbench.retrieve import Retriever
from workbench.workspace import ClaimRow, Workspace

CLAIM_SUFFIXES = {".jsonl", ".ndjson"}


def add_article(workspace: Workspace, path: Path, url: str = "", published: str = "") -> list[int]:
    """Extract the claims of an article file and store them; return their ids.

    `published` (ISO date) defaults to a full date found in the article's first lines (its
    dateline or update stamp); `url` is where the article appeared."""
    from workbench.extract import extract_claims
    from workbench.textio import read_text

    text = read_text(path)
    claims = extract_claims(text)
    lang = claims[0].lang if claims else ""
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return workspace.add_article(
        name=path.name,
        source=str(path),
        content_hash=digest,
        lang=lang,
        text=text,
        claims=[c.__dict__ for c in claims],
        url=url,
        published=published or article_date(text),
    )


def parse_claim_records(lines: Iterable[str], name: str) -> list[dict[str, Any]]:
    """Claim records from JSONL (`text` or `claim` required); errors name the line."""
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{name}:{number}: not valid JSON ({exc.msg})") from exc
        if not isinstance(record, dict):
            raise InputError(
                f"{name}:{number}: expected a JSON object, got {type(record).__name__}"
            )
        text = record.get("text", record.get("claim"))
        if not isinstance(text, str) or not text.strip():
            raise InputError(f"{name}:{number}: record has no 'text' (or 'claim') string")
        records.append({**record, "text": text.strip(), "_line": number})
    if not records:
        raise InputError(f"{name}: no claim records")
    return records


def add_claim_records(
    workspace: Workspace, records: Sequence[dict[str, Any]], name: str
) -> list[int]:
    """Store claim records, grouped by their `article` field (default: the input's name)."""
    from workbench.extract.lang import detect_language

    groups: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        groups.setdefault(str(record.get("article") or name), []).append(record)
    ids: list[int] = []
    for article, group in groups.items():
        claims = []
        for record in group:
            text = record["text"]
            start = int(record.get("start", 0))
            claims.append(
                {
                    "text": text,
                    "start": start,
                    "end": int(record.get("end", start + len(text))),
                    "lang": record.get("lang") or detect_language(text)[0],
                    "score": float(record.get("score", 1.0)),
                    "reasons": record.get("reasons", ["given as a claim"]),
                }
            )
        # Claims given directly have no article text; their article is identified by name.
        digest = hashlib.sha256(f"claims:{article}".encode()).hexdigest()
        ids.extend(workspace.add_article(article, name, digest, claims[0]["lang"], "", claims))
    return ids


def match_claims(
    workspace: Workspace, retriever: Retriever, claim_ids: Sequence[int], k: int
) -> list[dict[str, Any]]:
    """Retrieve evidence for the claims, store the matches, return one record per claim."""
    claims: list[ClaimRow] = workspace.claims(claim_ids)
    order = {cid: i for i, cid in enumerate(dict.fromkeys(claim_ids))}
    claims.sort(key=lambda c: order[c.id])
    hits = retriever.search([c.text for c in claims], [c.lang for c in claims], k)
    workspace.save_matches([(c.id, h) for c, h in zip(claims, hits, strict=True)])
    passages = workspace.passages(h.passage_id for row in hits for h in row)
    results = []
    for claim, row in zip(claims, hits, strict=True):
        matches = []
        for hit in row:
            p = passages[hit.passage_id]
            matches.append(
                {
                    "evidence_id": p.doc_key,
                    "passage_id": p.id,
                    "score": hit.score,
                    "title": p.title,
                    "url": p.url,
                    "published": p.published,
                    "lang": p.lang,
                    "text": p.text,
                    "signals": hit.signals,
                }
            )
        results.append({**claim.as_record(), "matches": matches})
    return results
