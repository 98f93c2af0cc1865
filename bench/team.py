"""Concurrent reviewers and an editor on one workspace: writes, stale refusals, locks, lost
writes, final verdicts against the review rules, latency.

R reviewer processes (spawned, each with its own `Workspace`) review a synthetic workspace of
N claims for D seconds as the review UI does: read the claim's state, think 0-50 ms, write a
verdict (sometimes with a note or a citation) with `expected=` the state read; a state changed
since it was read is refused (ConflictError), never overwritten. The workspace's config.toml
sets the mode (`--mode`, default double) with one editor, "editor".

- single: the state is the claim's verdict. Each reviewer works down its own share, and 10%
  of the time opens the claim another reviewer is on, so real conflicts happen; the editor
  re-decides random reviewed claims the same way.
- double: the state is the reviewer's own review (blind). Each reviewer's queue is its share
  and the next reviewer's, interleaved, so every claim gets two reviewers at about the same
  time, 10% of picks a third; a claim's second reviewer agrees with the first about 70% of
  the time. Nobody else changes a reviewer's review, so refusals come from the reviewer's
  own second window: 10% of writes are made from a view read before one of its own recent
  writes. The editor loops over the claims in dispute, adjudicates one (one of the reviews'
  verdicts), and now and then approves a few final verdicts (all or nothing).

Every write a process saw succeed is appended to its acknowledgement log after the call
returned, and checked afterwards (`check`): lost (an acknowledged review not in the audit
log, or not the reviewer's stored review; an adjudication that is not the final verdict; an
approval not audited) and, in double mode, inconsistent (a final verdict the rules would not
give). The run fails (exit 1) on anything lost or inconsistent, any "database is locked" or
other error, or a database failing `PRAGMA integrity_check`.

    python bench/team.py [--mode single|double] [--claims 10000] [--reviewers 10]
                         [--seconds 120] [--workspace DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import multiprocessing
import random
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter, deque
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

EDITOR = "editor"
OVERLAP = 0.10  # share of a reviewer's picks taken from the other reviewers' queues
SECOND_WINDOW = 0.10  # double mode: share of writes made from the reviewer's other window
AGREE = 0.70  # double mode: chance a claim's later reviewer agrees with its first
MIND = 0.05  # double mode: chance a revisit gives the verdict again (half of them: another)
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


def configure(root: Path, mode: str) -> None:
    """The workspace's review rules for this run: `mode`, with "editor" its one editor (the
    bench's workspace is its own: an existing config.toml is replaced)."""
    (root / "config.toml").write_text(
        f'[review]\nmode = "{mode}"\neditors = ["{EDITOR}"]\n', encoding="utf-8"
    )


# ----- the processes ----------------------------------------------------------------------
def _citable(claim_id: int, passages: list[int]) -> list[int]:
    return [passages[(claim_id * CITABLE + k) % len(passages)] for k in range(CITABLE)]


