"""Provides a workspace's index folder: built from the database, loaded, kept fresh."""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from workbench.errors import WorkspaceError
from workbench.index import dense
from workbench.index.lexical import LexicalIndex
from workbench.workspace import VECTOR_CHUNK, Workspace

FORMAT = 2
# Lexical indexes by analyzer: words (one language) and bridge tokens (across languages).
LEXICAL_FOLDERS = {"words": "bm25", "bridge": "bridge"}


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


@dataclass
class IndexSet:
    """The loaded indexes of a workspace and what retrieval needs to know about passages."""

    dense: dict[str, Any]
    lexical: dict[str, LexicalIndex]
    langs: dict[int, str]
    manifest: dict[str, Any] = field(default_factory=dict)


def index_thresholds(
    workspace: Workspace, threshold: int | None = None, pq_threshold: int | None = None
) -> tuple[int, int]:
    """The (approx, pq) thresholds to build with: each one given, else the one the workspace's
    manifest keeps, else `dense`'s default. A workspace keeps the thresholds it was built with
    until a command names others."""
    manifest = workspace.read_manifest() or {}
    if threshold is None:
        threshold = manifest.get("approx_threshold", dense.APPROX_THRESHOLD)
    if pq_threshold is None:
        pq_threshold = manifest.get("pq_threshold", dense.PQ_THRESHOLD)
    return int(threshold), int(pq_threshold)


