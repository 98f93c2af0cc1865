"""Provides match: articles or claim records in, claims stored with their ranked evidence out."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.errors import InputError
from workbench.extract.context import article_date
from workbench.models import ExtractedClaim, Hit
from workbench.retrieve import Retriever
from workbench.workspace import ClaimRow, Workspace

CLAIM_SUFFIXES = {".jsonl", ".ndjson"}
if TYPE_CHECKING:
    from workbench.extract.pipeline import Scorer
    from workbench.hints.nli import NLIModel


def add_article(
    workspace: Workspace,
    path: Path,
    url: str = "",
    published: str = "",
    scorer: Scorer | None = None,
) -> list[int]:
    """Extract the claims of an article file and store them; return their ids.

    `published` (ISO date) defaults to a full date found in the article's first lines (its
    dateline or update stamp); `url` is where the article appeared; `scorer` rates
    check-worthiness (default: the rules). A claim that near-duplicates one already stored
    from another article is not stored twice: the article is recorded as another source of
    that claim, whose id is returned."""
    from workbench.extract.pipeline import extract_article
    from workbench.textio import read_text

    text = read_text(path)
    when = published or article_date(text)
    claims = extract_article(text, published=when, scorer=scorer)
    lang = claims[0].lang if claims else ""
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    known = workspace.article_id(digest)
    duplicates = _known_duplicates(workspace, claims, known)
    fresh = [c for i, c in enumerate(claims) if i not in duplicates]
    ids = workspace.add_article(
        name=path.name,
        source=str(path),
        content_hash=digest,
        lang=lang,
        text=text,
        claims=[_claim_record(c) for c in fresh],
        url=url,
        published=when,
    )
    if duplicates:
        article_id = workspace.article_id(digest)
        assert article_id is not None
        workspace.add_claim_sources(
            article_id, [(duplicates[i], _claim_record(claims[i])) for i in sorted(duplicates)]
        )
    fresh_ids = iter(ids)
    return [duplicates[i] if i in duplicates else next(fresh_ids) for i in range(len(claims))]


def _claim_record(claim: ExtractedClaim) -> dict[str, Any]:
    return {
        "text": claim.text,
        "start": claim.start,
        "end": claim.end,
        "lang": claim.lang,
        "score": claim.score,
        "reasons": claim.reasons,
        "claimant": claim.claimant,
        "standalone": claim.standalone,
        "details": claim.details(),
    }


def _known_duplicates(
    workspace: Workspace, claims: Sequence[ExtractedClaim], article_id: int | None
) -> dict[int, int]:
    """{index of a new claim: id of the stored claim (from another article) it repeats}."""
    from workbench.extract.dedup import best_duplicates, claim_key

    if not claims:
        return {}
    stored = workspace.claim_keys(exclude_article=article_id)
    if not stored:
        return {}
    found = best_duplicates(
        [claim_key(c.standalone or c.text, c.lang) for c in claims],
        [claim_key(text, lang) for _, text, lang in stored],
    )
    return {index: stored[row][0] for index, row in found.items()}


def parse_claim_records(lines: Iterable[str], name: str) -> list[dict[str, Any]]:
    """Claim records from JSONL (`text` or `claim` required); errors name the line."""
    from workbench.jsonl import json_objects

    records = []
    for number, _where, record in json_objects(lines, name):
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


COUNTER_POOL = 30  # candidates read for counter-evidence beyond the top k
COUNTER_LIMIT = 2  # passages brought in from that pool at most, per claim
# Conflicts precise enough to bring a lower-ranked passage to the reviewer's attention.
COUNTER_KINDS = frozenset({"number", "date", "party", "modality"})


@dataclass
class Computed:
    """What matching found for some claims, before anything is written: per claim (in
    order) its hits and their agreement signals, and each dense model's claim vectors."""

    claim_ids: list[int]
    hits: list[list[Hit]]
    signals: list[list[list[dict[str, Any]]]]
    vectors: dict[str, Any]


def match_claims(
    workspace: Workspace,
    retriever: Retriever,
    claim_ids: Sequence[int],
    k: int,
    counter_pool: int = COUNTER_POOL,
    nli: NLIModel | None = None,
) -> list[dict[str, Any]]:
    """Retrieve evidence for the claims, compare each passage with its claim (agreement
    signals, and the NLI model's probabilities when one is given), store the matches, and
    return one record per claim.

    Beyond the top `k`, the next candidates up to `counter_pool` are read too, and up to
    COUNTER_LIMIT of them that conflict with the claim on a precise signal are added after
    the top `k` (`signals["counter"]` holds their rank): counter-evidence is what a
    reviewer most needs and what similarity ranks lowest."""
    computed = compute_matches(workspace, retriever, claim_ids, k, counter_pool, nli)
    return store_matches(workspace, computed)


