"""Provides lexical BM25 indexes (bm25s): words of one language, or cross-language bridge tokens."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

# The tokenizer lives apart (no numpy, no bm25s) for the review UI's first screen; the names
# stay importable from here.
from workbench.index.tokens import _ELISION, _WORD, _fold, _stopwords, tokenize  # noqa: F401


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
