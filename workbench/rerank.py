"""Provides the learned re-ranker: cheap features of each fused candidate -> a better order.

The fusion's top candidates are re-scored by a logistic regression over features that cost
nothing to compute at query time: every retriever's raw score and rank for the pair (the
fusion's signals), the gap to that retriever's best candidate, the fused rank, and the
overlap of numbers, capitalised names and content words between claim and passage. It ships
as plain arrays (`workbench/model/reranker.npz`, read with `allow_pickle=False`) and a JSON
description, trained on train splits only by `bench/train_reranker.py`.

It was trained on same-language pairs (English tweets -> English fact-checks, French posts ->
French claims), so it only reorders candidates in the claim's language: a cross-language
candidate keeps the place the fusion gave it, and the same-language ones are re-ordered
among the remaining places. With other retrievers than the ones it was trained with (another
model, a test's hashing embedder) it does not apply and the fusion's order stands.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from workbench.errors import WorkbenchError
from workbench.models import Hit

MODEL_DIR = Path(__file__).parent / "model"
MODEL_NAME = "reranker"
ABSENT_RANK = 101  # a retriever that did not return the pair ranks it after its pool

_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_CAPITALISED = re.compile(r"\b[A-ZÀ-Ý][\w'’-]+")
_WORD = re.compile(r"[^\W_]+")
_STOPWORDS = (
    "the a an of to in and or is are was were be for on at by with that this it as from has "
    "have had not no le la les un une des du de et ou est sont a ont pour dans sur par avec "
    "que qui ce cette il elle en au aux pas plus"
)
_STOP = frozenset(_STOPWORDS.split(" "))


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if len(w) > 2 and w not in _STOP}


def feature_names(sources: Sequence[str]) -> list[str]:
    names = ["fused_rr", "fused_top5", "fused_score"]
    for source in sources:
        names += [f"{source}:score", f"{source}:gap", f"{source}:rr", f"{source}:logrank"]
    return [*names, "shared_numbers", "missing_numbers", "shared_names", "query_cover", "doc_cover"]


def candidate_features(
    query: str, hits: Sequence[Hit], texts: Mapping[int, str], sources: Sequence[str]
) -> np.ndarray:
    """One row of `feature_names(sources)` per hit, in the hits' (fused) order."""
    tops = {s: max((h.signals[s] for h in hits if s in h.signals), default=0.0) for s in sources}
    query_numbers = set(_NUMBER.findall(query))
    query_names = set(_CAPITALISED.findall(query))
    query_words = _words(query)
    rows = []
    for position, hit in enumerate(hits):
        row = [1.0 / (position + 1), float(position < 5), hit.score]
        for source in sources:
            score = hit.signals.get(source)
            rank = hit.signals.get(f"{source}_rank", ABSENT_RANK)
            present = score is not None
            row += [
                float(score) if present else 0.0,
                float(score) - tops[source] if present else -1.0,
                1.0 / float(rank),
                math.log1p(float(rank)),
            ]
        text = texts.get(hit.passage_id, "")
        numbers, words = set(_NUMBER.findall(text)), _words(text)
        row += [
            len(query_numbers & numbers),
            float(bool(query_numbers) and not (query_numbers & numbers)),
            len(query_names & set(_CAPITALISED.findall(text))),
            len(query_words & words) / (len(query_words) + 1),
            len(query_words & words) / (len(words) + 1),
        ]
        rows.append(row)
    return np.array(rows, dtype=np.float64).reshape(len(hits), len(feature_names(sources)))


@dataclass(frozen=True)
class Model:
    """A logistic regression over standardised candidate features, for one language."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float

    def scores(self, features: np.ndarray) -> np.ndarray:
        z = (features - self.mean) / self.scale
        return 1.0 / (1.0 + np.exp(-(z @ self.weights + self.bias)))


@dataclass(frozen=True)
class Reranker:
    """One model per claim language (English tweets and French posts differ: one model for
    both measured worse on each), over the signals of the retrievers in `sources`."""

    sources: tuple[str, ...]
    models: dict[str, Model]
    pool: int
    meta: dict[str, Any]

    @property
    def languages(self) -> frozenset[str]:
        return frozenset(self.models)

    def applies(self, sources: Sequence[str]) -> bool:
        """Only with exactly the retrievers it was trained on (their signals are its inputs)."""
        return set(sources) == set(self.sources)

    def rerank(
        self,
        query: str,
        query_lang: str,
        hits: Sequence[Hit],
        texts: Mapping[int, str],
        passage_langs: Mapping[int, str],
        k: int,
    ) -> list[Hit]:
        """The top `k` of `hits` with same-language candidates re-ordered (see module doc)."""
        model = self.models.get(query_lang)
        if model is None:
            return list(hits[:k])
        same = [i for i, h in enumerate(hits) if passage_langs.get(h.passage_id) == query_lang]
        if len(same) < 2:
            return list(hits[:k])
        chosen = [hits[i] for i in same]
        probs = model.scores(candidate_features(query, chosen, texts, self.sources))
        order = sorted(range(len(chosen)), key=lambda i: -probs[i])
        reordered = list(hits)
        for slot, index in zip(same, order, strict=True):
            hit = chosen[index]
            # The slot keeps its score, so scores still decrease down the list; the
            # passage's own fused score and the re-ranker's probability go to the signals.
            signals = {**hit.signals, "fused": hit.score, "rerank": round(float(probs[index]), 6)}
            reordered[slot] = replace(hit, score=hits[slot].score, signals=signals)
        return reordered[:k]


def save_reranker(reranker: Reranker, directory: Path = MODEL_DIR) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for lang, model in reranker.models.items():
        arrays[f"{lang}.mean"] = model.mean.astype(np.float64)
        arrays[f"{lang}.scale"] = model.scale.astype(np.float64)
        arrays[f"{lang}.weights"] = model.weights.astype(np.float64)
        arrays[f"{lang}.bias"] = np.array([model.bias], dtype=np.float64)
    np.savez(directory / f"{MODEL_NAME}.npz", **arrays)
    meta = {
        **reranker.meta,
        "sources": list(reranker.sources),
        "languages": sorted(reranker.models),
        "pool": reranker.pool,
        "features": feature_names(reranker.sources),
    }
    (directory / f"{MODEL_NAME}.json").write_text(
        json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def load_reranker(directory: Path = MODEL_DIR) -> Reranker:
    """Read the shipped re-ranker; a missing or damaged file is a clear error."""
    try:
        meta = json.loads((directory / f"{MODEL_NAME}.json").read_text(encoding="utf-8"))
        with np.load(directory / f"{MODEL_NAME}.npz", allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
        sources = tuple(meta["sources"])
        models = {
            lang: Model(
                arrays[f"{lang}.mean"],
                arrays[f"{lang}.scale"],
                arrays[f"{lang}.weights"],
                float(arrays[f"{lang}.bias"][0]),
            )
            for lang in meta["languages"]
        }
    except (OSError, ValueError, KeyError) as exc:
        raise WorkbenchError(f"cannot read the re-ranker in {directory}: {exc}") from exc
    if meta.get("features") != feature_names(sources):
        raise WorkbenchError(f"{directory} holds a re-ranker for other features; retrain it")
    return Reranker(sources, models, int(meta["pool"]), meta)