def compute_matches(
    workspace: Workspace,
    retriever: Retriever,
    claim_ids: Sequence[int],
    k: int,
    counter_pool: int = COUNTER_POOL,
    nli: NLIModel | None = None,
) -> Computed:
    """`match_claims` without the writes: it only reads the workspace, so that another
    process (a Ray actor) can run it and the driver store the result."""
    from workbench.hints.signals import Side, agreement_many
    from workbench.workspace import index_text

    claims: list[ClaimRow] = workspace.claims(claim_ids)
    order = {cid: i for i, cid in enumerate(dict.fromkeys(claim_ids))}
    claims.sort(key=lambda c: order[c.id])
    vectors: dict[str, Any] = {}
    found = retriever.search(
        [c.query for c in claims], [c.lang for c in claims], k + counter_pool, vectors, k
    )
    passages = workspace.passages(h.passage_id for row in found for h in row)
    hits: list[list[Hit]] = []
    signals: list[list[list[dict[str, Any]]]] = []
    for claim, row in zip(claims, found, strict=True):
        article = workspace.article_of(claim.id)
        sides = [
            Side(
                index_text(passages[h.passage_id].title, passages[h.passage_id].text),
                passages[h.passage_id].lang,
                passages[h.passage_id].published,
            )
            for h in row
        ]
        claim_side = Side(claim.query, claim.lang, article[2] if article else "")
        keep = list(range(min(k, len(row))))
        compared = dict(enumerate(agreement_many(claim_side, sides[: len(keep)])))
        # The rest of the pool is screened on the precise kinds only (no entity search),
        # strongest conflicts first (several kinds at once), then the better ranked.
        screened = agreement_many(claim_side, sides[len(keep) :], COUNTER_KINDS)
        strength = {
            len(keep) + j: len({s.kind for s in found_signals if s.status == "conflicts"})
            for j, found_signals in enumerate(screened)
        }
        counter = sorted((i for i, n in strength.items() if n), key=lambda i: (-strength[i], i))[
            :COUNTER_LIMIT
        ]
        full = agreement_many(claim_side, [sides[i] for i in counter])
        compared.update(zip(counter, full, strict=True))
        chosen = [row[i] for i in keep]
        chosen += [
            replace(row[i], signals={**row[i].signals, "counter": float(i + 1)}) for i in counter
        ]
        listed = [[s.as_dict() for s in compared[i]] for i in keep + counter]
        if nli is not None and chosen:
            _add_nli(nli, claim.query, [sides[i].text for i in keep + counter], chosen, listed)
        hits.append(chosen)
        signals.append(listed)
    return Computed([c.id for c in claims], hits, signals, vectors)


def store_matches(workspace: Workspace, computed: Computed) -> list[dict[str, Any]]:
    """Write computed matches and claim vectors; return one record per claim."""
    claims = {c.id: c for c in workspace.claims(computed.claim_ids)}
    workspace.save_matches(
        list(zip(computed.claim_ids, computed.hits, strict=True)),
        computed.signals,
        computed.vectors,
    )
    passages = workspace.passages(h.passage_id for row in computed.hits for h in row)
    results = []
    for claim_id, row, row_signals in zip(
        computed.claim_ids, computed.hits, computed.signals, strict=True
    ):
        matches = []
        for hit, agreement in zip(row, row_signals, strict=True):
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
                    "agreement": agreement,
                }
            )
        results.append({**claims[claim_id].as_record(), "matches": matches})
    return results


def merge_computed(parts: Sequence[Computed]) -> Computed:
    """Several `Computed` (claims split between workers) as one, in the parts' order."""
    import numpy as np

    vectors: dict[str, Any] = {}
    for model in {m for part in parts for m in part.vectors}:
        vectors[model] = np.concatenate(
            [part.vectors[model] for part in parts if model in part.vectors]
        )
    return Computed(
        [c for part in parts for c in part.claim_ids],
        [h for part in parts for h in part.hits],
        [s for part in parts for s in part.signals],
        vectors,
    )


def _add_nli(
    nli: NLIModel,
    claim: str,
    texts: Sequence[str],
    hits: list[Hit],
    listed: list[list[dict[str, Any]]],
) -> None:
    """The NLI model's probabilities for each (claim, passage), as a signal and as scores."""
    from workbench.hints.signals import nli_signal

    probabilities = nli.predict([(text, claim) for text in texts])
    for index, probs in enumerate(probabilities):
        signal = nli_signal(probs)
        hits[index] = replace(
            hits[index],
            signals={
                **hits[index].signals,
                "nli_entailment": round(float(probs[0]), 4),
                "nli_neutral": round(float(probs[1]), 4),
                "nli_contradiction": round(float(probs[2]), 4),
            },
        )
        listed[index].insert(
            0 if signal.status == "conflicts" else len(listed[index]), signal.as_dict()
        )
