"""Provides agreement signals: what a passage agrees or conflicts with in a claim, and where.

Each signal compares one kind of fact after normalisation, in French and English alike:
numbers (value and unit), dates (as intervals: "juin 2019" contains "28-29 June 2019"),
places and people (names folded across languages: Poutine = Putin), the parties a claim
names ("gouvernement américain" vs "Trump campaign"), negation, modality ("a confirmé" vs
"did not establish") and time ("the evidence is older than the claim's event").

Signals must be precise: a false "conflicts" sends a reviewer after nothing. So a conflict
is only reported where the two facts plausibly speak of the same thing: same kind and
granularity, close in value, and in an evidence sentence that shares names or places with
the claim (its anchors). Anything less certain is "absent", never a guess.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from functools import lru_cache, wraps
from typing import Any, TypeVar

T = TypeVar("T")

AGREES = "agrees"
CONFLICTS = "conflicts"
ABSENT = "absent"
CAUTION = "caution"  # a fact about the evidence itself (its age), not an agreement
STATUSES = (AGREES, CONFLICTS, ABSENT, CAUTION)
KINDS = ("number", "date", "place", "person", "party", "negation", "modality", "time", "nli")


@dataclass(frozen=True)
class Signal:
    """One comparison between a claim and a passage.

    `claim` and `evidence` are the words compared as written (either may be '' when the
    fact is missing on that side); `detail` the normalised values or the rule."""

    kind: str
    status: str
    claim: str = ""
    evidence: str = ""
    detail: str = ""

    def describe(self) -> str:
        """'date: claim: juin 2019; evidence: 28-29 June 2019: agrees'."""
        sides = []
        if self.claim:
            sides.append(f"claim: {self.claim}")
        if self.evidence:
            sides.append(f"evidence: {self.evidence}")
        text = f"{self.kind}: " + "; ".join(sides) + (": " if sides else "") + self.status
        return f"{text} ({self.detail})" if self.detail else text

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in asdict(self).items() if v != ""}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Signal:
        return cls(**{k: str(data.get(k, "")) for k in ("kind", "status", "claim", "evidence",
                                                        "detail")})  # fmt: skip


@dataclass(frozen=True)
class Side:
    """One side of a comparison: its text, language and date (the claim's article date, or
    the evidence's publication date), ISO 'YYYY-MM-DD' or ''."""

    text: str
    lang: str = ""
    date: str = ""


def agreement(claim: Side, evidence: Side) -> list[Signal]:
    """Every signal for the pair, conflicts first, then cautions, agreements, the rest."""
    return _compare(_Facts(claim), _Facts(evidence))


def agreement_many(
    claim: Side, passages: Sequence[Side], kinds: Iterable[str] | None = None
) -> list[list[Signal]]:
    """`agreement` of one claim with each passage; the claim is read once. `kinds` limits
    the comparison to some kinds (a screen of many candidates skips the costly entities)."""
    facts = _claim_facts(claim)
    wanted = frozenset(kinds) if kinds is not None else None
    return [_compare(facts, _passage_facts(passage), wanted) for passage in passages]


@lru_cache(maxsize=32)
def _claim_facts(claim: Side) -> _Facts:
    # match compares one claim with its top k, then screens the pool: read the claim once.
    return _Facts(claim)


@lru_cache(maxsize=512)
def _passage_facts(passage: Side) -> _Facts:
    # match screens a passage, then compares it in full when it turns out to be
    # counter-evidence, and the claims of one article share many passages: each passage is
    # read once (its entities, the costliest part, are found at most once).
    return _Facts(passage)


def _memo(function: Callable[..., T]) -> Callable[..., T]:
    """Compute `function(facts, *args)` once per `_Facts` and arguments (a claim is compared
    with ~35 passages); callers must not change what it returns."""
    name = function.__name__

    @wraps(function)
    def cached(facts: _Facts, *args: Any) -> T:
        key = (name, *args)
        memo = facts.memo
        if key not in memo:
            memo[key] = function(facts, *args)
        return memo[key]

    return cached


@lru_cache(maxsize=16_384)
def _bridge(text: str, lang: str) -> tuple[str, ...]:
    """`bridge_tokens`, memoised: owners, date windows and sentences repeat across pairs."""
    from workbench.index.bridge import bridge_tokens

    return tuple(bridge_tokens(text, lang))


def _compare(
    facts_claim: _Facts, facts_evidence: _Facts, kinds: frozenset[str] | None = None
) -> list[Signal]:
    signals = [
        signal
        for kind, compare in _COMPARISONS
        if kinds is None or kind in kinds
        for signal in compare(facts_claim, facts_evidence)
    ]
    order = {CONFLICTS: 0, CAUTION: 1, AGREES: 2, ABSENT: 3}
    return sorted(signals, key=lambda s: order[s.status])


def _comparisons() -> tuple[tuple[str, Any], ...]:
    return (
        ("date", _dates),
        ("number", _numbers),
        ("place", _places),
        ("person", _people),
        ("party", _parties),
        ("negation", _negation),
        ("modality", _modality),
        ("time", _time),
    )


def nli_signal(probabilities: Sequence[float], margin: float = 0.5) -> Signal:
    """An NLI model's (entailment, neutral, contradiction) probabilities as a signal: it
    agrees or conflicts only when that label has at least `margin` of the mass."""
    entail, neutral, contradict = (float(p) for p in probabilities)
    detail = f"entailment {entail:.2f} · neutral {neutral:.2f} · contradiction {contradict:.2f}"
    if contradict >= margin and contradict > entail:
        return Signal("nli", CONFLICTS, detail=detail)
    if entail >= margin and entail > contradict:
        return Signal("nli", AGREES, detail=detail)
    return Signal("nli", ABSENT, detail=detail)


def counts(signals: Iterable[Signal]) -> dict[str, int]:
    """{status: how many} over some signals."""
    out = dict.fromkeys(STATUSES, 0)
    for signal in signals:
        out[signal.status] += 1
    return out


# --- text helpers ------------------------------------------------------------------------------


@lru_cache(maxsize=65_536)
def fold(text: str) -> str:
    """Lower case without accents: 'Évoqué' -> 'evoque' (memoised: mostly single words)."""
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in text if not unicodedata.combining(c))


