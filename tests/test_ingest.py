"""Tests for ingest: incremental hashing, index freshness, model checks, and a killed run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from workbench import config
from workbench.embed import HashingEmbedder
from workbench.errors import InputError, ModelMismatchError
from workbench.index import store
from workbench.ingest import ingest
from workbench.retrieve import Retriever
from workbench.workspace import Workspace


def _ws(tmp_path: Path) -> Workspace:
    return Workspace.open(tmp_path / "ws", create=True)


def test_ingest_then_reingest_embeds_nothing(tmp_path: Path, evidence_file: Path) -> None:
    ws = _ws(tmp_path)
    first = ingest(ws, [evidence_file], [HashingEmbedder(64)])
    assert first.documents_added == 6 and first.passages_added == 6
    assert first.index_types == {"hash:64": "flat"}
    second = ingest(ws, [evidence_file], [HashingEmbedder(64)])
    assert second.documents_unchanged == 6 and second.passages_added == 0
    manifest = ws.read_manifest()
    assert manifest["passages"] == 6 and manifest["generation"] == ws.generation
    assert manifest["models"][0]["fingerprint"]


def test_changed_document_is_reembedded(tmp_path: Path, evidence_file: Path) -> None:
    ws = _ws(tmp_path)
    ingest(ws, [evidence_file], [HashingEmbedder(64)])
    lines = evidence_file.read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[0])
    record["text"] += " Lavrov was there too."
    lines[0] = json.dumps(record)
    evidence_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = ingest(ws, [evidence_file], [HashingEmbedder(64)])
    assert (report.documents_updated, report.documents_unchanged) == (1, 5)
    assert ws.count("passages") == 6
    (text,) = ws.conn.execute(
        "SELECT p.text FROM passages p JOIN documents d ON d.id = p.document_id "
        "WHERE d.doc_key = 'en-sochi'"
    ).fetchone()
    assert text.endswith("Lavrov was there too.")


def test_approximate_index_above_threshold(tmp_path: Path) -> None:
    path = tmp_path / "many.jsonl"
    path.write_text(
        "".join(
            json.dumps({"id": f"d{i}", "text": f"Passage number {i} about topic {i % 17}."}) + "\n"
            for i in range(400)
        )
    )
    ws = _ws(tmp_path)
    report = ingest(ws, [path], [HashingEmbedder(32)], approx_threshold=100)
    assert report.index_types == {"hash:32": "ivf"}
    indexes = store.load(ws, ws.get_meta("models"))
    assert type(indexes.dense["hash:32"]).__name__ == "IndexIVFFlat"
    hits = Retriever([HashingEmbedder(32)], indexes).search(["Passage number 123"], ["en"], 3)
    assert hits[0][0].passage_id == 124  # passage ids start at 1


def test_stale_index_is_rebuilt_from_the_database(tmp_path: Path, evidence_file: Path) -> None:
    ws = _ws(tmp_path)
    ingest(ws, [evidence_file], [HashingEmbedder(64)])
    (ws.index_dir / "dense-hash_64.faiss").unlink()
    indexes = store.load(ws, ws.get_meta("models"))
    assert indexes.dense["hash:64"].ntotal == 6
    assert (ws.index_dir / "dense-hash_64.faiss").exists()


def test_other_model_is_refused_with_the_fix(tmp_path: Path, evidence_file: Path) -> None:
    ws = _ws(tmp_path)
    ingest(ws, [evidence_file], [HashingEmbedder(64)])
    with pytest.raises(ModelMismatchError, match=r"built with 'hash:64'.*--model hash:64"):
        config.model_names(ws, "hash:32")
    assert config.model_names(ws, None) == ["hash:64"]


def test_same_name_other_weights_is_refused(tmp_path: Path, evidence_file: Path) -> None:
    ws = _ws(tmp_path)
    ingest(ws, [evidence_file], [HashingEmbedder(64)])
    models = ws.get_meta("models")
    models[0]["fingerprint"] = "0000"
    with ws.transaction() as conn:
        ws.set_meta(conn, "models", models)
    with pytest.raises(ModelMismatchError, match="different embeddings"):
        ingest(ws, [evidence_file], [HashingEmbedder(64)])


def test_bad_input_writes_nothing(tmp_path: Path, evidence_file: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "text": "fine"}\n{"id": "y", "text": broken}\n')
    ws = _ws(tmp_path)
    with pytest.raises(InputError, match=r"bad.jsonl:2"):
        ingest(ws, [evidence_file, bad], [HashingEmbedder(64)])
    assert ws.count("documents") == 0


def test_duplicate_ids_across_files_are_refused(tmp_path: Path, evidence_file: Path) -> None:
    copy = tmp_path / "copy.jsonl"
    copy.write_text(evidence_file.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(InputError, match="already used"):
        ingest(_ws(tmp_path), [evidence_file, copy], [HashingEmbedder(64)])


_KILL_SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
from pathlib import Path
from fakes import SlowHashEmbedder
from workbench.ingest import ingest
from workbench.workspace import Workspace
ws = Workspace.open(Path({ws!r}), create=True)
ingest(ws, [Path({src!r})], [SlowHashEmbedder({delay})], batch_size=10)
"""


