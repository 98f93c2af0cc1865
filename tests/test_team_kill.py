"""Tests that a reviewer killed mid-action loses nothing it had acknowledged, while another
reviewer writes the same claims (the concurrency bench/team.py measures at scale)."""

from __future__ import annotations

import itertools
import json
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

from workbench.embed import HashingEmbedder
from workbench.ingest import ingest
from workbench.workspace import Workspace

# A reviewer as the review UI writes: read the claim, write verdict + note + a citation with
# expected= what was read, and only once the call has returned acknowledge the write (one
# line, fsync-ed). Every new state is unique (the note holds the pid and a counter), so each
# acknowledgement names exactly one audit row. It writes until the stop file exists; a
# refused (stale) write is reloaded; any other error ends it non-zero.
_REVIEWER = """
import json, os, random, sys
from pathlib import Path
from workbench import verdicts
from workbench.errors import ConflictError
from workbench.scale import SCALE
from workbench.workspace import Workspace

root, reviewer, acks, stop = sys.argv[1:5]
claims, passages = json.loads(sys.argv[5]), json.loads(sys.argv[6])
ws = Workspace.open(Path(root))
rng = random.Random()
fd = os.open(acks, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
n = 0
while not os.path.exists(stop):
    n += 1
    claim = rng.choice(claims)
    seen = verdicts.get_state(ws, claim, reviewer)  # in double review: the reviewer's own
    passage = rng.choice(passages)
    side = "uncite" if passage in seen.cited_ids else "cite"
    try:
        change = verdicts.apply_changes(
            ws, claim, reviewer, verdict=rng.choice(SCALE).id,
            note=f"{reviewer} {os.getpid()} #{n}", **{side: [passage]}, expected=seen,
        )
    except ConflictError:
        continue
    line = {"claim": claim, "reviewer": reviewer, "new": change.new.as_json()}
    os.write(fd, (json.dumps(line) + "\\n").encode())
    os.fsync(fd)
"""

KILLS = 4


def _workspace(root: Path, evidence_file: Path) -> tuple[list[int], list[int]]:
    with Workspace.open(root, create=True) as ws:
        ingest(ws, [evidence_file], [HashingEmbedder(64)])
        texts = [f"Putin met Pompeo in Sochi on {d} May 2019." for d in range(1, 5)]
        claims = [{"text": t, "start": i * 50, "end": i * 50 + len(t)} for i, t in enumerate(texts)]
        ids = ws.add_article("a", "test", "h", "en", " ".join(texts), claims)
        passages = [r[0] for r in ws.conn.execute("SELECT id FROM passages ORDER BY id")]
    return ids, passages[:3]


def _start(root: Path, reviewer: str, acks: Path, stop: Path, claims: list, passages: list):
    args = [str(root), reviewer, str(acks), str(stop), json.dumps(claims), json.dumps(passages)]
    return subprocess.Popen([sys.executable, "-c", _REVIEWER, *args])


def _acknowledged(path: Path) -> list[dict]:
    """The acknowledged writes: whole lines only (a kill in the middle of writing one means
    that write was never acknowledged)."""
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").split("\n")
    return [json.loads(line) for line in lines[:-1]]  # after the last "\n": unfinished


def _norm(state: str) -> str:
    return json.dumps(json.loads(state), sort_keys=True)


