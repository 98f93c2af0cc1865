"""Review UI responsiveness at 10,000 claims against 100 claims, in one run: prints a table.

Measures, through Textual's headless driver (`App.run_test`): the time to the first screen
(app start until the queue is filled and a claim is shown) and the time from a verdict key to
the next claim rendered on screen (median of 30 presses). No
embedding model is needed: evidence is the bundled corpus indexed with the hashing embedder.

    python bench/review_scale.py [--claims 10000] [--baseline 100]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from workbench.embed import HashingEmbedder  # noqa: E402
from workbench.index import store  # noqa: E402
from workbench.ingest import ingest  # noqa: E402
from workbench.match import add_claim_records, match_claims  # noqa: E402
from workbench.retrieve import FusionConfig, Retriever  # noqa: E402
from workbench.settings import Settings  # noqa: E402
from workbench.workspace import Workspace  # noqa: E402

TEMPLATES = (
    "Vladimir Putin met Mike Pompeo in Sochi on {d} May 2019, article {a}, claim {i}.",
    "Donald Trump spoke to Putin by phone on {d} May about the Mueller report ({i}).",
    "The G20 summit in Osaka brought Trump and Putin together in June, claim {i}.",
    "Le rapport Mueller n'a pas établi de collusion avec la Russie, affirmation {i}.",
)


def build(root: Path, n_claims: int) -> None:
    ws = Workspace.open(root, create=True)
    embedders = [HashingEmbedder(64)]
    ingest(ws, [ROOT / "evidence/sample-evidence.jsonl"], embedders)
    per_article = 200
    records = [
        {
            "text": TEMPLATES[i % len(TEMPLATES)].format(d=1 + i % 28, a=i // per_article, i=i),
            "article": f"article-{i // per_article:03d}",
            "lang": "fr" if i % len(TEMPLATES) == 3 else "en",
            "start": (i % per_article) * 100,
        }
        for i in range(n_claims)
    ]
    ids = add_claim_records(ws, records, "bench")
    retriever = Retriever(
        embedders, store.load(ws, ws.get_meta("models")), FusionConfig(focus_weight=0.0)
    )
    for start in range(0, len(ids), 1000):
        match_claims(ws, retriever, ids[start : start + 1000], 5)
    ws.close()


async def measure(root: Path, presses: int = 30) -> tuple[float, float, float]:
    """(first screen, verdict key to the next claim rendered, the action alone) in seconds.

    The key goes in through the driver as a terminal's would; the clock stops when the
    screen has been refreshed after the verdict action (`call_after_refresh`), that is when
    the next claim is on screen. Pilot's `press` is not used for this: it also waits for
    the whole app to go idle, about 100 ms per key here, which a person does not wait for.
    """
    from textual import events

    from workbench.review.app import ReviewApp

    started = time.perf_counter()
    app = ReviewApp(root, "bench", Settings())
    async with app.run_test(size=(160, 48)) as pilot:
        while app.claim is None:
            await pilot.pause()
        first_screen = time.perf_counter() - started
        action = app.action_verdict
        direct: list[float] = []
        shown = asyncio.Event()

        def timed_action(verdict_id: str) -> None:
            begun = time.perf_counter()
            action(verdict_id)
            direct.append(time.perf_counter() - begun)
            app.call_after_refresh(shown.set)

        app.action_verdict = timed_action  # type: ignore[method-assign]
        keyed = []
        for _ in range(presses):
            before = app.claim.id if app.claim else None
            shown.clear()
            started = time.perf_counter()
            app._driver.send_message(events.Key("1", "1"))  # as a terminal's driver does
            await asyncio.wait_for(shown.wait(), timeout=10)
            keyed.append(time.perf_counter() - started)
            assert app.claim is None or app.claim.id != before
            await pilot.pause()
        await pilot.press("q")
    return first_screen, statistics.median(keyed), statistics.median(direct)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--baseline", type=int, default=100)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (args.baseline, args.claims):
            root = Path(tmp) / f"ws-{n}"
            started = time.perf_counter()
            build(root, n)
            print(f"built {n} claims in {time.perf_counter() - started:.0f}s", file=sys.stderr)
            rows.append((n, *asyncio.run(measure(root))))
    base = rows[0]
    print(
        "| claims in queue | first screen | verdict key -> next claim on screen "
        "| the verdict action alone |"
    )
    print("|---|---|---|---|")
    for n, first, handled, direct in rows:
        print(
            f"| {n:,} | {first * 1000:.0f} ms ({first / base[1]:.1f}x) | "
            f"{handled * 1000:.1f} ms ({handled / base[2]:.1f}x) | "
            f"{direct * 1000:.1f} ms ({direct / base[3]:.1f}x) |"
        )
    print(
        "targets at 10,000 claims: first screen < 1500 ms, verdict key -> next claim < 50 ms "
        "(medians of 30 key presses)"
    )


if __name__ == "__main__":
    main()