_SENTENCE_END = re.compile(r"(?<=[.!?])[\"»”)]?\s+(?=[\"«“(]?[A-ZÀ-Ý0-9])|\n+")


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence; abbreviations such as 'M.' and 'U.S.' are not ends."""
    spans, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        before = text[max(0, match.start() - 4) : match.start()]
        abbreviation = re.search(r"(?:\b[A-Z]|\bMr|\bMrs|\bDr|\bSt|\bM)\.$", before)
        if abbreviation and "\n" not in match.group():
            continue
        spans.append((start, match.start()))
        start = match.end()
    if start < len(text):
        spans.append((start, len(text)))
    return [(s, e) for s, e in spans if text[s:e].strip()]


@lru_cache(maxsize=16_384)
def _is_fact_token(token: str) -> bool:
    return bool(re.fullmatch(r"(?:d\d\d-\d\d|m\d\d|w\d|n[\d.]+|y\d{4})", token))


class _Facts:
    """What one side says, extracted once: sentences with their anchors, dates, numbers,
    entities and language."""

    def __init__(self, side: Side) -> None:
        from workbench.extract.lang import detect_language

        self.side = side
        self.text = side.text
        self.lang = side.lang or detect_language(side.text)[0]
        self.year = int(side.date[:4]) if re.match(r"\d{4}", side.date or "") else None
        self.sentences = sentences(self.text) or [(0, len(self.text))]
        self._anchors: list[set[str]] | None = None
        self._all_anchors: set[str] | None = None
        self._entities: list[Any] | None = None
        self.memo: dict[tuple, Any] = {}  # what `_memo` functions found for this side

    @property
    def anchors(self) -> list[set[str]]:
        """Each sentence's names, places and other bridge tokens that are not facts; found
        on first use (a passage screened for counter-evidence often never needs them)."""
        if self._anchors is None:
            # "Mueller's" must anchor as "mueller", not as the "s" after the apostrophe;
            # the anchors follow `self.sentences` one to one.
            def plain(text: str) -> str:
                return re.sub(r"(?<=\w)['’]s\b", "", text) if self.lang == "en" else text

            self._anchors = [
                {t for t in _bridge(plain(self.text[s:e]), self.lang) if not _is_fact_token(t)}
                for s, e in self.sentences
            ]
        return self._anchors

    @property
    def all_anchors(self) -> set[str]:
        if self._all_anchors is None:
            self._all_anchors = set().union(*self.anchors) if self.anchors else set()
        return self._all_anchors

    def sentence_of(self, offset: int) -> int:
        for index, (start, end) in enumerate(self.sentences):
            if start <= offset < end:
                return index
        return len(self.sentences) - 1

    def shared_anchors(self, other: _Facts, offset: int) -> set[str]:
        """Anchors (names, places) the sentence at `offset` shares with the other side."""
        return self.anchors[self.sentence_of(offset)] & other.all_anchors

    @property
    def entities(self) -> list[Any]:
        if self._entities is None:
            from workbench.extract.entities import find_entities

            self._entities = find_entities(self.text, self.lang)
        return self._entities


# --- dates ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _When:
    """A date as an interval with its granularity ('day', 'month', 'year') and its words."""

    text: str
    start: int
    first: date | None  # None: a day and month without a year
    last: date | None
    grain: str
    month_day: tuple[int, int] | None = None

    def overlaps(self, other: _When) -> bool:
        if self.first and other.first and self.last and other.last:
            return self.first <= other.last and other.first <= self.last
        if self.month_day and other.month_day:  # a year missing on one side
            return self.month_day == other.month_day
        return False

    def distance_days(self, other: _When) -> int | None:
        if self.first is None and self.month_day and other.first and other.last:
            # "le 3 mai" without a known year: read it in the evidence's year.
            try:
                day = date(other.first.year, *self.month_day)
            except ValueError:
                return None
            return _When(self.text, self.start, day, day, self.grain).distance_days(other)
        if self.first is None and other.first is None and self.month_day and other.month_day:
            # Neither year known: compare within one (leap) year.
            try:
                mine, theirs = date(2000, *self.month_day), date(2000, *other.month_day)
            except ValueError:
                return None
            return abs((mine - theirs).days)
        if not (self.first and other.first and self.last and other.last):
            return None
        if self.overlaps(other):
            return 0
        return min(abs((self.first - other.last).days), abs((other.first - self.last).days))


_RANGE_BEFORE = re.compile(r"(?:\b(?:les?|du|from|on)\s+)?(\d{1,2})\s*(?:-|–|et|and|au|to)\s*$")


def _month_end(year: int, month: int) -> date:
    return date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)


@_memo
def _whens(facts: _Facts) -> list[_When]:
    from workbench.extract.context import weekday_dates
    from workbench.extract.quantities import find_dates

    found = list(find_dates(facts.text, facts.year))
    if facts.side.date:
        taken = [(f.start, f.end) for f in found]
        found += [
            f
            for f in weekday_dates(facts.text, facts.lang, facts.side.date)
            if not any(s < f.end and f.start < e for s, e in taken)
        ]
    out = []
    for item in found:
        value, text, start = str(item.value), item.text.rstrip("."), item.start
        try:
            if re.fullmatch(r"\d{4}-\d\d-\d\d", value):
                day = date.fromisoformat(value)
                first = day
                # "28-29 June", "les 28 et 29 juin": the range starts on the first day.
                before = _RANGE_BEFORE.search(facts.text[max(0, start - 12) : start])
                if before and int(before.group(1)) < day.day:
                    first = day.replace(day=int(before.group(1)))
                    start -= len(before.group()) - (before.start(1) - before.start())
                    text = facts.text[start : item.end].strip().rstrip(".")
                out.append(_When(text, start, first, day, "day", (day.month, day.day)))
            elif re.fullmatch(r"--\d\d-\d\d", value):
                out.append(_When(text, start, None, None, "day", (int(value[2:4]), int(value[5:]))))
            elif re.fullmatch(r"\d{4}-\d\d", value):
                year, month = int(value[:4]), int(value[5:])
                out.append(
                    _When(text, start, date(year, month, 1), _month_end(year, month), "month")
                )
            elif re.fullmatch(r"\d{4}", value):
                year = int(value)
                out.append(_When(text, start, date(year, 1, 1), date(year, 12, 31), "year"))
        except ValueError:
            continue  # "31 juin": not a date
    # A year inside a fuller date ("3 May 2019") is not a date of its own.
    fuller = [w for w in out if w.grain != "year"]
    return [
        w
        for w in out
        if w.grain != "year" or not any(f.start <= w.start < f.start + len(f.text) for f in fuller)
    ]


def _nearby(facts: _Facts, other: _Facts, when: _When, window: int = 60) -> int:
    """How many of the other side's anchors are written within `window` characters of a date."""
    around = facts.text[max(0, when.start - window) : when.start + len(when.text) + window]
    return len(set(_bridge(around, facts.lang)) & other.all_anchors)


