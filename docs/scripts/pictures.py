"""Regenerates every picture in docs/images: review UI, adjudication, HTML report, chart.

    .venv/bin/python docs/scripts/pictures.py [--only ui,report,chart]    (or: make pictures)

The review UI screens are SVG that Textual draws itself (`app.run_test(size=...)`, then
`save_screenshot`), on a scratch workspace built as `make run` builds its own: the bundled
evidence, the seed article, the default models. The HTML report is `workbench export
--format html` photographed by headless Chromium. The retrieval chart is drawn from
bench/results/retrieval.json by docs/scripts/chart.py.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
IMAGES = ROOT / "docs" / "images"
SEED = ROOT / "seeds" / "sotchi-poutine-pompeo.fr.txt"
RESULTS = ROOT / "bench" / "results" / "retrieval.json"
UI_SIZES = [(80, 24), (160, 48)]
ADJUDICATION_SIZE = (120, 36)
REPORT_WINDOW = "1000,1600"
DOUBLE_REVIEW = '[review]\nmode = "double"\neditors = ["Eve"]\n'

sys.path.insert(0, str(HERE))


def _workbench(root: Path, *args: str) -> str:
    """Run the installed command line on the scratch workspace, as a user would."""
    env = {**os.environ, "WORKBENCH_HOME": str(root)}
    done = subprocess.run(
        [sys.executable, "-m", "workbench", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        sys.exit(f"workbench {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    return done.stdout


def build_workspace(root: Path) -> list[dict]:
    """The bundled evidence and the seed article's claims; two of them reviewed by Ana."""
    _workbench(root, "ingest", str(ROOT / "evidence"))
    out = _workbench(root, "match", str(SEED), "--top-k", "5", "--published", "2019-05-15")
    claims = [json.loads(line) for line in out.splitlines() if line.strip()]
    first, second = claims[0], claims[1]
    _workbench(
        root,
        *("verdict", str(first["claim_id"]), "true", "--reviewer", "ana"),
        *("--cite", str(first["matches"][0]["passage_id"])),
        *("--note", "The meeting in Sochi is reported by both agencies."),
    )
    _workbench(root, "verdict", str(second["claim_id"]), "mostly-true", "--reviewer", "ana")
    return claims


async def _screenshot(root: Path, reviewer: str, size: tuple[int, int], name: str, keys=()) -> None:
    from workbench.review.app import ReviewApp
    from workbench.settings import Settings

    app = ReviewApp(root, reviewer, Settings())
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        for key in keys:
            await pilot.press(key)
            await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        app.save_screenshot(filename=name, path=str(IMAGES))
    print(f"wrote docs/images/{name}", file=sys.stderr)


async def _adjudication(root: Path, claim_id: int) -> None:
    from workbench.review.app import ReviewApp
    from workbench.settings import Settings

    app = ReviewApp(root, "Eve", Settings())
    async with app.run_test(size=ADJUDICATION_SIZE) as pilot:
        await pilot.pause()
        # Down the queue to the disputed claim (bounded: the queue is the seed's claims).
        for _ in range(50):
            if app.claim is not None and app.claim.id == claim_id:
                break
            await pilot.press("j")
            await pilot.pause()
        await pilot.press("A")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        app.save_screenshot(filename="adjudication.svg", path=str(IMAGES))
    print("wrote docs/images/adjudication.svg", file=sys.stderr)


def review_pictures(root: Path, claims: list[dict]) -> None:
    """The review UI at 80x24 and 160x48, then an editor's adjudication screen."""
    for width, height in UI_SIZES:
        asyncio.run(_screenshot(root, "ana", (width, height), f"review-{width}x{height}.svg"))
    # A copy in double review: two reviewers disagree on a claim Ana left alone.
    desk = root.parent / "desk"
    shutil.copytree(root, desk)
    (desk / "config.toml").write_text(DOUBLE_REVIEW, encoding="utf-8")
    disputed = claims[2]
    cited = str(disputed["matches"][0]["passage_id"])
    _workbench(desk, "verdict", str(disputed["claim_id"]), "mostly-false", "--reviewer", "ben")
    _workbench(
        desk,
        *("verdict", str(disputed["claim_id"]), "misleading", "--reviewer", "chloe"),
        *("--cite", cited, "--note", "Right names, wrong frame: the call was announced later."),
    )
    asyncio.run(_adjudication(desk, disputed["claim_id"]))


def report_picture(root: Path) -> None:
    """The HTML report in headless Chromium (the system's: never a downloaded browser)."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("chromium not found: apt-get install chromium (as .ci/run does)")
    report = root.parent / "report.html"
    _workbench(root, "export", "--format", "html", "--status", "all", "-o", str(report))
    target = IMAGES / "report.png"
    subprocess.run(
        [
            chromium,
            *("--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"),
            f"--screenshot={target}",
            f"--window-size={REPORT_WINDOW}",
            report.as_uri(),
        ],
        check=True,
        capture_output=True,
    )
    print("wrote docs/images/report.png", file=sys.stderr)


def chart_picture() -> None:
    from chart import load_rows, retrieval_chart

    svg = retrieval_chart(load_rows(RESULTS))
    (IMAGES / "retrieval-map5.svg").write_text(svg, encoding="utf-8")
    print("wrote docs/images/retrieval-map5.svg", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="ui,report,chart", help="Comma-separated subset.")
    wanted = set(parser.parse_args().only.split(","))
    IMAGES.mkdir(parents=True, exist_ok=True)
    if "chart" in wanted:
        chart_picture()
    if wanted & {"ui", "report"}:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / "ws"
            claims = build_workspace(root)
            if "ui" in wanted:
                review_pictures(root, claims)
            if "report" in wanted:
                report_picture(root)


if __name__ == "__main__":
    main()
