"""Provides the terms a claim and an evidence passage share, and the passage with them marked."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from rich.text import Text

from workbench.index.bridge import bridge_tokens
from workbench.index.tokens import tokenize

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)
# Bridge tokens spanning several words: dates ("14 May"), numbers ("1 550"), places
# ("United States"); three words cover "le 3 mai" and "1er juin 2019".
_MAX_WINDOW = 3


def terms(text: str, lang: str) -> frozenset[str]:
    """Content-word tokens and bridge tokens (names, places, dates, numbers) of a text."""
    return frozenset(tokenize(text)) | frozenset(bridge_tokens(text, lang))


def shared_spans(text: str, lang: str, wanted: frozenset[str]) -> list[tuple[int, int]]:
    """Character spans of `text` whose words (or short word runs) carry a token in `wanted`."""
    words = list(_WORD.finditer(text))
    single = [_word_terms(m.group(), lang) for m in words]
    marked = [bool(tokens & wanted) for tokens in single]
    # A run's own tokens: those none of its words and none of its shorter runs make, so
    # that "14 May" is marked for d05-14 but "Sochi on 14 May" is not marked as a whole.
    runs: dict[tuple[int, int], frozenset[str]] = {}
    for size in range(2, _MAX_WINDOW + 1):
        for i in range(len(words) - size + 1):
            if not (single[i] and single[i + size - 1]) or not any(
                _may_join(words[j].group()) for j in range(i, i + size)
            ):
                continue
            start, end = words[i].start(), words[i + size - 1].end()
            own = frozenset(bridge_tokens(text[start:end], lang)).difference(
                *single[i : i + size], runs.get((i, size - 1), ()), runs.get((i + 1, size - 1), ())
            )
            runs[(i, size)] = own
            if own & wanted:
                marked[i : i + size] = [True] * size
    return _merge((m.start(), m.end()) for m, hit in zip(words, marked, strict=True) if hit)


@lru_cache(maxsize=65536)
def _word_terms(word: str, lang: str) -> frozenset[str]:
    return terms(word, lang)


def _may_join(word: str) -> bool:
    # Runs that make tokens of their own hold a number or a name (dates, "1 550",
    # "United States"); skipping the others keeps a long passage to a few milliseconds.
    return word[0].isupper() or any(c.isdigit() for c in word)


def _merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in spans:
        if out and start <= out[-1][1] + 1:
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def marked(text: str, spans: Iterable[tuple[int, int]], style: str = "bold reverse") -> Text:
    """`text` as Rich text with each span styled."""
    out = Text(text)
    for start, end in spans:
        out.stylize(style, start, end)
    return out
