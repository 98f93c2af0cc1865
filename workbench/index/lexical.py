"""Provides lexical BM25 indexes (bm25s): words of one language, or cross-language bridge tokens."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Sequence
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


def _words(text: str, lang: str) -> list[str]:
    return tokenize(text)


def _bridge(text: str, lang: str) -> list[str]:
    from workbench.index.bridge import bridge_tokens

    return bridge_tokens(text, lang)


# Analyzer name -> function(text, lang) -> tokens.
ANALYZERS: dict[str, Callable[[str, str], list[str]]] = {"words": _words, "bridge": _bridge}


class LexicalIndex:
    """A BM25 index whose rows are passage ids, saved as explicit arrays and JSON."""

    def __init__(self, retriever, ids: np.ndarray, analyzer: str = "words") -> None:
        self.retriever = retriever
        self.ids = ids
        self.analyzer = analyzer
        self.analyze = ANALYZERS[analyzer]

    @classmethod
    def build(
        cls,
        ids: np.ndarray,
        texts: Sequence[str],
        langs: Sequence[str] | None = None,
        analyzer: str = "words",
    ) -> LexicalIndex:
        import bm25s

        analyze = ANALYZERS[analyzer]
        langs = langs if langs is not None else [""] * len(texts)
        retriever = bm25s.BM25()
        # bm25s cannot index an empty corpus or an all-empty one; a sentinel token keeps
        # rows aligned with passage ids even for passages made only of stop words.
        corpus = [analyze(t, lang) or ["\x00"] for t, lang in zip(texts, langs, strict=True)]
        retriever.index(corpus or [["\x00"]], show_progress=False)
        return cls(retriever, np.asarray(ids, dtype=np.int64), analyzer)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.retriever.save(str(folder), show_progress=False)
        np.save(folder / "ids.npy", self.ids)
        (folder / "analyzer.json").write_text(json.dumps({"analyzer": self.analyzer}))

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        import bm25s

        retriever = bm25s.BM25.load(str(folder), show_progress=False)
        analyzer = json.loads((folder / "analyzer.json").read_text())["analyzer"]
        return cls(retriever, np.load(folder / "ids.npy"), analyzer)

    def scores(self, query: str, lang: str = "") -> np.ndarray:
        """BM25 score of every row (aligned with `self.ids`) for one query."""
        if not len(self.ids):
            return np.zeros(0, dtype=np.float32)
        tokens = [t for t in self.analyze(query, lang) if t in self.retriever.vocab_dict]
        if not tokens:
            return np.zeros(len(self.ids), dtype=np.float32)
        return np.asarray(self.retriever.get_scores(tokens), dtype=np.float32)[: len(self.ids)]
