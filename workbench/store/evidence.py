"""Provides the evidence store: documents, passages, their vectors, the index manifest."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from workbench.store.connection import SQL_CHUNK, Store, _id_chunks, _now

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class PassageRow:
    """A passage with the metadata of its document, as retrieval and output need it."""

    id: int
    text: str
    lang: str
    start: int
    end: int
    doc_key: str
    title: str
    url: str
    publisher: str
    published: str


# Rows per chunk when streaming a model's vectors (`iter_vectors`): 100 MB at 512 dimensions.
VECTOR_CHUNK = 50_000


def index_text(title: str, text: str) -> str:
    """The text a passage is embedded and indexed with: its document's title gives a passage
    cut from a long document the context its sentences lack."""
    return f"{title}\n{text}" if title and title not in text else text


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON so that a reader sees the old file or the new one, never half of one."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=2, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


class EvidenceStore(Store):
    """Documents, passages and vectors: what ingest writes and retrieval reads."""

    @property
    def generation(self) -> int:
        """A counter bumped by every transaction that changes passages or vectors."""
        return int(self.get_meta("generation", 0))

    def bump_generation(self, conn: sqlite3.Connection) -> None:
        self.set_meta(conn, "generation", self.generation + 1)

    def read_manifest(self) -> dict[str, Any] | None:
        path = self.index_dir / MANIFEST
        if not path.exists():
            return None
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            # A damaged manifest only means the index must be rebuilt from the database.
            return None

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        write_json_atomic(self.index_dir / MANIFEST, manifest)

    # ----- documents and passages ----------------------------------------------------------
    def document_hashes(self) -> dict[str, str]:
        return dict(self.conn.execute("SELECT doc_key, content_hash FROM documents"))

    def add_documents(
        self,
        docs: Sequence[dict[str, Any]],
        passages: Sequence[Sequence[dict[str, Any]]],
        vectors: dict[str, np.ndarray],
    ) -> None:
        """Store documents, their passages and every model's vectors in one transaction.

        `passages[i]` are the passages of `docs[i]`; `vectors[model]` has one row per passage
        in the same flattened order. A document that exists under the same key is replaced.
        """
        now = _now()
        with self.transaction(vectors=True) as conn:
            passage_ids: list[int] = []
            for doc, doc_passages in zip(docs, passages, strict=True):
                conn.execute("DELETE FROM documents WHERE doc_key = ?", (doc["doc_key"],))
                cursor = conn.execute(
                    "INSERT INTO documents(doc_key, title, url, publisher, published, lang, "
                    "source, source_offset, content_hash, extra, added_at) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        doc["doc_key"],
                        doc.get("title", ""),
                        doc.get("url", ""),
                        doc.get("publisher", ""),
                        doc.get("published", ""),
                        doc.get("lang", ""),
                        doc.get("source", ""),
                        doc.get("source_offset", 0),
                        doc["content_hash"],
                        json.dumps(doc.get("extra", {}), ensure_ascii=False),
                        now,
                    ),
                )
                document_id = cursor.lastrowid
                for seq, passage in enumerate(doc_passages):
                    cursor = conn.execute(
                        "INSERT INTO passages(document_id, seq, start, end, text, lang) "
                        "VALUES (?,?,?,?,?,?)",
                        (
                            document_id,
                            seq,
                            passage["start"],
                            passage["end"],
                            passage["text"],
                            passage.get("lang", ""),
                        ),
                    )
                    passage_ids.append(int(cursor.lastrowid))
            for model, matrix in vectors.items():
                if len(matrix) != len(passage_ids):
                    raise ValueError(f"{model}: {len(matrix)} vectors for {len(passage_ids)}")
                conn.executemany(
                    "INSERT INTO vectors(passage_id, model, vec) VALUES (?,?,?)",
                    (
                        (pid, model, np.asarray(row, dtype=np.float32).tobytes())
                        for pid, row in zip(passage_ids, matrix, strict=True)
                    ),
                )
            self.bump_generation(conn)

    def replace_vectors(
        self, passage_ids: Sequence[int], vectors: dict[str, np.ndarray], models: list[dict]
    ) -> None:
        """Swap every vector and the model list in one transaction (reindexing)."""
        with self.transaction(vectors=True) as conn:
            conn.execute("DELETE FROM vectors")
            for model, matrix in vectors.items():
                conn.executemany(
                    "INSERT INTO vectors(passage_id, model, vec) VALUES (?,?,?)",
                    (
                        (pid, model, np.asarray(row, dtype=np.float32).tobytes())
                        for pid, row in zip(passage_ids, matrix, strict=True)
                    ),
                )
            self.set_meta(conn, "models", models)
            self.bump_generation(conn)

    def passage_ids_and_langs(self) -> tuple[np.ndarray, list[str]]:
        rows = self.conn.execute("SELECT id, lang FROM passages ORDER BY id").fetchall()
        return np.array([r[0] for r in rows], dtype=np.int64), [r[1] for r in rows]

    def iter_passage_texts(self) -> Iterator[tuple[int, str, str]]:
        """(passage id, text to index, lang) in id order; the text carries the title.

        The SQL spells out `index_text` so that a rebuild streams without a Python pass per
        row; a test checks that both agree."""
        yield from self.conn.execute(
            "SELECT p.id, CASE WHEN d.title != '' AND instr(p.text, d.title) = 0 "
            "THEN d.title || char(10) || p.text ELSE p.text END, p.lang "
            "FROM passages p JOIN documents d ON d.id = p.document_id ORDER BY p.id"
        )

    def passage_index_texts(self, ids: Iterable[int]) -> dict[int, str]:
        """The indexed text (title included, as `iter_passage_texts`) of some passages."""
        return {pid: index_text(p.title, p.text) for pid, p in self.passages(ids).items()}

    def load_vectors(self, model: str, dim: int) -> tuple[np.ndarray, np.ndarray]:
        """All vectors of one model, as (passage ids, matrix) in passage id order."""
        ids: list[int] = []
        chunks: list[bytes] = []
        for pid, blob in self.conn.execute(
            "SELECT passage_id, vec FROM vectors WHERE model = ? ORDER BY passage_id", (model,)
        ):
            ids.append(pid)
            chunks.append(blob)
        matrix = np.frombuffer(b"".join(chunks), dtype=np.float32).reshape(len(ids), dim)
        return np.array(ids, dtype=np.int64), matrix

    def vector_count(self, model: str) -> int:
        """How many passages have a vector for `model`."""
        sql = "SELECT COUNT(*) FROM vectors WHERE model = ?"
        return int(self.conn.execute(sql, (model,)).fetchone()[0])

    def iter_vectors(
        self, model: str, dim: int, chunk: int = VECTOR_CHUNK
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """One model's vectors as (passage ids, matrix) chunks of at most `chunk` rows, in
        passage id order: `load_vectors` without holding them all.

        Each chunk is filled from the database a few hundred rows at a time, so reading it
        needs the chunk and little more; the generator drops its reference once the next one
        is asked for, so a caller that drops its own holds one chunk at a time."""
        cursor = self.conn.execute(
            "SELECT passage_id, vec FROM vectors WHERE model = ? ORDER BY passage_id", (model,)
        )
        step = max(1, min(chunk, SQL_CHUNK))
        while True:
            ids = np.empty(chunk, dtype=np.int64)
            matrix = np.empty((chunk, dim), dtype=np.float32)
            filled = 0
            while filled < chunk and (rows := cursor.fetchmany(min(step, chunk - filled))):
                end = filled + len(rows)
                ids[filled:end] = [r[0] for r in rows]
                blob = b"".join(r[1] for r in rows)
                matrix[filled:end] = np.frombuffer(blob, dtype=np.float32).reshape(-1, dim)
                filled = end
            if not filled:
                return
            yield ids[:filled], matrix[:filled]
            del ids, matrix  # before the next chunk is read

    def vectors_at(self, model: str, dim: int, ids: Iterable[int]) -> tuple[np.ndarray, np.ndarray]:
        """The vectors of one model for some passages, as (passage ids, matrix) in passage id
        order; a passage without one is left out."""
        wanted = sorted({int(i) for i in ids})
        found: list[int] = []
        blobs: list[bytes] = []
        for part, marks in _id_chunks(wanted):
            for pid, blob in self.conn.execute(
                f"SELECT passage_id, vec FROM vectors WHERE model = ? AND passage_id IN ({marks}) "
                "ORDER BY passage_id",
                [model, *part],
            ):
                found.append(pid)
                blobs.append(blob)
        matrix = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(found), dim)
        return np.array(found, dtype=np.int64), matrix

    def missing_vectors(self, model: str) -> list[int]:
        """Passages without a vector for `model` (a model added to the configuration later)."""
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT id FROM passages WHERE id NOT IN "
                "(SELECT passage_id FROM vectors WHERE model = ?) ORDER BY id",
                (model,),
            )
        ]

    def passages(self, ids: Iterable[int]) -> dict[int, PassageRow]:
        ids = list(dict.fromkeys(int(i) for i in ids))
        out: dict[int, PassageRow] = {}
        for chunk, marks in _id_chunks(ids):
            for row in self.conn.execute(
                "SELECT p.id, p.text, p.lang, p.start, p.end, d.doc_key, d.title, d.url, "
                f"d.publisher, d.published FROM passages p JOIN documents d "
                f"ON d.id = p.document_id WHERE p.id IN ({marks})",
                chunk,
            ):
                out[row[0]] = PassageRow(*row)
        return out

    def passage_vectors(self, passage_ids: Iterable[int]) -> dict[int, dict[str, np.ndarray]]:
        """{passage id: {model: vector}} of some passages, every model stored."""
        ids = list(dict.fromkeys(int(i) for i in passage_ids))
        out: dict[int, dict[str, np.ndarray]] = {}
        for chunk, marks in _id_chunks(ids):
            for pid, model, blob in self.conn.execute(
                f"SELECT passage_id, model, vec FROM vectors WHERE passage_id IN ({marks})",
                chunk,
            ):
                out.setdefault(int(pid), {})[model] = np.frombuffer(blob, dtype=np.float32)
        return out
