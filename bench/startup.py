"""Review UI start-up in a real terminal: from spawn to the first screen that shows the claim.

`workbench review` is spawned as a person starts it, in a pseudo-terminal (stdlib `pty`, with
the window size set by TIOCSWINSZ and TERM=xterm-256color), and its output is read as a
terminal would receive it. The clock runs from the spawn to the read that completes a
distinctive fragment of the first queued claim's text on screen (escape sequences stripped,
see `visible_text`); then `q` is sent and the process must exit (it is killed otherwise).
This is what a reviewer waits for: interpreter start, imports, opening the workspace, the
first query and the first full frame; the headless bench (bench/review_scale.py) starts its
clock after the imports and stops before anything reaches a terminal.

Baselines in the same run, spawned the same way, timed to their exit: `python -c pass` and
`python -c "import textual.app"`. Workspaces are built without models (hashing embedder,
synthetic claims in articles of 100 sentences, 5 stored matches each).

    python bench/startup.py [--claims 100,10000] [--sizes 80x24,160x48] [--repeat 5]
                            [--json OUT] [--keep DIR] [--profile DIR]

`--profile DIR` also runs the largest workspace once under `-X importtime` and once under
cProfile (in the pty), writes the raw outputs into DIR and prints the top imports and calls.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import re
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PER_ARTICLE = 100
MATCHES = 5
# The first claim of the queue (first article, offset 0). The fragment sits past column 45 of
# the claim: the queue's claim column (about 41 characters at both sizes) never shows it, so
# it appears only when the claim panel is drawn, and it stays within the panel's first line
# (about 76 columns at 80x24 and at 160x48), so that no wrap splits it.
FIRST_CLAIM = (
    "The port authority of Sochi said on 3 May that the quokka ferry charter "
    "would cost 4 million roubles."
)
FRAGMENT = "quokka ferry charter"
assert 45 <= FIRST_CLAIM.index(FRAGMENT) < 76 - len(FRAGMENT)

# CSI (with private markers and intermediates), OSC / DCS / APC / PM strings up to BEL or ST,
# and two-character escapes (ESC 7, ESC =, ...).
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b[\]P_^][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[ -/]*[0-~]"
)
# Cursor moves between rows (CUP, VPA, CNL, CPL, and line feeds) start a new visible line;
# SGR and every other sequence inside a row are dropped, so differently styled spans of one
# row read as contiguous text.
_ROW_MOVES = re.compile(r"\x1b\[[0-9;]*[HfdEF]")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def visible_text(raw: str) -> str:
    """The text a terminal shows from `raw`, row by row: each cursor move to another row
    starts a line, every other escape sequence and control character is removed."""
    text = _ROW_MOVES.sub("\n", raw)
    text = _ESCAPES.sub("", text)
    return _CONTROLS.sub("", text.replace("\r", "\n"))


@dataclass
class Measurement:
    """One spawn: seconds to the first byte written, to the fragment on screen (None when not
    seen) and to the exit (None when killed)."""

    output_s: float | None
    first_s: float | None
    exit_s: float | None
    killed: bool
    text: str


def _set_size(fd: int, columns: int, rows: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))


def _controlling_tty() -> None:
    # As a terminal emulator does: the child leads a new session whose terminal is the pty.
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """End the child's session: TERM, then KILL if it is still there after 3 s."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=3)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The caller's environment with a terminal's TERM, no size override and no model hub."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env.update(TERM="xterm-256color", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    env.update(extra or {})
    return env


