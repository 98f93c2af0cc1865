"""The Ray engine's workers run the English model at the workspace's precision, passed to them,
whatever their own $WORKBENCH_PRECISION says. Ray itself is not needed: the workers' code runs
here, in an environment of its own, where `ingest` and `match` would hand it to Ray."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from reviewdata import MINI_EVIDENCE
from test_precision import TwoPrecisions
from typer.testing import CliRunner

from workbench import config, embed, ray_engine
from workbench.cli import app
from workbench.embed import PRECISION_ENV
from workbench.ingest import LocalEncoder
from workbench.workspace import Workspace

MODEL = "st:fake-minilm"
runner = CliRunner()


@pytest.fixture(autouse=True)
def _fake_model_and_ray(monkeypatch: pytest.MonkeyPatch) -> None:
    """MODEL loads the fake two-precision model (at `precision` when given, as the real
    MiniLM does); Ray is never started."""
    real = embed.load_embedder

    def load(ref: str, precision: str | None = None) -> Any:
        if ref != MODEL:
            return real(ref, precision)
        model = TwoPrecisions()
        if precision is not None:
            model.precision = precision
        return model

    monkeypatch.setattr(embed, "load_embedder", load)
    monkeypatch.setattr(config, "load_embedder", load)
    monkeypatch.setattr(ray_engine, "start", lambda settings: None)


def _in_worker(precision: str | None, build: Any) -> Any:
    """`build()` run as on a worker whose environment asks for `precision` (None: unset)."""
    with pytest.MonkeyPatch.context() as worker:
        if precision is None:
            worker.delenv(PRECISION_ENV, raising=False)
        else:
            worker.setenv(PRECISION_ENV, precision)
        return build()


def _evidence(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    return path


def test_ingest_workers_embed_at_the_workspace_precision(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[str] = []

    class WorkerEncoder:
        """`RayEncoder` with its worker here: the factory it was given builds the models."""

        def __init__(self, factory: Any, names: list[str], settings: Any) -> None:
            self.factory, self.seconds = factory, 0.0

        def stream(self, batches: list[list[str]]) -> Iterator[tuple[int, dict]]:
            embedders = _in_worker(worker_env, self.factory)
            made.extend(e.precision for e in embedders)
            return LocalEncoder(embedders).stream(batches)

    monkeypatch.setattr(ray_engine, "RayEncoder", WorkerEncoder)
    first = _evidence(tmp_path / "a.jsonl", MINI_EVIDENCE[:3])
    second = _evidence(tmp_path / "b.jsonl", MINI_EVIDENCE[3:])
    ingest = ["ingest", "--model", MODEL, "--engine", "ray"]
    # A new workspace takes this command's precision, not the workers' default...
    monkeypatch.setenv(PRECISION_ENV, "int8")
    worker_env = None
    assert runner.invoke(app, [*ingest, str(first)]).exit_code == 0
    # ...and keeps it when this command names none and the workers' environment another.
    monkeypatch.delenv(PRECISION_ENV)
    worker_env = "fp32"
    result = runner.invoke(app, [*ingest, str(second)])
    assert result.exit_code == 0, result.output
    assert made == ["int8", "int8"]
    with Workspace.open(tmp_path / "ws") as ws:
        assert ws.get_meta("models")[0]["precision"] == "int8"
        ids, vectors = ws.load_vectors(MODEL, 64)
        by_id = ws.passage_index_texts(int(i) for i in ids)
    texts = [by_id[int(i)] for i in ids]
    int8 = TwoPrecisions()
    int8.precision = "int8"
    assert np.allclose(vectors, int8.encode(texts), atol=1e-6)


def test_match_workers_use_the_workspace_precision(
    tmp_path: Path, evidence_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PRECISION_ENV, "int8")
    assert runner.invoke(app, ["ingest", "--model", MODEL, str(evidence_file)]).exit_code == 0
    monkeypatch.delenv(PRECISION_ENV)
    made: list[str] = []

    def match_in_worker(ws: Workspace, factory: Any, fusion: Any, ids: list[int], k: int,
                        pool: int, settings: Any, nli: Any = None) -> list[dict]:  # fmt: skip
        from workbench.match import merge_computed, store_matches

        def build() -> list:
            embedders = factory()
            made.extend(e.precision for e in embedders)
            return embedders

        # A worker whose environment asks for the other precision: it is not asked.
        actor = _in_worker("fp32", lambda: ray_engine._MatchActor(str(ws.root), build, fusion, nli))
        made.extend(e.precision for e in actor.retriever.embedders)
        return store_matches(ws, merge_computed([actor.compute(ids, k, pool)]))

    monkeypatch.setattr(ray_engine, "match_on_ray", match_in_worker)
    claims = tmp_path / "claims.jsonl"
    claims.write_text(json.dumps({"text": "Pompeo met Putin in Sochi.", "lang": "en"}) + "\n")
    result = runner.invoke(app, ["match", str(claims), "--engine", "ray", "-k", "2"])
    assert result.exit_code == 0, result.output
    assert made == ["int8", "int8"]
    assert json.loads(result.stdout.splitlines()[0])["matches"]


def test_the_factory_passes_each_model_its_precision() -> None:
    minilm = embed.canonical_ref("minilm")
    factory = ray_engine.EmbedderFactory.of(
        [minilm, "hash:8"], [embed.load_embedder(minilm, "int8"), embed.HashingEmbedder(8)]
    )
    assert factory.precisions == ["int8", None]
    built = _in_worker("fp32", factory)  # nothing loads: MiniLM loads on first use
    assert built[0].precision == "int8" and built[1].name == "hash:8"
