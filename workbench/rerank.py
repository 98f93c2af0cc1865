"""Provides the learned re-ranker: cheap features of each fused candidate -> a better order.

The candidates are the fusion's top `top_fused` plus every retriever's top `top_each` (a
passage one retriever ranks high but the others miss still gets judged). Each is re-scored
by a linear model over features that cost little at query time: every retriever's raw score
and rank for the pair (the fusion's signals), the gap to that retriever's best candidate, the
fused rank; the overlap of numbers, capitalised names, content words, rare words (weighted by
the lexical index's document frequencies) and character 4-grams between claim and passage;
BM25 of the claim against the passage's title and its body apart; the exact cosine of each
dense model (stored vectors, no re-embedding); and the cosine after a linear query adapter
(a ridge map from claim vectors to the vectors of the claims' fact-checks, one per language).
The weights are learned with a pairwise objective (relevant minus non-relevant candidate of
one query). It ships as plain arrays (`workbench/model/reranker.npz`, read with
`allow_pickle=False`) and a JSON description, trained by `bench/train_reranker.py`: English
on CLEF 2020 train + dev (its recipe chosen on dev beforehand; test never seen), French on
the CheckThat! 2025 French posts.

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
import weakref
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from workbench.errors import WorkbenchError
from workbench.index import lexical
from workbench.models import Hit

MODEL_DIR = Path(__file__).parent / "model"
MODEL_NAME = "reranker"
ABSENT_RANK = 101  # a retriever that did not return the pair ranks it after its pool
# BM25 of the claim against a passage's title and body apart (typical field lengths, tokens).
BM25_K1, BM25_B, TITLE_LENGTH, BODY_LENGTH = 1.5, 0.75, 10.0, 20.0
GRAM = 4

_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_CAPITALISED = re.compile(r"\b[A-ZÀ-Ý][\w'’-]+")
_WORD = re.compile(r"[^\W_]+")
_SPACES = re.compile(r"\s+")
_STOPWORDS = (
    "the a an of to in and or is are was were be for on at by with that this it as from has "
    "have had not no le la les un une des du de et ou est sont a ont pour dans sur par avec "
    "que qui ce cette il elle en au aux pas plus"
)
_STOP = frozenset(_STOPWORDS.split(" "))
LEXICAL_FEATURES = [
    "idf_query_cover", "idf_doc_cover", "max_shared_idf", "gram_query_cover",
    "gram_doc_cover", "log_length_ratio", "title_bm25", "body_bm25", "title_cover",
    "body_cover",
]  # fmt: skip
ADAPTER_FEATURES = ["adapter:cos", "adapter:gap", "adapter:rr"]


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if len(w) > 2 and w not in _STOP}


@lru_cache(maxsize=200_000)
def _token(word: str) -> str:
    """`lexical.tokenize` for one word ('' for a stop word), memoised: folding every word of
    every candidate was most of the re-ranker's time."""
    token = lexical._ELISION.sub("", lexical._fold(word)).replace("’", "'")
    return "" if token in lexical._stopwords() else token


def tokenize(text: str) -> list[str]:
    """The BM25 index's tokens of `text` (equal to `lexical.tokenize`, a test checks it)."""
    return [t for t in map(_token, lexical._WORD.findall(text)) if t]


def _grams(text: str) -> set[str]:
    text = _SPACES.sub(" ", text.lower())
    return {text[i : i + GRAM] for i in range(max(0, len(text) - GRAM + 1))}


class IdfTable(dict[str, float]):
    """Token -> inverse document frequency, computed on first ask and kept: the same words
    recur in every claim's candidates, and a Python call per word was a tenth of the
    re-ranker's time (a dict hit stays in C)."""

    def __init__(self, document_frequency: Callable[[str], int], documents: int) -> None:
        super().__init__()
        self.document_frequency = document_frequency
        self.documents = documents

    def __missing__(self, token: str) -> float:
        df = self.document_frequency(token)
        value = self[token] = math.log(1.0 + (self.documents - df + 0.5) / (df + 0.5))
        return value


