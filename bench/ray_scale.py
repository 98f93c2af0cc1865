"""Local engine against the Ray engine (Ray started on this machine), same inputs, one run.

Ingest: the same passages (CLEF 2020 fact-checked claims, title + text) into two fresh
workspaces with the default models, once embedded in this process and once on Ray actors
(Ray Data actor pool); passages per second, and Ray's own start-up apart. Match: the same
claims (CLEF 2020 dev tweets) against the same evidence, local `match_claims` against
`match_on_ray` (actors loading the indexes once). Prints the rates and the Ray / local ratio,
and checks that both engines stored the same vectors and returned the same top k.

    python bench/ray_scale.py [--passages 2000] [--claims 200] [--actors 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from workbench import config  # noqa: E402
from workbench.embed import canonical_ref  # noqa: E402
from workbench.ingest import ingest_documents  # noqa: E402
from workbench.match import add_claim_records, match_claims  # noqa: E402
from workbench.models import Document  # noqa: E402
from workbench.ray_engine import (  # noqa: E402
    EmbedderFactory,
    RayEncoder,
    RaySettings,
    match_on_ray,
    shutdown,
    start,
)
from workbench.retrieve import FusionConfig, open_retriever  # noqa: E402
from workbench.workspace import Workspace  # noqa: E402


def _tsv(path: Path) -> list[list[str]]:
    csv.field_size_limit(1 << 30)
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle, delimiter="\t"))


def documents(data: Path, n: int) -> list[Document]:
    rows = _tsv(data / "clef2020-task2" / "verified_claims.docs.tsv")[1:]
    return [
        Document(id=r[0], text=r[1], title=r[2], lang="en")
        for r in rows[:n]
        if len(r) >= 3 and r[1].strip()
    ]


def claims(data: Path, n: int) -> list[dict]:
    rows = _tsv(data / "clef2020-task2" / "dev" / "tweets.queries.tsv")
    return [{"text": r[1], "lang": "en"} for r in rows if r and r[0] != "tweet_id"][:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--passages", type=int, default=2000)
    parser.add_argument("--claims", type=int, default=200)
    parser.add_argument("--actors", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    docs = documents(args.data, args.passages)
    queries = claims(args.data, args.claims)
    work = Path(tempfile.mkdtemp(prefix="ray-scale-"))
    local = Workspace.open(work / "local", create=True)
    names = config.model_names(local, None)
    embedders = config.load_embedders(names)
    for embedder in embedders:
        embedder.encode(["warm up the model"])  # model loading is not part of any rate
    results: dict[str, float] = {}

    started = time.perf_counter()
    report = ingest_documents(local, docs, embedders)
    results["local ingest s"] = time.perf_counter() - started
    passages = report.passages_added

    settings = RaySettings(actors=args.actors, batch_size=256)
    started = time.perf_counter()
    start(settings)
    results["ray start s"] = time.perf_counter() - started
    distributed = Workspace.open(work / "ray", create=True)
    factory = EmbedderFactory.of(names, embedders)  # at the precision they run at here
    encoder = RayEncoder(factory, [canonical_ref(e.name) for e in embedders], settings)
    started = time.perf_counter()
    ingest_documents(distributed, docs, embedders, encoder=encoder)
    results["ray ingest s"] = time.perf_counter() - started

    ids_local, vectors_local = local.load_vectors(
        canonical_ref(embedders[0].name), embedders[0].dim
    )
    ids_ray, vectors_ray = distributed.load_vectors(
        canonical_ref(embedders[0].name), embedders[0].dim
    )
    same_vectors = bool(
        np.array_equal(ids_local, ids_ray) and np.allclose(vectors_local, vectors_ray, atol=1e-5)
    )

    claim_ids = add_claim_records(local, queries, "claims.jsonl")
    add_claim_records(distributed, queries, "claims.jsonl")
    retriever = open_retriever(local, None, FusionConfig())
    retriever.search(["warm up"], ["en"], 5)
    started = time.perf_counter()
    expected = match_claims(local, retriever, claim_ids, 5)
    results["local match s"] = time.perf_counter() - started
    started = time.perf_counter()
    got = match_on_ray(distributed, factory, FusionConfig(), claim_ids, 5, 30, settings)
    results["ray match s"] = time.perf_counter() - started
    shutdown()
    same_top_k = [[m["evidence_id"] for m in r["matches"]] for r in expected] == [
        [m["evidence_id"] for m in r["matches"]] for r in got
    ]

    table = Table(title=f"local vs Ray (local mode, {args.actors} actors), one run")
    for column in ("step", "items", "local /s", "Ray /s", "Ray / local"):
        table.add_column(column, justify="right" if column != "step" else "left")
    for step, items, local_s, ray_s in (
        ("ingest (passages)", passages, results["local ingest s"], results["ray ingest s"]),
        ("match (claims)", len(queries), results["local match s"], results["ray match s"]),
    ):
        table.add_row(
            step, str(items), f"{items / local_s:.1f}", f"{items / ray_s:.1f}",
            f"{local_s / ray_s:.2f}",
        )  # fmt: skip
    console = Console()
    console.print(table)
    console.print(
        f"Ray start-up {results['ray start s']:.1f} s (not in the rates); same vectors: "
        f"{same_vectors}; same top 5: {same_top_k}; models: {', '.join(names)}"
    )
    if args.json:
        args.json.write_text(
            json.dumps({**results, "passages": passages, "claims": len(queries),
                        "same_vectors": same_vectors, "same_top_k": same_top_k}, indent=2)
        )  # fmt: skip


if __name__ == "__main__":
    main()
