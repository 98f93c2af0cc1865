"""Provides near-duplicate detection for extracted claims, in French and English.

A claim becomes a set of normalised tokens (`claim_key`): content words lower-cased, accents
folded, function words and reporting verbs dropped, lightly stemmed, plus language-neutral
tokens for names, places, numbers and dates. Two claims are near-duplicates when their sets
are similar enough (`similarity`) *and* no explicit veto fires (`conflict`): a different
number, date, polarity (negation), direction (rose / fell) or named entity makes two claims
different facts however many other words they share, so each of those is checked on its own
rather than left to a similarity score that one token barely moves.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from workbench.extract.quantities import find_dates, find_numbers
from workbench.index.bridge import (
    _WEEKDAYS,
    _fold,
    _place_codes,
    _stopwords,
    bridge_tokens,
    month_number,
    transliterate_fr,
)

if TYPE_CHECKING:
    import numpy as np

# Calibrated on public pairs (CLEF 2020 Snopes claims, SciFact, Climate-FEVER, CheckThat 2025
# French, RTE3-FR): at 0.6 every case, punctuation, quote or reporting-frame variant merges,
# and 92-100 % of hand-written rewordings; of the nearest lexical neighbours that are other
# claims, about 1 % of news claims merge (Snopes, CheckThat) and 7 % of RTE3-FR contradiction
# pairs. Lower thresholds merged many more RTE pairs for no gain on rewordings. The vector
# threshold is the caller's default, not calibrated here.
DEFAULT_THRESHOLD = 0.6
DEFAULT_VECTOR_THRESHOLD = 0.92

# Key tokens that are markers rather than words. "#" tokens (numbers, dates, polarity,
# direction) take part in the similarity; "*" (entity), "<" and ">" (sides of a comparison)
# tokens only feed the vetoes, because their words are already in the key as content tokens.
_NUM, _YEAR, _MONTH, _DAY, _WEEKDAY = "#n", "#y", "#m", "#d", "#w"
_NEG, _UP, _DOWN = "#neg", "#up", "#down"
_ENTITY, _LEFT, _RIGHT = "*", "<", ">"
_MARKERS = (_ENTITY, _LEFT, _RIGHT)
_QUANTITY_KINDS = (_NUM, _YEAR, _MONTH, _DAY, _WEEKDAY)


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)

# Words that report a claim rather than state it: "X a déclaré que Y" and "Y, selon X" claim Y.
_REPORTING = _wordset(
    "said say says saying stated told tells claimed claim claims declared declare declares "
    "affirmed affirms asserted asserts added adds noted notes reported reports reportedly "
    "according announced announces insisted insists explained explains argued argues wrote "
    "writes tweeted tweets posted posts confirmed confirms alleged allegedly suggested "
    "dit dire dit declare declaree affirme affirmee assure assuree estime estimee selon "
    "indique indiquee explique ajoute souligne annonce annoncee rapporte ecrit precise "
    "confirme confirmee assurant affirmant declarant estimant soutient soutenu"
)
# Function words missing from the short bm25s lists, and honorifics ("M.", "Mr", "Mme").
_EXTRA_STOP = _wordset(
    "have has had having been being were am would could should can must shall might do does "
    "did doing he she we you i his her hers its our ours your yours them him me my us who "
    "whom whose which what when where why how all any some each both other others than too "
    "very so just also about after before from out again once here only own same those "
    "there's it's that's an onto upon while whether because though although yet via "
    "going gonna want wants well even still ever really "
    "mr mrs ms dr mme mlle m monsieur madame "
    "cette cet celui celle ceux celles dont ou quand comme tout tous toute toutes tres "
    "aussi deja encore alors donc car ainsi leurs quelle quel quels quelles lors entre "
    "depuis vers chez sous apres avant pendant afin etre avoir fait faire peut peuvent "
    "doit doivent va vont ete etre ete ca cela ceci"
)
# Titles are dropped from the entity set so that "President Putin" and "Vladimir Putin" are
# the same person; they stay content words.
_TITLES = _wordset(
    "president presidente mr mrs ms dr m mme minister ministre premier prime chancellor "
    "chancelier senator senateur sen rep gov governor gouverneur secretary secretaire "
    "general gen sir lord king queen roi reine pope pape prince princess princesse "
    "ceo chief chef leader dirigeant former ancien ex vice deputy depute jr sr "
    "le la les the de du des l d un une a an"
)
_NUMBER_WORDS = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "twenty": 20, "hundred": 100, "thousand": 1000,
    "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "sept": 7, "huit": 8, "neuf": 9, "dix": 10,
    "onze": 11, "douze": 12, "vingt": 20, "cent": 100, "mille": 1000,
}  # fmt: skip
# Negation cues, both languages at once (a French cue never appears in English and back).
# "plus" and "personne" negate only next to "ne" ("il n'y a plus", "personne n'est venu");
# "ne ... que" is restriction, not negation.
_NEG_WORDS = _wordset(
    "not no never none nobody nothing neither nor without cannot nowhere "
    "pas jamais aucun aucune aucuns aucunes rien sans ni nullement guere non"
)
_WEEKDAY_NAMES = frozenset(_WEEKDAYS)
_UPPER_PLACES = {"US": "@us", "UK": "@gb", "EU": "@eu", "UE": "@eu"}
# Words that open a sentence (hence capitalised) far more often than they name anyone: without
# this list "More than 100 people died" and "Over 100 people died" would name two entities.
_NOT_NAMES = _wordset(
    "more over under nearly almost around since during several many most every new old last "
    "first recent today yesterday tomorrow now people photo photos video videos image images "
    "picture pictures scientist scientists expert experts official officials researcher "
    "researchers study studies report government police doctor doctors local global world "
    "national federal public social claim post viral footage "
    "plusieurs nombreux certains certaines cette ces selon plus moins pres environ "
    "gouvernement police medecin medecins scientifique scientifiques etude chercheur "
    "chercheurs nouveau nouvelle premier premiere dernier derniere photo video image "
    "aujourd hier demain desormais publication"
)
_FR_COMPARATIVES = frozenset({"plus", "moins", "mieux", "pire", "davantage", "autant", "aussi"})
_NE_PARTNERS = frozenset({"plus", "personne", "guere"})
_FAIL_WORDS = frozenset({"fail", "fails", "failed", "failing", "unable"})
# Direction of change: "unemployment rose" and "unemployment fell" share every other word.
# Prefixes catch inflections ("increases", "augmenté"); short or ambiguous words match whole.
_UP_PREFIXES = (
    *("increas", "hausse", "augment", "upregulat", "enhanc", "improv", "accroi", "accru"),
    *("soar", "surg", "climb", "rising", "jump", "grow", "promot", "activat", "stimulat"),
    *("accelerat", "boost", "positiv", "favoris"),
)
_UP_WORDS = _wordset(
    "rise rises rose risen grew gain gains gained more higher up hike hikes better"
)
_DOWN_PREFIXES = (
    *("decreas", "declin", "shrink", "shrank", "baiss", "diminu", "recul", "reduc", "plung"),
    *("downregulat", "inhibit", "suppress", "impair", "chut", "lower", "repress", "worsen"),
    *("negativ", "ralenti", "freine", "empech", "prevent"),
)
_DOWN_WORDS = _wordset(
    "fall falls fell fallen falling drop drops dropped cut cuts less fewer moins down worse "
    "slow slows slowed block blocks blocked halt halts halted"
)


@lru_cache(maxsize=1)
def _stop() -> frozenset[str]:
    return _stopwords() | _EXTRA_STOP


def _stem(word: str, lang: str) -> str:
    """A light suffix strip, enough that plurals and participles meet their base form."""
    if lang.startswith("fr"):
        for suffix in ("ees", "es", "ee", "er", "s", "x", "e"):
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                word = word[: -len(suffix)]
                break
        # One left-to-right transliteration for every French word, not only capitalised
        # ones, so that "POUTINE" and "poutine" and "Poutine" all become `putin`.
        return transliterate_fr(word)
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    for suffix in ("ing", "ed", "es", "s", "e"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            return word[: -len(suffix)]
    return word


def _words(text: str) -> list[tuple[str, str]]:
    """(raw, folded) words, split at apostrophes: "l'armée" -> "l", "armee"."""
    out = []
    for match in _WORD.finditer(text):
        raw = match.group()
        parts = re.split(r"['’]", raw)
        # Keep English contractions whole: "didn't" is a negation cue, "n" and "t" are not.
        if len(parts) == 2 and parts[1].lower() == "t":
            out.append((raw, _fold(raw).replace("’", "'")))
            continue
        out.extend((p, _fold(p)) for p in parts if p)
    return out


def _is_negated(folded: list[str]) -> bool:
    for i, word in enumerate(folded):
        if word in _NEG_WORDS or word.endswith("n't"):
            return True
        if word in _FAIL_WORDS and folded[i + 1 : i + 2] == ["to"]:
            return True  # "fails to reveal" denies "reveals"
        if word in ("ne", "n") and any(w in _NE_PARTNERS for w in folded[i + 1 : i + 5]):
            return True
        if word == "personne" and {"ne", "n"}.intersection(folded[i + 1 : i + 4]):
            return True  # "Personne n'est mort"
    return False


def _direction(folded: list[str]) -> set[str]:
    found = set()
    for word in folded:
        if word in _UP_WORDS or word.startswith(_UP_PREFIXES):
            found.add(_UP)
        if word in _DOWN_WORDS or word.startswith(_DOWN_PREFIXES):
            found.add(_DOWN)
    return found


def _number_token(value: float) -> str:
    return f"{_NUM}{format(value, '.12g')}"


def _quantity_tokens(text: str) -> set[str]:
    tokens = set()
    for found in find_numbers(text):
        # "COVID-19", "F-35": digits glued to a word by a hyphen are part of a name.
        before = text[max(0, found.start - 2) : found.start]
        if len(before) == 2 and before[1] == "-" and before[0].isalpha():
            continue
        tokens.add(_number_token(float(found.value)))
    for found in find_dates(text):
        value = str(found.value)
        year, _, rest = value.partition("-") if not value.startswith("--") else ("", "", value[2:])
        if year:
            tokens.add(f"{_YEAR}{year}")
        if rest:
            month, _, day = rest.partition("-")
            tokens.add(f"{_MONTH}{month}")
            if day:
                tokens.add(f"{_DAY}{month}-{day}")
    return tokens


def _entities(content: list[tuple[int, str, str, str]]) -> set[str]:
    """Stems of capitalised content words, unless the text is headline-cased or shouted,
    where capitals say nothing about names."""
    long_words = [raw for _, _, raw, low in content if len(low) > 3]
    capitalised = [raw for raw in long_words if raw[:1].isupper()]
    # Headline case capitalises every content word; a plain sentence full of names still has
    # a lower-case verb or noun ("Trump will meet Putin in June").
    if len(long_words) >= 4 and len(capitalised) >= 0.85 * len(long_words):
        return set()
    capital_positions = {i for i, _, raw, _ in content if raw[:1].isupper()}
    return {
        stem
        for i, stem, raw, low in content
        if i in capital_positions
        # Only the last word of a run of capitals: "Donald Trump" and "President Trump" are
        # both `trump`, where "Donald" against "President" would read as two people.
        and i + 1 not in capital_positions
        and low not in _TITLES
        and low not in _NOT_NAMES
        and low not in _place_words()
        and month_number(low) is None  # months and days are the date veto's business
        and low not in _WEEKDAY_NAMES
    }


@lru_cache(maxsize=1)
def _place_words() -> frozenset[str]:
    # "United" and "States" are parts of `@us`, not two more names.
    _, multi = _place_codes()
    return frozenset(word for phrase, _ in multi for part in phrase for word in part.split("-"))


def _comparison_pivot(folded: list[str]) -> int | None:
    """Position of the word that splits a comparison ("than", "compared", "plus ... que")."""
    for i, word in enumerate(folded):
        if word in ("than", "compared", "versus", "vs"):
            return i
        if word == "rapport" and i > 0 and folded[i - 1] == "par":
            return i
        if word in ("que", "qu") and _FR_COMPARATIVES.intersection(folded[max(0, i - 6) : i]):
            return i
    return None


def claim_key(text: str, lang: str) -> frozenset[str]:
    """Normalised tokens of a claim: content stems, numbers, dates, places, polarity, names.

    Content words are folded, stemmed and stripped of stopwords and reporting verbs; numbers
    are values ("1 550" == "1,550" == "1550", "27,5 milliards" == "27.5 billion"), dates are
    `#y2019`, `#m06`, `#d06-28`; `bridge_tokens` adds place codes (`@ru`) and weekdays; a
    negated claim carries `#neg`, a claim of rise or fall `#up` / `#down`. Markers that only
    feed the vetoes: `*name` for each capitalised word, and `<stem` / `>stem` for the words on
    either side of a comparison ("men more than women").
    """
    lang = (lang or "").lower()
    words = _words(text)
    folded = [low for _, low in words]
    stop = _stop()
    places, _ = _place_codes()
    tokens: set[str] = set()
    content: list[tuple[int, str, str, str]] = []  # position, stem, raw word, folded word
    for i, (raw, low) in enumerate(words):
        if low in _NUMBER_WORDS:
            tokens.add(_number_token(float(_NUMBER_WORDS[low])))
            continue
        if raw in _UPPER_PLACES:
            tokens.add(_UPPER_PLACES[raw])  # "US" is the pronoun "us" once lower-cased
            continue
        if low in stop or low in _REPORTING or low in _NEG_WORDS or low.endswith("n't"):
            continue
        if len(low) < 2 or not re.search(r"[^\W\d_]", low):
            continue  # single letters and bare numbers (numbers come from `find_numbers`)
        if low in places:
            tokens.add(places[low])
            continue
        content.append((i, _stem(low, lang), raw, low))
    tokens.update(stem for _, stem, _, _ in content)
    tokens.update(_direction(folded))
    tokens.update(_quantity_tokens(text))
    for token in bridge_tokens(text, lang):
        if token.startswith("@"):
            tokens.add(token)
        elif re.fullmatch(r"w\d", token):
            tokens.add(f"#{token}")
    if _is_negated(folded):
        tokens.add(_NEG)
    tokens.update(f"{_ENTITY}{name}" for name in _entities(content))
    pivot = _comparison_pivot(folded)
    if pivot is not None:
        tokens.update(f"{_LEFT if i < pivot else _RIGHT}{stem}" for i, stem, _, _ in content)
    return frozenset(tokens)


def _content(key: frozenset[str]) -> frozenset[str]:
    return frozenset(t for t in key if not t.startswith(_MARKERS))


def _similar(a: frozenset[str], b: frozenset[str]) -> float:
    """`similarity` of two content sets (markers already left out)."""
    if not a or not b:
        return 0.0
    overlap = len(a & b)
    return math.sqrt((overlap / len(a | b)) * (overlap / min(len(a), len(b))))


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Geometric mean of Jaccard and containment (overlap / smaller size), in [0, 1].

    Jaccard alone punishes a claim that is a shorter paraphrase of the other ("Trump to meet
    Putin at Osaka G20" against the same plus "in June, the Kremlin said"); containment alone
    calls a short claim a duplicate of any long sentence that contains its words (an RTE
    premise and its hypothesis). When one key contains the other, the geometric mean is
    sqrt(small / large): a claim may drop about two thirds of the other's words at the
    default threshold, no more. Calibrated against the arithmetic mean and Dice, it had the
    fewest merges of a long sentence with a short claim at equal recall on rewordings.
    Marker tokens (`*`, `<`, `>`) are left out: their words are already content tokens.
    """
    return _similar(_content(a), _content(b))