# How far apart two dates of the same grain may be and still be a conflict. Years never
# conflict: on labelled pairs (bench/signals.py) "2017" against "2016" was nearly always two
# different events (precision 0.07), so a year only agrees or is absent.
_NEAR_DAYS = {"day": 10, "month": 62}


def _dates(claim: _Facts, evidence: _Facts) -> list[Signal]:
    # The claim first: most claims name no date, and reading the evidence's costs more.
    claim_dates = _whens(claim)
    if not claim_dates:
        return []
    evidence_dates = _whens(evidence)
    out = []
    grains = ("day", "month", "year")
    for when in claim_dates:
        # Only a date at least as precise confirms one: "2002" does not confirm "14 juillet
        # 2002", but "28-29 June 2019" confirms "juin".
        agreeing = [
            e
            for e in evidence_dates
            if when.overlaps(e) and grains.index(e.grain) <= grains.index(when.grain)
        ]
        if agreeing:
            # The most specific agreeing date says most ("28-29 June 2019" over "2019"); among
            # those, the one written closest to the claim's names and places.
            best = min(
                agreeing,
                key=lambda e: (
                    grains.index(e.grain),
                    -_nearby(evidence, claim, e),
                ),
            )
            out.append(Signal("date", AGREES, when.text, best.text, _interval(best)))
            continue
        # Evidence published before the claim's date speaks of earlier events ("on 10 May,
        # the trip was announced" is no conflict with a meeting on 14 May).
        published = evidence.side.date
        dated = when.first and re.fullmatch(r"\d{4}-\d\d-\d\d", published or "")
        if dated and when.first and date.fromisoformat(published) < when.first:
            out.append(Signal("date", ABSENT, when.text, "", _interval(when)))
            continue
        near = [
            (distance, e)
            for e in evidence_dates
            if e.grain == when.grain
            and when.grain in _NEAR_DAYS
            and (distance := when.distance_days(e)) is not None
            and 0 < distance <= _NEAR_DAYS[when.grain]
            and _same_topic(claim, evidence, e.start)
        ]
        if near:
            _, other = min(near, key=lambda pair: pair[0])
            detail = f"{_interval(when)} vs {_interval(other)}"
            out.append(Signal("date", CONFLICTS, when.text, other.text, detail))
        else:
            out.append(Signal("date", ABSENT, when.text, "", _interval(when)))
    return out