def _wait_for_acks(path: Path, more_than: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 15
    while len(_acknowledged(path)) <= more_than:
        assert process.poll() is None, "the reviewer stopped before writing"
        assert time.monotonic() < deadline, "the reviewer wrote nothing in 15 s"
        time.sleep(0.01)


def _kill_ana_beside_ben(
    tmp_path: Path, root: Path, claims: list[int], passages: list[int]
) -> list[dict]:
    """Ana is started and SIGKILLed KILLS times at random moments while Ben reviews the same
    claims throughout, never killed: Ana's kills must not cost him a write or a lock error
    either. Returns both reviewers' acknowledged writes."""
    stop = tmp_path / "stop"
    ana_acks, ben_acks = tmp_path / "acks-ana.jsonl", tmp_path / "acks-ben.jsonl"
    rng = random.Random()
    ben = _start(root, "ben", ben_acks, stop, claims, passages)
    try:
        for _ in range(KILLS):
            before = len(_acknowledged(ana_acks))
            ana = _start(root, "ana", ana_acks, stop, claims, passages)
            _wait_for_acks(ana_acks, before, ana)  # writing, not still starting
            time.sleep(rng.uniform(0.0, 0.3))
            ana.send_signal(signal.SIGKILL)
            assert ana.wait(10) == -signal.SIGKILL
        _wait_for_acks(ben_acks, 0, ben)
    finally:
        stop.touch()
        ben_rc = ben.wait(15)
    assert ben_rc == 0, "the reviewer writing beside the killed one failed"
    return _acknowledged(ana_acks) + _acknowledged(ben_acks)


def test_a_killed_reviewer_loses_no_acknowledged_write(tmp_path: Path, evidence_file: Path):
    root = tmp_path / "ws"
    claims, passages = _workspace(root, evidence_file)
    acks = _kill_ana_beside_ben(tmp_path, root, claims, passages)

    conn = sqlite3.connect(root / "workbench.db")
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    audit = conn.execute("SELECT id, claim_id, reviewer, old, new FROM audit_log ORDER BY id")
    rows = [(i, c, r, _norm(old), _norm(new)) for i, c, r, old, new in audit]
    stored = {
        c: (_norm(json.dumps({"verdict": v, "note": n, "cited": json.loads(cited)})), r)
        for c, v, n, cited, r in conn.execute(
            "SELECT claim_id, verdict, note, cited, reviewer FROM verdicts"
        )
    }
    conn.close()

    # Every acknowledged write, Ana's across her kills and Ben's, is one audit row.
    audited = {(c, r, new): i for i, c, r, _, new in rows}
    assert len({a["reviewer"] for a in acks}) == 2 and len(acks) > KILLS
    missing = [a for a in acks if (a["claim"], a["reviewer"], _norm(a["new"])) not in audited]
    assert missing == []

    # Each claim's trail is unbroken (each change starts from the state the one before left:
    # no committed write was overwritten unseen), and the stored state is its last row's,
    # so the last acknowledged write on each claim is what the claim now holds.
    trail: dict[int, list[tuple]] = defaultdict(list)
    for row in rows:
        trail[row[1]].append(row)
    for claim, steps in trail.items():
        for before, after in itertools.pairwise(steps):
            assert after[3] == before[4], f"claim {claim}: audit row {after[0]} skips a state"
        assert stored[claim] == (steps[-1][4], steps[-1][2])
    for ack in acks:
        key = (ack["claim"], ack["reviewer"], _norm(ack["new"]))
        if audited[key] == trail[ack["claim"]][-1][0]:
            assert stored[ack["claim"]][0] == _norm(ack["new"])


def test_a_killed_reviewer_loses_no_acknowledged_review_in_double_mode(
    tmp_path: Path, evidence_file: Path
):
    # Double review: each reviewer writes their own review and the final verdict is derived
    # in the same transaction; kills must cost neither a review nor the final's consistency.
    root = tmp_path / "ws"
    claims, passages = _workspace(root, evidence_file)
    (root / "config.toml").write_text('[review]\nmode = "double"\neditors = ["eve"]\n')
    acks = _kill_ana_beside_ben(tmp_path, root, claims, passages)

    conn = sqlite3.connect(root / "workbench.db")
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    own = [
        (c, r, _norm(new))
        for c, r, new in conn.execute(
            "SELECT claim_id, reviewer, new FROM audit_log WHERE action NOT LIKE 'final%'"
            " AND action NOT LIKE 'no final%' ORDER BY id"
        )
    ]
    reviews = {
        (c, r): (v, _norm(json.dumps({"verdict": v, "note": n, "cited": json.loads(cited)})))
        for c, r, v, n, cited in conn.execute(
            "SELECT claim_id, reviewer, verdict, note, cited FROM reviews"
        )
    }
    finals = dict(conn.execute("SELECT claim_id, verdict FROM verdicts WHERE verdict != ''"))
    conn.close()
    assert len(acks) > KILLS
    assert [a for a in acks if (a["claim"], a["reviewer"], _norm(a["new"])) not in set(own)] == []
    # Each reviewer's stored review is their last audited change of it, and each final
    # verdict is what the reviews decide: both reviewers gave it.
    last: dict[tuple[int, str], str] = {}
    for claim, reviewer, new in own:
        last[(claim, reviewer)] = new
    assert {key: state for key, (_, state) in reviews.items()} == last
    for claim in claims:
        given = {r: v for (c, r), (v, _) in reviews.items() if c == claim and v}
        if len(given) == 2 and len(set(given.values())) == 1:
            assert finals.get(claim) == next(iter(given.values()))
        else:
            assert claim not in finals