def _side(key: frozenset[str], marker: str) -> set[str]:
    return {t[1:] for t in key if t.startswith(marker)}


def _name_variants(names: set[str]) -> set[str]:
    # French keys transliterate names ("michel" -> "mishel"); an English key does not, so a
    # name is matched in either spelling.
    return names | {transliterate_fr(n) for n in names}


class _Features:
    """What `conflict` and `similarity` read from one key, worked out once per key: a group
    of n claims is compared pair by pair, and re-deriving these from the key at each of the
    n² comparisons was most of the time of extraction on a long article."""

    __slots__ = (
        "content",
        "direction",
        "left",
        "names",
        "negated",
        "places",
        "quantities",
        "right",
        "words",
    )

    def __init__(self, key: frozenset[str]) -> None:
        self.content = _content(key)
        self.quantities = tuple(
            frozenset(t for t in key if t.startswith(k)) for k in _QUANTITY_KINDS
        )
        self.negated = _NEG in key
        self.direction = key & {_UP, _DOWN}
        left, right = _side(key, _LEFT), _side(key, _RIGHT)
        self.left, self.right = left - right, right - left
        # Each named entity with its spellings, and every spelling of the key's words.
        self.names = tuple(frozenset(_name_variants({t[1:]})) for t in key if t.startswith(_ENTITY))
        self.words = frozenset(_name_variants(set(self.content)))
        self.places = frozenset(t for t in key if t.startswith("@"))