def _same_topic(claim: _Facts, evidence: _Facts, offset: int) -> bool:
    """Is the evidence sentence at `offset` about what the claim is about? Two shared names or
    places, or one and a shared word, or two shared words (same-language pairs)."""
    anchors = len(evidence.shared_anchors(claim, offset))
    start, end = evidence.sentences[evidence.sentence_of(offset)]
    words = len(_content_words(evidence.text[start:end]) & _content_words(claim.text))
    return anchors >= 2 or (anchors >= 1 and words >= 1) or words >= 2


def _interval(when: _When) -> str:
    if when.first is None or when.last is None:
        return f"--{when.month_day[0]:02d}-{when.month_day[1]:02d}" if when.month_day else ""
    if when.grain == "year":
        return f"{when.first.year}"
    if when.grain == "month":
        return when.first.isoformat()[:7]
    if when.first == when.last:
        return when.first.isoformat()
    return f"{when.first.isoformat()}..{when.last.isoformat()}"


# --- numbers -------------------------------------------------------------------------------------

# The thing a bare number counts, in both languages, folded to one word.
_COUNTED = {
    "people": "personnes personne gens habitants people persons residents inhabitants",
    "dead": "morts mort deces tues victimes dead deaths killed fatalities victims",
    "year": "ans annees annee years year",
    "month": "mois months month",
    "day": "jours jour days day",
    "hour": "heures heure hours hour",
    "page": "pages page",
    "job": "emplois emploi jobs job",
    "case": "cas cases",
    "vote": "voix votes vote",
    "seat": "sieges siege seats seat",
    "country": "pays countries country",
    "member": "membres membre members member",
    "ton": "tonnes tonne tons ton tonnes",
}
_COUNTED_WORD = {w: key for key, words in _COUNTED.items() for w in words.split()}


def _counted(text: str, end: int) -> str:
    """What the number ending at `end` counts: its unit word, if the next word names one."""
    match = re.match(r"\s*(?:de\s+|d['’])?([^\W\d_]+)", text[end : end + 30])
    return _COUNTED_WORD.get(fold(match.group(1)), "") if match else ""


@_memo
def _quantities(facts: _Facts) -> list[tuple[str, int, float, str]]:
    """(words, start, value, unit or counted thing) for each number."""
    from workbench.extract.quantities import find_numbers

    out = []
    for found in find_numbers(facts.text):
        unit = found.unit or _counted(facts.text, found.end)
        out.append((found.text, found.start, float(found.value), unit))
    return out


