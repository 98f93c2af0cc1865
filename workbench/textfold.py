"""Provides `fold`: text without case or accents, so that searches find 'réunion' by 'REUNION'."""

from __future__ import annotations

import functools
import unicodedata

# Letters that are not a base letter plus a mark, so that NFKD keeps them whole, but that
# people type without their stroke or as two letters ('oeuvre' for 'œuvre').
_LETTERS = {"œ": "oe", "æ": "ae", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i"}
# ASCII characters that fold to themselves: everything but the capitals.
_KEPT = frozenset(chr(code) for code in range(128) if not chr(code).isupper())


def fold(text: str) -> str:
    """`text` for comparing, not showing: case folded ('ß' -> 'ss'), compatibility forms
    spelled out ('ﬁ' -> 'fi'), accents and other combining marks dropped ('É' -> 'e'), and a
    few letters with no decomposition spelled as typed on a plain keyboard ('œ' -> 'oe').

    Character by character (`fold_char`), so a claim and a search term fold alike whatever
    surrounds them."""
    if text.isascii():
        return text.lower()  # the same answer, many times faster
    # A search folds every claim: one replace per distinct character that changes is about
    # twice as fast as normalizing the whole text and filtering out its marks.
    for char in set(text) - _KEPT:
        text = text.replace(char, fold_char(char))
    return text


@functools.cache
def fold_char(char: str) -> str:
    """One character folded (see `fold`): compatibility caseless form (NFKD, casefold, NFKD
    again, as Unicode's compatibility caseless matching does), marks dropped, `_LETTERS`
    spelled out. What it gives folds to itself, so `fold` may replace in any order."""
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", char).casefold())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return "".join(_LETTERS.get(c, c) for c in folded)