@lru_cache(maxsize=4096)
def _features(key: frozenset[str]) -> _Features:
    return _Features(key)


_QUANTITY_NAMES = ("number", "year", "month", "day", "weekday")


def _conflict(a: _Features, b: _Features) -> str | None:
    """`conflict` on features: the same checks in the same order."""
    for name, qa, qb in zip(_QUANTITY_NAMES, a.quantities, b.quantities, strict=True):
        if qa and qb and not (qa <= qb or qb <= qa):
            return name
    if a.negated != b.negated:
        return "negation"
    da, db = a.direction, b.direction
    if da and db and da != db and len(da) == 1 and len(db) == 1:
        return "direction"
    if (a.left & b.right) and (a.right & b.left):
        return "order"
    # Some name of each claim that the other does not mention at all, in any spelling;
    # place codes are language-neutral already ("Russie" and "Russia" are both `@ru`).
    only_a = any(not (n & b.words) for n in a.names) or not a.places <= b.places
    only_b = any(not (n & a.words) for n in b.names) or not b.places <= a.places
    if only_a and only_b:
        return "entity"
    return None


def conflict(a: frozenset[str], b: frozenset[str]) -> str | None:
    """Why two keys cannot be the same claim ("number", "year", "month", "day", "weekday",
    "negation", "direction", "order", "entity"), or None.

    Quantities conflict when both claims give some of one kind and neither set contains the
    other: "2 %" against "3 %" conflicts, "2 % in 2019" against "2 %" does not (a paraphrase
    may drop a detail but not change it). Entities conflict when each claim names someone or
    something the other does not mention at all (Trump/Biden), not when one only adds a first
    name or title. A comparison conflicts when it is read the other way round ("men more than
    women" / "women more than men"); words on both sides of one comparison ("British ... than
    British") say nothing.
    """
    return _conflict(_features(a), _features(b))


