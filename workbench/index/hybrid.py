"""Provides language-aware fusion of ranked lists from dense and lexical retrievers.

A retriever only votes on a (query, passage) pair it can judge: a multilingual model on every
pair, an English-only model on English-English pairs, BM25 on pairs in one language. Each
passage's fused score is the weighted mean of reciprocal-rank scores over the retrievers that
can judge it, so a French near miss gets no extra votes just because more retrievers read
French-French pairs than French-English ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from workbench.models import Hit

RRF_K = 60


@dataclass(frozen=True)
class Source:
    """One retriever's place in the fusion.

    `languages`: None when the retriever compares texts across languages; otherwise the
    languages whose same-language pairs it can judge (an empty set meaning any language).
    `weight` applies to same-language pairs, `cross_weight` to cross-language ones and
    `covered_weight` to same-language pairs that a monolingual model also judges: there a
    multilingual model, weaker than the specialist, can step back.
    """

    name: str
    weight: float = 1.0
    languages: frozenset[str] | None = frozenset()
    cross_weight: float = 1.0
    covered_weight: float | None = None

    def weight_for(self, query_lang: str, passage_lang: str, covered: bool) -> float:
        """The weight of this source's vote on one pair.

        `cross_weight` on pairs of two known, different languages; `covered_weight` (when
        set) on same-language pairs that a monolingual model of that language also judges;
        `weight` otherwise.
        """
        if query_lang and passage_lang and query_lang != passage_lang:
            return self.cross_weight
        if covered and self.covered_weight is not None:
            return self.covered_weight
        return self.weight

    @property
    def monolingual(self) -> bool:
        return bool(self.languages)


def can_judge(source: Source, query_lang: str, passage_lang: str) -> bool:
    """Whether `source` gives meaningful scores for a pair in these two languages."""
    if source.languages is None or not query_lang or not passage_lang:
        return True
    if query_lang != passage_lang:
        return False
    return not source.languages or query_lang in source.languages


def fuse(
    ranked: Mapping[str, Sequence[tuple[int, float]]],
    sources: Sequence[Source],
    query_lang: str,
    passage_langs: Mapping[int, str],
    k: int,
    mode: str = "lang",
    rrf_k: int = RRF_K,
) -> list[Hit]:
    """Fuse each source's ranked (passage id, raw score) list into the top `k` hits.

    mode "lang": weighted mean over the sources that can judge each pair (see module doc);
    mode "rrf": plain weighted reciprocal-rank sum over every source (the usual baseline).
    Scores are scaled so that 1.0 means "ranked first by every source that voted".
    """
    by_name = {source.name: source for source in sources}
    candidates: dict[int, dict[str, float]] = {}
    # Ranks among the passages a source can judge, and (as a fallback for passages that no
    # source can judge, e.g. French claims with only an English model) ranks among all.
    fallback: dict[int, dict[str, int]] = {}
    lang_of = passage_langs.get
    # Whether a source judges a pair depends only on the passage's language: decided once
    # per language seen (a few) rather than once per listed passage (hundreds).
    judges: dict[tuple[str, str], bool] = {}
    for name, hits in ranked.items():
        source = by_name.get(name)
        if source is None:
            continue  # a list from a retriever this fusion leaves out
        rank_key = f"{name}_rank"
        rank = 0
        for any_rank, (passage_id, raw) in enumerate(hits, start=1):
            signals = candidates.get(passage_id)
            if signals is None:
                signals = candidates[passage_id] = {}
                fallback[passage_id] = {}
            fallback[passage_id][name] = any_rank
            if mode == "lang":
                key = (name, lang_of(passage_id, ""))
                judged = judges.get(key)
                if judged is None:
                    judged = judges[key] = can_judge(source, query_lang, key[1])
                if not judged:
                    continue
            rank += 1
            signals[name] = round(float(raw), 6)
            signals[rank_key] = rank
    total_weight = sum(s.weight for s in sources) or 1.0
    rank_keys = [(s.name, f"{s.name}_rank") for s in sources]
    # Per passage language: the voters, each with its weight and rank key, and the weight
    # they share (the same arithmetic, in the same order, as one passage at a time).
    plans: dict[str, tuple[list[tuple[str, str, float]], float, bool]] = {}
    hits: list[Hit] = []
    for passage_id, signals in candidates.items():
        passage_lang = lang_of(passage_id, "")
        plan = plans.get(passage_lang)
        if plan is None:
            plan = plans[passage_lang] = _plan(sources, rank_keys, query_lang, passage_lang, mode)
        voters, weight, use_fallback = plan
        total = 0.0
        if use_fallback:
            ranks = fallback[passage_id]
            for name, _, source_weight in voters:
                rank = ranks.get(name)
                if rank is not None:
                    total += source_weight / (rrf_k + rank)
        else:
            for _, rank_key, source_weight in voters:
                rank = signals.get(rank_key)
                if rank is not None:
                    total += source_weight / (rrf_k + rank)
        weight_used = weight if mode == "lang" else total_weight
        score = total * (rrf_k + 1) / (weight_used or 1.0)
        hits.append(Hit(passage_id=passage_id, score=round(score, 6), signals=signals))
    hits.sort(key=lambda hit: (-hit.score, hit.passage_id))
    return hits[:k]


def _plan(
    sources: Sequence[Source],
    rank_keys: Sequence[tuple[str, str]],
    query_lang: str,
    passage_lang: str,
    mode: str,
) -> tuple[list[tuple[str, str, float]], float, bool]:
    """(voters as (name, rank key, weight), their summed weight, whether ranks come from the
    fallback) for passages in `passage_lang`."""
    voters = list(sources)
    use_fallback = False
    if mode == "lang":
        voters = [s for s in sources if can_judge(s, query_lang, passage_lang)]
        if not voters:
            voters = list(sources)
            use_fallback = True
    covered = any(s.monolingual and can_judge(s, query_lang, passage_lang) for s in voters)
    weights = {s.name: s.weight_for(query_lang, passage_lang, covered) for s in voters}
    keys = dict(rank_keys)
    planned = [(s.name, keys[s.name], weights[s.name]) for s in voters]
    return planned, sum(weights.values()), use_fallback