@dataclass(frozen=True)
class Inputs:
    """What the re-ranker reads besides texts and signals: the claim's vector from each dense
    model, the stored passage vectors, and the lexical index's document frequencies
    (`idf_table`: given to share one table across claims; made from them otherwise)."""

    query_vectors: Mapping[str, np.ndarray]
    passage_vectors: Callable[[str, Sequence[int]], np.ndarray]
    document_frequency: Callable[[str], int]
    documents: int
    idf_table: IdfTable | None = None

    def __post_init__(self) -> None:
        if self.idf_table is None:
            table = IdfTable(self.document_frequency, self.documents)
            object.__setattr__(self, "idf_table", table)

    def idf(self, token: str) -> float:
        assert self.idf_table is not None  # set by __post_init__
        return self.idf_table[token]


def feature_names(sources: Sequence[str], dense_models: Sequence[str] = ()) -> list[str]:
    names = ["fused_rr", "fused_top5", "fused_score"]
    for source in sources:
        names += [f"{source}:score", f"{source}:gap", f"{source}:rr", f"{source}:logrank"]
    names += ["shared_numbers", "missing_numbers", "shared_names", "query_cover", "doc_cover"]
    if not dense_models:  # the signal-only features (no vectors, no index statistics)
        return names
    names += LEXICAL_FEATURES
    for model in dense_models:
        names += [f"{model}:cos", f"{model}:cos_gap", f"{model}:cos_top"]
    return [*names, *ADAPTER_FEATURES]


def candidate_features(
    query: str, hits: Sequence[Hit], texts: Mapping[int, str], sources: Sequence[str]
) -> np.ndarray:
    """The signal features: one row per hit, in the hits' (fused) order."""
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


def _bm25(query: set[str], tokens: list[str], length: float, idf: Callable[[str], float]) -> float:
    counts = Counter(tokens)
    norm = BM25_K1 * (1 - BM25_B + BM25_B * len(tokens) / length)
    return sum(idf(t) * counts[t] * (BM25_K1 + 1) / (counts[t] + norm) for t in query & set(counts))


def lexical_features(
    query: str, hits: Sequence[Hit], texts: Mapping[int, str], inputs: Inputs
) -> np.ndarray:
    """Rare-word, character 4-gram and field-wise (title, body) overlaps: `LEXICAL_FEATURES`.

    A passage's indexed text is its title, a line break, then its text (when it has a title
    the text does not contain); without a line break it is all body."""
    assert inputs.idf_table is not None  # set by Inputs.__post_init__
    idf = inputs.idf_table.__getitem__
    query_tokens = tokenize(query)
    query_set = set(query_tokens)
    query_idf = sum(map(idf, query_set)) + 1e-6
    query_grams = _grams(query)
    rows = []
    for hit in hits:
        text = texts.get(hit.passage_id, "")
        title, _, body = text.partition("\n") if "\n" in text else ("", "", text)
        title_tokens, body_tokens = tokenize(title), tokenize(body)
        tokens = title_tokens + body_tokens  # no word spans the line break
        title_set, body_set = set(title_tokens), set(body_tokens)
        token_set = title_set | body_set
        shared = query_set & token_set
        shared_idf = sum(map(idf, shared))
        grams = _grams(text)
        common = len(query_grams & grams)
        rows.append(
            [
                shared_idf / query_idf,
                shared_idf / (sum(map(idf, token_set)) + 1e-6),
                max(map(idf, shared), default=0.0),
                common / (len(query_grams) + 1),
                common / (len(grams) + 1),
                math.log((len(tokens) + 1) / (len(query_tokens) + 1)),
                _bm25(query_set, title_tokens, TITLE_LENGTH, idf),
                _bm25(query_set, body_tokens, BODY_LENGTH, idf),
                len(query_set & title_set) / (len(title_set) + 1),
                len(query_set & body_set) / (len(body_set) + 1),
            ]
        )
    return np.array(rows, dtype=np.float64).reshape(len(hits), len(LEXICAL_FEATURES))


