"""Provides decontextualisation: a claim rewritten to stand alone, with the rule behind each change.

Two rules so far, each reported so a fact-checker can see why the wording changed:
- a short name after an honorific becomes the full name the article gives ("M. Poutine" ->
  "Vladimir Poutine": "full name from the article");
- a weekday, "hier" / "yesterday" or "aujourd'hui" / "today" becomes a date counted back from
  the article's date ("mardi" in an article of Wednesday 15 May 2019 -> "mardi 14 mai 2019":
  "weekday up to the article date"). Without an article date, dates are left as they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from workbench.extract.claimant import expand_name

_HONORIFIC_NAME = re.compile(
    r"\b(?:M\.|Mme|Mlle|Mr\.?|Mrs\.?|Ms\.?)\s+([A-ZÀ-Ý][\w'’-]+)(?![\w'’-]*\s+[A-ZÀ-Ý])"
)
_WEEKDAYS = {
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
_MONTHS_FR = (
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
    "octobre", "novembre", "décembre",
)  # fmt: skip
_RELATIVE = {
    "fr": {"hier": 1, "aujourd'hui": 0, "aujourd’hui": 0},
    "en": {"yesterday": 1, "today": 0},
}


@dataclass(frozen=True)
class Standalone:
    """The claim as it can be read alone, and one line per change made."""

    text: str
    resolutions: tuple[str, ...] = ()


def _format(day: date, lang: str) -> str:
    if lang == "fr":
        return f"{day.day} {_MONTHS_FR[day.month - 1]} {day.year}"
    return f"{day.strftime('%B')} {day.day}, {day.year}"


def _already_dated(text: str, end: int) -> bool:
    # "mardi 14 mai" or "Tuesday, May 14" already carries its date.
    return bool(re.match(r",?\s+(?:\d{1,2}\b|[A-Z][a-z]+\s+\d{1,2}\b)", text[end:]))


def resolve_dates(text: str, lang: str, article_date: str) -> Standalone:
    """Weekdays and 'yesterday'/'today' dated from `article_date` (ISO), when it is known."""
    if not article_date or lang not in _WEEKDAYS:
        return Standalone(text)
    try:
        published = date.fromisoformat(article_date)
    except ValueError:
        return Standalone(text)
    notes: list[str] = []
    offsets: list[tuple[int, int, str]] = []
    for index, weekday in enumerate(_WEEKDAYS[lang]):
        for match in re.finditer(rf"\b{weekday}\b", text, re.IGNORECASE):
            if _already_dated(text, match.end()):
                continue
            # News convention: a bare weekday is the latest such day up to the article's date
            # ("mardi" in Wednesday's paper is yesterday; "Friday" in Friday's is that day).
            back = (published.weekday() - index) % 7
            day = published - timedelta(days=back)
            offsets.append((match.start(), match.end(), f"{match.group()} {_format(day, lang)}"))
            notes.append(f"{match.group()} -> {day.isoformat()} (weekday up to the article date)")
    for word, back in _RELATIVE[lang].items():
        for match in re.finditer(rf"\b{re.escape(word)}\b", text, re.IGNORECASE):
            day = published - timedelta(days=back)
            offsets.append((match.start(), match.end(), f"{match.group()} ({_format(day, lang)})"))
            notes.append(f"{match.group()} -> {day.isoformat()} (counted from the article date)")
    for start, end, replacement in sorted(offsets, reverse=True):
        text = text[:start] + replacement + text[end:]
    return Standalone(text, tuple(notes))


def resolve_names(text: str, article: str) -> Standalone:
    """'M. Poutine' -> 'Vladimir Poutine' when the article gives the full name."""
    notes: list[str] = []

    def replace(match: re.Match[str]) -> str:
        full = expand_name(match.group(1), article)
        if full == match.group(1):
            return match.group()
        notes.append(f"{match.group()} -> {full} (full name from the article)")
        return full

    return Standalone(_HONORIFIC_NAME.sub(replace, text), tuple(notes))


def standalone(text: str, article: str, lang: str, article_date: str = "") -> Standalone:
    """The claim with names and relative dates resolved, and the resolutions made."""
    named = resolve_names(text, article)
    dated = resolve_dates(named.text, lang, article_date)
    return Standalone(dated.text, named.resolutions + dated.resolutions)