def _is_locked(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def worker(plan: dict[str, Any], name: str, index: int, seed: int, barrier: Any, at: Any) -> None:
    """One reviewer (`index` its queue in `plan["queues"]`; -1 is the editor) writing for
    `plan["seconds"]` once everyone is ready. `at[i]` is where reviewer i is in its queue, for
    the others to run into. Appends its acknowledgements as it goes, and writes its counts and
    latencies at the end."""
    from workbench.workspace import Workspace

    run_dir = Path(plan["run_dir"])
    ws = Workspace.open(Path(plan["root"]))
    ws.require_writable()  # the per-process integrity check, before the clock starts
    rng = random.Random(seed)
    with (run_dir / f"acks-{name}.jsonl").open("a", encoding="utf-8") as acks:
        barrier.wait()
        if index >= 0:
            stats = _review(ws, plan, name, index, rng, at, acks)
        elif plan["mode"] == "double":
            stats = _adjudicate(ws, plan, name, rng, acks)
        else:
            stats = _redecide(ws, plan, name, rng, acks)
    ws.close()
    (run_dir / f"stats-{name}.json").write_text(json.dumps(stats), encoding="utf-8")


class _Tally:
    """One process's outcomes (ok, stale, locked, other), write latencies and first errors."""

    def __init__(self) -> None:
        self.counts = Counter({"ok": 0, "stale": 0, "locked": 0, "other": 0})
        self.latencies: list[float] = []
        self.errors: list[str] = []

    def attempt(
        self, stale: tuple[type[BaseException], ...], write: Any, *args: Any, **kwargs: Any
    ) -> tuple[str, Any]:
        """Call `write(*args, **kwargs)`: its outcome ("stale" for the `stale` exceptions: a
        refusal the workbench owes the writer) and its result, timed."""
        from workbench.errors import WorkbenchError

        started = time.perf_counter()
        result = None
        try:
            result = write(*args, **kwargs)
        except stale:
            outcome = "stale"
        except (sqlite3.OperationalError, WorkbenchError) as exc:
            outcome = "locked" if _is_locked(exc) else "other"
            self.errors.append(f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # counted and shown, never hidden
            outcome = "other"
            self.errors.append(f"{type(exc).__name__}: {exc}")
        else:
            outcome = "ok"
        self.latencies.append((time.perf_counter() - started) * 1000)
        self.counts[outcome] += 1
        return outcome, result

    def stats(self, name: str, index: int, **more: Any) -> dict[str, Any]:
        return {
            "name": name,
            "index": index,
            "counts": self.counts,
            "latencies": self.latencies,
            "errors": self.errors[:5],
            **more,
        }


def _ack(acks: Any, record: dict[str, Any]) -> None:
    # Only called once the write's call has returned: then, and only then, it is acknowledged.
    acks.write(json.dumps(record, ensure_ascii=False) + "\n")
    acks.flush()


def _current(plan: dict[str, Any], index: int, at: Any) -> int:
    """The claim reviewer `index` is on: its queue, round and round."""
    queue = plan["queues"][index]
    return queue[at[index] % len(queue)]


def _pick(plan: dict[str, Any], index: int, rng: random.Random, at: Any) -> int:
    """A reviewer's next claim: the next in its queue, or 10% of the time the one another
    reviewer is on or about to be (single mode: two people on one claim, the conflict the UI
    must catch; double mode: a third review of a claim)."""
    queues = plan["queues"]
    if len(queues) > 1 and rng.random() < OVERLAP:
        other = rng.choice([i for i in range(len(queues)) if i != index])
        return queues[other][(at[other] + rng.randint(0, 2)) % len(queues[other])]
    return _current(plan, index, at)


def _opinion(plan: dict[str, Any], claim_id: int, name: str, index: int) -> str:
    """Double mode: the verdict reviewer `index` holds on a claim, the same at every visit.
    The claim's first reviewer (its share's owner) gives the claim's "true" verdict, anyone
    else agrees with it with probability AGREE: about 70% of pairs agree."""
    truth_rng = random.Random(f"{plan['seed']}:{claim_id}")
    truth = truth_rng.choice(plan["scale"])
    if claim_id in plan["owned"][index]:
        return truth
    rng = random.Random(f"{plan['seed']}:{claim_id}:{name}")
    if rng.random() < AGREE:
        return truth
    return rng.choice([v for v in plan["scale"] if v != truth])


def _review(
    ws: Any,
    plan: dict[str, Any],
    name: str,
    index: int,
    rng: random.Random,
    at: Any,
    acks: Any,
) -> dict[str, Any]:
    """A reviewer as the review UI writes: read the claim (in double mode, its own review),
    think, write a verdict (sometimes a note or a citation) with `expected=` what was read.

    Double mode: a claim's state is the reviewer's own review, which nobody else changes, so
    a refusal can only come from the reviewer's own other window: SECOND_WINDOW of the writes
    are made there, from a view read before one of the reviewer's own recent writes. Every
    write changes the review (a first verdict, else a unique note or a citation toggled), so
    each of those is refused."""
    from workbench import verdicts
    from workbench.errors import ConflictError

    double = plan["mode"] == "double"
    tally = _Tally()
    recent: deque[tuple[int, Any]] = deque(maxlen=50)  # (claim, the view written from)
    windows = 0
    deadline = time.monotonic() + plan["seconds"]
    n = 0
    while time.monotonic() < deadline:
        n += 1
        other_window = double and recent and rng.random() < SECOND_WINDOW
        if other_window:
            claim_id, seen = rng.choice(recent)
            windows += 1
        else:
            claim_id = _pick(plan, index, rng, at)
            # What the reviewer's screen shows: in double mode its own review (blind).
            seen = verdicts.get_state(ws, claim_id, name if double else None)
        time.sleep(rng.uniform(*THINK))
        parts: dict[str, Any] = {}
        if not double:
            parts["verdict"] = rng.choice([i for i in plan["scale"] if i != seen.verdict])
        elif not seen.verdict or rng.random() < MIND:
            verdict = _opinion(plan, claim_id, name, index)
            if seen.verdict and rng.random() < 0.5:  # a change of mind (and back, next visit)
                verdict = rng.choice([i for i in plan["scale"] if i != seen.verdict])
            parts["verdict"] = verdict
        cite = rng.random() < 0.25
        if rng.random() < 0.25 or (double and seen.verdict and not cite):
            parts["note"] = f"{name} #{n}: checked against the cited report"
        if cite:
            passage = rng.choice(_citable(claim_id, plan["passages"]))
            parts["uncite" if passage in seen.cited_ids else "cite"] = [passage]
        outcome, change = tally.attempt(
            (ConflictError,), verdicts.apply_changes, ws, claim_id, name, **parts, expected=seen
        )
        if outcome == "ok":
            new = change.new.as_json()
            _ack(acks, {"kind": "review", "claim": claim_id, "reviewer": name, "new": new})
            recent.append((claim_id, seen))
        if not other_window and claim_id == _current(plan, index, at) and outcome != "stale":
            # On to the next claim in the queue; a refused one is reloaded and decided again.
            at[index] += 1
    return tally.stats(name, index, second_window=windows)


def _redecide(
    ws: Any, plan: dict[str, Any], name: str, rng: random.Random, acks: Any
) -> dict[str, Any]:
    """Single mode's editor: re-reads random reviewed claims and gives them a verdict as a
    reviewer does (there is no adjudication in single mode)."""
    from workbench import verdicts
    from workbench.errors import ConflictError

    tally = _Tally()
    deadline = time.monotonic() + plan["seconds"]
    n = 0
    while time.monotonic() < deadline:
        n += 1
        row = ws.conn.execute(
            "SELECT claim_id FROM verdicts WHERE claim_id >= ? ORDER BY claim_id LIMIT 1",
            (rng.choice(rng.choice(plan["queues"])),),
        ).fetchone()
        if row is None:  # before anything is reviewed
            time.sleep(0.01)
            continue
        claim_id = row[0]
        seen = verdicts.get_state(ws, claim_id)
        time.sleep(rng.uniform(*THINK))
        parts = {
            "verdict": rng.choice([i for i in plan["scale"] if i != seen.verdict]),
            "note": f"adjudicated by {name} (#{n})",
        }
        outcome, change = tally.attempt(
            (ConflictError,), verdicts.apply_changes, ws, claim_id, name, **parts, expected=seen
        )
        if outcome == "ok":
            new = change.new.as_json()
            _ack(acks, {"kind": "review", "claim": claim_id, "reviewer": name, "new": new})
    return tally.stats(name, -1)


_DISPUTES = (
    "SELECT r.claim_id FROM reviews r LEFT JOIN verdicts v ON v.claim_id = r.claim_id"
    " WHERE r.verdict != '' AND (v.claim_id IS NULL OR v.verdict = '')"
    " GROUP BY r.claim_id HAVING COUNT(DISTINCT r.verdict) > 1 LIMIT 64"
)
# The final verdicts not yet approved, and (same snapshot) the audit log's last row: what the
# editor sees when it approves, and from when.
_TO_APPROVE = (
    "SELECT claim_id, (SELECT MAX(id) FROM audit_log) FROM verdicts"
    " WHERE verdict != '' AND approved_by = '' ORDER BY random() LIMIT ?"
)


def _adjudicate(
    ws: Any, plan: dict[str, Any], name: str, rng: random.Random, acks: Any
) -> dict[str, Any]:
    """Double mode's editor: loops over the claims in dispute, reads one's reviews, thinks
    and adjudicates it (one of the reviews' verdicts, with a note), and now and then
    approves a few final verdicts (all or nothing). Where the workbench has
    `decision_basis`, the editor decides with `expected=` what it read, as the adjudication
    screen does: a claim changed since is refused, counted as stale; so is an approval batch
    with a claim that lost its final verdict since it was read."""
    from workbench import verdicts
    from workbench.errors import ConflictError, InputError

    tally = _Tally()
    adjudicated = approved = approve_calls = 0
    deadline = time.monotonic() + plan["seconds"]
    n = 0
    while time.monotonic() < deadline:
        n += 1
        disputes = [r[0] for r in ws.conn.execute(_DISPUTES)]
        if disputes and rng.random() < 0.7:
            claim_id = rng.choice(disputes)
            if verdicts.claim_status(ws, claim_id) != "in dispute":
                continue  # decided since the list was read
            read_at, bases = _read(ws, plan, [claim_id])
            given = sorted({r["verdict"] for r in bases[claim_id]["reviews"] if r["verdict"]})
            time.sleep(rng.uniform(*THINK))
            verdict, note = rng.choice(given), f"adjudicated by {name} (#{n})"
            seen = {"expected": bases[claim_id]} if plan["editor_expected"] else {}
            outcome, change = tally.attempt(
                (ConflictError,), verdicts.adjudicate, ws, claim_id, verdict, name, note, **seen
            )
            if outcome == "ok":
                adjudicated += 1
                record = {"kind": "adjudicate", "claim": claim_id, "read_at": read_at}
                _ack(acks, {**record, "new": change.new.as_json()})
            continue
        rows = ws.conn.execute(_TO_APPROVE, (rng.randint(1, 5),)).fetchall()
        if not rows:
            time.sleep(0.01)
            continue
        read_at, bases = _read(ws, plan, [r[0] for r in rows])
        time.sleep(rng.uniform(*THINK))
        seen = {"expected": bases} if plan["editor_expected"] else {}
        outcome, done = tally.attempt(
            (ConflictError, InputError), verdicts.approve, ws, list(bases), name, **seen
        )
        if outcome == "ok":
            approve_calls += 1
            approved += len(done)
            _ack(acks, {"kind": "approve", "claims": done, "read_at": read_at})
    return tally.stats(
        name, -1, adjudicated=adjudicated, approved=approved, approve_calls=approve_calls
    )


def _read(ws: Any, plan: dict[str, Any], claims: list[int]) -> tuple[int, dict[int, Any]]:
    """What the editor decides from: each claim's `decision_basis` (its reviews alone where
    the workbench has none), and the audit log's last row id when it was read (read again
    until no write came in between, so the checks know what the editor saw)."""
    from workbench import verdicts

    for _ in range(10):
        read_at = ws.conn.execute("SELECT MAX(id) FROM audit_log").fetchone()[0]
        if plan["editor_expected"]:
            bases = {c: verdicts.decision_basis(ws, c) for c in claims}
        else:
            bases = {c: {"reviews": verdicts.reviews_of(ws, c)} for c in claims}
        if ws.conn.execute("SELECT MAX(id) FROM audit_log").fetchone()[0] == read_at:
            break
    return read_at, bases


# ----- the checks -------------------------------------------------------------------------
REVIEW_ACTIONS = ("verdict", "clear verdict", "note", "cite", "uncite")
# Audit rows that change (or drop) a claim's final verdict in double mode.
FINAL_ACTIONS = ("final (reviews agree)", "adjudicate")


def _norm(state_json: str) -> str:
    return json.dumps(json.loads(state_json), ensure_ascii=False, sort_keys=True)


def _acks(run_dir: Path) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for path in sorted(run_dir.glob("acks-*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
    ]


def check(
    root: Path, run_dir: Path, audit_before: int, mode: str, before: dict[int, tuple[bool, bool]]
) -> dict[str, Any]:
    """Everything acknowledged against the database, the final verdicts against the rules,
    and the database's integrity.

    Lost: an acknowledged review with no audit row (that claim, reviewer, new state); a
    reviewer whose stored review of a claim is not its last acknowledged one; in single mode
    a claim whose stored verdict is not its last audit row's; in double mode an acknowledged
    adjudication that is not the claim's final verdict (no later one replaces it: one
    editor), an acknowledged approval with no audit row. Inconsistent (double mode): a final
    verdict by agreement where the reviews do not all agree or it is not their merge,
    agreeing reviews without a final verdict, a final verdict decided otherwise, an approval
    of a claim without a final verdict, or an approval the audit trail does not explain.
    Counted apart, not failures of the rules (`approve` and `adjudicate` take no
    `expected=`): the editor's decisions on a claim whose final verdict changed between the
    editor's read and the write (`unseen`). `before` is each claim's (final, approved) when
    the run started."""
    acks = _acks(run_dir)
    reviews = [a for a in acks if a["kind"] == "review"]
    adjudications = [a for a in acks if a["kind"] == "adjudicate"]
    approvals = [a for a in acks if a["kind"] == "approve"]
    lost: Counter[str] = Counter()
    bad: Counter[str] = Counter()
    unseen: Counter[str] = Counter()
    conn = sqlite3.connect(root / "workbench.db")
    try:
        rows = conn.execute(
            "SELECT id, claim_id, reviewer, action, old, new FROM audit_log WHERE id > ?"
            " ORDER BY id",
            (audit_before,),
        ).fetchall()
        audited = Counter(
            (c, r, _norm(new)) for _, c, r, action, _, new in rows if action in REVIEW_ACTIONS
        )
        acked = Counter((a["claim"], a["reviewer"], _norm(a["new"])) for a in reviews)
        lost["review not in the audit log"] = sum(
            max(0, k - audited[key]) for key, k in acked.items()
        )
        # Each process acknowledges in the order it wrote: its last word on each claim.
        last = {(a["claim"], a["reviewer"]): _norm(a["new"]) for a in reviews}
        stored = {
            (c, r): _norm(json.dumps({"verdict": v, "note": note, "cited": json.loads(cited)}))
            for c, r, v, note, cited in conn.execute(
                "SELECT claim_id, reviewer, verdict, note, cited FROM reviews"
            )
        }
        lost["review not the reviewer's stored one"] = sum(
            stored.get(key) != state for key, state in last.items()
        )
        finals = {
            r[0]: r[1:]
            for r in conn.execute(
                "SELECT claim_id, verdict, note, cited, reviewer, decided_by, approved_by"
                " FROM verdicts WHERE verdict != ''"
            )
        }
        if mode == "single":
            why = "review: a claim's verdict not its last audit row's"
            lost[why] = _single_mode_disagree(conn, audit_before)
        given: dict[int, list[tuple[str, str, str, list[int]]]] = {}
        for c, r, v, note, cited in conn.execute(
            "SELECT claim_id, reviewer, verdict, note, cited FROM reviews WHERE verdict != ''"
        ):
            ids = [int(x["passage_id"]) for x in json.loads(cited)]
            given.setdefault(c, []).append((r, v, note, ids))
        if mode == "double":
            _check_double(rows, finals, given, adjudications, approvals, before, lost, bad, unseen)
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()
    twice = [{g[1] for g in reviews} for reviews in given.values() if len(reviews) > 1]
    return {
        "acknowledged": len(acks),
        "lost": lost,
        "inconsistent": bad,
        "unseen": unseen,
        "integrity": integrity,
        "reviewed": len(given),
        "reviewed twice": len(twice),
        "agreeing": sum(len(v) == 1 for v in twice),
        "in dispute": sum(
            len({g[1] for g in reviews}) > 1 and c not in finals for c, reviews in given.items()
        ),
        "finals": len(finals),
        "approved": sum(1 for f in finals.values() if f[5]),
    }


def _check_double(
    rows: list[tuple],
    finals: dict[int, tuple],
    given: dict[int, list[tuple[str, str, str, list[int]]]],
    adjudications: list[dict[str, Any]],
    approvals: list[dict[str, Any]],
    before: dict[int, tuple[bool, bool]],
    lost: Counter[str],
    bad: Counter[str],
    unseen: Counter[str],
) -> None:
    """Double mode's rules over every claim, and the editor's acknowledged work (see
    `check`). `rows` are this run's audit rows (id, claim, reviewer, action, old, new)."""
    touched = {r[1] for r in rows}
    trail: dict[int, list[tuple]] = {}
    for r in rows:
        trail.setdefault(r[1], []).append(r)
    for claim in set(given) | set(finals):
        reviews = given.get(claim, [])
        said = {r[1] for r in reviews}
        agree = len(reviews) >= 2 and len(said) == 1
        final = finals.get(claim)
        if final is None:
            if agree and claim in touched:
                bad["agreeing reviews without a final verdict"] += 1
            continue
        verdict, note, cited, _, decided_by, _ = final
        if decided_by == "agreement":
            if not agree or verdict not in said:
                bad["final by agreement without agreeing reviews"] += 1
            elif not _is_merge(note, cited, reviews):
                bad["final by agreement not the reviews' notes and citations"] += 1
        elif decided_by != "adjudication" and claim in touched:
            bad[f"final decided by {decided_by or 'nobody'} in double mode"] += 1

    # Adjudications stand: the editor's last word on each claim is its final verdict.
    audited = {(r[1], r[2], r[3], _norm(r[5])) for r in rows}
    last = {a["claim"]: _norm(a["new"]) for a in adjudications}
    for a in adjudications:
        if (a["claim"], EDITOR, "adjudicate", _norm(a["new"])) not in audited:
            lost["adjudication not in the audit log"] += 1
    for a in adjudications:
        steps = [r for r in trail.get(a["claim"], []) if r[0] > a["read_at"]]
        at = next((i for i, r in enumerate(steps) if r[3] == "adjudicate"), len(steps))
        if any(_changes_final(r[3]) for r in steps[:at]):
            unseen["adjudications"] += 1
    for claim, state in last.items():
        final = finals.get(claim)
        held = None
        if final is not None and final[4] == "adjudication" and final[3] == EDITOR:
            held = json.dumps(
                {"verdict": final[0], "note": final[1], "cited": json.loads(final[2])}
            )
        if held is None or _norm(held) != state:
            lost["adjudication not the final verdict"] += 1

    # Approvals: each acknowledged one audited; none of a claim without a final verdict or
    # changed since the editor read it; the approvals standing are what the trail says.
    for a in approvals:
        for claim in a["claims"]:
            steps = [r for r in trail.get(claim, []) if r[0] > a["read_at"]]
            at = next((i for i, r in enumerate(steps) if r[3] == "approve"), None)
            if at is None:
                lost["approval not in the audit log"] += 1
            elif any(_changes_final(r[3]) for r in steps[:at]):
                unseen["approvals"] += 1
    for claim, steps in trail.items():
        has_final, approved = before.get(claim, (False, False))
        for _, _, _, action, old, new in steps:
            if action == "final (reviews agree)" or action.startswith("no final verdict"):
                has_final, approved = action.startswith("final"), False
            elif action == "adjudicate":
                has_final, approved = True, approved and _norm(old) == _norm(new)
            elif action == "approve":
                if not has_final:
                    bad["approval of a claim without a final verdict"] += 1
                approved = True
        stands = claim in finals and bool(finals[claim][5])
        if stands != (approved and has_final):
            bad["approval not what the audit trail says"] += 1


def _changes_final(action: str) -> bool:
    return action in FINAL_ACTIONS or action.startswith("no final verdict")


def _is_merge(note: str, cited: str, reviews: list[tuple[str, str, str, list[int]]]) -> bool:
    """Whether a final verdict's note and citations are its reviews' together: each
    reviewer's note under their name, every cited passage once."""
    notes = sorted(f"{r}: {n}" for r, _, n, _ in reviews if n.strip())
    ids = sorted({i for *_, cites in reviews for i in cites})
    held = sorted(int(c["passage_id"]) for c in json.loads(cited))
    return sorted(note.split("\n") if note else []) == notes and held == ids


def _single_mode_disagree(conn: sqlite3.Connection, audit_before: int) -> int:
    """Claims touched this run whose stored verdict (and its reviewer) is not their last
    review audit row's."""
    from workbench.verdicts import ReviewState

    marks = ",".join("?" * len(REVIEW_ACTIONS))
    last = conn.execute(
        "SELECT a.claim_id, a.reviewer, a.new, v.verdict, v.note, v.cited, v.reviewer "
        "FROM audit_log a JOIN (SELECT claim_id, MAX(id) AS id FROM audit_log "
        f"WHERE action IN ({marks}) GROUP BY claim_id HAVING MAX(id) > ?) m ON a.id = m.id "
        "LEFT JOIN verdicts v ON v.claim_id = a.claim_id",
        (*REVIEW_ACTIONS, audit_before),
    ).fetchall()
    disagree = 0
    for _, reviewer, new, verdict, note, cited, stored_by in last:
        stored = None
        if verdict is not None:
            stored = ReviewState(verdict, note, tuple(json.loads(cited)))
        if stored != ReviewState.from_json(new) or stored_by != reviewer:
            disagree += 1
    return disagree


def _percentile(values: list[float], q: int) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


# ----- the run ----------------------------------------------------------------------------
def _queues(claims: list[int], reviewers: int, mode: str) -> tuple[list[list[int]], list]:
    """Each reviewer's share of the claims, and its queue: in single mode its share; in
    double mode its share and the next reviewer's, interleaved, so that every claim has two
    reviewers (its share's owner and the one before) who reach it at about the same time."""
    shares = [
        claims[r * len(claims) // reviewers : (r + 1) * len(claims) // reviewers]
        for r in range(reviewers)
    ]
    if mode == "single":
        return shares, shares
    queues = []
    for r in range(reviewers):
        pairs = itertools.zip_longest(shares[r], shares[(r + 1) % reviewers])
        queues.append([c for pair in pairs for c in pair if c is not None])
    return shares, queues


def run(root: Path, reviewers: int, seconds: float, seed: int, mode: str) -> int:
    from workbench import verdicts
    from workbench.scale import SCALE

    claims, passages = _ids(root)
    if len(claims) < reviewers or not passages:
        sys.exit(f"{root} has fewer claims than reviewers, or no passages: build it here")
    configure(root, mode)
    with contextlib.closing(sqlite3.connect(root / "workbench.db")) as conn:
        audit_before = conn.execute("SELECT COALESCE(MAX(id), 0) FROM audit_log").fetchone()[0]
        before = {
            c: (bool(v), bool(a))
            for c, v, a in conn.execute("SELECT claim_id, verdict, approved_by FROM verdicts")
        }
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(reviewers + 2)  # the reviewers, the editor and this process
    at = ctx.Array("q", reviewers, lock=False)  # each reviewer's place in its queue
    shares, queues = _queues(claims, reviewers, mode)
    with tempfile.TemporaryDirectory(prefix="team-run-") as tmp:
        run_dir = Path(tmp)
        plan = {
            "root": str(root),
            "run_dir": tmp,
            "mode": mode,
            "queues": queues,
            "owned": [set(share) for share in shares] if mode == "double" else [],
            "passages": passages,
            "scale": [r.id for r in SCALE],
            "seconds": seconds,
            "seed": seed,
            # The editor decides with expected= what it read, where the workbench can check it.
            "editor_expected": hasattr(verdicts, "decision_basis"),
        }
        names = [f"reviewer-{r + 1:02d}" for r in range(reviewers)] + [EDITOR]
        processes = [
            ctx.Process(
                target=worker,
                args=(plan, name, -1 if name == EDITOR else i, seed + i, barrier, at),
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
        result = check(root, run_dir, audit_before, mode, before)
    if plan["editor_expected"]:
        # The editor wrote with expected= what it read: a decision over a change it did not
        # see is then the workbench failing its check, not the API's limit.
        for what, k in result.pop("unseen").items():
            result["inconsistent"][f"editor's {what[:-1]} over a change made since its read"] = k
    return report(result, stats, processes, reviewers, seconds, mode, len(claims), crashed)


def report(
    result: dict[str, Any],
    stats: list[dict[str, Any]],
    processes: list[Any],
    reviewers: int,
    seconds: float,
    mode: str,
    n_claims: int,
    crashed: list[str],
) -> int:
    """Print the table (a row for the reviewers, one for the editor) and the checks; the
    exit status: 1 on anything lost or inconsistent, any lock or other error, a crash."""
    roles = {"reviewers": Counter(), "editor": Counter()}
    latencies: dict[str, list[float]] = {"reviewers": [], "editor": []}
    for s in stats:
        role = "editor" if s["index"] < 0 else "reviewers"
        roles[role].update(s["counts"])
        latencies[role] += s["latencies"]
    lost, bad = result["lost"], result["inconsistent"]
    lost_by = {
        # (In single mode the editor's re-decisions are reviews too, counted on the first row.)
        "reviewers": sum(n for why, n in lost.items() if why.startswith("review")),
        "editor": sum(n for why, n in lost.items() if not why.startswith("review")),
    }
    print(
        "| mode | role | seconds | writes ok | refused stale | locked | other errors | lost "
        "| p50 / p90 / p99 latency | writes/s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for role, label in (("reviewers", f"{reviewers} reviewers"), ("editor", "editor")):
        counts = roles[role]
        p50, p90, p99 = (_percentile(latencies[role], q) for q in (50, 90, 99))
        print(
            f"| {mode} | {label} | {seconds:g} | {counts['ok']:,} | {counts['stale']:,} "
            f"| {counts['locked']} | {counts['other']} | {lost_by[role]} "
            f"| {p50:.1f} / {p90:.1f} / {p99:.1f} ms | {counts['ok'] / seconds:.0f} |"
        )
    editor = next((s for s in stats if s["index"] < 0), {})
    windows = sum(s.get("second_window", 0) for s in stats)
    if mode == "double":
        twice = result["reviewed twice"]
        print(
            f"double: {result['reviewed']:,} of {n_claims:,} claims reviewed, {twice:,} by two "
            f"or more ({result['agreeing'] / max(twice, 1):.0%} of those agree); "
            f"{windows:,} writes from a second window; editor: "
            f"{editor.get('adjudicated', 0):,} disputes adjudicated, "
            f"{editor.get('approved', 0):,} claims approved in "
            f"{editor.get('approve_calls', 0):,} calls; now {result['finals']:,} final, "
            f"{result['approved']:,} approved, {result['in dispute']:,} in dispute"
        )
    if result.get("unseen"):
        print(
            "editor decisions on a final verdict changed after the editor read it (approve and "
            "adjudicate take no expected=): "
            + ", ".join(f"{n} {what}" for what, n in result["unseen"].items())
        )
    print(
        f"checked {result['acknowledged']:,} acknowledged writes: lost "
        f"{sum(lost.values())}, inconsistent {sum(bad.values())}; "
        f"integrity_check: {result['integrity']}"
    )
    for why, n in (lost + bad).items():
        print(f"  {why}: {n}", file=sys.stderr)
    for s in stats:
        for error in s["errors"]:
            print(f"{s['name']}: {error}", file=sys.stderr)
    if crashed or len(stats) != len(processes):
        print(f"processes that failed: {', '.join(crashed) or 'no stats written'}", file=sys.stderr)
    ok = roles["reviewers"]["ok"] + roles["editor"]["ok"]
    if result["acknowledged"] != ok:
        print(f"{ok} writes ok but {result['acknowledged']} acknowledged", file=sys.stderr)
    failures = (
        sum(lost.values()),
        sum(bad.values()),
        *(roles[r]["locked"] + roles[r]["other"] for r in roles),
        result["integrity"] != "ok",
        result["acknowledged"] != ok,
        crashed,
        len(stats) != len(processes),
    )
    return 1 if any(failures) else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--reviewers", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--mode", choices=("single", "double"), default="double")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--workspace", type=Path, help="build the workspace here, or reuse the one that is here"
    )
    args = parser.parse_args()
    least = 2 if args.mode == "double" else 1
    if args.reviewers < least or args.claims < args.reviewers or args.seconds <= 0:
        parser.error(
            f"need --reviewers >= {least} (in {args.mode} mode), --claims >= --reviewers "
            "and --seconds > 0"
        )
    with tempfile.TemporaryDirectory(prefix="team-ws-") as tmp:
        root = args.workspace or Path(tmp) / "ws"
        if not (root / "workbench.db").exists():
            started = time.perf_counter()
            build(root, args.claims)
            print(
                f"built {args.claims:,} claims in {time.perf_counter() - started:.1f}s",
                file=sys.stderr,
            )
        code = run(root, args.reviewers, args.seconds, args.seed, args.mode)
    sys.exit(code)


if __name__ == "__main__":
    main()
