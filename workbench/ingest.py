"""Provides ingest: evidence files -> documents -> passages -> vectors (database) -> indexes."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from workbench import config
from workbench.chunk import split_passages
from workbench.embed import Embedder, canonical_ref
from workbench.errors import InputError
from workbench.index import store
from workbench.models import Document
from workbench.sources import iter_documents
from workbench.workspace import Workspace, index_text

# Bump when chunking changes, so that every document is re-chunked and re-embedded once.
CHUNKER_VERSION = 1
MAX_PASSAGE_CHARS = 600
# Batches (of `batch_size` passages, one transaction each) that every model encodes in one go
# before the next model takes over; a kill loses at most this many batches of embedding work.
ENCODE_GROUP_BATCHES = 4

ProgressFn = Callable[[int, int], None]


@dataclass
class IngestReport:
    """What an ingest run did, with the timings that tell where the time went."""

    documents_seen: int = 0
    documents_added: int = 0
    documents_updated: int = 0
    documents_unchanged: int = 0
    passages_added: int = 0
    passages_total: int = 0
    embed_seconds: float = 0.0
    index_seconds: float = 0.0
    total_seconds: float = 0.0
    index_types: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def content_hash(doc: Document) -> str:
    """Hash of everything that shapes a document's passages and their embeddings."""
    payload = json.dumps(
        [CHUNKER_VERSION, MAX_PASSAGE_CHARS, doc.title, doc.text, doc.lang],
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def read_documents(paths: Sequence[Path]) -> list[Document]:
    """Read and validate every source before anything is written, so bad input changes nothing."""
    seen: dict[str, str] = {}
    docs = []
    for doc in iter_documents(paths):
        if doc.id in seen:
            raise InputError(
                f"{doc.source}: document id {doc.id!r} already used at {seen[doc.id]}; "
                "ids must be unique across the files of one ingest"
            )
        seen[doc.id] = doc.source
        docs.append(doc)
    if not docs:
        raise InputError(f"no evidence documents found in {', '.join(map(str, paths))}")
    return docs


def _passage_language(doc: Document, text: str) -> str:
    if doc.lang:
        return doc.lang
    from workbench.extract.lang import detect_language

    return detect_language(text)[0]


def plan_passages(doc: Document) -> list[dict]:
    """A document's passages: offsets into its source, text, language and the text to embed."""
    passages = []
    for start, end in split_passages(doc.text, max_chars=MAX_PASSAGE_CHARS):
        text = doc.text[start:end]
        passages.append(
            {
                "start": doc.offset + start,
                "end": doc.offset + end,
                "text": text,
                "lang": _passage_language(doc, text),
                "index_text": index_text(doc.title, text),
            }
        )
    return passages


def ingest(
    workspace: Workspace,
    paths: Sequence[Path],
    embedders: Sequence[Embedder],
    *,
    batch_size: int = 256,
    approx_threshold: int | None = None,
    pq_threshold: int | None = None,
    progress: ProgressFn | None = None,
    encoder: Encoder | None = None,
) -> IngestReport:
    """Add new and changed documents from `paths`; unchanged ones are never re-embedded.

    Each batch of documents is committed with its passages and vectors in one transaction,
    so a killed run resumes where it stopped; the indexes are rebuilt from the database,
    with the index thresholds given, or else the workspace's own (`store.index_thresholds`).
    `encoder` embeds elsewhere (the Ray engine); by default, here.
    """
    started = time.perf_counter()
    docs = read_documents(paths)
    report = ingest_documents(
        workspace,
        docs,
        embedders,
        batch_size=batch_size,
        approx_threshold=approx_threshold,
        pq_threshold=pq_threshold,
        progress=progress,
        encoder=encoder,
    )
    report.total_seconds = time.perf_counter() - started
    return report


def ingest_documents(
    workspace: Workspace,
    docs: Sequence[Document],
    embedders: Sequence[Embedder],
    *,
    batch_size: int = 256,
    approx_threshold: int | None = None,
    pq_threshold: int | None = None,
    progress: ProgressFn | None = None,
    digest: Callable[[Document], str] = content_hash,
    encoder: Encoder | None = None,
) -> IngestReport:
    """Add new and changed documents (ids unique) however they were read, as `ingest` does.

    `encoder` embeds the batches (default: `LocalEncoder`, in this process; the Ray engine
    passes one that embeds on a cluster); whatever embeds, this process writes.

    `digest` decides what "changed" means: by default the text, title and language (what
    the passages and vectors depend on); a caller can hash more (an imported review's rating
    too), at the cost of re-embedding a document when only that changed.
    """
    started = time.perf_counter()
    report = IngestReport()
    report.documents_seen = len(docs)
    models = config.check_fingerprints(workspace, list(embedders))
    if workspace.get_meta("models") is None:
        with workspace.transaction() as conn:
            workspace.set_meta(conn, "models", models)
    known = workspace.document_hashes()
    todo: list[tuple[Document, str]] = []
    for doc in docs:
        doc_hash = digest(doc)
        if known.get(doc.id) == doc_hash:
            report.documents_unchanged += 1
            continue
        if doc.id in known:
            report.documents_updated += 1
        else:
            report.documents_added += 1
        todo.append((doc, doc_hash))

    planned = [(doc, doc_hash, plan_passages(doc)) for doc, doc_hash in todo]
    total_passages = sum(len(passages) for _, _, passages in planned)

    batches: list[list[tuple[Document, str, list[dict]]]] = [[]]
    batch_passages = 0
    for item in planned:
        batches[-1].append(item)
        batch_passages += len(item[2])
        if batch_passages >= batch_size:
            batches.append([])
            batch_passages = 0
    batches = [batch for batch in batches if batch]

    done = 0
    if progress:
        progress(0, total_passages)
    encode = encoder if encoder is not None else LocalEncoder(embedders)
    for index, batch_vectors in encode.stream([_texts(batch) for batch in batches]):
        _store_batch(workspace, batches[index], batch_vectors)
        done += sum(len(passages) for _, _, passages in batches[index])
        if progress:
            progress(done, total_passages)
    report.embed_seconds = encode.seconds
    report.passages_added = total_passages

    index_started = time.perf_counter()
    manifest = workspace.read_manifest()
    if todo or not store.is_fresh(workspace, manifest):
        manifest = store.rebuild(workspace, models, approx_threshold, pq_threshold)
    report.index_seconds = time.perf_counter() - index_started
    report.passages_total = workspace.count("passages")
    report.index_types = {m["name"]: m["index_type"] for m in (manifest or {}).get("models", [])}
    report.total_seconds = time.perf_counter() - started
    return report


def _texts(batch: list[tuple[Document, str, list[dict]]]) -> list[str]:
    return [p["index_text"] for _, _, passages in batch for p in passages]


class Encoder(Protocol):
    """Embeds batches of passage texts with every model; `seconds` spent waiting for it."""

    seconds: float

    def stream(self, batches: list[list[str]]) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
        """(batch index, {model: vectors}) for every batch, in batch order."""
        ...


class LocalEncoder:
    """Embeds in this process, ENCODE_GROUP_BATCHES batches per call of each model."""

    def __init__(self, embedders: Sequence[Embedder]) -> None:
        self.embedders = list(embedders)
        self.seconds = 0.0

    def stream(self, batches: list[list[str]]) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
        for first in range(0, len(batches), ENCODE_GROUP_BATCHES):
            group = batches[first : first + ENCODE_GROUP_BATCHES]
            vectors, seconds = _encode(self.embedders, group)
            self.seconds += seconds
            yield from enumerate(vectors, start=first)


def _encode(
    embedders: Sequence[Embedder], batches: list[list[str]]
) -> tuple[list[dict[str, np.ndarray]], float]:
    """Every model's vectors for each batch of texts, and the seconds spent embedding.

    Each model encodes the whole group in one call before the next model starts: switching
    between USE-m3 (numpy, OpenBLAS threads) and MiniLM (torch, OpenMP threads) after every
    batch left one library's threads spinning while the other's worked, and one larger call
    lets sentence-transformers sort more texts by length (less padding).
    """
    texts = [text for batch in batches for text in batch]
    started = time.perf_counter()
    encoded = {
        canonical_ref(embedder.name): (
            embedder.encode(texts) if texts else np.zeros((0, embedder.dim), np.float32)
        )
        for embedder in embedders
    }
    elapsed = time.perf_counter() - started
    out: list[dict[str, np.ndarray]] = []
    offset = 0
    for batch in batches:
        out.append({name: matrix[offset : offset + len(batch)] for name, matrix in encoded.items()})
        offset += len(batch)
    return out, elapsed


def _store_batch(
    workspace: Workspace,
    batch: list[tuple[Document, str, list[dict]]],
    vectors: dict[str, np.ndarray],
) -> None:
    # One transaction per batch: documents, passages and vectors land together or not at all.
    workspace.add_documents(
        [
            {
                "doc_key": doc.id,
                "title": doc.title,
                "url": doc.url,
                "publisher": doc.publisher,
                "published": doc.published,
                "lang": doc.lang,
                "source": doc.source,
                "source_offset": doc.offset,
                "content_hash": digest,
                "extra": doc.extra,
            }
            for doc, digest, _ in batch
        ],
        [passages for _, _, passages in batch],
        vectors,
    )


def reindex(
    workspace: Workspace,
    embedders: Sequence[Embedder],
    *,
    batch_size: int = 256,
    approx_threshold: int | None = None,
    pq_threshold: int | None = None,
    progress: ProgressFn | None = None,
) -> IngestReport:
    """Re-embed every stored passage with `embedders` and make them the workspace's models.

    The new vectors are computed first and swapped in with the model list in one
    transaction: a killed reindex leaves the workspace as it was, usable with its old models.
    """
    started = time.perf_counter()
    report = IngestReport()
    models = config.describe(list(embedders))
    rows = list(workspace.iter_passage_texts())
    texts = [row[1] for row in rows]
    vectors: dict[str, list[np.ndarray]] = {m["name"]: [] for m in models}
    if progress:
        progress(0, len(texts))
    # Nothing is committed before the swap, so each model encodes a group of batches in a row.
    step = batch_size * ENCODE_GROUP_BATCHES
    for start in range(0, len(texts), step):
        group, seconds = _encode(embedders, [texts[start : start + step]])
        report.embed_seconds += seconds
        for name, matrix in group[0].items():
            vectors[name].append(matrix)
        if progress:
            progress(min(start + step, len(texts)), len(texts))
    stacked = {
        name: np.vstack(parts) if parts else np.zeros((0, 1), np.float32)
        for name, parts in vectors.items()
    }
    workspace.replace_vectors([row[0] for row in rows], stacked, models)
    index_started = time.perf_counter()
    manifest = store.rebuild(workspace, models, approx_threshold, pq_threshold)
    report.index_seconds = time.perf_counter() - index_started
    report.passages_added = len(texts)
    report.passages_total = len(texts)
    report.index_types = {m["name"]: m["index_type"] for m in manifest["models"]}
    report.total_seconds = time.perf_counter() - started
    return report
