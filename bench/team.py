"""Concurrent reviewers on one workspace: writes, stale refusals, locks, lost writes, latency.

R reviewer processes (spawned, each with its own `Workspace`) review a synthetic workspace of
N claims for D seconds as the review UI does: read a claim's state, think 0-50 ms, write a
verdict (sometimes with a note or a citation) with `expected=` the state read. Each mostly
works on its own share of the claims, and 10% of the time on someone else's, so that real
conflicts happen; a claim changed since it was read is refused (ConflictError), never
overwritten. An editor process, standing in for adjudication, re-reads random reviewed
claims and gives them a verdict the same way.

Every write a process saw succeed is appended to its acknowledgement log after the call
returned. After the run, a write is lost when it was acknowledged but no audit row holds it
(that claim, that reviewer, that new state), or when a claim's stored state is not its last
audit row's. The run fails (exit 1) if anything was lost, if any write met "database is
locked", on any other error, or if the database fails `PRAGMA integrity_check`.

    python bench/team.py [--claims 10000] [--reviewers 10] [--seconds 120] [--workspace DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import random
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

OVERLAP = 0.10  # share of a reviewer's picks taken from the other reviewers' claims
THINK = (0.0, 0.05)  # seconds between reading a claim and writing its verdict
PASSAGES = 60  # synthetic evidence documents (one passage each)
CITABLE = 3  # passages each claim may cite

TEMPLATES = (
    "Vladimir Putin met Mike Pompeo in Sochi on {d} May 2019, article {a}, claim {i}.",
    "Donald Trump spoke to Putin by phone on {d} May about the Mueller report ({i}).",
    "The G20 summit in Osaka brought Trump and Putin together in June, claim {i}.",
    "Le rapport Mueller n'a pas établi de collusion avec la Russie, affirmation {i}.",
)


# ----- the workspace ----------------------------------------------------------------------
def _evidence_file(path: Path) -> Path:
    topics = ("Sochi talks", "phone call", "Mueller report", "G20 Osaka", "election meddling")
    with path.open("w", encoding="utf-8") as out:
        for i in range(PASSAGES):
            topic = topics[i % len(topics)]
            record = {
                "id": f"team-evidence-{i:03d}",
                "title": f"{topic}, report {i}",
                "text": f"Report {i} on the {topic}: officials said on {1 + i % 28} May 2019 "
                f"that the meeting lasted {30 + i} minutes and covered {topic.lower()}.",
                "url": f"https://example.org/team/{i}",
                "publisher": "Example",
                "published": f"2019-05-{1 + i % 28:02d}",
                "lang": "en",
            }
            out.write(json.dumps(record) + "\n")
    return path


def build(root: Path, n_claims: int) -> None:
    """A workspace with synthetic evidence (hash:64) and `n_claims` claims in one article,
    stored in one transaction (no matches: reviewers cite passages by id)."""
    import hashlib

    from workbench.embed import HashingEmbedder
    from workbench.ingest import ingest
    from workbench.workspace import Workspace

    with Workspace.open(root, create=True) as ws, tempfile.TemporaryDirectory() as tmp:
        ingest(ws, [_evidence_file(Path(tmp) / "evidence.jsonl")], [HashingEmbedder(64)])
        claims = []
        for i in range(n_claims):
            text = TEMPLATES[i % len(TEMPLATES)].format(d=1 + i % 28, a=i // 200, i=i)
            lang = "fr" if i % len(TEMPLATES) == 3 else "en"
            claims.append({"text": text, "start": i * 100, "end": i * 100 + len(text)})
            claims[-1].update(lang=lang, score=0.5)
        digest = hashlib.sha256(f"team-bench:{n_claims}".encode()).hexdigest()
        ws.add_article("team-bench", "bench", digest, "en", "", claims)


def _ids(root: Path) -> tuple[list[int], list[int]]:
    """(claim ids, passage ids) of the workspace, in order."""
    from workbench.workspace import Workspace

    with Workspace.open(root) as ws:
        claims = [r[0] for r in ws.conn.execute("SELECT id FROM claims ORDER BY id")]
        passages = [r[0] for r in ws.conn.execute("SELECT id FROM passages ORDER BY id")]
    return claims, passages


# ----- the processes ----------------------------------------------------------------------
def _citable(claim_id: int, passages: list[int]) -> list[int]:
    return [passages[(claim_id * CITABLE + k) % len(passages)] for k in range(CITABLE)]


def _is_locked(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def worker(plan: dict[str, Any], name: str, index: int, seed: int, barrier: Any, at: Any) -> None:
    """One reviewer (`index` its share in `plan["shares"]`; -1 is the editor) writing for
    `plan["seconds"]` once everyone is ready. `at[i]` is where reviewer i is in its queue, for
    the others to run into. Appends its acknowledgements as it goes, and writes its counts and
    latencies at the end."""
    from workbench.workspace import Workspace

    run_dir = Path(plan["run_dir"])
    ws = Workspace.open(Path(plan["root"]))
    ws.require_writable()  # the per-process integrity check, before the clock starts
    with (run_dir / f"acks-{name}.jsonl").open("a", encoding="utf-8") as acks:
        barrier.wait()
        stats = _review(ws, plan, name, index, random.Random(seed), at, acks)
    ws.close()
    (run_dir / f"stats-{name}.json").write_text(json.dumps(stats), encoding="utf-8")


def _pick(ws: Any, plan: dict[str, Any], index: int, rng: random.Random, at: Any) -> int | None:
    """The next claim: the editor's is a reviewed one at random; a reviewer's is the next in
    its own share (its queue), or 10% of the time the one another reviewer is on or about to
    be (two people on one claim: the conflict the UI must catch)."""
    shares = plan["shares"]
    if index < 0:
        row = ws.conn.execute(
            "SELECT claim_id FROM verdicts WHERE claim_id >= ? ORDER BY claim_id LIMIT 1",
            (rng.choice(rng.choice(shares)),),
        ).fetchone()
        return row[0] if row else None
    if len(shares) > 1 and rng.random() < OVERLAP:
        other = rng.choice([i for i in range(len(shares)) if i != index])
        return shares[other][(at[other] + rng.randint(0, 2)) % len(shares[other])]
    return _current(plan, index, at)


def _current(plan: dict[str, Any], index: int, at: Any) -> int:
    """The claim reviewer `index` is on: its queue is its share, round and round."""
    share = plan["shares"][index]
    return share[at[index] % len(share)]


def _review(
    ws: Any,
    plan: dict[str, Any],
    name: str,
    index: int,
    rng: random.Random,
    at: Any,
    acks: Any,
) -> dict[str, Any]:
    from workbench import verdicts
    from workbench.errors import ConflictError, WorkbenchError
    from workbench.scale import SCALE

    ids = [r.id for r in SCALE]
    counts = Counter({"ok": 0, "stale": 0, "locked": 0, "other": 0})
    latencies: list[float] = []
    errors: list[str] = []
    deadline = time.monotonic() + plan["seconds"]
    n = 0
    while time.monotonic() < deadline:
        n += 1
        claim_id = _pick(ws, plan, index, rng, at)
        if claim_id is None:  # the editor, before anything is reviewed
            time.sleep(0.01)
            continue
        seen = verdicts.get_state(ws, claim_id)  # what the reviewer's screen shows
        time.sleep(rng.uniform(*THINK))
        parts: dict[str, Any] = {"verdict": rng.choice([i for i in ids if i != seen.verdict])}
        if index < 0:
            parts["note"] = f"adjudicated by {name} (#{n})"
        elif rng.random() < 0.25:
            parts["note"] = f"{name} #{n}: checked against the cited report"
        if index >= 0 and rng.random() < 0.25:
            passage = rng.choice(_citable(claim_id, plan["passages"]))
            parts["uncite" if passage in seen.cited_ids else "cite"] = [passage]
        started = time.perf_counter()
        try:
            change = verdicts.apply_changes(ws, claim_id, name, **parts, expected=seen)
        except ConflictError:
            outcome = "stale"
        except (sqlite3.OperationalError, WorkbenchError) as exc:
            outcome = "locked" if _is_locked(exc) else "other"
            errors.append(f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # counted and shown, never hidden
            outcome = "other"
            errors.append(f"{type(exc).__name__}: {exc}")
        else:
            outcome = "ok"
        latencies.append((time.perf_counter() - started) * 1000)
        counts[outcome] += 1
        if outcome == "ok":
            # Only now, after the call returned, is the write acknowledged.
            record = {"claim": claim_id, "reviewer": name, "new": change.new.as_json()}
            acks.write(json.dumps(record, ensure_ascii=False) + "\n")
            acks.flush()
        if index >= 0 and claim_id == _current(plan, index, at) and outcome != "stale":
            # On to the next claim in the queue; a refused one is reloaded and decided again.
            at[index] += 1
    return {
        "name": name,
        "index": index,
        "counts": counts,
        "latencies": latencies,
        "errors": errors[:5],
    }


# ----- the checks -------------------------------------------------------------------------
def _norm(state_json: str) -> str:
    return json.dumps(json.loads(state_json), ensure_ascii=False, sort_keys=True)


def check(root: Path, run_dir: Path, audit_before: int) -> dict[str, Any]:
    """Acknowledged writes missing from the audit log, claims whose stored state is not their
    last audit row's (among those this run touched), and the database's integrity."""
    from workbench.verdicts import ReviewState

    acked: Counter[tuple[int, str, str]] = Counter()
    for path in sorted(run_dir.glob("acks-*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            acked[(record["claim"], record["reviewer"], _norm(record["new"]))] += 1
    conn = sqlite3.connect(root / "workbench.db")
    try:
        rows = conn.execute(
            "SELECT claim_id, reviewer, new FROM audit_log WHERE id > ? AND action != 'edit'",
            (audit_before,),
        ).fetchall()
        audited = Counter((c, r, _norm(new)) for c, r, new in rows)
        missing = sum(max(0, n - audited[key]) for key, n in acked.items())
        last = conn.execute(
            "SELECT a.claim_id, a.reviewer, a.new, v.verdict, v.note, v.cited, v.reviewer "
            "FROM audit_log a JOIN (SELECT claim_id, MAX(id) AS id FROM audit_log "
            "WHERE action != 'edit' GROUP BY claim_id HAVING MAX(id) > ?) m ON a.id = m.id "
            "LEFT JOIN verdicts v ON v.claim_id = a.claim_id",
            (audit_before,),
        ).fetchall()
        disagree = 0
        for _, reviewer, new, verdict, note, cited, stored_by in last:
            stored = None
            if verdict is not None:
                stored = ReviewState(verdict, note, tuple(json.loads(cited)))
            if stored != ReviewState.from_json(new) or stored_by != reviewer:
                disagree += 1
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()
    return {
        "acknowledged": sum(acked.values()),
        "missing": missing,
        "disagree": disagree,
        "integrity": integrity,
    }


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


# ----- the run ----------------------------------------------------------------------------
def run(root: Path, reviewers: int, seconds: float, seed: int) -> int:
    claims, passages = _ids(root)
    if len(claims) < reviewers or not passages:
        sys.exit(f"{root} has fewer claims than reviewers, or no passages: build it here")
    with sqlite3.connect(root / "workbench.db") as conn:
        audit_before = conn.execute("SELECT COALESCE(MAX(id), 0) FROM audit_log").fetchone()[0]
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(reviewers + 2)  # the reviewers, the editor and this process
    at = ctx.Array("q", reviewers, lock=False)  # each reviewer's place in its queue
    with tempfile.TemporaryDirectory(prefix="team-run-") as tmp:
        run_dir = Path(tmp)
        shares = [
            claims[r * len(claims) // reviewers : (r + 1) * len(claims) // reviewers]
            for r in range(reviewers)
        ]
        plan = {
            "root": str(root),
            "run_dir": tmp,
            "shares": shares,
            "passages": passages,
            "seconds": seconds,
        }
        names = [f"reviewer-{r + 1:02d}" for r in range(reviewers)] + ["editor"]
        processes = [
            ctx.Process(
                target=worker,
                args=(plan, name, -1 if name == "editor" else i, seed + i, barrier, at),
                name=name,
            )
            for i, name in enumerate(names)
        ]
        for process in processes:
            process.start()
        # All of them open, checked and ready; a process that fails to start breaks the
        # barrier for the others, and is reported as crashed.
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=600)
        for process in processes:
            process.join(seconds + 120)
            if process.is_alive():
                process.kill()
                process.join()
        crashed = [p.name for p in processes if p.exitcode != 0]
        stats = [json.loads(p.read_text()) for p in sorted(run_dir.glob("stats-*.json"))]
        result = check(root, run_dir, audit_before)
    counts: Counter[str] = Counter()
    latencies: list[float] = []
    for s in stats:
        counts.update(s["counts"])
        latencies += s["latencies"]
    lost = result["missing"] + result["disagree"]
    editor = next((s for s in stats if s["index"] < 0), None)
    print(
        "| reviewers | seconds | writes ok | refused stale | locked | other errors | lost "
        "| p50 / p90 / p99 latency | writes/s |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    p50, p90, p99 = (_percentile(latencies, q) for q in (50, 90, 99))
    print(
        f"| {reviewers} + editor | {seconds:g} | {counts['ok']:,} | {counts['stale']:,} "
        f"| {counts['locked']} | {counts['other']} | {lost} "
        f"| {p50:.1f} / {p90:.1f} / {p99:.1f} ms | {counts['ok'] / seconds:.0f} |"
    )
    if editor:
        print(
            f"editor: {editor['counts']['ok']} ok, {editor['counts']['stale']} refused stale; "
            f"{len(claims):,} claims, {result['acknowledged']:,} acknowledged writes checked "
            f"({result['missing']} missing from the audit log, {result['disagree']} claims "
            f"whose stored state is not their last audit row's); integrity_check: "
            f"{result['integrity']}"
        )
    for s in stats:
        for error in s["errors"]:
            print(f"{s['name']}: {error}", file=sys.stderr)
    if crashed or len(stats) != len(processes):
        print(f"processes that failed: {', '.join(crashed) or 'no stats written'}", file=sys.stderr)
    if result["acknowledged"] != counts["ok"]:
        print(
            f"{counts['ok']} writes ok but {result['acknowledged']} acknowledged", file=sys.stderr
        )
    failures = (
        lost,
        counts["locked"],
        counts["other"],
        result["integrity"] != "ok",
        result["acknowledged"] != counts["ok"],
        crashed,
        len(stats) != len(processes),
    )
    return 1 if any(failures) else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--reviewers", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--workspace", type=Path, help="build the workspace here, or reuse the one that is here"
    )
    args = parser.parse_args()
    if args.reviewers < 1 or args.claims < args.reviewers or args.seconds <= 0:
        parser.error("need --reviewers >= 1, --claims >= --reviewers and --seconds > 0")
    with tempfile.TemporaryDirectory(prefix="team-ws-") as tmp:
        root = args.workspace or Path(tmp) / "ws"
        if not (root / "workbench.db").exists():
            started = time.perf_counter()
            build(root, args.claims)
            print(
                f"built {args.claims:,} claims in {time.perf_counter() - started:.1f}s",
                file=sys.stderr,
            )
        code = run(root, args.reviewers, args.seconds, args.seed)
    sys.exit(code)


if __name__ == "__main__":
    main()