def measure(
    argv: Sequence[str],
    fragment: str | None = None,
    size: tuple[int, int] = (80, 24),
    timeout: float = 60.0,
    env: dict[str, str] | None = None,
    stderr: int | None = None,
) -> Measurement:
    """Spawn `argv` in a pty of `size` (columns, rows) and time it.

    With `fragment`: seconds from the spawn to the read after which the visible text holds
    it, then `q` is sent and the exit awaited. Without: seconds to the exit. A process still
    running `timeout` seconds after the spawn (or 10 s after `q`) is killed. `stderr` is a
    file descriptor for the child's stderr (default: the pty, as in a terminal)."""
    master, slave = os.openpty()
    _set_size(slave, *size)
    raw = bytearray()
    first: float | None = None
    output: float | None = None
    quit_at: float | None = None
    started = time.perf_counter()
    proc = subprocess.Popen(
        list(argv),
        stdin=slave,
        stdout=slave,
        stderr=slave if stderr is None else stderr,
        env=env if env is not None else child_env(),
        cwd=ROOT,
        preexec_fn=_controlling_tty,
        close_fds=True,
    )
    os.close(slave)
    deadline = started + timeout
    try:
        while True:
            now = time.perf_counter()
            limit = deadline if quit_at is None else min(deadline, quit_at + 10)
            if now >= limit:
                break
            ready, _, _ = select.select([master], [], [], limit - now)
            if not ready:
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: every slave end is closed, the child has gone
                chunk = b""
            read_at = time.perf_counter()
            if not chunk:
                break
            raw += chunk
            output = output if output is not None else read_at - started
            if fragment is not None and first is None:
                # The tail is enough: the fragment is in the latest frame, and a sequence cut
                # at the window's start only drops a few characters there.
                window = bytes(raw[-262144:]).decode("utf-8", "replace")
                if fragment in visible_text(window):
                    first = read_at - started
                    os.write(master, b"q")
                    quit_at = read_at
        with contextlib.suppress(subprocess.TimeoutExpired):
            end = deadline if quit_at is None else min(deadline, quit_at + 10)
            proc.wait(timeout=max(0.1, end - time.perf_counter()))
    finally:
        exited = proc.poll() is not None
        ended = time.perf_counter() - started
        if not exited:
            _kill(proc)
        os.close(master)
    exit_s = ended if exited else None
    return Measurement(
        output, first, exit_s, not exited, visible_text(raw.decode("utf-8", "replace"))
    )


# ----- workspaces and commands ------------------------------------------------------------
def build_workspace(root: Path, n_claims: int) -> Path:
    """A workspace of `n_claims` claims (articles of 100 sentences, `FIRST_CLAIM` first), the
    bundled evidence indexed with the hashing embedder, 5 stored matches per claim."""
    sys.path.insert(0, str(ROOT))
    from workbench.embed import HashingEmbedder
    from workbench.ingest import ingest
    from workbench.models import Hit
    from workbench.workspace import Workspace

    with Workspace.open(root, create=True) as ws:
        ingest(ws, [ROOT / "evidence/sample-evidence.jsonl"], [HashingEmbedder(64)])
        passages = [int(p) for p in ws.passage_ids_and_langs()[0]]
        hits = [Hit(p, 1.0 - rank / 10, {"bm25": 1.0}) for rank, p in enumerate(passages[:MATCHES])]
        ids: list[int] = []
        for article in range((n_claims + PER_ARTICLE - 1) // PER_ARTICLE):
            count = min(PER_ARTICLE, n_claims - article * PER_ARTICLE)
            sentences = [
                f"Vladimir Putin met Mike Pompeo in Sochi on {n % 28 + 1} May 2019 "
                f"(meeting {article}-{n})."
                for n in range(count)
            ]
            if article == 0:
                sentences[0] = FIRST_CLAIM
            claims, start = [], 0
            for sentence in sentences:
                end = start + len(sentence)
                claims.append({"text": sentence, "start": start, "end": end, "lang": "en"})
                start = end + 1
            name = f"article-{article:03d}.txt"
            ids += ws.add_article(name, "", f"h{article}", "en", " ".join(sentences), claims)
        ws.save_matches([(claim_id, hits) for claim_id in ids])
    return root


def review_command(workspace: Path, reviewer: str = "bench") -> list[str]:
    """`workbench review` on `workspace`, run by this interpreter (`python -m workbench`)."""
    return [
        sys.executable, "-m", "workbench", "review",
        "--workspace", str(workspace), "--reviewer", reviewer,
    ]  # fmt: skip


BASELINES = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "python -c 'import textual.app'": [sys.executable, "-c", "import textual.app"],
}