def _numbers(claim: _Facts, evidence: _Facts) -> list[Signal]:
    claim_numbers = _quantities(claim)
    if not claim_numbers:
        return []
    evidence_numbers = _quantities(evidence)
    out = []
    for text, _start, value, unit in claim_numbers:
        same = [
            e
            for e in evidence_numbers
            if _close(value, e[2], 0.02) and (not unit or not e[3] or unit == e[3])
        ]
        if same:
            out.append(Signal("number", AGREES, text, same[0][0], _quantity(value, unit)))
            continue
        # A conflict needs the same unit named on both sides, so that "3 hours" is never set
        # against "3 pages"; a unitless number is never in conflict.
        rivals = [
            e
            for e in evidence_numbers
            if unit
            and e[3] == unit
            and not _close(value, e[2], 0.1)
            and len(evidence.shared_anchors(claim, e[1])) >= 1
        ]
        if rivals:
            other = min(rivals, key=lambda e: abs(e[2] - value))
            detail = f"{_quantity(value, unit)} vs {_quantity(other[2], unit)}"
            out.append(Signal("number", CONFLICTS, text, other[0], detail))
        else:
            out.append(Signal("number", ABSENT, text, "", _quantity(value, unit)))
    return out


def _close(a: float, b: float, tolerance: float) -> bool:
    return abs(a - b) <= tolerance * max(abs(a), abs(b), 1e-9)


def _quantity(value: float, unit: str) -> str:
    number = f"{value:,.0f}" if value == int(value) else f"{value:,.2f}".rstrip("0")
    return f"{number} {unit}".strip()


# --- places and people ---------------------------------------------------------------------------


def _name_key(name: str, lang: str) -> str:
    """A person's surname, folded and spelled the English way: 'Vladimir Poutine' -> 'putin'."""
    from workbench.index.bridge import transliterate_fr

    surname = fold(name.split()[-1]) if name.split() else ""
    return transliterate_fr(surname) if lang == "fr" else surname


@_memo
def _kind_entities(facts: _Facts, kind: str) -> list[Any]:
    seen, out = set(), []
    for entity in facts.entities:
        key = _name_key(entity.normal, facts.lang) if kind == "person" else fold(entity.normal)
        if entity.kind == kind and key and key not in seen:
            seen.add(key)
            out.append((key, entity))
    return out


def _places(claim: _Facts, evidence: _Facts) -> list[Signal]:
    return _named(claim, evidence, "place")


def _people(claim: _Facts, evidence: _Facts) -> list[Signal]:
    return _named(claim, evidence, "person")


def _named(claim: _Facts, evidence: _Facts, kind: str) -> list[Signal]:
    """Each place or person of the claim: named in the evidence too, or absent from it."""
    mine = _kind_entities(claim, kind)
    if not mine:
        return []
    theirs = dict(_kind_entities(evidence, kind))
    out = []
    for key, entity in mine:
        if key in theirs:
            out.append(Signal(kind, AGREES, entity.text, theirs[key].text, entity.normal))
        elif kind == "person" and key in evidence.all_anchors:
            # A surname the entity finder missed on the evidence side ("Mueller's finding")
            # still counts when the evidence's language-neutral tokens carry it.
            out.append(Signal(kind, AGREES, entity.text, key.capitalize(), entity.normal))
        else:
            out.append(Signal(kind, ABSENT, entity.text, "", entity.normal))
    return out


# --- parties: who did what -----------------------------------------------------------------------

# Institutions a claim can attribute an act to, by kind, French and English; a claim about
# "the government" is not supported by evidence about "the campaign".
_PARTY_WORDS = {
    "government": "gouvernement gouvernements government governments administration executif "
    "executive",
    "campaign": "campagne campaign equipe team entourage associates",
    "army": "armee army military militaires forces",
    "parliament": "parlement parliament congres congress senat senate",
    "court": "tribunal court juges judges",
    "party": "parti party",
}
_PARTY = {w: kind for kind, words in _PARTY_WORDS.items() for w in words.split()}
_PARTY_RE = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*", re.UNICODE)


@dataclass(frozen=True)
class _Party:
    kind: str
    owner: str  # a country code ('@us') or a person's surname; '' when unqualified
    text: str


