"""Provides the claim extraction pipeline: sentences to scored, attributed, standalone claims.

Steps, in order, for one article:
1. candidate sentences (stamps, datelines, bylines, credits, questions and headings dropped);
2. attribution: claimant, nested speakers, the content apart from the reporting frame; a
   quotation running over several sentences takes the speaker named where it closes, and
   "a-t-il ajouté" / "he said" the speaker of the sentence before;
3. splitting of sentences that join independent statements (each piece keeps its own span);
4. decontextualisation: pronouns, short names and relative dates resolved (rules noted);
5. check-worthiness: a score in [0, 1] from a scorer (the learned model, or the rules), with
   the explainable reasons; a claim under the threshold is marked low, never dropped;
6. entities, numbers and dates, normalised, with spans relative to the claim;
7. near-duplicates within the article merged: one claim, every span kept.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from workbench.errors import InputError
from workbench.extract.attribution import Attribution, parse_attribution
from workbench.extract.claimant import guess_claimant
from workbench.extract.claims import (
    DEFAULT_MIN_SCORE,
    candidate_sentences,
    resolve_language,
    score_sentence,
)
from workbench.extract.context import (
    Standalone,
    article_date,
    resolve_dates,
    resolve_names,
    resolve_pronouns,
    weekday_dates,
)
from workbench.extract.entities import PERSON, find_entities
from workbench.extract.quantities import find_dates, find_numbers
from workbench.extract.split import split_clauses
from workbench.models import ExtractedClaim

_OPEN_QUOTES = '"«“'
_CLOSE_QUOTES = '"»”'
_THIRD_PERSON = frozenset({"il", "elle", "ils", "elles", "he", "she", "they"})
NAMED_SPEAKER = "attributed to a named speaker"
REPEATED = "repeated in the article"


class Scorer(Protocol):
    """Scores how check-worthy texts are, in [0, 1]; `name` says which scorer it is."""

    name: str
    min_score: float

    def score(self, texts: Sequence[str], lang: str) -> list[float]: ...


class RuleScorer:
    """The hand-set rules of `workbench.extract.claims`: instant, no model."""

    name = "rules"
    min_score = DEFAULT_MIN_SCORE

    def score(self, texts: Sequence[str], lang: str) -> list[float]:
        return [score_sentence(text, lang)[0] for text in texts]


@dataclass
class _Draft:
    start: int
    end: int
    base: str  # the text the standalone version is built from
    attribution: Attribution
    claimant: str
    notes: tuple[str, ...]
    people_before: tuple[str, ...]
    content: str


def _people(text: str, lang: str, article: str) -> list[tuple[int, str]]:
    """(offset, full name) of each person named in `text`, in order."""
    return [
        (entity.start, entity.normal)
        for entity in find_entities(text, lang, article)
        if entity.kind == PERSON and " " in entity.normal
    ]


def _quote_state(sentence: str, open_quote: bool) -> bool:
    """Whether a quotation is still open after `sentence`."""
    for char in sentence:
        if char in "«“":
            open_quote = True
        elif char in "»”":
            open_quote = False
        elif char == '"':
            open_quote = not open_quote
    return open_quote


def _drafts(
    text: str,
    lang: str,
    sentences: list[tuple[int, int]],
    progress: Callable[[int, int], None] | None = None,
) -> list[_Draft]:
    drafts: list[_Draft] = []
    previous_claimant = ""
    previous_people: tuple[str, ...] = ()
    in_quote = False
    waiting: list[_Draft] = []  # sentences inside a quotation whose speaker comes later
    for done, (start, end) in enumerate(sentences):
        if progress is not None:
            # Until the drafts are known, as many of them as sentences (a split adds some).
            progress(done, 3 * len(sentences) + 2)
        sentence = text[start:end]
        attribution = parse_attribution(sentence, lang, text)
        claimant = attribution.claimant
        notes: list[str] = []
        people_before = previous_people
        if not claimant and attribution.pronoun in _THIRD_PERSON and previous_claimant:
            claimant = previous_claimant
            notes.append(f"{attribution.pronoun} -> {claimant} (speaker of the sentence before)")
            # "He said ..." after "Putin said ...": the opening "He" is that speaker too.
            people_before = (claimant,)
        was_open = in_quote or sentence.lstrip()[:1] in _OPEN_QUOTES
        in_quote = _quote_state(sentence, in_quote)
        pieces = split_clauses(sentence, attribution.content_start, attribution.content_end, lang)
        new = []
        for piece_start, piece_end in pieces:
            if len(pieces) == 1:
                span, base = (start, end), sentence
            else:
                span = (start + piece_start, start + piece_end)
                piece = sentence[piece_start:piece_end]
                if attribution.content_start > 0:  # frame first: "X a expliqué que" + piece
                    base = sentence[: attribution.content_start] + piece
                elif attribution.frame:  # frame last: piece + ", a déclaré X."
                    base = f"{piece.rstrip(' .')}, {attribution.frame}"
                else:
                    base = piece
            content = attribution.content(sentence) if len(pieces) == 1 else text[span[0] : span[1]]
            new.append(
                _Draft(*span, base, attribution, claimant, tuple(notes), people_before, content)
            )
        if was_open and not claimant:
            waiting.extend(new)
        elif waiting and claimant and not in_quote:
            # The quotation closes here and names its speaker: it speaks for the whole quote.
            for draft in waiting:
                draft.claimant = claimant
                draft.notes += (f"quotation closed by {claimant}",)
            waiting = []
        if not in_quote and not was_open:
            waiting = []
        drafts.extend(new)
        previous_claimant = claimant or previous_claimant
        people = tuple(name for _, name in _people(sentence, lang, text))
        previous_people = people
    return drafts


def _standalone(draft: _Draft, text: str, lang: str, published: str) -> Standalone:
    people = _people(draft.base, lang, text)
    # The innermost frame's speaker, when it is one person ("il" in "Poutine et Pompeo ont
    # dit qu'il..." could be either); else a claimant from context, unless it names two.
    group = draft.attribution.speakers
    speakers = group if len(group) == 1 else ()
    if not speakers and draft.claimant and not re.search(r" (?:et|and) ", draft.claimant):
        speakers = (draft.claimant,)
    pronouns = resolve_pronouns(
        draft.base, lang, people, speakers, draft.attribution.content_start, draft.people_before
    )
    named = resolve_names(pronouns.text, text)
    dated = resolve_dates(named.text, lang, published)
    return Standalone(
        dated.text, draft.notes + pronouns.resolutions + named.resolutions + dated.resolutions
    )


@dataclass(frozen=True)
class Extraction:
    """Every candidate claim of an article, in reading order, and the check-worthiness
    threshold they were measured against: a claim under it is kept, marked low, never
    dropped (a mis-scored claim must stay one key away from the reviewer)."""

    claims: list[ExtractedClaim]
    min_score: float
    scorer: str

    def is_checkworthy(self, claim: ExtractedClaim) -> bool:
        """Whether `claim` reaches the threshold."""
        return claim.score >= self.min_score

    @property
    def checkworthy(self) -> list[ExtractedClaim]:
        return [c for c in self.claims if self.is_checkworthy(c)]

    @property
    def low(self) -> list[ExtractedClaim]:
        """The claims under the threshold."""
        return [c for c in self.claims if not self.is_checkworthy(c)]


def extract_article(
    text: str,
    lang: str | None = None,
    published: str | None = None,
    scorer: Scorer | None = None,
    min_score: float | None = None,
    merge: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> list[ExtractedClaim]:
    """The article's claims that reach `min_score`, in reading order (see `extract_candidates`
    for every candidate, the ones under the threshold included)."""
    return extract_candidates(text, lang, published, scorer, min_score, merge, progress).checkworthy


def extract_candidates(
    text: str,
    lang: str | None = None,
    published: str | None = None,
    scorer: Scorer | None = None,
    min_score: float | None = None,
    merge: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> Extraction:
    """Every candidate claim of the article, in reading order, each scored, attributed and
    standing alone, with the threshold `min_score` they are marked against.

    `published` (ISO date) dates "mardi" and "yesterday"; by default it is read from the
    article's first lines, and relative dates stay as written when there is none. `scorer`
    defaults to the rules; `min_score` to the scorer's own threshold. With `merge`,
    near-duplicate claims of the article become one claim listing every span. `progress`,
    when given, is called with (steps done, steps in all) as the work goes on. Non-claims
    (stamps, datelines, bylines, credits, questions, headings, fragments) are never
    candidates.
    """
    if not text.strip():
        raise InputError("article text is empty")
    lang = resolve_language(text, lang)
    scorer = scorer or RuleScorer()
    threshold = scorer.min_score if min_score is None else min_score
    when = article_date(text) if published is None else published
    year = int(when[:4]) if re.match(r"\d{4}", when or "") else None
    sentences = candidate_sentences(text, lang)
    drafts = _drafts(text, lang, sentences, progress)
    # Steps: one per sentence for the drafts, then one per draft for standalone versions and
    # for claims, one for scoring and one for merging.
    step, total = len(sentences), len(sentences) + 2 * len(drafts) + 2

    def advance() -> None:
        nonlocal step
        step += 1
        if progress is not None:
            progress(step, total)

    standalones = []
    for draft in drafts:
        standalones.append(_standalone(draft, text, lang, when))
        advance()
    scores = scorer.score([s.text for s in standalones], lang) if drafts else []
    advance()
    claims = []
    for draft, alone, score in zip(drafts, standalones, scores, strict=True):
        advance()
        claim_text = text[draft.start : draft.end]
        rule_score, reasons = score_sentence(alone.text, lang)
        reasons = tuple(r for r in reasons if r != "no checkable detail" or not draft.claimant)
        if draft.claimant and draft.claimant[:1].isupper():
            reasons = (*reasons, NAMED_SPEAKER)
        dates = [f.as_dict() for f in find_dates(claim_text, year)]
        taken = {(d["start"], d["end"]) for d in dates}
        dates += [f.as_dict() for f in weekday_dates(claim_text, lang, when or "")
                  if (f.start, f.end) not in taken]  # fmt: skip
        claims.append(
            ExtractedClaim(
                text=claim_text,
                start=draft.start,
                end=draft.end,
                lang=lang,
                score=round(float(score), 4),
                reasons=reasons,
                claimant=draft.claimant or guess_claimant(claim_text, text),
                standalone=alone.text,
                resolutions=alone.resolutions,
                content=draft.content,
                speakers=draft.attribution.chain,
                spans=((draft.start, draft.end),),
                entities=tuple(e.as_dict() for e in find_entities(claim_text, lang, text)),
                numbers=tuple(f.as_dict() for f in find_numbers(claim_text)),
                dates=tuple(sorted(dates, key=lambda d: d["start"])),
                rule_score=rule_score,
            )
        )
    if merge and len(claims) > 1:
        claims = merge_duplicates(claims)
    advance()
    return Extraction(claims, threshold, scorer.name)


def merge_duplicates(claims: Sequence[ExtractedClaim]) -> list[ExtractedClaim]:
    """Near-duplicate claims folded into the first of each group, keeping every span and
    the best score; the order of first appearance is kept."""
    from workbench.extract.dedup import group_duplicates

    groups = group_duplicates([(c.standalone or c.text, c.lang) for c in claims])
    merged = []
    for group in groups:
        first = claims[group[0]]
        if len(group) == 1:
            merged.append(first)
            continue
        others = [claims[i] for i in group[1:]]
        merged.append(
            replace(
                first,
                score=max(c.score for c in (first, *others)),
                spans=tuple(span for c in (first, *others) for span in c.spans),
                reasons=(*first.reasons, REPEATED),
            )
        )
    return sorted(merged, key=lambda c: c.start)