# ----- profiles -------------------------------------------------------------------------
HEAVY = (
    "torch", "sentence_transformers", "transformers", "faiss", "numpy", "scipy", "numba",
    "llvmlite", "sklearn", "trafilatura", "htmldate", "lxml", "bm25s", "ranx", "py3langid",
    "krippendorff", "threadpoolctl", "pydantic", "typer", "rich", "textual", "sqlite3",
    "asyncio", "workbench",
)  # fmt: skip
_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def import_times(log: str) -> list[tuple[str, int, int, int]]:
    """`-X importtime` lines as (module, self us, cumulative us, depth), in import order."""
    found = []
    for line in log.splitlines():
        m = _IMPORT_LINE.match(line)
        if m:
            depth = (len(m.group(3)) - 1) // 2
            found.append((m.group(4), int(m.group(1)), int(m.group(2)), depth))
    return found


def import_report(log: str, top: int = 15) -> str:
    """Total import time; the imports that running code asked for (depth 0, cumulative), so
    that lazy imports on the way to the first screen show up; each big library's share."""
    rows = import_times(log)
    total = sum(r[1] for r in rows)
    out = [f"imports: {len(rows)} modules, {total / 1000:.0f} ms in all (self times summed)"]
    out.append(f"heaviest {top} imports made by running code (cumulative ms, in import order):")
    roots = sorted((r for r in rows if r[3] == 0), key=lambda r: -r[2])[:top]
    out += [f"  {cum / 1000:7.1f}  {name}" for name, _, cum, _ in sorted(roots, key=rows.index)]
    out.append("big libraries (all their modules' self times, ms; modules):")
    for lib in HEAVY:
        mods = [r for r in rows if r[0] == lib or r[0].startswith(lib + ".")]
        own = sum(r[1] for r in mods)
        out.append(f"  {lib:22} " + (f"{own / 1000:7.1f}  {len(mods)}" if mods else "-"))
    mine = sorted((r for r in rows if r[0].startswith("workbench")), key=lambda r: -r[1])
    out.append("workbench modules by self time (ms):")
    out += [f"  {own / 1000:7.1f}  {name}" for name, own, _, _ in mine[:10]]
    return "\n".join(out)


_IMPORT_WRAPPER = """
import os, runpy, sys
tty = os.dup(2)
os.dup2(os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), 2)
sys.stderr = sys.__stderr__ = os.fdopen(tty, "w", encoding="utf-8", errors="replace")
sys.argv = ["workbench", *sys.argv[2:]]
runpy.run_module("workbench", run_name="__main__", alter_sys=True)
"""


def profile(workspace: Path, size: tuple[int, int], out: Path) -> None:
    """Run the review UI once under `-X importtime` and once under cProfile, in the pty; write
    the raw outputs into `out` and print the summaries."""
    import pstats

    out.mkdir(parents=True, exist_ok=True)
    review = review_command(workspace)
    log = out / "importtime.txt"
    # Textual draws on stderr, where -X importtime writes too: the wrapper gives Textual the
    # terminal on another descriptor and sends fd 2 (the import log) to the file.
    argv = [review[0], "-X", "importtime", "-c", _IMPORT_WRAPPER, str(log), *review[3:]]
    m = measure(argv, FRAGMENT, size)
    print(f"\n## -X importtime ({m.first_s or 0:.2f} s to the claim on screen with it)\n")
    report = import_report(log.read_text())
    (out / "imports-summary.txt").write_text(report + "\n")
    print(report)
    prof = out / "review.prof"
    m = measure([review[0], "-m", "cProfile", "-o", str(prof), *review[1:]], FRAGMENT, size)
    print(f"\n## cProfile ({m.first_s or 0:.2f} s to the claim on screen with it)\n")
    with (out / "cprofile-top.txt").open("w") as text:
        stats = pstats.Stats(str(prof), stream=text)
        stats.sort_stats("cumulative").print_stats(60)
        stats.sort_stats("tottime").print_stats(30)
        stats.print_callers("execute|fetchall|fetchone")
    stats = pstats.Stats(str(prof), stream=sys.stdout)
    stats.sort_stats("cumulative").print_stats(r"workbench|sqlite3|textual/app.py", 30)


