"""Provides a workspace's index folder: built from the database, loaded, kept fresh."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from workbench.errors import WorkspaceError
from workbench.index import dense
from workbench.index.lexical import LexicalIndex
from workbench.notes import say
from workbench.workspace import INDEX_DIR, VECTOR_CHUNK, Workspace

# 3: every index file recorded with its size, mtime and checksums, and each index's count.
FORMAT = 3
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
    from the vectors streamed `chunk_size` rows at a time (`_build_dense`). The manifest
    records every file's size and checksums and each index's count (`verify`).
    """
    threshold, pq_threshold = index_thresholds(workspace, threshold, pq_threshold)
    generation = workspace.generation
    index_dir = workspace.index_dir
    index_dir.mkdir(parents=True, exist_ok=True)
    _remove_stale_temp(index_dir)
    ids_texts = list(workspace.iter_passage_texts())
    ids = np.array([row[0] for row in ids_texts], dtype=np.int64)
    entries = []
    for model in models:
        index_type = dense.choose_index_type(len(ids), threshold, pq_threshold)
        entries.append(_write_dense(workspace, model, ids, index_type, chunk_size))
    texts = [row[1] for row in ids_texts]
    langs = [row[2] for row in ids_texts]
    lexical = [
        _write_lexical(index_dir, a, f, ids, texts, langs) for a, f in LEXICAL_FOLDERS.items()
    ]
    manifest = {
        "format": FORMAT,
        "models": entries,
        "lexical": lexical,
        "passages": len(ids),
        "documents": workspace.count("documents"),
        "generation": generation,
        "approx_threshold": threshold,
        "pq_threshold": pq_threshold,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "files": _records(index_dir, _manifest_files(index_dir, entries, lexical)),
    }
    workspace.write_manifest(manifest)
    return manifest


def _write_dense(
    workspace: Workspace, model: dict[str, Any], ids: np.ndarray, index_type: str, chunk: int
) -> dict[str, Any]:
    """Build one model's index, write it into place, return its manifest entry."""
    index = _build_dense(workspace, model, ids, index_type, chunk)
    filename = f"dense-{_slug(model['name'])}.faiss"
    dense.save_index(index, workspace.index_dir / filename)  # written aside, renamed into place
    vectors = int(index.ntotal)
    del index  # before the next model's is built: one index in memory at a time
    return {**model, "index_type": index_type, "file": filename, "vectors": vectors}


def _write_lexical(
    index_dir: Path,
    analyzer: str,
    folder: str,
    ids: np.ndarray,
    texts: list[str],
    langs: list[str],
) -> dict[str, Any]:
    """Build one lexical index, swap its folder into place, return its manifest entry."""
    lexical = LexicalIndex.build(ids, texts, langs, analyzer)
    _replace_folder(index_dir, folder, lexical.save)
    return {"type": "bm25s", "analyzer": analyzer, "folder": folder, "documents": len(ids)}


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
    # (and the manifest's generation tells whether it is current). The folders aside carry
    # the writer's pid: two processes repairing at once never write into the same one, and
    # the last swap wins (both built the same index from the same database).
    tmp_dir = index_dir / f".{name}.{os.getpid()}.tmp"
    old_dir = index_dir / f".{name}.{os.getpid()}.old"
    shutil.rmtree(tmp_dir, ignore_errors=True)
    write(tmp_dir)
    for attempt in range(3):
        shutil.rmtree(old_dir, ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):  # none yet, or another process's moved
            (index_dir / name).rename(old_dir)
        try:
            tmp_dir.rename(index_dir / name)
            break
        except OSError as exc:  # another process swapped its own in meanwhile: again
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST) or attempt == 2:
                raise
    shutil.rmtree(old_dir, ignore_errors=True)


# `_replace_folder`'s folders aside, and the unnumbered ones of earlier versions.
TEMP_FOLDER = re.compile(r"\.(?P<name>[\w-]+)(?:\.(?P<pid>\d+))?\.(?:tmp|old)")


def stale_temp_folders(index_dir: Path) -> list[Path]:
    """Folders aside in `index_dir` whose writer is no longer running."""
    found = []
    for path in sorted(index_dir.glob(".*")):
        match = TEMP_FOLDER.fullmatch(path.name)
        if not match or match["name"] not in LEXICAL_FOLDERS.values() or not path.is_dir():
            continue
        if match["pid"] is None or not dense.pid_alive(int(match["pid"])):
            found.append(path)
    return found