def rebuild(
    workspace: Workspace,
    models: list[dict[str, Any]],
    threshold: int | None = None,
    pq_threshold: int | None = None,
    chunk_size: int = VECTOR_CHUNK,
) -> dict[str, Any]:
    """Build every index from the database's passages and vectors, then write the manifest.

    The index type follows the store's size (`dense.choose_index_type` with `threshold` and
    `pq_threshold`, None for `index_thresholds`' choice); the manifest keeps both, so later
    rebuilds (the next ingest, or one after an interrupted run) keep them.

    Each file is written beside its final name and renamed into place; the manifest goes last
    and names the database generation it reflects, so a kill at any point is detected later.
    Temporary index files left by a killed build are removed first. Dense indexes are built
    from the vectors streamed `chunk_size` rows at a time (`_build_dense`).
    """
    threshold, pq_threshold = index_thresholds(workspace, threshold, pq_threshold)
    generation = workspace.generation
    index_dir = workspace.index_dir
    index_dir.mkdir(parents=True, exist_ok=True)
    for stale in dense.stale_temp_files(index_dir):
        stale.unlink(missing_ok=True)
    ids_texts = list(workspace.iter_passage_texts())
    ids = np.array([row[0] for row in ids_texts], dtype=np.int64)
    entries = []
    for model in models:
        index_type = dense.choose_index_type(len(ids), threshold, pq_threshold)
        index = _build_dense(workspace, model, ids, index_type, chunk_size)
        filename = f"dense-{_slug(model['name'])}.faiss"
        dense.save_index(index, index_dir / filename)  # written aside and renamed into place
        del index  # before the next model's is built: one index in memory at a time
        entries.append({**model, "index_type": index_type, "file": filename})
    texts = [row[1] for row in ids_texts]
    langs = [row[2] for row in ids_texts]
    for analyzer, folder in LEXICAL_FOLDERS.items():
        lexical = LexicalIndex.build(ids, texts, langs, analyzer)
        _replace_folder(index_dir, folder, lexical.save)
    manifest = {
        "format": FORMAT,
        "models": entries,
        "lexical": [
            {"type": "bm25s", "analyzer": analyzer, "folder": folder}
            for analyzer, folder in LEXICAL_FOLDERS.items()
        ],
        "passages": len(ids),
        "documents": workspace.count("documents"),
        "generation": generation,
        "approx_threshold": threshold,
        "pq_threshold": pq_threshold,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    workspace.write_manifest(manifest)
    return manifest


def _build_dense(
    workspace: Workspace, model: dict[str, Any], ids: np.ndarray, index_type: str, chunk: int
):
    """One model's index over the passages `ids`, without holding all its vectors at once.

    Trains on the fixed-seed sample `dense.training_rows` picks (read by passage id), then
    adds the vectors in chunks of `chunk` rows read in passage id order, so the build needs
    the index, the sample and one chunk: what `dense.build_index` over the whole matrix would
    give, without the matrix.
    """
    name, dim = model["name"], model["dim"]
    stored = workspace.vector_count(name)

    def missing() -> WorkspaceError:
        return WorkspaceError(
            f"the database has {stored} {name} vectors for {len(ids)} "
            "passages; run 'workbench ingest' again to embed the missing ones"
        )

    if stored != len(ids):
        raise missing()
    sample = None
    if index_type != "flat":
        sample_ids = ids[dense.training_rows(len(ids), dim, index_type)]
        found, sample = workspace.vectors_at(name, dim, sample_ids)
        if not np.array_equal(found, sample_ids):
            raise missing()
    index = dense.new_index(dim, len(ids), index_type, sample)
    del sample
    done = 0
    for chunk_ids, matrix in workspace.iter_vectors(name, dim, chunk):
        if not np.array_equal(chunk_ids, ids[done : done + len(chunk_ids)]):
            raise missing()
        dense.add_chunk(index, chunk_ids, matrix)
        done += len(chunk_ids)
        del chunk_ids, matrix  # one chunk at a time: this one goes before the next is read
    if done != len(ids):
        raise missing()
    return index


def _replace_folder(index_dir: Path, name: str, write: Callable[[Path], None]) -> None:
    # Write aside, then swap: a kill leaves either the old folder or the new one in place
    # (and the manifest's generation tells whether it is current).
    tmp_dir, old_dir = index_dir / f".{name}.tmp", index_dir / f".{name}.old"
    shutil.rmtree(tmp_dir, ignore_errors=True)
    write(tmp_dir)
    shutil.rmtree(old_dir, ignore_errors=True)
    if (index_dir / name).exists():
        (index_dir / name).rename(old_dir)
    tmp_dir.rename(index_dir / name)
    shutil.rmtree(old_dir, ignore_errors=True)


def is_fresh(workspace: Workspace, manifest: dict[str, Any] | None) -> bool:
    if not manifest or manifest.get("format") != FORMAT:
        return False
    if manifest.get("generation") != workspace.generation:
        return False
    files = [workspace.index_dir / m["file"] for m in manifest.get("models", [])]
    files += [workspace.index_dir / f / "ids.npy" for f in LEXICAL_FOLDERS.values()]
    return all(path.exists() for path in files)


def ensure_fresh(workspace: Workspace, models: list[dict[str, Any]]) -> dict[str, Any]:
    """The manifest of up-to-date indexes, rebuilt first from the stored vectors (with the
    workspace's own index thresholds) when the database moved on or files are missing."""
    manifest = workspace.read_manifest()
    if is_fresh(workspace, manifest):
        assert manifest is not None
        return manifest
    print(
        "index: out of date with the database (new evidence or an interrupted run); "
        "rebuilding from stored vectors",
        file=sys.stderr,
    )
    return rebuild(workspace, models)  # with the workspace's own thresholds


def load(workspace: Workspace, models: list[dict[str, Any]]) -> IndexSet:
    """Load the indexes, first rebuilding them from the database when they are stale or missing."""
    if workspace.count("passages") == 0:
        raise WorkspaceError(
            f"the workspace {workspace.root} has no evidence yet; "
            "run 'workbench ingest evidence/' first"
        )
    manifest = ensure_fresh(workspace, models)
    assert manifest is not None
    dense_indexes = {
        entry["name"]: dense.load_index(workspace.index_dir / entry["file"])
        for entry in manifest["models"]
    }
    lexical = {
        analyzer: LexicalIndex.load(workspace.index_dir / folder)
        for analyzer, folder in LEXICAL_FOLDERS.items()
    }
    ids, langs = workspace.passage_ids_and_langs()
    return IndexSet(
        dense=dense_indexes,
        lexical=lexical,
        langs=dict(zip(ids.tolist(), langs, strict=True)),
        manifest=manifest,
    )