# ----- the run ----------------------------------------------------------------------------
@dataclass
class Row:
    """The repeated measurements of one command at one terminal size."""

    name: str
    size: str
    claims: int | None
    seconds: list[float]
    """To the claim on screen (the review UI), or to the exit (a baseline)."""
    first_output: list[float]
    exits: list[float]
    killed: int


def run_row(
    name: str,
    argv: Sequence[str],
    size: tuple[int, int],
    repeat: int,
    fragment: str | None = None,
    claims: int | None = None,
) -> Row:
    seconds, outputs, exits, killed = [], [], [], 0
    for _ in range(repeat):
        m = measure(argv, fragment, size)
        value = m.first_s if fragment is not None else m.exit_s
        if value is None:
            what = f"{fragment!r} never shown" if fragment else "did not exit"
            raise SystemExit(f"{name} at {size}: {what}; screen:\n{m.text.strip()[-2000:]}")
        seconds.append(value)
        outputs += [m.output_s] if m.output_s is not None else []
        exits += [m.exit_s] if m.exit_s is not None else []
        killed += m.killed
    return Row(name, f"{size[0]}x{size[1]}", claims, seconds, outputs, exits, killed)


def _ms(seconds: Sequence[float]) -> str:
    return (
        f"{statistics.median(seconds) * 1000:.0f} / {max(seconds) * 1000:.0f}" if seconds else "-"
    )


def table(rows: Sequence[Row]) -> str:
    """Markdown: median and max per row, the median's ratio to `python -c pass` at its size."""
    base = {r.size: statistics.median(r.seconds) for r in rows if r.name == "python -c pass"}
    lines = [
        "| command | terminal | claim on screen (or exit), ms median / max | x `python -c pass` "
        "| first byte, ms median / max | exit (q sent once shown), ms median / max | killed |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ratio = statistics.median(r.seconds) / base[r.size] if r.size in base else float("nan")
        lines.append(
            f"| {r.name} | {r.size} | {_ms(r.seconds)} | {ratio:.1f}x | {_ms(r.first_output)} "
            f"| {_ms(r.exits) if r.claims is not None else '-'} | {r.killed} |"
        )
    return "\n".join(lines)


def _sizes(text: str) -> list[tuple[int, int]]:
    return [(int(c), int(r)) for c, r in (s.lower().split("x") for s in text.split(","))]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", default="100,10000", help="workspace sizes, comma-separated")
    parser.add_argument("--sizes", default="80x24,160x48", help="terminal sizes COLSxROWS")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, help="write the measurements here")
    parser.add_argument("--keep", type=Path, help="build (or reuse) the workspaces here")
    parser.add_argument("--profile", type=Path, help="write import and cProfile profiles here")
    args = parser.parse_args(argv)
    counts = [int(c) for c in args.claims.split(",")]
    sizes = _sizes(args.sizes)
    with contextlib.ExitStack() as stack:
        base = args.keep or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        workspaces = {}
        for n in counts:
            root = base / f"ws-{n}"
            if not root.exists():
                started = time.perf_counter()
                build_workspace(root, n)
                took = time.perf_counter() - started
                print(f"built {n:,} claims in {took:.1f} s", file=sys.stderr)
            workspaces[n] = root
        rows = []
        for size in sizes:
            for name, command in BASELINES.items():
                rows.append(run_row(name, command, size, args.repeat))
            for n, root in workspaces.items():
                name = f"workbench review ({n:,} claims)"
                rows.append(run_row(name, review_command(root), size, args.repeat, FRAGMENT, n))
            print(f"measured {size[0]}x{size[1]}", file=sys.stderr)
        print(table(rows))
        print(f"\n{args.repeat} runs each; target: claim on screen <= 1000 ms at 10,000 claims.")
        if args.json:
            args.json.write_text(json.dumps([asdict(r) for r in rows], indent=1) + "\n")
        if args.profile:
            profile(workspaces[max(workspaces)], sizes[-1], args.profile)


if __name__ == "__main__":
    main()