def _remove_stale_temp(index_dir: Path) -> None:
    for stale in dense.stale_temp_files(index_dir):
        stale.unlink(missing_ok=True)
    for folder in stale_temp_folders(index_dir):
        shutil.rmtree(folder, ignore_errors=True)


def is_current(workspace: Workspace, manifest: dict[str, Any] | None) -> bool:
    """Whether `manifest` is of this format and reflects the database's generation."""
    return bool(
        manifest
        and manifest.get("format") == FORMAT
        and manifest.get("generation") == workspace.generation
    )


def is_fresh(workspace: Workspace, manifest: dict[str, Any] | None) -> bool:
    if not is_current(workspace, manifest):
        return False
    assert manifest is not None
    files = [workspace.index_dir / m["file"] for m in manifest.get("models", [])]
    files += [workspace.index_dir / f / "ids.npy" for f in LEXICAL_FOLDERS.values()]
    return all(path.exists() for path in files)


def ensure_fresh(workspace: Workspace, models: list[dict[str, Any]]) -> dict[str, Any]:
    """The manifest of up-to-date, undamaged indexes.

    Rebuilt first from the stored vectors (with the workspace's own index thresholds) when
    the database moved on; then checked as `verify` does on load (cheap), and any damaged
    index rebuilt alone from the database, with one line on stderr per index. A workspace
    whose index folder cannot be written fails with one line instead (exit 4): reading never
    needs to write, repairing does."""
    manifest = workspace.read_manifest()
    if not is_current(workspace, manifest):
        _require_writable(workspace, "the index is out of date with the database")
        say(
            "index: out of date with the database (new evidence or an interrupted run); "
            "rebuilding from stored vectors"
        )
        return rebuild(workspace, models)  # with the workspace's own thresholds
    assert manifest is not None
    damage = verify(workspace, manifest, full=crash_suspect(workspace.index_dir))
    if damage:
        return repair(workspace, models, manifest, damage)
    return _refresh_mtimes(workspace, manifest)


def load(workspace: Workspace, models: list[dict[str, Any]]) -> IndexSet:
    """Load the indexes, first rebuilding them from the database when they are stale, missing
    or damaged (see `verify`; a loaded index whose count disagrees is damaged too)."""
    if workspace.count("passages") == 0:
        raise WorkspaceError(
            f"the workspace {workspace.root} has no evidence yet; "
            "run 'workbench ingest evidence/' first"
        )
    manifest = ensure_fresh(workspace, models)
    ids, langs = workspace.passage_ids_and_langs()
    dense_indexes, lexical, damage = _load_parts(workspace, manifest, ids)
    if damage:
        manifest = repair(workspace, models, manifest, damage)
        dense_indexes, lexical, damage = _load_parts(workspace, manifest, ids)
        if damage:
            raise WorkspaceError(
                f"{damage[0].describe()} even after a rebuild from the database; "
                "run 'workbench doctor'"
            )
    return IndexSet(
        dense=dense_indexes,
        lexical=lexical,
        langs=dict(zip(ids.tolist(), langs, strict=True)),
        manifest=manifest,
    )


# ----- integrity ------------------------------------------------------------------------------
# The manifest records every index file with its size, modification time, the SHA-256 of the
# whole file and the SHA-256 of its first and last EDGE_BYTES ("edges"), and each index's count.
# SHA-256 is hashlib's fastest here (1.7 GB/s with the CPU's SHA instructions, blake2b 0.86).
#
# Policy. Indexes are memory-mapped and may be GBs: hashing a 2 GB file costs over a second,
# too much for every `match`. So:
# - every load (`ensure_fresh`, `load`): each file exists with its recorded size; a file up to
#   LOAD_HASH_LIMIT is hashed whole (at most 2.5 ms; all the files of a workspace under about
#   2,000 passages); a larger one is hashed whole when its mtime changed since it was recorded
#   (anything that wrote into it), else only its edges (header and tail: a damaged FAISS
#   header or id map, a bad sector at either end); then each loaded index's count must
#   match the manifest's and the lexical indexes' passage ids the database's.
#   bench/index_check.py at 100k passages (512 + 384 dimensions, 404 MB in 16 files): 12 ms
#   from the page cache, 18 ms cold, against 1.0-1.4 s to load the indexes; hashing every
#   file whole (what `doctor` does) 0.7 s warm, 1.7 s cold.
# - after a crash-suspect event (a killed writer's temporary files in the index folder): every
#   file hashed whole.
# - `workbench doctor`: every file hashed whole, every time.
# Damage that keeps both the size and the mtime of a file over LOAD_HASH_LIMIT (a disk's silent
# bit rot in the middle of a large index) is found by `doctor`, not by a load.
HASH = "sha256"
EDGE_BYTES = 64 * 1024
LOAD_HASH_LIMIT = 4 * 1024 * 1024


