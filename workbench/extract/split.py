"""Provides the splitting of a sentence that joins several checkable statements into clauses.

"M. Ouchakov a expliqué que la réunion n'avait pas permis une avancée décisive, mais que la
discussion avait été utile, et que la partie américaine avait fait preuve d'une attitude
constructive" holds three statements a fact-checker rates separately. Two cues are used, and
only where every piece still reads as a statement (enough words, a verb):
- a repeated complementiser under one frame: ", mais que", ", et que", ", and that";
- a semicolon, or a comma + coordinator ("mais", "et", "alors que", "tandis que", "but",
  "and", "while", "whereas") followed by a new subject (a determiner, a name, a pronoun).
A coordinator followed by a verb ("..., mais partageaient également ...") shares its subject
with the left clause and is not split: its right side would not stand alone.
"""

from __future__ import annotations

import re

MIN_WORDS = 3

_REPEATED_THAT = {
    "fr": re.compile(r",?\s+(?:mais|et|ou|puis)\s+(?:aussi\s+)?(?:que\s+|qu['’])", re.IGNORECASE),
    "en": re.compile(r",?\s+(?:but|and|or)\s+(?:also\s+)?that\s+", re.IGNORECASE),
}
_COORDINATED = {
    "fr": re.compile(r"\s*;\s+|,\s+(?:mais|et|alors que|tandis que|or)\s+", re.IGNORECASE),
    "en": re.compile(r"\s*;\s+|,\s+(?:but|and|while|whereas|yet)\s+", re.IGNORECASE),
}
# How a new independent clause starts: a determiner, a pronoun or a capitalised name.
_NEW_SUBJECT = {
    "fr": re.compile(
        r"(?:le|la|les|l['’]|un|une|des|ce|cet|cette|ces|son|sa|ses|leur|leurs|il|elle|ils"
        r"|elles|on|nous|[A-ZÀ-Ý][\w'’-]+)\b",
    ),
    "en": re.compile(
        r"(?:the|a|an|this|that|these|those|his|her|its|their|he|she|it|they|we|there"
        r"|[A-Z][\w'’-]*)\b",
    ),
}
_VERB_CUE = {
    "fr": re.compile(
        r"\b(?:a|ont|est|sont|était|étaient|avait|avaient|sera|seront|serait|seraient|fut"
        r"|va|vont|peut|peuvent|doit|doivent|veut|veulent|fait|font|dit|\w{3,}(?:ait|aient"
        r"|èrent|era|eront|erait|eraient|e|ent))\b",
        re.IGNORECASE,
    ),
    "en": re.compile(
        r"\b(?:is|are|was|were|has|have|had|will|would|can|could|should|must|did|does|said"
        r"|rose|fell|grew|met|won|lost|made|took|gave|became|left|paid|built|hit|cut|spent"
        r"|sold|went|came|saw|knew|got|held|ran|began|told|\w{3,}(?:ed|es))\b",
        re.IGNORECASE,
    ),
}
_WORD = re.compile(r"\w+(?:['’-]\w+)*")


def _words(text: str) -> int:
    return len(_WORD.findall(text))


def _is_statement(text: str, lang: str) -> bool:
    return _words(text) >= MIN_WORDS and bool(_VERB_CUE[lang].search(text))


def _starts_clause(text: str, lang: str) -> bool:
    """A new subject ("the", "il", "Poutine"), or a bare noun then a verb ("inflation rose")."""
    if _NEW_SUBJECT[lang].match(text):
        return True
    words = _WORD.findall(text)[:4]
    if not words or _VERB_CUE[lang].fullmatch(words[0]):
        return False
    return any(_VERB_CUE[lang].fullmatch(w) for w in words[1:])


def _trimmed(sentence: str, start: int, end: int) -> tuple[int, int]:
    while start < end and sentence[start] in " ,;\u00a0":
        start += 1
    while end > start and sentence[end - 1] in " ,;\u00a0":
        end -= 1
    return start, end


def split_clauses(sentence: str, start: int, end: int, lang: str) -> list[tuple[int, int]]:
    """Split sentence[start:end] (a claim's content) into independent statements.

    Returns spans into `sentence`, in order; a single span (start, end) when nothing splits.
    A cut is kept only if the pieces on both sides still read as statements."""
    lang = lang if lang in _REPEATED_THAT else "en"
    cuts: list[tuple[int, int]] = []  # (end of the left piece, start of the right piece)
    content = sentence[start:end]
    for match in _REPEATED_THAT[lang].finditer(content):
        cuts.append((start + match.start(), start + match.end()))
    if not cuts:
        for match in _COORDINATED[lang].finditer(content):
            right = content[match.end() :]
            if match.group().strip() == ";" or _starts_clause(right, lang):
                cuts.append((start + match.start(), start + match.end()))
    pieces: list[tuple[int, int]] = []
    begin = start
    for left_end, right_start in cuts:
        left = _trimmed(sentence, begin, left_end)
        following = [c for c in cuts if c[0] > left_end]
        stop = following[0][0] if following else end
        right = _trimmed(sentence, right_start, stop)
        if _is_statement(sentence[left[0] : left[1]], lang) and _is_statement(
            sentence[right[0] : right[1]], lang
        ):
            pieces.append(left)
            begin = right_start
    pieces.append(_trimmed(sentence, begin, end))
    return pieces