def _parties(claim: _Facts, evidence: _Facts) -> list[Signal]:
    mine = _find_parties(claim)
    if not mine:
        return []
    theirs = _find_parties(evidence)
    out = []
    for party in mine:
        compatible = [p for p in theirs if _owners_compatible(party.owner, p.owner)]
        same = [p for p in compatible if p.kind == party.kind]
        if same:
            out.append(Signal("party", AGREES, party.text, same[0].text, party.kind))
            continue
        others = [
            p
            for p in compatible
            if p.kind != party.kind and p.owner and _same_owner_plausible(party, p, evidence)
        ]
        if others and party.owner:
            other = others[0]
            detail = f"{party.kind} vs {other.kind}"
            out.append(Signal("party", CONFLICTS, party.text, other.text, detail))
        else:
            out.append(Signal("party", ABSENT, party.text, "", party.kind))
    return out


def _same_owner_plausible(mine: _Party, theirs: _Party, evidence: _Facts) -> bool:
    """A claim's person-owned party ("the Trump campaign") against a country's ("the Russian
    government") is only the same actor when the evidence names that person there too."""
    if mine.owner.startswith("@") or not theirs.owner.startswith("@"):
        return True
    offset = evidence.text.find(theirs.text)
    return offset >= 0 and mine.owner in evidence.anchors[evidence.sentence_of(offset)]


def _owners_compatible(a: str, b: str) -> bool:
    """Two owners can be the same: equal, one unknown, or a person (who may be of either
    country) against a country. Two different countries, or two different people, cannot."""
    if not a or not b or a == b:
        return True
    return a.startswith("@") != b.startswith("@")


@_memo
def _find_parties(facts: _Facts) -> list[_Party]:
    words = [(m.group(), m.start(), m.end()) for m in _PARTY_RE.finditer(facts.text)]
    out: list[_Party] = []
    for index, (word, start, end) in enumerate(words):
        kind = _PARTY.get(fold(word))
        if kind is None:
            continue
        # "team" and "équipe" are parties only when someone's ("l'équipe de Trump").
        owner, first, last = _owner(facts, words, index)
        if fold(word) in {"equipe", "team", "entourage", "associates", "forces"} and not owner:
            continue
        # "l'équipe de campagne de Donald Trump": one party, the campaign.
        if (
            fold(word) == "equipe"
            and index + 2 < len(words)
            and fold(words[index + 1][0]) == "de"
            and fold(words[index + 2][0]) == "campagne"
        ):
            continue
        text = facts.text[min(first, start) : max(last, end)]
        if owner and not owner.startswith("@") and owner not in _bridge(text, facts.lang):
            owner = ""
        out.append(_Party(kind, owner, text))
    return out


_COUNTRY_ACRONYMS = {"US": "@us", "USA": "@us", "UK": "@gb", "EU": "@eu"}


def _owner(
    facts: _Facts, words: Sequence[tuple[str, int, int]], index: int
) -> tuple[str, int, int]:
    """Who a party belongs to: a country word or a name right before ('US government',
    'Trump campaign') or after ('gouvernement américain', 'campagne de Donald Trump')."""
    _, start, end = words[index]
    candidates = []
    if index > 0:
        candidates.append((words[index - 1][1], end, [words[index - 1]]))
    tail = words[index + 1 : index + 4]
    if tail:
        if fold(tail[0][0]) in {"de", "du", "of", "des"} and len(tail) > 1:
            # "de Donald Trump": take up to two capitalised words.
            names = [w for w in tail[1:] if w[0][:1].isupper()]
            if names:
                candidates.append((start, names[-1][2], names))
        else:
            candidates.append((start, tail[0][2], [tail[0]]))
    for first, last, chunk in candidates:
        text = " ".join(w[0] for w in chunk)
        if text in _COUNTRY_ACRONYMS:  # "US" is also a stopword ("us") to the bridge
            return _COUNTRY_ACRONYMS[text], first, last
        tokens = [t for t in _bridge(text, facts.lang) if not _is_fact_token(t)]
        country = next((t for t in tokens if t.startswith("@") and t != "@moscow"), "")
        if country:
            return country, first, last
        names = [t for t in tokens if not t.startswith("@")]
        if names and chunk[-1][0][:1].isupper():
            return names[-1], first, last
    return "", start, end


# --- negation and modality -----------------------------------------------------------------------

