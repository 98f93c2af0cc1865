"""Provides decontextualisation: a claim rewritten to stand alone, with the rule behind each change.

Each rule is reported so a fact-checker can see why the wording changed:
- a short name after an honorific becomes the full name the article gives ("M. Poutine" ->
  "Vladimir Poutine": "full name from the article");
- a weekday, "hier" / "yesterday" or "aujourd'hui" / "today" becomes a date counted back from
  the article's date ("mardi" in an article of Wednesday 15 May 2019 -> "mardi 14 mai 2019":
  "weekday up to the article date"). Without an article date, dates are left as they are;
- a pronoun whose antecedent is clear becomes the name: "ce dernier" / "the latter" is the
  last person named before it; a subject pronoun inside reported speech ("M. Poutine a
  déclaré qu'... il avait eu l'impression") is the speaker when one person speaks; a
  sentence that opens with "Il" / "He" is the one person the previous sentence names.
  Anything less clear is left as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from workbench.extract.claimant import expand_name
from workbench.extract.quantities import Found
from workbench.index.bridge import month_number

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


_DATES = (
    (re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b"), ("y", "m", "d")),
    (re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b"), ("d", "m", "y")),
    (re.compile(r"\b(\d{1,2})(?:er)?\s+([^\W\d_]+)\.?\s+(\d{4})\b"), ("d", "M", "y")),
    (re.compile(r"\b([^\W\d_]+)\.?\s+(\d{1,2}),?\s+(\d{4})\b"), ("M", "d", "y")),
)


def article_date(text: str, lines: int = 3) -> str:
    """An ISO date from the article's first lines ("Updated ... June 28, 2019", "15/05/2019",
    "le 15 mai 2019"), or '' when none has a year: a date is never guessed."""
    head = "\n".join(text.splitlines()[:lines])
    for pattern, order in _DATES:
        for match in pattern.finditer(head):
            parts = dict(zip(order, match.groups(), strict=True))
            month = month_number(parts["M"]) if "M" in parts else int(parts["m"])
            try:
                return date(int(parts["y"]), month or 0, int(parts["d"])).isoformat()
            except ValueError:
                continue
    return ""


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


_WEEKDAY_RULE = "weekday up to the article date"
_RELATIVE_RULE = "counted from the article date"


def _relative_dates(text: str, lang: str, article_date: str) -> list[Found]:
    """Weekdays, then 'hier'/'yesterday'/'today', dated from `article_date` (ISO); [] when it
    is unknown or not a date. In search order (weekday by weekday), not text order."""
    if not article_date or lang not in _WEEKDAYS:
        return []
    try:
        published = date.fromisoformat(article_date)
    except ValueError:
        return []
    dated: list[tuple[re.Match[str], date, str]] = []
    for index, weekday in enumerate(_WEEKDAYS[lang]):
        for match in re.finditer(rf"\b{weekday}\b", text, re.IGNORECASE):
            if _already_dated(text, match.end()):
                continue
            # News convention: a bare weekday is the latest such day up to the article's date
            # ("mardi" in Wednesday's paper is yesterday; "Friday" in Friday's is that day).
            back = (published.weekday() - index) % 7
            dated.append((match, published - timedelta(days=back), _WEEKDAY_RULE))
    for word, back in _RELATIVE[lang].items():
        for match in re.finditer(rf"\b{re.escape(word)}\b", text, re.IGNORECASE):
            dated.append((match, published - timedelta(days=back), _RELATIVE_RULE))
    return [
        Found(match.group(), match.start(), match.end(), day.isoformat(), "", rule)
        for match, day, rule in dated
    ]


def resolve_dates(text: str, lang: str, article_date: str) -> Standalone:
    """Weekdays and 'yesterday'/'today' dated from `article_date` (ISO), when it is known."""
    found = _relative_dates(text, lang, article_date)
    notes = tuple(f"{f.text} -> {f.value} ({f.rule})" for f in found)
    for f in sorted(found, key=lambda f: f.start, reverse=True):
        day = _format(date.fromisoformat(f.value), lang)
        # "mardi 14 mai 2019" reads as one date; "hier (14 mai 2019)" keeps the word's sense.
        added = f" {day}" if f.rule == _WEEKDAY_RULE else f" ({day})"
        text = text[: f.start] + f.text + added + text[f.end :]
    return Standalone(text, notes)


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


def weekday_dates(text: str, lang: str, article_date: str) -> list[Found]:
    """Weekdays and 'hier'/'yesterday'/'today' in `text` as dates, with the rule that gave each."""
    return sorted(_relative_dates(text, lang, article_date), key=lambda f: f.start)


_LATTER = {
    "fr": re.compile(r"\b(?:ce dernier|cette dernière)\b", re.IGNORECASE),
    "en": re.compile(r"\bthe latter\b", re.IGNORECASE),
}
_SUBJECT_PRONOUN = {
    "fr": re.compile(r"(?:^|(?<=, )|(?<=\bqu['’])|(?<=\bque ))(?:il|elle)\b(?!-)", re.IGNORECASE),
    "en": re.compile(r"(?:^|(?<=, )|(?<=\bthat ))(?:he|she)\b", re.IGNORECASE),
}
_OPENING_PRONOUN = {
    "fr": re.compile(r"^(?:Il|Elle)\b(?!-)"),
    "en": re.compile(r"^(?:He|She)\b"),
}


def resolve_pronouns(
    text: str,
    lang: str,
    people: list[tuple[int, str]],
    speakers: tuple[str, ...] = (),
    content_start: int = 0,
    previous_people: tuple[str, ...] = (),
) -> Standalone:
    """Pronouns replaced by names where the antecedent is clear (see the module docstring).

    `people` are (offset, full name) of the persons named in `text`, in order; `speakers`
    the reporting frame's speakers, whose content starts at `content_start`;
    `previous_people` the persons the previous sentence names."""
    if lang not in _LATTER:
        return Standalone(text)
    edits: list[tuple[int, int, str, str]] = []
    for match in _LATTER[lang].finditer(text):
        before = [name for offset, name in people if offset < match.start()]
        if before:
            edits.append((match.start(), match.end(), before[-1], "the last person named"))
    if len(speakers) == 1:
        for match in _SUBJECT_PRONOUN[lang].finditer(text, content_start):
            if match.start() >= content_start:
                edits.append((match.start(), match.end(), speakers[0], "the reported speaker"))
                break  # the first one; a later "il" may well be someone else
    opening = _OPENING_PRONOUN[lang].match(text)
    if opening and len(set(previous_people)) == 1 and not any(s == 0 for s, *_ in edits):
        edits.append((0, opening.end(), previous_people[0], "the one person named before"))
    notes = []
    for start, end, name, rule in sorted(edits, reverse=True):
        notes.append(f"{text[start:end]} -> {name} (pronoun: {rule})")
        text = text[:start] + name + text[end:]
    return Standalone(text, tuple(reversed(notes)))