def cosine_features(query_vector: np.ndarray, passage_vectors: np.ndarray) -> np.ndarray:
    """Exact cosine of each candidate (normalised vectors), its gap to the best, best or not."""
    scores = passage_vectors.astype(np.float64) @ query_vector.astype(np.float64)
    if not len(scores):
        return np.zeros((0, 3))
    return np.c_[scores, scores - scores.max(), (scores >= scores.max()).astype(np.float64)]


def adapter_features(
    query_vector: np.ndarray, passage_vectors: np.ndarray, adapter: np.ndarray
) -> np.ndarray:
    """Cosine after the query adapter, its gap to the best, its reciprocal rank."""
    adapted = query_vector.astype(np.float64) @ adapter.astype(np.float64)
    adapted /= np.linalg.norm(adapted) + 1e-9
    scores = passage_vectors.astype(np.float64) @ adapted
    if not len(scores):
        return np.zeros((0, 3))
    ranks = np.argsort(np.argsort(-scores, kind="stable"), kind="stable")
    return np.c_[scores, scores - scores.max(), 1.0 / (1.0 + ranks)]


def static_features(
    query: str,
    hits: Sequence[Hit],
    texts: Mapping[int, str],
    sources: Sequence[str],
    dense_models: Sequence[str],
    inputs: Inputs,
    vectors: Mapping[str, np.ndarray],
    reads: Sequence[str] | None = None,
) -> np.ndarray:
    """Every feature but the adapter's (`vectors`: each dense model's candidate vectors).

    `reads`: the dense models whose cosines a language's model reads (None: all); the others'
    cosine features are zeros, in training as in search, so that their claim vector is
    never needed (English MiniLM for French claims: see `Model.reads`)."""
    parts = [
        candidate_features(query, hits, texts, sources),
        lexical_features(query, hits, texts, inputs),
    ]
    parts += [
        cosine_features(inputs.query_vectors[m], vectors[m])
        if reads is None or m in reads
        else np.zeros((len(hits), 3))
        for m in dense_models
    ]
    return np.hstack(parts)


def stored_vectors(index: Any, ids: Sequence[int]) -> np.ndarray:
    """The vectors a FAISS index holds for some passage ids: an exact index's directly, an
    inverted-file index's through a hashed direct map added the first time, and IVF-PQ's (a
    plain IndexIDMap around its exact re-ranker) through the rows of its id map, from the
    re-ranker's exact copy."""
    import faiss

    keys = np.asarray(list(ids), dtype=np.int64)
    if not len(keys):
        return np.zeros((0, index.d), dtype=np.float32)
    if type(index) is faiss.IndexIDMap:
        return _reconstruct_through_id_map(index, keys)
    try:
        return index.reconstruct_batch(keys)
    except RuntimeError:
        if hasattr(index, "id_map"):  # an IndexIDMap2 without one of the ids
            raise
        index.set_direct_map_type(faiss.DirectMap.Hashtable)
        return index.reconstruct_batch(keys)


# Per IndexIDMap: its ids in ascending order and their rows (None when the map is already in
# order, as a workspace's passage ids are). FAISS objects take no new attributes; an index
# keeps its entry while loaded. Sorted ids cost 8 bytes per vector (16 out of order), less
# than an IndexIDMap2's hash map, and only once the re-ranker asks.
_ID_MAP_ROWS: weakref.WeakKeyDictionary[Any, tuple[np.ndarray, np.ndarray | None]] = (
    weakref.WeakKeyDictionary()
)


def _reconstruct_through_id_map(index: Any, keys: np.ndarray) -> np.ndarray:
    import faiss

    lookup = _ID_MAP_ROWS.get(index)
    if lookup is None:
        id_map = faiss.vector_to_array(index.id_map)
        if np.all(id_map[1:] > id_map[:-1]):
            lookup = (id_map, None)
        else:
            order = np.argsort(id_map, kind="stable")
            lookup = (id_map[order], order)
        _ID_MAP_ROWS[index] = lookup
    sorted_ids, order = lookup
    at = np.minimum(np.searchsorted(sorted_ids, keys), max(len(sorted_ids) - 1, 0))
    found = sorted_ids[at] == keys if len(sorted_ids) else np.zeros(len(keys), dtype=bool)
    if not found.all():
        raise RuntimeError(f"id {int(keys[~found][0])} is not in the index")
    rows = at if order is None else order[at]
    return faiss.downcast_index(index.index).reconstruct_batch(rows)


