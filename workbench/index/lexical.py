"""Provides the lexical index: BM25 (bm25s) over accent-folded French and English tokens."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)
# Elided articles and pronouns ("l'enquête", "qu'il") carry no content: keep the word after.
_ELISION = re.compile(r"^(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu)['’]")


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_FRENCH

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


class LexicalIndex:
    """A BM25 index whose rows are passage ids, saved as explicit arrays and JSON."""

    def __init__(self, retriever, ids: np.ndarray) -> None:
        self.retriever = retriever
        self.ids = ids

    @classmethod
    def build(cls, ids: np.ndarray, texts: Sequence[str]) -> LexicalIndex:
        import bm25s

        retriever = bm25s.BM25()
        # bm25s cannot index an empty corpus or an all-empty one; a sentinel token keeps
        # rows aligned with passage ids even for passages made only of stop words.
        corpus = [tokenize(t) or ["\x00"] for t in texts] or [["\x00"]]
        retriever.index(corpus, show_progress=False)
        return cls(retriever, np.asarray(ids, dtype=np.int64))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.retriever.save(str(folder), show_progress=False)
        np.save(folder / "ids.npy", self.ids)

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        import bm25s

        retriever = bm25s.BM25.load(str(folder), show_progress=False)
        return cls(retriever, np.load(folder / "ids.npy"))

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every row (aligned with `self.ids`) for one query."""
        if not len(self.ids):
            return np.zeros(0, dtype=np.float32)
        tokens = [t for t in tokenize(query) if t in self.retriever.vocab_dict]
        if not tokens:
            return np.zeros(len(self.ids), dtype=np.float32)
        return np.asarray(self.retriever.get_scores(tokens), dtype=np.float32)[: len(self.ids)]