@dataclass(frozen=True)
class Damage:
    """A damaged index file: `path` relative to the index folder, `part` the index it belongs
    to ('dense:<model>' or 'lexical:<analyzer>')."""

    path: str
    reason: str
    part: str

    def describe(self) -> str:
        return f"{INDEX_DIR}/{self.path} is damaged ({self.reason})"


def file_record(path: Path) -> dict[str, Any]:
    """What the manifest keeps of one index file (see the policy above)."""
    stat = path.stat()
    with open(path, "rb") as handle:
        digest = hashlib.file_digest(handle, HASH).hexdigest()
    return {
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        HASH: digest,
        "edges": _edges(path, stat.st_size),
    }


def _edges(path: Path, size: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        digest.update(handle.read(EDGE_BYTES))
        if size > EDGE_BYTES:
            handle.seek(max(EDGE_BYTES, size - EDGE_BYTES))
            digest.update(handle.read(EDGE_BYTES))
    return digest.hexdigest()


def _records(index_dir: Path, names: list[str]) -> dict[str, dict[str, Any]]:
    return {name: file_record(index_dir / name) for name in names}


def _folder_files(index_dir: Path, folder: str) -> list[str]:
    root = index_dir / folder
    return sorted(p.relative_to(index_dir).as_posix() for p in root.rglob("*") if p.is_file())


def _manifest_files(
    index_dir: Path, models: list[dict[str, Any]], lexical: list[dict[str, Any]]
) -> list[str]:
    names = [entry["file"] for entry in models]
    for entry in lexical:
        names += _folder_files(index_dir, entry["folder"])
    return names


def _part_files(manifest: dict[str, Any]) -> dict[str, list[str]]:
    """{part: the files the manifest records for it}."""
    records = manifest.get("files", {})
    parts = {f"dense:{m['name']}": [m["file"]] for m in manifest.get("models", [])}
    for entry in manifest.get("lexical", []):
        prefix = entry["folder"] + "/"
        parts[f"lexical:{entry['analyzer']}"] = [n for n in records if n.startswith(prefix)]
    return parts


def crash_suspect(index_dir: Path) -> bool:
    """Whether a writer was killed in the index folder: its temporary files are still there."""
    return bool(dense.stale_temp_files(index_dir) or stale_temp_folders(index_dir))


def check_file(path: Path, record: dict[str, Any] | None, full: bool) -> str | None:
    """Why the file at `path` does not match its `record`, or None when it does."""
    if record is None:
        return "no checksum recorded"
    try:
        stat = path.stat()
    except FileNotFoundError:
        return "missing"
    size = record["size"]
    if stat.st_size < size:
        return f"truncated: {stat.st_size:,} of {size:,} bytes"
    if stat.st_size != size:
        return f"{stat.st_size:,} bytes, {size:,} expected"
    try:
        whole = full or size <= LOAD_HASH_LIMIT or stat.st_mtime_ns != record["mtime_ns"]
        if whole:
            with open(path, "rb") as handle:
                ok = hashlib.file_digest(handle, HASH).hexdigest() == record[HASH]
        else:
            ok = _edges(path, size) == record["edges"]
    except OSError as exc:
        return f"unreadable: {exc.strerror or exc}"
    return None if ok else "checksum mismatch"


def verify(workspace: Workspace, manifest: dict[str, Any], full: bool = False) -> list[Damage]:
    """The damaged files among those the manifest records: missing, of another size, or with
    another checksum. `full` hashes every file whole; otherwise the load-time policy above
    applies (sizes, small files whole, large ones whole only if written since)."""
    index_dir = workspace.index_dir
    records = manifest.get("files") or {}
    damage = []
    for part, names in _part_files(manifest).items():
        if not names:
            damage.append(Damage(part.split(":", 1)[1], "no files recorded", part))
        for name in names:
            reason = check_file(index_dir / name, records.get(name), full)
            if reason:
                damage.append(Damage(name, reason, part))
    return damage


def health(workspace: Workspace) -> dict[str, Any]:
    """The index's state as the next load would find it, as cheaply (`verify`'s load-time
    policy, no index loaded): status 'ok', 'damaged' (each problem named), 'stale' (rebuilt
    by the next load), 'missing' or 'empty' (no evidence yet)."""
    manifest = workspace.read_manifest()
    if manifest is None:
        empty = workspace.count("passages") == 0
        return {"status": "empty" if empty else "missing", "problems": []}
    if not is_current(workspace, manifest):
        return {"status": "stale", "problems": ["the index is out of date with the database"]}
    damage = verify(workspace, manifest, full=crash_suspect(workspace.index_dir))
    return {"status": "damaged" if damage else "ok", "problems": [d.describe() for d in damage]}


def _refresh_mtimes(workspace: Workspace, manifest: dict[str, Any]) -> dict[str, Any]:
    """Record the mtimes of files found intact though their mtime changed (a workspace copied
    without keeping times), so that the next load need not hash them whole again.

    Best effort, after `verify` passed: a read-only folder keeps the old records, and a
    manifest another process replaced meanwhile is left alone."""
    records = manifest.get("files") or {}
    moved = {}
    for name, record in records.items():
        try:
            mtime = (workspace.index_dir / name).stat().st_mtime_ns
        except OSError:
            return manifest
        if mtime != record["mtime_ns"]:
            moved[name] = {**record, "mtime_ns": mtime}
    if not moved or not _index_writable(workspace) or workspace.read_manifest() != manifest:
        return manifest
    refreshed = {**manifest, "files": {**records, **moved}}
    try:
        workspace.write_manifest(refreshed)
    except OSError:
        return manifest
    return refreshed


def _load_parts(
    workspace: Workspace, manifest: dict[str, Any], ids: np.ndarray
) -> tuple[dict[str, Any], dict[str, LexicalIndex], list[Damage]]:
    """Load every index the manifest names, checking what is cheap to check once loaded: each
    dense index's vector count and dimension, each lexical index's passage ids against the
    database's `ids`. An index that cannot be read or disagrees is returned as damage."""
    index_dir = workspace.index_dir
    damage: list[Damage] = []
    dense_indexes: dict[str, Any] = {}
    for entry in manifest["models"]:
        part = f"dense:{entry['name']}"
        try:
            index = dense.load_index(index_dir / entry["file"])
        except Exception as exc:  # FAISS raises RuntimeError, with C++ context, on a bad file
            damage.append(Damage(entry["file"], f"unreadable: {_first_line(exc)}", part))
            continue
        wanted = entry.get("vectors", len(ids))
        if index.ntotal != wanted or index.ntotal != len(ids):
            reason = f"holds {index.ntotal} vectors for {len(ids)} passages"
            damage.append(Damage(entry["file"], reason, part))
        elif index.d != entry["dim"]:
            reason = f"{index.d} dimensions, {entry['dim']} expected"
            damage.append(Damage(entry["file"], reason, part))
        dense_indexes[entry["name"]] = index
    lexical: dict[str, LexicalIndex] = {}
    for entry in manifest["lexical"]:
        part, folder = f"lexical:{entry['analyzer']}", entry["folder"]
        try:
            loaded = LexicalIndex.load(index_dir / folder)
        except Exception as exc:  # bm25s and numpy raise many kinds on a damaged file
            damage.append(Damage(folder, f"unreadable: {_first_line(exc)}", part))
            continue
        documents = int(loaded.retriever.scores.get("num_docs", -1))
        if not np.array_equal(loaded.ids, ids) or documents != len(ids):
            reason = (
                f"{len(loaded.ids)} passage ids and {documents} documents "
                f"for the database's {len(ids)} passages"
            )
            damage.append(Damage(f"{folder}/ids.npy", reason, part))
        lexical[entry["analyzer"]] = loaded
    return dense_indexes, lexical, damage


def full_check(workspace: Workspace, manifest: dict[str, Any]) -> list[Damage]:
    """Every damaged index, as `workbench doctor` sees it: each file hashed whole, then every
    undamaged index loaded and its counts checked against the database."""
    damage = verify(workspace, manifest, full=True)
    if damage:
        return damage
    ids, _ = workspace.passage_ids_and_langs()
    return _load_parts(workspace, manifest, ids)[2]


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _index_writable(workspace: Workspace) -> bool:
    # A workspace opened read-only is never written by this process, its index folder included.
    if getattr(workspace, "read_only", False):
        return False
    folder = workspace.index_dir if workspace.index_dir.exists() else workspace.root
    return os.access(folder, os.W_OK)


def _require_writable(workspace: Workspace, problem: str) -> None:
    if not _index_writable(workspace):
        raise _read_only(workspace, problem)


def _read_only(workspace: Workspace, problem: str) -> WorkspaceError:
    return WorkspaceError(
        f"{problem}, and {workspace.index_dir} is read-only so it cannot be rebuilt; "
        "run 'workbench doctor --repair' with write access"
    )


def repair(
    workspace: Workspace,
    models: list[dict[str, Any]],
    manifest: dict[str, Any],
    damage: list[Damage],
) -> dict[str, Any]:
    """Rebuild the damaged indexes alone from the database, say so on stderr (one line per
    index), and return the manifest that records them. Everything is rebuilt when the
    database moved on since `manifest` (a concurrent ingest)."""
    first = damage[0].describe()
    _require_writable(workspace, first)
    try:
        if not is_current(workspace, manifest):
            return rebuild(workspace, models)
        return _repair_parts(workspace, models, manifest, damage)
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise _read_only(workspace, first) from exc
        raise


def _repair_parts(
    workspace: Workspace,
    models: list[dict[str, Any]],
    manifest: dict[str, Any],
    damage: list[Damage],
) -> dict[str, Any]:
    index_dir = workspace.index_dir
    _remove_stale_temp(index_dir)
    manifest = {**manifest, "files": dict(manifest.get("files") or {})}
    by_part: dict[str, list[Damage]] = {}
    for item in damage:
        by_part.setdefault(item.part, []).append(item)
    ids_texts: list[tuple[int, str, str]] | None = None
    ids = None
    lines = []
    for part, items in by_part.items():
        kind, name = part.split(":", 1)
        if ids_texts is None:
            ids_texts = list(workspace.iter_passage_texts())
            ids = np.array([row[0] for row in ids_texts], dtype=np.int64)
        assert ids is not None
        old_files = _part_files(manifest).get(part, [])
        if kind == "dense":
            entries = manifest["models"]
            at = next(i for i, m in enumerate(entries) if m["name"] == name)
            model = next((m for m in models if m["name"] == name), None)
            if model is None:  # a model the caller did not name: its manifest entry says all
                skip = ("index_type", "file", "vectors")
                model = {k: v for k, v in entries[at].items() if k not in skip}
            entry = _write_dense(workspace, model, ids, entries[at]["index_type"], VECTOR_CHUNK)
            manifest["models"] = [*entries[:at], entry, *entries[at + 1 :]]
            new_files = [entry["file"]]
            source = f"the {entry['vectors']} stored vectors"
        else:
            entries = manifest["lexical"]
            at = next(i for i, e in enumerate(entries) if e["analyzer"] == name)
            texts = [row[1] for row in ids_texts]
            langs = [row[2] for row in ids_texts]
            entry = _write_lexical(index_dir, name, entries[at]["folder"], ids, texts, langs)
            manifest["lexical"] = [*entries[:at], entry, *entries[at + 1 :]]
            new_files = _folder_files(index_dir, entry["folder"])
            source = f"the {len(ids)} stored passages"
        for old in old_files:
            manifest["files"].pop(old, None)
        manifest["files"].update(_records(index_dir, new_files))
        named = items[0].describe()
        if len(items) > 1:
            more = len(items) - 1
            named = (
                f"{INDEX_DIR}/{items[0].path} and {more} more file{'s' * (more > 1)} "
                f"are damaged ({items[0].reason})"
            )
        lines.append(f"{named}; rebuilt from {source}")
    manifest["passages"] = len(ids) if ids is not None else manifest["passages"]
    workspace.write_manifest(manifest)  # last: it names the files just written
    for line in lines:
        say(line)
    return manifest