_NEGATION = {
    "fr": re.compile(
        r"\b(?:ne|n['’])\s*(?:\w+\s+){0,3}?(?:pas|plus|jamais|rien|aucun\w*|personne)\b"
        r"|\b(?:aucun\w*|jamais|sans|absence|nullement)\b",
        re.IGNORECASE,
    ),
    "en": re.compile(
        r"\b(?:not|no|never|none|nothing|nobody|without|neither|nor|absence)\b|n['’]t\b",
        re.IGNORECASE,
    ),
}
# Certainty words: the claim says something was shown, the evidence only that it was not.
_ASSERTED = {
    "fr": re.compile(
        r"\b(?:a|ont|avait|avaient|aurait)?\s*(?:confirm\w*|prouv\w*|démontr\w*|demontr\w*|"
        r"établi\w*|etabli\w*|montr\w*|attest\w*)\b",
        re.IGNORECASE,
    ),
    "en": re.compile(
        r"\b(?:confirm(?:s|ed)?|prove[sdn]?|proven|demonstrat\w+|establish(?:es|ed)?|"
        r"show(?:s|ed|n)?|found)\b",
        re.IGNORECASE,
    ),
}
_NOT_ESTABLISHED = {
    "fr": re.compile(
        r"\b(?:n['’]a|n['’]ont|n['’]avait|ne)\s+(?:pas|jamais)\s+(?:\w+\s+){0,2}?"
        r"(?:établi|etabli|prouvé|prouve|démontré|demontre|permis de conclure|conclu|pu établir)"
        r"|\bpas de preuves?\b|\bfaute de preuves?\b|\bpreuves? insuffisantes?\b"
        r"|\béléments insuffisants\b|\bne permet pas de conclure\b|\bsans (?:pour autant )?"
        r"(?:l['’])?exonérer\b|\bne tranche pas\b",
        re.IGNORECASE,
    ),
    "en": re.compile(
        r"\b(?:did|does|do|could|can)\s*(?:not|n['’]t)\s+(?:\w+\s+){0,1}?"
        r"(?:establish|prove|conclude|find|determine|show)\w*"
        r"|\b(?:no|insufficient|not enough|lack of) evidence\b|\bfail(?:ed|ing|s)? to establish\b"
        r"|\bnot (?:been )?(?:established|proven|proved)\b",
        re.IGNORECASE,
    ),
}
_HEDGED = {
    "fr": re.compile(
        r"\b(?:pourrai\w*|peut-être|probablement|sans doute|semble\w*|aurai\w*|serai\w*|"
        r"présumé\w*|supposé\w*|selon certains)\b",
        re.IGNORECASE,
    ),
    "en": re.compile(
        r"\b(?:(?-i:may)|might|could|possibly|probably|likely|reportedly|allegedly|apparently|"
        r"seem(?:s|ed)?|suggest(?:s|ed)?)\b",
        re.IGNORECASE,
    ),
}


def _best_sentence(claim: _Facts, evidence: _Facts) -> int:
    """Index of the evidence sentence closest to the claim: most shared anchors, then shared
    words (the first of equals)."""
    claim_words = _content_words(claim.text)

    def closeness(index: int) -> tuple[int, int]:
        start, end = evidence.sentences[index]
        return (
            len(evidence.anchors[index] & claim.all_anchors),
            len(_content_words(evidence.text[start:end]) & claim_words),
        )

    return max(range(len(evidence.sentences)), key=closeness)


@lru_cache(maxsize=4096)
def _content_words(text: str) -> frozenset[str]:
    return frozenset(fold(w)[:6] for w in re.findall(r"[^\W\d_]{5,}", text))


def _pattern(table: dict[str, re.Pattern[str]], lang: str) -> re.Pattern[str]:
    return table.get(lang, table["en"])


_SCOPE_WORDS = 2  # content words after a negation cue that it bears on


def _negated(pattern: re.Pattern[str], text: str) -> list[tuple[str, set[str]]]:
    """(cue, the content words it bears on) for each negation in `text`: the next lower-case
    words that are not function words ("absence de toute collusion" -> collusion)."""
    from workbench.index.bridge import _stopwords

    stop = _stopwords()
    out = []
    for match in pattern.finditer(text):
        after = re.findall(r"[^\W\d_]{4,}", text[match.end() : match.end() + 60])
        words = [w for w in after if w.islower() and fold(w) not in stop and fold(w) not in _AUX]
        out.append((match.group(), {fold(w)[:6] for w in words[:_SCOPE_WORDS]}))
    return out


_AUX = frozenset(
    re.findall(
        r"\w+",
        "avait avaient aurait auraient etait etaient sera serait sont etre avoir fait faire "
        "toute toutes tout tous been being have having were would could should will",
    )
)


