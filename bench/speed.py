"""Ingest throughput against the raw encoders, and match latency per claim, in one run.

For each corpus (the bundled evidence; the 10,373 CLEF 2020 verified claims), it times:
the raw encoders alone over the passages' texts (the ceiling), a full `ingest` into a fresh
workspace (read, chunk, embed, store, index), and `match` latency per claim, one claim at a
time (embed + dense + BM25 + fusion). Models are loaded before timing starts.

    python bench/speed.py [--data ../shared/data] [--sets bundled,clef]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from retrieval import MINILM, USE, load_clef  # noqa: E402

from workbench import config  # noqa: E402
from workbench.extract import extract_claims  # noqa: E402
from workbench.index import store  # noqa: E402
from workbench.ingest import ingest, read_documents  # noqa: E402
from workbench.retrieve import Retriever  # noqa: E402
from workbench.workspace import Workspace  # noqa: E402


def _passage_texts(ws: Workspace) -> list[str]:
    return [row[1] for row in ws.iter_passage_texts()]


def bench_corpus(name: str, corpus: Path, claims: list[tuple[str, str]], workdir: Path) -> dict:
    embedders = config.load_embedders([USE, MINILM])
    for embedder in embedders:
        embedder.encode(["warm up"])  # load weights outside the timings
    ws = Workspace.open(workdir / f"ws-{name}", create=True)
    started = time.perf_counter()
    report = ingest(ws, [corpus], embedders)
    ingest_s = time.perf_counter() - started
    n = report.passages_total
    texts = _passage_texts(ws)
    raw_s = 0.0
    per_model = {}
    for embedder in embedders:
        started = time.perf_counter()
        for i in range(0, len(texts), 256):  # the same batches ingest uses
            embedder.encode(texts[i : i + 256])
        elapsed = time.perf_counter() - started
        per_model[embedder.name] = n / elapsed
        raw_s += elapsed
    retriever = Retriever(embedders, store.load(ws, ws.get_meta("models")))
    retriever.search([claims[0][0]], [claims[0][1]], 5)  # warm caches
    started = time.perf_counter()
    for text, lang in claims:
        retriever.search([text], [lang], 5)
    latency = (time.perf_counter() - started) / len(claims)
    ws.close()
    return {
        "set": name,
        "passages": n,
        "raw_rate": n / raw_s,
        "ingest_rate": n / ingest_s,
        "ratio": raw_s / ingest_s,
        "embed_share": report.embed_seconds / ingest_s,
        "per_model": per_model,
        "claims": len(claims),
        "latency_ms": latency * 1000,
    }


def startup() -> tuple[float, float]:
    """Median wall time of `workbench --help` and of a bare Python start, 5 runs each."""

    def median(cmd: list[str]) -> float:
        times = []
        for _ in range(5):
            started = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            times.append(time.perf_counter() - started)
        return sorted(times)[2]

    return median([sys.executable, "-m", "workbench", "--help"]), median(
        [sys.executable, "-c", "pass"]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--sets", default="bundled,clef")
    args = parser.parse_args()
    seed = (ROOT / "seeds/sotchi-poutine-pompeo.fr.txt").read_text(encoding="utf-8")
    seed_claims = [(c.text, c.lang) for c in extract_claims(seed)]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for name in args.sets.split(","):
            if name == "bundled":
                corpus = ROOT / "evidence/sample-evidence.jsonl"
                read_documents([corpus])
                rows.append(bench_corpus(name, corpus, seed_claims, workdir))
            elif name == "clef":
                corpus, queries, _ = load_clef(args.data, "dev", workdir)
                claims = [(q[1], q[2]) for q in queries]
                rows.append(bench_corpus(name, corpus, claims, workdir))
            else:
                parser.error(f"unknown set {name}")
    print(
        "| corpus | passages | raw encoders (passages/s) | ingest (passages/s) | "
        "ingest / raw | embedding share of ingest | claims timed | match latency per claim |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['set']} | {r['passages']} | {r['raw_rate']:.1f} | {r['ingest_rate']:.1f} | "
            f"{r['ratio']:.0%} | {r['embed_share']:.0%} | {r['claims']} | "
            f"{r['latency_ms']:.1f} ms |"
        )
    for r in rows:
        rates = ", ".join(f"{k} {v:.0f}/s" for k, v in r["per_model"].items())
        print(f"{r['set']}: raw encoder rates {rates}")
    helped, bare = startup()
    print(
        f"\n`workbench --help`: {helped * 1000:.0f} ms; bare Python start: {bare * 1000:.0f} ms "
        f"(ratio {helped / bare:.1f}x)"
    )


if __name__ == "__main__":
    main()