def index_inputs(
    query_vectors: Mapping[str, np.ndarray], dense: Mapping[str, Any], lexical: Any
) -> Inputs:
    """`Inputs` read from a workspace's loaded indexes: FAISS per dense model (its stored
    vectors) and the word BM25 index (its document frequencies)."""
    retriever = lexical.retriever
    vocab, indptr = retriever.vocab_dict, retriever.scores["indptr"]

    def document_frequency(token: str) -> int:
        column = vocab.get(token)
        if column is None or column + 1 >= len(indptr):
            return 0
        return int(indptr[column + 1] - indptr[column])

    def passage_vectors(model: str, ids: Sequence[int]) -> np.ndarray:
        return stored_vectors(dense[model], ids)

    documents = int(retriever.scores.get("num_docs", len(lexical.ids)))
    table = _IDF_TABLES.get(lexical)
    if table is None:
        table = _IDF_TABLES[lexical] = IdfTable(document_frequency, documents)
    return Inputs(query_vectors, passage_vectors, document_frequency, documents, table)


# One idf table per loaded word index, shared by the claims it serves (see `IdfTable`); a
# rebuilt index is a new object with a table of its own.
_IDF_TABLES: weakref.WeakKeyDictionary[Any, IdfTable] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class Model:
    """A linear scorer over standardised candidate features, with the query adapter of its
    language (`adapter` maps `adapter_model`'s claim vectors; square matrix)."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float
    adapter: np.ndarray
    adapter_model: str
    # The dense models whose claim vectors this language's model reads (None: every one of
    # the re-ranker's). French leaves English MiniLM out: a French claim's MiniLM vector
    # means little, and not encoding it saves a third of a French claim's match time.
    reads: tuple[str, ...] | None = None

    def reads_model(self, dense_model: str) -> bool:
        """Whether this model reads `dense_model`'s cosines (see `reads`)."""
        return self.reads is None or dense_model in self.reads

    def scores(self, features: np.ndarray) -> np.ndarray:
        z = (features - self.mean) / self.scale
        return 1.0 / (1.0 + np.exp(-(z @ self.weights + self.bias)))