def _negation(claim: _Facts, evidence: _Facts) -> list[Signal]:
    """A mismatch only where one side negates a word the other side states plainly, in an
    evidence sentence about the claim's names: "absence de toute collusion" against "there
    was collusion", not against any "no" in the passage."""
    index = _best_sentence(claim, evidence)
    start, end = evidence.sentences[index]
    # Three shared names or places: the sentence is about the same event, so a word negated
    # on one side and stated on the other is worth a look (with fewer, precision was 0.08).
    if len(evidence.anchors[index] & claim.all_anchors) < 3:
        return []
    sentence = evidence.text[start:end]
    claim_words, sentence_words = _content_words(claim.text), _content_words(sentence)
    mine = _negated(_pattern(_NEGATION, claim.lang), claim.text)
    theirs = _negated(_pattern(_NEGATION, evidence.lang), sentence)
    for cue, scope in mine:
        for other_cue, other_scope in theirs:
            if scope & other_scope:
                return [
                    Signal(
                        "negation",
                        AGREES,
                        cue,
                        other_cue,
                        "both negate " + _one(scope & other_scope),
                    )
                ]
        if scope & sentence_words and not theirs:
            return [
                Signal(
                    "negation",
                    CONFLICTS,
                    cue,
                    "",
                    "the evidence states " + _one(scope & sentence_words) + " without negation",
                )
            ]
    for cue, scope in theirs:
        if scope & claim_words and not mine:
            return [
                Signal(
                    "negation",
                    CONFLICTS,
                    "",
                    cue,
                    "the claim states " + _one(scope & claim_words) + " without negation",
                )
            ]
    return []


def _one(words: set[str]) -> str:
    return sorted(words, key=len, reverse=True)[0] + "…"


def _modality(claim: _Facts, evidence: _Facts) -> list[Signal]:
    asserted = _pattern(_ASSERTED, claim.lang).search(claim.text)
    # Only a claim that says something was shown can be overstated by it.
    if not asserted or _pattern(_NOT_ESTABLISHED, claim.lang).search(claim.text):
        return []
    # Of several "not established" phrases, the one in the sentence most about the claim.
    evidence_no = max(
        _pattern(_NOT_ESTABLISHED, evidence.lang).finditer(evidence.text),
        key=lambda m: len(evidence.shared_anchors(claim, m.start())),
        default=None,
    )
    if evidence_no:
        # Only a sentence about the claim's names and places counts: "did not conclude" about
        # another question of the same report is not a mismatch with this claim.
        shared = evidence.shared_anchors(claim, evidence_no.start())
        if not shared or len(evidence.all_anchors & claim.all_anchors) < 2:
            return []
        return [
            Signal(
                "modality",
                CONFLICTS,
                _phrase(claim.text, asserted),
                _phrase(evidence.text, evidence_no),
                "the claim says it was shown; the evidence that it was not established",
            )
        ]
    hedged = _pattern(_HEDGED, evidence.lang).search(evidence.text)
    if hedged:
        return [
            Signal(
                "modality",
                CAUTION,
                _phrase(claim.text, asserted),
                _phrase(evidence.text, hedged),
                "the claim is stated as certain; the evidence hedges",
            )
        ]
    return []


def _phrase(text: str, match: re.Match[str], words_after: int = 3) -> str:
    """The matched words and a few after them, so that the reviewer sees what is asserted."""
    tail = re.match(rf"(?:[ \t]+[^\s,.;:]+){{0,{words_after}}}", text[match.end() :])
    return (match.group() + (tail.group() if tail else "")).strip()


# --- time ----------------------------------------------------------------------------------------


def _time(claim: _Facts, evidence: _Facts) -> list[Signal]:
    published = evidence.side.date
    if not re.fullmatch(r"\d{4}-\d\d-\d\d", published or ""):
        return []
    when = date.fromisoformat(published)
    said = claim.side.date
    said_on = date.fromisoformat(said) if re.fullmatch(r"\d{4}-\d\d-\d\d", said or "") else None
    events = [w for w in _whens(claim) if w.first is not None and w.grain in {"day", "month"}]
    if events:
        event = max(events, key=lambda w: w.first or date.min)
        # Only an event the claim reports as past: a claim made in May about a plan for June
        # is checked against what was said of the plan, which evidence before June can hold.
        reported = said_on is None or (event.first is not None and event.first <= said_on)
        if event.first and when < event.first and reported:
            return [
                Signal(
                    "time",
                    CAUTION,
                    event.text,
                    published,
                    f"the evidence ({published}) is older than the claim's event "
                    f"({_interval(event)}): it cannot report how it went",
                )
            ]
    if said_on is not None:
        gap = (said_on - when).days
        if gap > 365:
            return [
                Signal(
                    "time",
                    CAUTION,
                    said,
                    published,
                    f"the evidence is {gap // 365} year(s) older than the claim; things may "
                    "have changed",
                )
            ]
    return []


_COMPARISONS = _comparisons()  # after every comparison is defined
