"""Provides a first guess at who makes a claim, with short names expanded from the article.

"M. Poutine a déclaré ..." -> "Vladimir Poutine" when the article names "Vladimir Poutine"
earlier; "..., a indiqué M. Poutine" and "Putin said ..." likewise. Extraction stores the
claimant that `attribution.py` parses; this guess remains the fallback for sentences without a
reporting frame ("M. Poutine a félicité ...") and for claims stored before that field existed.
"""

from __future__ import annotations

import re

_NAME = r"((?:[A-ZÀ-Ý][\w'’-]*\.?\s+){0,3}[A-ZÀ-Ý][\w'’-]+)"
_SAYING = (
    r"(?:a (?:par ailleurs |aussi |également |encore )?(?:déclaré|indiqué|affirmé|expliqué|"
    r"souligné|assuré|estimé|annoncé|félicité|dit|ajouté|précisé)|said|says|stated|claimed|"
    r"told|added|announced)"
)
_BEFORE = re.compile(_NAME + r",?\s+" + _SAYING)
# "Youri Ouchakov, un assistant du président russe, a indiqué": a name, an apposition, a verb.
_APPOSED = re.compile(_NAME + r",\s+[^,]{3,80},\s+" + _SAYING)
_AFTER = re.compile(_SAYING + r"\s+" + _NAME)
_ACCORDING = re.compile(r"(?:selon|d'après|according to)\s+" + _NAME, re.IGNORECASE)
_HONORIFIC = re.compile(
    r"^(?:M\.|MM\.|Mme|Mlle|Mr\.?|Mrs\.?|Ms\.?|Dr\.?|Pr\.?|President|Président|Secretary)\s+"
)
# Words that start a sentence or a title, never a first name.
_NOT_FIRST_NAMES = frozenset(
    {
        *("Le", "La", "Les", "L", "Un", "Une", "Des", "The", "A", "An", "M", "Mme", "Mr"),
        *("Mrs", "Ms", "Dr", "Président", "President", "Secrétaire", "Secretary", "Ministre"),
        *("Minister", "Avant", "Après", "Before", "After", "Selon"),
    }
)


def expand_name(name: str, article: str) -> str:
    """'Poutine' -> 'Vladimir Poutine' when the article writes the full name somewhere."""
    if " " in name or not article:
        return name
    for match in re.finditer(r"\b([A-ZÀ-Ý][a-zà-ÿ]+(?:-[A-ZÀ-Ý][a-zà-ÿ]+)?)\s+" + re.escape(name)
                             + r"\b", article):  # fmt: skip
        if match.group(1) not in _NOT_FIRST_NAMES:
            return f"{match.group(1)} {name}"
    return name


def guess_claimant(claim: str, article: str = "") -> str:
    """The person a claim is attributed to, or '' when the claim does not say."""
    for pattern in (_BEFORE, _APPOSED, _AFTER, _ACCORDING):
        found = pattern.search(claim)
        if found:
            name = _HONORIFIC.sub("", found.group(1)).strip()
            # "Avant une réunion ..., M. Poutine": keep the name, not the sentence opening.
            words = [w for w in name.split() if w not in _NOT_FIRST_NAMES]
            if words:
                return expand_name(" ".join(words), article)
    return ""
