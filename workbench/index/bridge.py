"""Provides language-neutral tokens (names, places, dates, numbers) shared by French and English.

Word-level BM25 cannot compare a French claim with an English passage, and a multilingual
model alone blurs the facts that decide a match: who, where, which day. These tokens put both
languages into one vocabulary: "Poutine" and "Putin" both become `putin`, "le 3 mai" and
"May 3" both become `d05-03`, "juin" and "June" both `m06`, "russe" and "Russian" both `@ru`.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_MONTHS = {
    # French
    "janvier": 1, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6, "juillet": 7,
    "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11, "decembre": 12,
    # English (May is handled below: it is also a modal verb)
    "january": 1, "february": 2, "march": 3, "april": 4, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sept": 9, "sep": 9,
    "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_WEEKDAYS = {
    "lundi": 1, "mardi": 2, "mercredi": 3, "jeudi": 4, "vendredi": 5, "samedi": 6,
    "dimanche": 7, "monday": 1, "tuesday": 2, "wednesday": 3, "thursday": 4, "friday": 5,
    "saturday": 6, "sunday": 7,
}  # fmt: skip
# Countries, their adjectives and a few bodies, French and English, to one code each.
_PLACES = {
    "@ru": "russie, russe, russes, russia, russian, russians",
    "@us": "etats-unis, etats unis, americain, americaine, americains, americaines, "
    "united states, u.s, u.s.a, usa, american, americans",
    "@jp": "japon, japonais, japonaise, japan, japanese",
    "@cn": "chine, chinois, chinoise, china, chinese",
    "@ua": "ukraine, ukrainien, ukrainienne, ukrainiens, ukrainian, ukrainians",
    "@ir": "iran, iranien, iranienne, iraniens, iranian, iranians",
    "@kp": "coree du nord, north korea, nord-coreen, north korean, pyongyang",
    "@de": "allemagne, allemand, allemande, allemands, germany, german, germans",
    "@fr": "france, francais, francaise, french",
    "@gb": "royaume-uni, royaume uni, britannique, britanniques, britain, british",
    "@ve": "venezuela, venezuelien, venezuelienne, venezuelan",
    "@sy": "syrie, syrien, syrienne, syria, syrian",
    "@fi": "finlande, finlandais, finland, finnish",
    "@eu": "union europeenne, european union",
    "@nato": "otan, nato",
    "@un": "onu, nations unies, united nations",
    "@moscow": "moscou, moscow",
}
# French spellings of names transliterated from Russian (Poutine, Ouchakov, Sotchi,
# Khrouchtchev) back to the English convention; ordered, longest patterns first.
_FR_TRANSLIT = {"chtch": "shch", "tch": "ch", "ch": "sh", "ou": "u"}
_FR_TRANSLIT_RE = re.compile("|".join(sorted(_FR_TRANSLIT, key=len, reverse=True)))
_WORD = re.compile(r"[^\W_]+(?:[-.'’][^\W_]+)*\.?", re.UNICODE)
_NUMBER = re.compile(r"(?<![\w-])\d+(?:[ \u00a0\u202f.,]\d{3})*(?:[.,]\d+)?")
_DAY_MONTH = re.compile(r"\b(1er|\d{1,2})(?:st|nd|rd|th)?\s+(?:de\s+)?([^\W\d_]+)", re.UNICODE)
_MONTH_DAY = re.compile(r"\b([^\W\d_]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b", re.UNICODE)


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in text if not unicodedata.combining(c))


@lru_cache(maxsize=1)
def _place_codes() -> tuple[dict[str, str], list[tuple[tuple[str, ...], str]]]:
    """One-word names to codes, and multi-word names (as folded word tuples) to codes."""
    single: dict[str, str] = {}
    multi: list[tuple[tuple[str, ...], str]] = []
    for code, names in _PLACES.items():
        for name in (n.strip() for n in names.split(",")):
            if " " in name:
                multi.append((tuple(name.split()), code))
            else:
                single[name] = code
    return single, multi


def _stopwords() -> frozenset[str]:
    # The word index's list, folded the same way, read without bm25s's package start-up.
    from workbench.index.tokens import _stopwords as stopwords

    return stopwords()


def transliterate_fr(name: str) -> str:
    """English spelling of a French transliteration of a Russian name: 'poutine' -> 'putin'."""
    # One left-to-right pass, so "tch" -> "ch" is not then read again as "ch" -> "sh".
    out = _FR_TRANSLIT_RE.sub(lambda m: _FR_TRANSLIT[m.group()], name)
    if out.endswith("ine") and len(out) > 5:
        out = out[:-1]  # Poutine -> Putin, Raspoutine -> Rasputin
    return out


@lru_cache(maxsize=8192)
def month_number(word: str) -> int | None:
    """1-12 for a French or English month name or abbreviation ("Juin", "août", "Sept.")."""
    # Memoised: date finders ask about every word of every candidate passage, and folding
    # each one again was a tenth of an English claim's match time.
    return _month(_fold(word))


def _month(word: str) -> int | None:
    if word in ("may", "mai"):
        return 5
    return _MONTHS.get(word.rstrip("."))


def _number(raw: str) -> str:
    """'1 550' and '1,550' -> '1550'; '5,2' and '5.2' -> '5.2'."""
    raw = re.sub(r"[\s\u00a0\u202f]", "", raw)
    if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", raw):
        return raw.replace(",", "").replace(".", "")
    return raw.replace(",", ".")


def bridge_tokens(text: str, lang: str = "") -> list[str]:
    """Language-neutral tokens of `text`: names, places, months, dates, weekdays, numbers."""
    tokens: list[str] = []
    folded = _fold(text)
    single, multi = _place_codes()
    stop = _stopwords()
    # Dates first: "3 mai", "1er juin", "14 May 2019", "May 3".
    for match in _DAY_MONTH.finditer(folded):
        day, word = match.groups()
        month = _month(word)
        day_n = 1 if day == "1er" else int(day)
        if month and 1 <= day_n <= 31:
            tokens.append(f"d{month:02d}-{day_n:02d}")
    for match in _MONTH_DAY.finditer(folded):
        word, day = match.groups()
        month = _month(word)
        # "May 3" is a date, but "may 3" in running English text is rarely anything else.
        if month and 1 <= int(day) <= 31:
            tokens.append(f"d{month:02d}-{int(day):02d}")
    for match in _NUMBER.finditer(text):
        raw = match.group()
        year = re.fullmatch(r"(1[5-9]|20)\d\d", raw)
        tokens.append(f"y{raw}" if year else f"n{_number(raw)}")
    words = [(m.group(), m.start()) for m in _WORD.finditer(text)]
    folded_words = [_fold(w).rstrip(".") for w, _ in words]
    skip_until = 0
    for i, (word, _) in enumerate(words):
        if i < skip_until:
            continue  # inside a multi-word name already turned into its code
        low = folded_words[i]
        phrase_code = next(
            (
                (len(phrase), code)
                for phrase, code in multi
                if tuple(folded_words[i : i + len(phrase)]) == phrase
            ),
            None,
        )
        if phrase_code:
            tokens.append(phrase_code[1])
            skip_until = i + phrase_code[0]
            continue
        if low in single and (len(low) > 2 or word.isupper()):
            tokens.append(single[low])
            continue
        # "may" is a month only when capitalised mid-text ("in May"), not the modal verb.
        month = _MONTHS.get(low) or (5 if low == "mai" or word == "May" else None)
        if month:
            tokens.append(f"m{month:02d}")
            continue
        if low in _WEEKDAYS:
            tokens.append(f"w{_WEEKDAYS[low]}")
            continue
        if word[0].isupper() and low not in stop and len(low) > 1 and not low.isdigit():
            name = low.replace("’", "'")
            name = re.sub(r"'s$", "", name)  # Mueller's -> mueller (not the "s" after it)
            name = name.split("'")[-1]  # d'Osaka -> osaka
            if lang == "fr":
                name = transliterate_fr(name)
            if name and name not in stop:
                tokens.append(name)
        elif re.search(r"[^\W\d_]\d|\d[^\W\d_]{3,}", low):
            tokens.append(low)  # G20, F-35, COVID-19
    return tokens