def is_near_duplicate(
    a_text: str,
    a_lang: str,
    b_text: str,
    b_lang: str,
    threshold: float = DEFAULT_THRESHOLD,
) -> bool:
    """Whether two claims state the same fact: similar keys and no conflicting detail."""
    a, b = claim_key(a_text, a_lang), claim_key(b_text, b_lang)
    return conflict(a, b) is None and similarity(a, b) >= threshold


def best_duplicates(
    new: Sequence[frozenset[str]],
    stored: Sequence[frozenset[str]],
    threshold: float = DEFAULT_THRESHOLD,
) -> dict[int, int]:
    """{index in `new`: index in `stored` of its most similar near-duplicate}, for the new
    keys that repeat a stored one; candidates are found through shared tokens only."""
    postings: dict[str, list[int]] = defaultdict(list)
    stored_features = [_Features(key) for key in stored]
    for row, features in enumerate(stored_features):
        for token in features.content:
            postings[token].append(row)
    found = {}
    for index, key in enumerate(new):
        features = _Features(key)
        best, best_score = None, threshold
        rows = {row for token in features.content for row in postings.get(token, ())}
        for row in sorted(rows):
            score = _similar(features.content, stored_features[row].content)
            if score >= best_score and _conflict(features, stored_features[row]) is None:
                best, best_score = row, score
        if best is not None:
            found[index] = best
    return found