def test_killed_ingest_resumes_and_index_agrees(tmp_path: Path) -> None:
    src = tmp_path / "many.jsonl"
    src.write_text(
        "".join(
            json.dumps({"id": f"d{i}", "text": f"Fact {i} is stated."}) + "\n" for i in range(200)
        )
    )
    ws_dir = tmp_path / "ws"
    script = _KILL_SCRIPT.format(
        tests=str(Path(__file__).parent), ws=str(ws_dir), src=str(src), delay=0.2
    )
    proc = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    deadline = time.time() + 60
    committed = 0
    while time.time() < deadline and committed < 30:
        time.sleep(0.1)
        if (ws_dir / "workbench.db").exists():
            try:
                with Workspace.open(ws_dir) as probe:
                    committed = probe.count("passages")
            except Exception:
                committed = 0
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    ws = Workspace.open(ws_dir)
    killed_at = ws.count("passages")
    assert 30 <= killed_at < 200, "the kill should land mid-ingest"
    assert ws.read_manifest() is None  # the index was never written
    from fakes import SlowHashEmbedder

    report = ingest(ws, [src], [SlowHashEmbedder(0.0)], batch_size=10)
    assert report.documents_unchanged == killed_at  # nothing committed is embedded again
    assert ws.count("passages") == 200
    indexes = store.load(ws, ws.get_meta("models"))
    assert indexes.dense["hash:64"].ntotal == 200 == len(indexes.lexical["words"].ids)
    assert ws.read_manifest()["generation"] == ws.generation


class _RecordingEmbedder:
    """The hashing embedder, logging each encode call as (model name, number of texts)."""

    def __init__(self, dim: int, log: list[tuple[str, int]]) -> None:
        from workbench.embed import HashingEmbedder

        self.inner = HashingEmbedder(dim)
        self.name, self.dim, self.languages = self.inner.name, dim, self.inner.languages
        self.log = log

    def encode(self, texts):
        self.log.append((self.name, len(texts)))
        return self.inner.encode(texts)


def test_models_encode_groups_of_batches_committed_one_by_one(tmp_path: Path) -> None:
    from workbench.ingest import ENCODE_GROUP_BATCHES

    src = tmp_path / "many.jsonl"
    src.write_text(
        "".join(
            json.dumps({"id": f"d{i}", "text": f"Claim {i} about topic {i % 7}."}) + "\n"
            for i in range(100)
        )
    )
    ws = _ws(tmp_path)
    log: list[tuple[str, int]] = []
    embedders = [_RecordingEmbedder(32, log), _RecordingEmbedder(48, log)]
    generation = ws.generation
    ingest(ws, [src], embedders, batch_size=10)
    # One model encodes a whole group of batches before the other takes over.
    group = 10 * ENCODE_GROUP_BATCHES
    sizes = [min(group, 100 - start) for start in range(0, 100, group)]
    calls = [call for call in log if call[1] > 1]  # without the one-text fingerprint probes
    assert calls == [(name, size) for size in sizes for name in ("hash:32", "hash:48")]
    # Still one transaction per batch of 10 passages.
    assert ws.generation - generation == 10
    # Each passage got the vector of its own text, not a neighbour's in the group.
    for model, dim in (("hash:32", 32), ("hash:48", 48)):
        ids, matrix = ws.load_vectors(model, dim)
        texts = [row[1] for row in ws.iter_passage_texts()]
        assert ids.tolist() == [row[0] for row in ws.iter_passage_texts()]
        assert np.allclose(matrix, HashingEmbedder(dim).encode(texts))