@dataclass(frozen=True)
class Reranker:
    """One model per claim language (English tweets and French posts differ: one model for
    both measured worse on each), over the signals of the retrievers in `sources` and the
    vectors of `dense_models`."""

    sources: tuple[str, ...]
    dense_models: tuple[str, ...]
    models: dict[str, Model]
    pool: int
    top_fused: int
    top_each: int
    meta: dict[str, Any]

    @property
    def languages(self) -> frozenset[str]:
        return frozenset(self.models)

    def applies(self, sources: Sequence[str]) -> bool:
        """Only with exactly the retrievers it was trained on (their signals are its inputs)."""
        return set(sources) == set(self.sources) and set(self.dense_models) <= set(sources)

    def reads(self, lang: str, dense_model: str) -> bool:
        """Whether re-ranking a claim in `lang` reads `dense_model`'s claim vector."""
        model = self.models.get(lang)
        if model is None:
            return False
        return dense_model == model.adapter_model or (
            dense_model in self.dense_models and model.reads_model(dense_model)
        )

    def candidates(self, hits: Sequence[Hit]) -> list[Hit]:
        """The fused top `top_fused` and every retriever's top `top_each`, in fused order."""
        # Keys formatted once, not per hit and source: a match reads some 500 hits.
        rank_keys = [f"{s}_rank" for s in self.sources]
        top_each = self.top_each
        return [
            hit
            for position, hit in enumerate(hits)
            if position < self.top_fused
            or any(hit.signals.get(key, ABSENT_RANK) <= top_each for key in rank_keys)
        ]

    def features(
        self,
        query: str,
        model: Model,
        hits: Sequence[Hit],
        texts: Mapping[int, str],
        inputs: Inputs,
    ) -> np.ndarray:
        ids = [h.passage_id for h in hits]
        read = [m for m in self.dense_models if model.reads_model(m)]
        vectors = {m: inputs.passage_vectors(m, ids) for m in {*read, model.adapter_model}}
        static = static_features(
            query, hits, texts, self.sources, self.dense_models, inputs, vectors, model.reads
        )
        adapter = model.adapter_model
        query_vector = inputs.query_vectors[adapter]
        adapted = adapter_features(query_vector, vectors[adapter], model.adapter)
        return np.hstack([static, adapted])

    def rerank(
        self,
        query: str,
        query_lang: str,
        hits: Sequence[Hit],
        texts: Mapping[int, str],
        passage_langs: Mapping[int, str],
        k: int,
        inputs: Inputs,
    ) -> list[Hit]:
        """The top `k` of the candidates (see `candidates`) with same-language ones
        re-ordered (see module doc); `hits` is the fused list, deep enough to hold every
        retriever's top `top_each`."""
        model = self.models.get(query_lang)
        if model is None:
            return list(hits[:k])
        pool = self.candidates(hits)
        same = [i for i, h in enumerate(pool) if passage_langs.get(h.passage_id) == query_lang]
        if len(same) < 2:
            return list(hits[:k])
        chosen = [pool[i] for i in same]
        probs = model.scores(self.features(query, model, chosen, texts, inputs))
        order = sorted(range(len(chosen)), key=lambda i: -probs[i])
        reordered = list(pool)
        for slot, index in zip(same, order, strict=True):
            hit = chosen[index]
            # The slot keeps its score, so scores still decrease down the list; the
            # passage's own fused score and the re-ranker's probability go to the signals.
            signals = {**hit.signals, "fused": hit.score, "rerank": round(float(probs[index]), 6)}
            reordered[slot] = replace(hit, score=pool[slot].score, signals=signals)
        # Fused hits outside the candidate set keep their fused place between the slots, so
        # the list stays as long as asked and scores still decrease.
        in_pool = {p.passage_id for p in pool}
        outside = [h for h in hits if h.passage_id not in in_pool]
        return sorted(reordered + outside, key=lambda h: -h.score)[:k]


def save_reranker(reranker: Reranker, directory: Path = MODEL_DIR) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for lang, model in reranker.models.items():
        arrays[f"{lang}.mean"] = model.mean.astype(np.float64)
        arrays[f"{lang}.scale"] = model.scale.astype(np.float64)
        arrays[f"{lang}.weights"] = model.weights.astype(np.float64)
        arrays[f"{lang}.bias"] = np.array([model.bias], dtype=np.float64)
        arrays[f"{lang}.adapter"] = model.adapter.astype(np.float32)
    np.savez_compressed(directory / f"{MODEL_NAME}.npz", **arrays)
    meta = {
        **reranker.meta,
        "sources": list(reranker.sources),
        "dense_models": list(reranker.dense_models),
        "languages": sorted(reranker.models),
        "adapters": {lang: m.adapter_model for lang, m in sorted(reranker.models.items())},
        "reads": {
            lang: list(m.reads)
            for lang, m in sorted(reranker.models.items())
            if m.reads is not None
        },
        "pool": reranker.pool,
        "top_fused": reranker.top_fused,
        "top_each": reranker.top_each,
        "features": feature_names(reranker.sources, reranker.dense_models),
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
        dense_models = tuple(meta["dense_models"])
        models = {
            lang: Model(
                arrays[f"{lang}.mean"],
                arrays[f"{lang}.scale"],
                arrays[f"{lang}.weights"],
                float(arrays[f"{lang}.bias"][0]),
                arrays[f"{lang}.adapter"],
                meta["adapters"][lang],
                tuple(meta["reads"][lang]) if lang in meta.get("reads", {}) else None,
            )
            for lang in meta["languages"]
        }
        pool, top_fused, top_each = int(meta["pool"]), int(meta["top_fused"]), int(meta["top_each"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise WorkbenchError(f"cannot read the re-ranker in {directory}: {exc}") from exc
    if meta.get("features") != feature_names(sources, dense_models):
        raise WorkbenchError(f"{directory} holds a re-ranker for other features; retrain it")
    return Reranker(sources, dense_models, models, pool, top_fused, top_each, meta)
