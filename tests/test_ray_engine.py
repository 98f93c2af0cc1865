"""The Ray engine (Ray started on this machine, 2 CPUs): the local engine's answers, an actor
killed mid-ingest, an unreachable cluster, and the CLI through its entry point."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

ray = pytest.importorskip("ray")

from workbench.cli import app  # noqa: E402
from workbench.embed import HashingEmbedder  # noqa: E402
from workbench.errors import WorkbenchError  # noqa: E402
from workbench.index import store  # noqa: E402
from workbench.ingest import ingest_documents, read_documents  # noqa: E402
from workbench.match import COUNTER_POOL, add_claim_records, match_claims  # noqa: E402
from workbench.ray_engine import (  # noqa: E402
    EmbedderFactory,
    RayEncoder,
    RaySettings,
    match_on_ray,
    shutdown,
    start,
)
from workbench.retrieve import FusionConfig, Retriever  # noqa: E402
from workbench.workspace import Workspace  # noqa: E402

MODEL = "hash:64"
SETTINGS = RaySettings(actors=2, batch_size=40, cpus=2)
TOPICS = ["vaccine", "election", "climate", "budget", "summit", "border", "tariff", "strike"]
PLACES = ["Paris", "Lyon", "Osaka", "Sochi", "Berlin", "Madrid", "Rome", "Oslo", "Quebec"]
PEOPLE = ["Putin", "Trump", "Macron", "Merkel", "Pompeo", "Lavrov", "Sanchez", "Draghi"]


@pytest.fixture(scope="module", autouse=True)
def _ray() -> Iterator[None]:
    # One Ray for the module: starting it costs seconds.
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    start(SETTINGS)
    yield
    shutdown()


def _corpus(path: Path, n: int = 300) -> Path:
    rng = np.random.default_rng(7)
    records = []
    for i in range(n):
        topic, place, person = TOPICS[i % 8], PLACES[i % 9], PEOPLE[(i // 3) % 8]
        number = int(rng.integers(2, 900))
        records.append(
            {
                "id": f"doc-{i}",
                "title": f"{person} on the {topic}",
                "text": f"{person} said in {place} on {1 + i % 28} May 2019 that the {topic} "
                f"cost {number} million dollars; item {i}.",
                "lang": "en",
                "published": "2019-06-01",
            }
        )
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _claims(n: int = 100) -> list[dict]:
    return [
        {
            "text": f"{PEOPLE[i % 8]} said in {PLACES[(i * 5) % 9]} that the {TOPICS[i % 8]} cost "
            f"{10 + i} million dollars on {1 + i % 28} May 2019.",
            "lang": "en",
        }
        for i in range(n)
    ]


def _ranked(records: list[dict]) -> list[list[tuple[str, float]]]:
    return [[(m["evidence_id"], round(m["score"], 5)) for m in r["matches"]] for r in records]


def test_both_engines_give_the_same_vectors_and_the_same_top_k(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "corpus.jsonl")
    docs = read_documents([corpus])
    local = Workspace.open(tmp_path / "local", create=True)
    ingest_documents(local, docs, [HashingEmbedder(64)], batch_size=64)
    distributed = Workspace.open(tmp_path / "ray", create=True)
    factory = EmbedderFactory([MODEL], [None])  # no int8 form: no precision
    encoder = RayEncoder(factory, [MODEL], SETTINGS)
    report = ingest_documents(
        distributed, docs, [HashingEmbedder(64)], batch_size=64, encoder=encoder
    )
    assert report.passages_added == 300
    ids_a, vectors_a = local.load_vectors(MODEL, 64)
    ids_b, vectors_b = distributed.load_vectors(MODEL, 64)
    assert np.array_equal(ids_a, ids_b) and np.array_equal(vectors_a, vectors_b)

    claims = _claims()
    ids = add_claim_records(local, claims, "claims.jsonl")
    assert add_claim_records(distributed, claims, "claims.jsonl") == ids
    retriever = Retriever(
        [HashingEmbedder(64)], store.load(local, local.get_meta("models")), None,
        local.passage_index_texts,
    )  # fmt: skip
    expected = match_claims(local, retriever, ids, 5)
    got = match_on_ray(distributed, factory, FusionConfig(), ids, 5, COUNTER_POOL, SETTINGS)
    assert _ranked(got) == _ranked(expected)
    assert [[m["agreement"] for m in r["matches"]] for r in got] == [
        [m["agreement"] for m in r["matches"]] for r in expected
    ]
    # The driver wrote what the workers found, claim vectors included.
    assert [m["evidence_id"] for m in distributed.matches(ids[0])] == [
        m["evidence_id"] for m in expected[0]["matches"]
    ]
    assert set(distributed.claim_vectors(MODEL)) == set(ids)


class CrashOnceFactory:
    """Hashing embedders that kill their worker process the first time any worker encodes
    after `after` calls (a marker file says it happened), as a killed actor would die."""

    def __init__(self, marker: str, after: int = 2) -> None:
        self.marker = marker
        self.after = after

    def __call__(self) -> list:
        marker, after = self.marker, self.after

        class Crashing(HashingEmbedder):
            calls = 0

            def encode(self, texts):  # type: ignore[no-untyped-def]
                Crashing.calls += 1
                if Crashing.calls > after and not os.path.exists(marker):
                    Path(marker).write_text(str(os.getpid()))
                    os._exit(1)  # the process dies mid-batch, nothing is returned
                return super().encode(texts)

        return [Crashing(64)]


def test_an_actor_killed_mid_ingest_is_retried_and_the_workspace_is_consistent(
    tmp_path: Path,
) -> None:
    import ray.cloudpickle

    # The workers cannot import this test module: send the factory by value.
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    corpus = _corpus(tmp_path / "corpus.jsonl", n=400)
    docs = read_documents([corpus])
    marker = tmp_path / "killed"
    ws = Workspace.open(tmp_path / "ws", create=True)
    encoder = RayEncoder(CrashOnceFactory(str(marker)), [MODEL], SETTINGS)
    report = ingest_documents(ws, docs, [HashingEmbedder(64)], batch_size=64, encoder=encoder)
    assert marker.exists(), "no worker was killed: the test did not test anything"
    assert report.documents_added == 400
    assert ws.count("documents") == 400 and ws.count("passages") == 400
    ids, vectors = ws.load_vectors(MODEL, 64)
    assert len(ids) == 400
    expected = HashingEmbedder(64).encode([d.title + "\n" + d.text for d in docs])
    assert np.allclose(np.sort(vectors, axis=0), np.sort(expected, axis=0))
    assert store.is_fresh(ws, ws.read_manifest())
    again = ingest_documents(ws, docs, [HashingEmbedder(64)], encoder=encoder)
    assert again.documents_unchanged == 400 and again.passages_added == 0


def test_an_unreachable_cluster_is_a_one_line_error() -> None:
    shutdown()
    try:
        with pytest.raises(WorkbenchError, match=r"cannot reach the Ray cluster at 127\.0\.0\.1:1"):
            start(RaySettings(address="127.0.0.1:1"))
        with pytest.raises(WorkbenchError, match="not host:port"):
            start(RaySettings(address="nowhere"))
    finally:
        start(SETTINGS)


def test_cli_engines_agree_through_the_entry_point(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "corpus.jsonl", n=120)
    claims = tmp_path / "claims.jsonl"
    claims.write_text("".join(json.dumps(c) + "\n" for c in _claims(20)), encoding="utf-8")
    runner = CliRunner()
    outputs = []
    for engine in ("local", "ray"):
        root = str(tmp_path / engine)
        common = ["-w", root, "--engine", engine, "--actors", "2"]
        result = runner.invoke(app, ["ingest", str(corpus), "--model", MODEL, *common])
        assert result.exit_code == 0, result.output
        result = runner.invoke(app, ["match", str(claims), *common])
        assert result.exit_code == 0, result.output
        outputs.append(_ranked([json.loads(line) for line in result.stdout.splitlines()]))
    assert outputs[0] == outputs[1] and len(outputs[0]) == 20
    shutdown()  # as in a fresh process: no Ray running yet
    try:
        result = runner.invoke(
            app, ["ingest", str(corpus), "-w", str(tmp_path / "x"), "--model", MODEL,
                  "--engine", "ray", "--address", "127.0.0.1:1"],
        )  # fmt: skip
    finally:
        start(SETTINGS)
    assert result.exit_code != 0
    assert "cannot reach the Ray cluster" in result.output
    assert not (tmp_path / "x").exists()  # nothing created
    result = runner.invoke(app, ["ingest", str(corpus), "--engine", "spark"])
    assert result.exit_code != 0 and "unknown engine 'spark'" in result.output
