"""Tests that the fast near-duplicate grouping gives exactly what the plain pairwise one did."""

from __future__ import annotations

import math
import random
from collections import defaultdict

import pytest

from workbench.extract.dedup import _DOWN as DOWN
from workbench.extract.dedup import _ENTITY as ENTITY
from workbench.extract.dedup import _LEFT as LEFT
from workbench.extract.dedup import (
    _MARKERS,
    _NEG,
    _QUANTITY_KINDS,
    _candidate_pairs,
    _content,
    _name_variants,
    _side,
    best_duplicates,
    claim_key,
    conflict,
    group_duplicates,
    similarity,
)
from workbench.extract.dedup import _RIGHT as RIGHT
from workbench.extract.dedup import _UP as UP

# --- the reference: the pairwise implementation as it was before prefix filtering ----------


def _ref_similarity(a: frozenset[str], b: frozenset[str]) -> float:
    a, b = frozenset(t for t in a if not t.startswith(_MARKERS)), _content(b)
    if not a or not b:
        return 0.0
    overlap = len(a & b)
    return math.sqrt((overlap / len(a | b)) * (overlap / min(len(a), len(b))))


def _ref_conflict(a: frozenset[str], b: frozenset[str]) -> str | None:
    names = dict(zip(_QUANTITY_KINDS, ("number", "year", "month", "day", "weekday"), strict=True))
    for kind in _QUANTITY_KINDS:
        qa = {t for t in a if t.startswith(kind)}
        qb = {t for t in b if t.startswith(kind)}
        if qa and qb and not (qa <= qb or qb <= qa):
            return names[kind]
    if (_NEG in a) != (_NEG in b):
        return "negation"
    da, db = a & {UP, DOWN}, b & {UP, DOWN}
    if da and db and da != db and len(da) == 1 and len(db) == 1:
        return "direction"
    left_a, right_a = _side(a, LEFT) - _side(a, RIGHT), _side(a, RIGHT) - _side(a, LEFT)
    left_b, right_b = _side(b, LEFT) - _side(b, RIGHT), _side(b, RIGHT) - _side(b, LEFT)
    if (left_a & right_b) and (right_a & left_b):
        return "order"
    ea = {t[1:] for t in a if t.startswith(ENTITY)}
    eb = {t[1:] for t in b if t.startswith(ENTITY)}
    words_a, words_b = _name_variants(set(_content(a))), _name_variants(set(_content(b)))
    only_a = {n for n in ea if not _name_variants({n}) & words_b}
    only_b = {n for n in eb if not _name_variants({n}) & words_a}
    only_a |= {t for t in a if t.startswith("@")} - b
    only_b |= {t for t in b if t.startswith("@")} - a
    if only_a and only_b:
        return "entity"
    return None


def _ref_pairs(keys: list[frozenset[str]], threshold: float) -> dict[tuple[int, int], float]:
    postings: dict[str, list[int]] = defaultdict(list)
    for i, key in enumerate(keys):
        for token in _content(key):
            postings[token].append(i)
    scores = {}
    for members in postings.values():
        for x, i in enumerate(members):
            for j in members[x + 1 :]:
                score = _ref_similarity(keys[i], keys[j])
                if score >= threshold:
                    scores[(i, j)] = score
    return scores


def _ref_groups(items: list[tuple[str, str]], threshold: float) -> list[list[int]]:
    keys = [claim_key(text, lang) for text, lang in items]
    links = _ref_pairs(keys, threshold)
    parent = list(range(len(items)))
    members = {i: [i] for i in range(len(items))}

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for (i, j), _score in sorted(links.items(), key=lambda kv: (-kv[1], kv[0])):
        ri, rj = root(i), root(j)
        if ri == rj:
            continue
        if any(_ref_conflict(keys[x], keys[y]) for x in members[ri] for y in members[rj]):
            continue
        keep, drop = min(ri, rj), max(ri, rj)
        parent[drop] = keep
        members[keep].extend(members.pop(drop))
    return sorted((sorted(group) for group in members.values()), key=lambda g: g[0])


# --- randomised claims: a few templates, their details drawn afresh, words dropped ----------