def _min_overlap(size: int, threshold: float) -> int:
    """The fewest tokens a set of `size` content tokens shares with any set it reaches
    `threshold` against (never below 1: sets that share no token are never compared).

    With overlap o, union u and smaller size m, similarity² = (o / u)(o / m). As o <= m,
    o / m <= 1, so similarity² <= o / u <= o / size (the union is at least either set):
    reaching t takes o >= t² · size. The bound is tight (a set inside one t² times its size
    scores exactly t), and is taken a hair low so that no rounding of the score in floating
    point can pass a pair this leaves out.
    """
    if threshold <= 0:
        return 1
    return max(1, math.ceil(threshold * threshold * size - 1e-9))


def _candidate_pairs(
    contents: list[frozenset[str]], threshold: float
) -> dict[tuple[int, int], float]:
    """Pairs (i < j) whose similarity reaches `threshold`, with their scores.

    Comparing every pair that shares a token is quadratic on a long article, where common
    words ("russie", a year) sit in most claims. Prefix filtering keeps it exact: tokens are
    ranked rarest first (ties by the token); if two sets share o tokens, the first shared
    token in that order has at most size - o tokens of either set before it, so it lies in
    both sets' prefixes of length size - o + 1. With o >= `_min_overlap` (the least overlap
    that can reach the threshold), a pair that can reach it shares a token of both prefixes
    of length size - `_min_overlap`(size) + 1, and only those prefixes are indexed. Then a
    size filter (similarity² <= smaller / larger, the containment case) before scoring.
    """
    frequency: dict[str, int] = defaultdict(int)
    for content in contents:
        for token in content:
            frequency[token] += 1
    postings: dict[str, list[int]] = defaultdict(list)
    squared = threshold * threshold - 1e-9
    scores: dict[tuple[int, int], float] = {}
    for j, content in enumerate(contents):
        if not content:
            continue
        ranked = sorted(content, key=lambda t: (frequency[t], t))
        prefix = ranked[: len(content) - _min_overlap(len(content), threshold) + 1]
        candidates = {i for token in prefix for i in postings.get(token, ())}
        for i in sorted(candidates):
            other = contents[i]
            small, large = sorted((len(other), len(content)))
            if small < squared * large:
                continue
            score = _similar(other, content)
            if score >= threshold:
                scores[(i, j)] = score
        for token in prefix:
            postings[token].append(j)
    return scores


