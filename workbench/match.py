"""Provides match: articles or claim records in, claims stored with their ranked evidence out."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.article import Article, read_article
from workbench.errors import InputError
from workbench.extract.context import article_date
from workbench.models import ExtractedClaim, Hit
from workbench.retrieve import Retriever
from workbench.workspace import ClaimRow, Workspace

CLAIM_SUFFIXES = {".jsonl", ".ndjson"}
if TYPE_CHECKING:
    from workbench.extract.pipeline import Scorer
    from workbench.hints.nli import NLIModel


@dataclass
class ArticleClaims:
    """An article read and its claims extracted, not yet stored: every input of a command
    is brought to this point before anything is written, so that a bad one stores nothing.
    `published` is the date the claims were dated with ('' when none is known); `claims`
    holds every candidate, those under `min_score` (the check-worthiness threshold used)
    included: they are stored too, marked low, hidden in the queue until asked for."""

    article: Article
    published: str
    claims: list[ExtractedClaim]
    min_score: float | None = None

    def is_low(self, claim: ExtractedClaim) -> bool:
        """Whether `claim` is under the threshold."""
        return self.min_score is not None and claim.score < self.min_score

    @property
    def low(self) -> list[ExtractedClaim]:
        """The claims under the threshold."""
        return [c for c in self.claims if self.is_low(c)]


def extract_claims(
    article: Article,
    published: str = "",
    scorer: Scorer | None = None,
    progress: Callable[[int, int], None] | None = None,
    min_score: float | None = None,
) -> ArticleClaims:
    """Every candidate claim of an article, dated with `published`, else the page's
    publication date, else a full date in its first lines (its dateline or update stamp);
    `min_score` (default: the scorer's own) marks those under it low; `progress` is called
    with (steps done, steps in all)."""
    from workbench.extract.pipeline import extract_candidates

    when = published or article.published or article_date(article.text)
    try:
        found = extract_candidates(
            article.text, published=when, scorer=scorer, min_score=min_score, progress=progress
        )
    except InputError as exc:
        # Several articles may be read together: say which one.
        raise InputError(f"{article.source}: {exc.message}") from None
    return ArticleClaims(article, when, found.claims, found.min_score)


def store_article(workspace: Workspace, extracted: ArticleClaims, url: str = "") -> list[int]:
    """Store an extracted article and its claims; return the claims' ids in order.

    `url` (where the article appeared) defaults to the article's own (a page's canonical or
    final URL). A claim that near-duplicates one already stored from another article is not
    stored twice: the article is recorded as another source of that claim, whose id is
    returned."""
    article, claims = extracted.article, extracted.claims
    text = article.text
    lang = claims[0].lang if claims else ""
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    known = workspace.article_id(digest)
    duplicates = _known_duplicates(workspace, claims, known)
    fresh = [c for i, c in enumerate(claims) if i not in duplicates]
    # Low claims are inserted after the check-worthy ones: the ids of those stay what they
    # were when low claims were not stored (the queue orders by position, not by id).
    order = sorted(range(len(fresh)), key=lambda i: extracted.is_low(fresh[i]))
    stored = workspace.add_article(
        name=article.name,
        source=article.source,
        content_hash=digest,
        lang=lang,
        text=text,
        claims=[_claim_record(fresh[i], extracted.min_score) for i in order],
        url=url or article.url,
        published=extracted.published,
    )
    ids = [0] * len(fresh)
    for position, index in enumerate(order):
        ids[index] = stored[position]
    if duplicates:
        article_id = workspace.article_id(digest)
        assert article_id is not None
        workspace.add_claim_sources(
            article_id,
            [
                (duplicates[i], _claim_record(claims[i], extracted.min_score))
                for i in sorted(duplicates)
            ],
        )
    fresh_ids = iter(ids)
    return [duplicates[i] if i in duplicates else next(fresh_ids) for i in range(len(claims))]


def add_article(
    workspace: Workspace,
    path: Path | str | Article,
    url: str = "",
    published: str = "",
    scorer: Scorer | None = None,
    min_score: float | None = None,
) -> list[int]:
    """Read an article (a text or HTML file, an http(s) URL, or an `Article`), extract its
    claims and store them all; return their ids.

    `published` (ISO date) defaults to the page's publication date, else a full date found
    in the article's first lines; `url` is where the article appeared (default: the page's
    canonical or final URL); `scorer` rates check-worthiness (default: the rules). A claim
    under `min_score` (default: the scorer's own threshold) is stored too, with the
    threshold: the review queue hides it until asked (`list_queue(low=True)`)."""
    article = path if isinstance(path, Article) else read_article(path)
    extracted = extract_claims(article, published, scorer, min_score=min_score)
    return store_article(workspace, extracted, url)


def _claim_record(claim: ExtractedClaim, min_score: float | None = None) -> dict[str, Any]:
    details = claim.details()
    if min_score is not None:
        # The threshold the claim was marked against: under it, the queue hides the claim.
        details["min_score"] = min_score
    return {
        "text": claim.text,
        "start": claim.start,
        "end": claim.end,
        "lang": claim.lang,
        "score": claim.score,
        "reasons": claim.reasons,
        "claimant": claim.claimant,
        "standalone": claim.standalone,
        "details": details,
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


def parse_claim_records(
    lines: Iterable[str], name: str, max_chars: int | None = None, hint: str = ""
) -> list[dict[str, Any]]:
    """Claim records from JSONL, every field checked (see `claim_fields`); errors name the
    file, the line and the field. A line over `max_chars` is refused before it is parsed."""
    from workbench.jsonl import json_objects

    records = []
    for number, where, record in json_objects(lines, name, max_chars, hint):
        records.append({**record, **claim_fields(record, where), "_line": number})
    if not records:
        raise InputError(f"{name}: no claim records")
    return records


def claim_fields(record: dict[str, Any], where: str) -> dict[str, Any]:
    """The fields a claim record stores, checked: `text` (or `claim`) a non-empty string;
    `start`/`end` integers with 0 ≤ start ≤ end; `score` a number from 0 to 1; `reasons`
    a list of strings; `lang`, `article`, `claimant`, `standalone`, `article_url` strings;
    `article_published` an ISO date. An InputError names `where` and the field."""
    from datetime import date

    from workbench.extract.lang import detect_language
    from workbench.jsonl import int_field, number_field, str_field, str_list_field

    key = "text" if record.get("text") is not None else "claim"
    text = str_field(record, key, where)
    if not text:
        raise InputError(f"{where}: record has no 'text' (or 'claim') string")
    start = int_field(record, "start", where, 0)
    end = int_field(record, "end", where, start + len(text))
    if end < start:
        raise InputError(f"{where}: field 'end' ({end}) is before field 'start' ({start})")
    published = str_field(record, "article_published", where)
    if published:
        try:
            published = date.fromisoformat(published[:10]).isoformat()
        except ValueError:
            raise InputError(
                f"{where}: field 'article_published' must be an ISO date (YYYY-MM-DD), "
                f"got {published!r}"
            ) from None
    return {
        "text": text,
        "start": start,
        "end": end,
        "lang": str_field(record, "lang", where).lower() or detect_language(text)[0],
        "score": number_field(record, "score", where, 1.0, 0.0, 1.0),
        "reasons": str_list_field(record, "reasons", where, ["given as a claim"]),
        "article": str_field(record, "article", where),
        "claimant": str_field(record, "claimant", where),
        "standalone": str_field(record, "standalone", where),
        "article_url": str_field(record, "article_url", where),
        "article_published": published,
        # `workbench extract` marks each claim with the threshold it was scored against:
        # piped into `match -`, one under it stays a low-check-worthiness claim (kept, out
        # of the queue until asked for), not an ordinary one.
        "details": (
            {"min_score": number_field(record, "min_score", where, 0.0, 0.0, 1.0)}
            if record.get("min_score") is not None
            else {}
        ),
    }


def add_claim_records(
    workspace: Workspace, records: Sequence[dict[str, Any]], name: str
) -> list[int]:
    """Store claim records, grouped by their `article` field (default: the input's name).

    Each record is checked as `parse_claim_records` does, all of them before anything is
    stored. An article's URL and date come from the first of its records that has them."""
    checked = []
    for number, record in enumerate(records, start=1):
        where = f"{name}:{record.get('_line', number)}"
        checked.append(claim_fields(record, where))
    groups: dict[str, list[dict[str, Any]]] = {}
    for fields in checked:
        groups.setdefault(fields["article"] or name, []).append(fields)
    ids: list[int] = []
    for article, group in groups.items():
        keys = (
            "text", "start", "end", "lang", "score", "reasons", "claimant", "standalone",
            "details",
        )  # fmt: skip
        claims = [{key: fields[key] for key in keys} for fields in group]
        url = next((f["article_url"] for f in group if f["article_url"]), "")
        published = next((f["article_published"] for f in group if f["article_published"]), "")
        # Claims given directly have no article text; their article is identified by name.
        digest = hashlib.sha256(f"claims:{article}".encode()).hexdigest()
        ids.extend(
            workspace.add_article(
                article, name, digest, claims[0]["lang"], "", claims, url=url, published=published
            )
        )
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
    texts: list[str] | None = None
    """Each claim's wording as it was matched (a pending re-match of it is then done)."""


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
    return Computed([c.id for c in claims], hits, signals, vectors, [c.text for c in claims])


def store_matches(workspace: Workspace, computed: Computed) -> list[dict[str, Any]]:
    """Write computed matches and claim vectors; return one record per claim."""
    claims = {c.id: c for c in workspace.claims(computed.claim_ids)}
    workspace.save_matches(
        list(zip(computed.claim_ids, computed.hits, strict=True)),
        computed.signals,
        computed.vectors,
        computed.texts,
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
        None
        if any(part.texts is None for part in parts)
        else [t for part in parts for t in part.texts or ()],
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