_TEMPLATES = {
    "en": [
        "{P} said {C} would cut taxes by {N} % in {M} {Y}",
        "{P} met {Q} in {C} on {D}, the first talks since {Y}",
        "Unemployment in {C} {UP} to {N} % in {M}, {P} said",
        "{P} did not meet {Q} in {C} in {M} {Y}",
        "More {W} than {V} voted for {P} in {C}",
        "{C} has deployed {N} nuclear warheads, according to {P}",
        "The {W} of {C} {UP} by {N} percent since {Y}",
    ],
    "fr": [
        "{P} a déclaré que la {C} baisserait les impôts de {N} % en {M} {Y}",
        "M. {P} a rencontré {Q} à {C} le {D}, une première depuis {Y}",
        "Le chômage a {UP} de {N} % en {C} en {M}, selon {P}",
        "{P} n'a pas rencontré {Q} en {M} {Y}",
        "Plus de {W} que de {V} ont voté pour {P} en {C}",
        "La {C} a déployé {N} ogives nucléaires, selon {P}",
    ],
}
_FILL = {
    "en": {
        "P": ["Trump", "Putin", "Donald Trump", "Vladimir Putin", "Biden", "Macron", "Lavrov"],
        "Q": ["Pompeo", "Xi Jinping", "Merkel", "Johnson"],
        "C": ["Russia", "France", "Japan", "the United States", "China", "Osaka", "Moscow"],
        "M": ["June", "July", "May", "March"],
        "D": ["Monday", "Friday", "June 28", "May 14"],
        "UP": ["rose", "fell", "increased", "dropped", "stayed"],
        "W": ["men", "women", "farmers", "students", "unemployment", "debt"],
        "V": ["men", "women", "farmers", "students"],
    },
    "fr": {
        "P": ["Poutine", "Vladimir Poutine", "M. Poutine", "Pompeo", "Macron", "Lavrov"],
        "Q": ["Pompeo", "Mike Pompeo", "Merkel", "Trump"],
        "C": ["Russie", "France", "Japon", "Sotchi", "Moscou", "Chine"],
        "M": ["juin", "juillet", "mai", "mars"],
        "D": ["mardi", "3 mai", "14 mai", "lundi"],
        "UP": ["augmenté", "baissé", "reculé", "progressé"],
        "W": ["femmes", "hommes", "agriculteurs", "étudiants"],
        "V": ["femmes", "hommes", "agriculteurs", "étudiants"],
    },
}


def _claims(seed: int, count: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        lang = rng.choice(("en", "fr"))
        text = rng.choice(_TEMPLATES[lang])
        for slot, values in _FILL[lang].items():
            text = text.replace("{" + slot + "}", rng.choice(values))
        text = text.replace("{N}", str(rng.choice((2, 3, 12, 1550, 27.5))))
        text = text.replace("{Y}", str(rng.choice((2018, 2019, 2020))))
        words = text.split()
        # Paraphrase by loss: drop a word or two, sometimes shout it.
        for _ in range(rng.choice((0, 0, 1, 2))):
            words.pop(rng.randrange(len(words)))
        text = " ".join(words)
        out.append((text.upper() if rng.random() < 0.05 else text, lang))
    return out


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("threshold", [0.6, 0.45, 0.8])
def test_grouping_matches_the_pairwise_reference(seed: int, threshold: float) -> None:
    items = _claims(seed, 160)
    expected = _ref_groups(items, threshold)
    assert group_duplicates(items, threshold=threshold) == expected
    # The data must exercise both merges and vetoes, or the comparison says little.
    assert any(len(g) > 1 for g in expected)
    assert len(expected) > 10


@pytest.mark.parametrize("seed", range(4))
def test_candidate_pairs_are_exactly_the_pairs_over_threshold(seed: int) -> None:
    keys = [claim_key(text, lang) for text, lang in _claims(100 + seed, 200)]
    for threshold in (0.3, 0.6, 0.9, 1.0):
        fast = _candidate_pairs([_content(k) for k in keys], threshold)
        assert fast == _ref_pairs(keys, threshold)


def test_conflict_and_similarity_match_the_reference_on_every_pair() -> None:
    keys = [claim_key(text, lang) for text, lang in _claims(7, 90)]
    reasons = set()
    for a in keys:
        for b in keys:
            assert conflict(a, b) == _ref_conflict(a, b)
            assert similarity(a, b) == _ref_similarity(a, b)
            reasons.add(conflict(a, b))
    # Every kind of veto occurs in the data.
    assert {"number", "month", "negation", "direction", "entity", None} <= reasons


def test_best_duplicates_picks_the_most_similar_unconflicting_row() -> None:
    keys = [claim_key(text, lang) for text, lang in _claims(11, 120)]
    new, stored = keys[:40], keys[40:]
    expected = {}
    for index, key in enumerate(new):
        best, best_score = None, 0.6
        for row, other in enumerate(stored):
            score = _ref_similarity(key, other)
            if score > 0 and score >= best_score and _ref_conflict(key, other) is None:
                best, best_score = row, score
        if best is not None:
            expected[index] = best
    assert best_duplicates(new, stored) == expected
    assert expected


def test_many_repeats_of_one_claim_group_fast() -> None:
    # A long article that repeats a handful of claims with new numbers: thousands of similar
    # pairs, most of them vetoed. The grouping must stay exact and finish in seconds.
    import time

    items = _claims(3, 1500)
    started = time.perf_counter()
    groups = group_duplicates(items)
    assert time.perf_counter() - started < 20
    assert sorted(i for g in groups for i in g) == list(range(len(items)))


def test_extract_reports_progress_to_the_end() -> None:
    from pathlib import Path

    from workbench.extract.pipeline import extract_article

    text = (Path(__file__).parent / "fixtures/sotchi-poutine-pompeo.fr.txt").read_text()
    calls: list[tuple[int, int]] = []
    claims = extract_article(text, progress=lambda done, total: calls.append((done, total)))
    assert claims == extract_article(text)
    done = [d for d, _ in calls]
    assert done == sorted(done) and len(calls) > 10
    assert calls[-1][0] == calls[-1][1]  # the last step completes the bar
