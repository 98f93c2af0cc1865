"""Provides ingest: evidence files -> documents -> passages -> vectors (database) -> indexes."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from workbench import config
from workbench.chunk import split_passages
from workbench.embed import Embedder, canonical_ref
from workbench.errors import InputError
from workbench.index import dense, store
from workbench.models import Document
from workbench.sources import iter_documents
from workbench.workspace import Workspace

# Bump when chunking changes, so that every document is re-chunked and re-embedded once.
CHUNKER_VERSION = 1
MAX_PASSAGE_CHARS = 600

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


def _index_text(doc: Document, text: str) -> str:
    # The title gives a passage cut from a long document the context its sentences lack.
    return f"{doc.title}\n{text}" if doc.title and doc.title not in text else text


def ingest(
    workspace: Workspace,
    paths: Sequence[Path],
    embedders: Sequence[Embedder],
    *,
    batch_size: int = 256,
    approx_threshold: int = dense.APPROX_THRESHOLD,
    progress: ProgressFn | None = None,
) -> IngestReport:
    """Add new and changed documents from `paths`; unchanged ones are never re-embedded.

    Each batch of documents is committed with its passages and vectors in one transaction,
    so a killed run resumes where it stopped; the indexes are rebuilt from the database.
    """
    started = time.perf_counter()
    report = IngestReport()
    docs = read_documents(paths)
    report.documents_seen = len(docs)
    models = config.check_fingerprints(workspace, list(embedders))
    if workspace.get_meta("models") is None:
        with workspace.transaction() as conn:
            workspace.set_meta(conn, "models", models)
    known = workspace.document_hashes()
    todo: list[tuple[Document, str]] = []
    for doc in docs:
        digest = content_hash(doc)
        if known.get(doc.id) == digest:
            report.documents_unchanged += 1
            continue
        if doc.id in known:
            report.documents_updated += 1
        else:
            report.documents_added += 1
        todo.append((doc, digest))

    total_passages = 0
    planned: list[tuple[Document, str, list[dict]]] = []
    for doc, digest in todo:
        passages = []
        for start, end in split_passages(doc.text, max_chars=MAX_PASSAGE_CHARS):
            text = doc.text[start:end]
            passages.append(
                {
                    "start": doc.offset + start,
                    "end": doc.offset + end,
                    "text": text,
                    "lang": _passage_language(doc, text),
                    "index_text": _index_text(doc, text),
                }
            )
        planned.append((doc, digest, passages))
        total_passages += len(passages)

    done = 0
    if progress:
        progress(0, total_passages)
    batch: list[tuple[Document, str, list[dict]]] = []
    batch_passages = 0
    for item in planned:
        batch.append(item)
        batch_passages += len(item[2])
        if batch_passages >= batch_size:
            report.embed_seconds += _commit_batch(workspace, batch, embedders)
            done += batch_passages
            if progress:
                progress(done, total_passages)
            batch, batch_passages = [], 0
    if batch:
        report.embed_seconds += _commit_batch(workspace, batch, embedders)
        done += batch_passages
        if progress:
            progress(done, total_passages)
    report.passages_added = total_passages

    index_started = time.perf_counter()
    manifest = workspace.read_manifest()
    if todo or not store.is_fresh(workspace, manifest):
        manifest = store.rebuild(workspace, models, approx_threshold)
    report.index_seconds = time.perf_counter() - index_started
    report.passages_total = workspace.count("passages")
    report.index_types = {m["name"]: m["index_type"] for m in (manifest or {}).get("models", [])}
    report.total_seconds = time.perf_counter() - started
    return report


def _commit_batch(
    workspace: Workspace,
    batch: list[tuple[Document, str, list[dict]]],
    embedders: Sequence[Embedder],
) -> float:
    texts = [p["index_text"] for _, _, passages in batch for p in passages]
    started = time.perf_counter()
    vectors = {}
    for embedder in embedders:
        vectors[canonical_ref(embedder.name)] = (
            embedder.encode(texts) if texts else np.zeros((0, embedder.dim), np.float32)
        )
    elapsed = time.perf_counter() - started
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
    return elapsed


def reindex(
    workspace: Workspace,
    embedders: Sequence[Embedder],
    *,
    batch_size: int = 256,
    approx_threshold: int = dense.APPROX_THRESHOLD,
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
    for start in range(0, len(texts), batch_size):
        batch = texts[start : start + batch_size]
        embed_started = time.perf_counter()
        for embedder in embedders:
            vectors[canonical_ref(embedder.name)].append(embedder.encode(batch))
        report.embed_seconds += time.perf_counter() - embed_started
        if progress:
            progress(min(start + batch_size, len(texts)), len(texts))
    stacked = {
        name: np.vstack(parts) if parts else np.zeros((0, 1), np.float32)
        for name, parts in vectors.items()
    }
    workspace.replace_vectors([row[0] for row in rows], stacked, models)
    index_started = time.perf_counter()
    manifest = store.rebuild(workspace, models, approx_threshold)
    report.index_seconds = time.perf_counter() - index_started
    report.passages_added = len(texts)
    report.passages_total = len(texts)
    report.index_types = {m["name"]: m["index_type"] for m in manifest["models"]}
    report.total_seconds = time.perf_counter() - started
    return report