def group_duplicates(
    items: Sequence[tuple[str, str]],
    threshold: float = DEFAULT_THRESHOLD,
    vectors: np.ndarray | None = None,
    vector_threshold: float = DEFAULT_VECTOR_THRESHOLD,
) -> list[list[int]]:
    """Indices of `items` ((text, lang) pairs) grouped by near-duplication.

    Each group is sorted, its first index is the representative, and groups come in the
    order of their first index; a claim with no duplicate is a group of one. Two claims are
    linked when their keys reach `threshold`, or, given L2-normalised `vectors` (one row per
    item), when their cosine reaches `vector_threshold` (this is what links a French claim
    with its English translation). Groups grow by union-find over links, strongest first,
    single-link: a claim joins a group when it is near-duplicate of *any* member, so
    paraphrase chains close up. Two groups merge only when no pair across them conflicts
    (number, date, negation, direction, entity): a complete-link veto, so "meet in June" and
    "meet in July" never end up together through a date-less "Trump will meet Putin".
    """
    keys = [claim_key(text, lang) for text, lang in items]
    features = [_Features(key) for key in keys]
    links = _candidate_pairs([f.content for f in features], threshold)
    if vectors is not None and len(items) > 1:
        import numpy as np

        matrix = np.asarray(vectors, dtype=np.float32)
        if matrix.shape[0] != len(items):
            raise ValueError(f"{matrix.shape[0]} vectors for {len(items)} items")
        cosine = matrix @ matrix.T
        rows, cols = np.nonzero(np.triu(cosine >= vector_threshold, k=1))
        for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
            links[(i, j)] = max(links.get((i, j), 0.0), float(cosine[i, j]))
    parent = list(range(len(items)))
    members: dict[int, list[int]] = {i: [i] for i in range(len(items))}
    # Roots of groups known to hold a conflicting pair: a group only grows, so two groups
    # that conflict still do after either takes in more claims. Without this, every link
    # between two conflicting groups compared them member by member again.
    vetoed: dict[int, set[int]] = defaultdict(set)

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for (i, j), _score in sorted(links.items(), key=lambda kv: (-kv[1], kv[0])):
        ri, rj = root(i), root(j)
        if ri == rj or rj in vetoed[ri]:
            continue
        if any(_conflict(features[x], features[y]) for x in members[ri] for y in members[rj]):
            vetoed[ri].add(rj)
            vetoed[rj].add(ri)
            continue
        # The smaller index becomes the root, so a group's root is its representative.
        keep, drop = min(ri, rj), max(ri, rj)
        parent[drop] = keep
        members[keep].extend(members.pop(drop))
        for other in vetoed.pop(drop, ()):
            vetoed[other].discard(drop)
            vetoed[other].add(keep)
            vetoed[keep].add(other)
    return sorted((sorted(group) for group in members.values()), key=lambda g: g[0])
