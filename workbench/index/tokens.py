"""Provides the BM25 indexes' word tokens: lower-case, accent-folded, without stop words."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)
# Elided articles and pronouns ("l'enquête", "qu'il") carry no content: keep the word after.
_ELISION = re.compile(r"^(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu)['’]")


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    # bm25s's lists, read from their module alone: `from bm25s.stopwords import ...` runs
    # the package's __init__, which loads numba, llvmlite and scipy (0.3-0.4 s), and the
    # review UI needs these words before its first screen (highlighting shared terms).
    import importlib.util

    spec = importlib.util.find_spec("bm25s")
    location = spec.submodule_search_locations if spec is not None else None
    module_spec = (
        importlib.util.spec_from_file_location(
            "_workbench_bm25s_stopwords", Path(next(iter(location))) / "stopwords.py"
        )
        if location
        else None
    )
    if module_spec is None or module_spec.loader is None:
        from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_FRENCH  # the ordinary way
    else:
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
        STOPWORDS_EN, STOPWORDS_FRENCH = module.STOPWORDS_EN, module.STOPWORDS_FRENCH
    return frozenset(_fold(w) for w in (*STOPWORDS_EN, *STOPWORDS_FRENCH))


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in text if not unicodedata.combining(c))


def tokenize(text: str) -> list[str]:
    """Lower-case, accent-folded word tokens without French/English stop words."""
    stop = _stopwords()
    tokens = []
    for match in _WORD.finditer(text):
        word = _ELISION.sub("", _fold(match.group()))
        word = word.replace("’", "'")
        if word and word not in stop:
            tokens.append(word)
    return tokens
