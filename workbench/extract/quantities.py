"""Provides numbers and dates found in a claim, normalised, with their character spans.

Numbers in French and English formats ("1 550", "1,550", "5,2 %", "27,5 milliards de
dollars", "$27.5 billion") become values with their unit and scale; dates ("le 3 mai",
"3 May 2019", "May 3", "au mois de juin", "juin 2019") become ISO dates, or partial ISO forms
("--05-03" for a day without a year, "2019-06" for a month) when the year is not known.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

from workbench.index.bridge import month_number

_SCALES = {
    "mille": 1e3, "thousand": 1e3, "million": 1e6, "millions": 1e6, "milliard": 1e9,
    "milliards": 1e9, "billion": 1e9, "billions": 1e9, "trillion": 1e12, "bn": 1e9, "m": 1e6,
}  # fmt: skip
_UNITS = {
    "%": "percent", "pour cent": "percent", "percent": "percent", "per cent": "percent",
    "dollars": "USD", "dollar": "USD", "$": "USD", "euros": "EUR", "euro": "EUR", "€": "EUR",
    "km": "km", "kilomètres": "km", "kilometres": "km", "kilometers": "km",
}  # fmt: skip
_NUMBER = re.compile(
    r"(?P<currency>[$€])?\s?"
    r"(?P<number>(?<![\w.,])\d{1,3}(?:(?:[ \u00a0\u202f]|,(?=\d{3}\b))\d{3})+(?:[.,]\d+)?"
    r"|(?<![\w.,])\d+(?:[.,]\d+)?)"
    r"(?:\s?(?P<scale>milliards?|millions?|mille|billions?|trillion|thousand|bn)\b)?"
    r"(?:\s?(?:de\s+)?(?P<unit>%|pour cent|per ?cent|dollars?|euros?|€|km|kilom[eè]tres|"
    r"kilometers)(?!\w))?",
    re.IGNORECASE,
)
_DAY_MONTH = re.compile(
    r"\b(?P<day>1er|\d{1,2})(?:st|nd|rd|th)?\s+(?P<month>[^\W\d_]{3,9})\.?(?:\s+(?P<year>\d{4}))?",
    re.UNICODE,
)
_MONTH_DAY = re.compile(
    r"\b(?P<month>[A-Z][a-z]{2,8})\.?\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s+(?P<year>\d{4}))?"
)
_MONTH_ONLY = re.compile(
    r"\b(?:(?:au\s+)?mois\s+d[e']\s*|in\s+|en\s+)?(?P<month>[^\W\d_]{3,9})(?:\s+(?P<year>\d{4}))?",
    re.UNICODE | re.IGNORECASE,
)


@dataclass(frozen=True)
class Found:
    """A number or date in a text: where it is, what it says, and its normalised value."""

    text: str
    start: int
    end: int
    value: Any
    unit: str = ""
    # For a date resolved from context ("mardi" -> 2019-05-14): which rule gave the value.
    rule: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v != ""}


def _to_float(raw: str) -> float:
    raw = re.sub(r"[\s\u00a0\u202f]", "", raw)
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", raw):
        return float(raw.replace(",", ""))
    return float(raw.replace(",", "."))


def find_numbers(text: str) -> list[Found]:
    """Numbers with their scale applied and unit named; years and day numbers of dates are
    left to `find_dates`."""
    dated = [(d.start, d.end) for d in _scan_dates(text)]
    out = []
    for match in _NUMBER.finditer(text):
        start, end = match.start("number"), match.end()
        if match.group("currency"):
            start = match.start("currency")
        if any(s <= match.start("number") < e for s, e in dated):
            continue
        value = _to_float(match.group("number"))
        scale = (match.group("scale") or "").lower()
        value *= _SCALES.get(scale, 1.0)
        unit_text = (match.group("unit") or match.group("currency") or "").lower()
        unit = _UNITS.get(unit_text.replace("  ", " "), unit_text)
        out.append(Found(text[start:end].strip(), start, end, value, unit))
    return out


def find_dates(text: str, year: int | None = None) -> list[Found]:
    """Dates, most specific first where they overlap; `year` completes day-month dates."""
    out = []
    for d in _scan_dates(text):
        if d.month is None:  # a year alone
            value = f"{d.year:04d}"
        else:
            known = d.year or year
            tail = f"-{d.month:02d}" + (f"-{d.day:02d}" if d.day else "")
            value = f"{known:04d}{tail}" if known else f"-{tail}"
        out.append(Found(d.text, d.start, d.end, value))
    return out


@dataclass(frozen=True)
class _Dated:
    """A date as written, before a year is supplied: `day` 0 for a month, `month` None for a
    year alone, `year` 0 when the text gives none."""

    text: str
    start: int
    end: int
    month: int | None
    day: int
    year: int


@lru_cache(maxsize=1024)
def _scan_dates(text: str) -> tuple[_Dated, ...]:
    """The dates of `find_dates`, in order, without the supplied year: the scan, the costly
    part, is done once per text (numbers skip the dates' digits; signals read both)."""
    found: list[_Dated] = []
    taken: list[tuple[int, int]] = []

    def add(match: re.Match[str], month: int | None, day: int, year: int) -> None:
        if any(s < match.end() and match.start() < e for s, e in taken):
            return
        taken.append((match.start(), match.end()))
        found.append(_Dated(match.group().strip(), match.start(), match.end(), month, day, year))

    for pattern in (_DAY_MONTH, _MONTH_DAY):
        for match in pattern.finditer(text):
            month = month_number(match.group("month"))
            day = 1 if match.group("day") == "1er" else int(match.group("day"))
            if not month or not 1 <= day <= 31:
                continue
            add(match, month, day, int(match.group("year") or 0))
    for match in _MONTH_ONLY.finditer(text):
        word = match.group("month")
        month = month_number(word)
        # "may" in running English is the verb; a month name must be capitalised there.
        if not month or (word.lower() == "may" and word != "May"):
            continue
        if not (match.group("year") or match.group().lower().startswith(("mois", "au", "in", "en"))
                or word[0].isupper() or word.lower() in _FRENCH_MONTHS):  # fmt: skip
            continue
        add(match, month, 0, int(match.group("year") or 0))
    # A year alone; not the digits of a grouped number such as "1 950 000".
    for match in re.finditer(r"(?<![\d,.])(?<!\d )\b(1[89]\d\d|20\d\d)\b(?![ ,.]\d{3}\b)", text):
        add(match, None, 0, int(match.group()))
    return tuple(sorted(found, key=lambda d: d.start))


_FRENCH_MONTHS = frozenset(
    {
        *("janvier", "février", "fevrier", "mars", "avril", "mai", "juin", "juillet", "août"),
        *("aout", "septembre", "octobre", "novembre", "décembre", "decembre"),
    }
)
