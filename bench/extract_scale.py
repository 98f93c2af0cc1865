"""Provides the extraction scale benchmark: claim-dense synthetic articles, time and peak memory.

The generator repeats the sentences of two real articles (the French Sotchi fixture and the
English Osaka seed) with their numbers, names, places, months and weekdays drawn afresh from
seeded pools, so that the text is as claim-dense as a wire story but its claims are mostly
distinct facts (a different number, date or person vetoes a merge), which is the worst case
for within-article deduplication and for name completion across the article.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

USAGE = """
For each size, an article generated with a fixed seed is extracted by the real command line
in a fresh process under /usr/bin/time -v: wall time and peak resident memory, and the
number of claims printed. `--tree` runs another copy of the package (a snapshot taken before
a change, for a before/after table); `--keep DIR` keeps the generated articles.

    python bench/extract_scale.py [--sizes 50k,100k,200k,500k,1m,2m] [--scorer rules]
        [--lang fr] [--single-line] [--timeout 600] [--tree DIR] [--json OUT]
    python bench/extract_scale.py --generate 1m --lang fr > article.txt
"""

_SOURCES = {
    "fr": ROOT / "tests/fixtures/sotchi-poutine-pompeo.fr.txt",
    "en": ROOT / "seeds/osaka-trump-putin.en.txt",
}


def _pool(words: str) -> list[str]:
    return words.split()


# Pools that replace the articles' own names, places and calendar words. Surnames and first
# names are combined freely, so the article names hundreds of different people.
_FIRST = _pool(
    "Vladimir Mike Donald Robert Youri Sergueï Dmitri Angela Emmanuel Theresa Boris Xi Shinzo "
    "Justin Olaf Ursula Charles Giorgia Pedro Mark Jens Antonio Kamala Joe Nancy Mitch Hillary "
    "Marine Jean-Luc Édouard Bruno Gérald Élisabeth Anne Rachida Valérie Laurent Nicolas "
    "François Ségolène Manuel Jacques Lionel Dominique Alain Christine Jean-Yves Sylvie"
)
_LAST = _pool(
    "Poutine Pompeo Trump Mueller Ouchakov Lavrov Peskov Merkel Macron May Johnson Jinping Abe "
    "Trudeau Scholz Leyen Michel Meloni Sánchez Rutte Stoltenberg Guterres Harris Biden Pelosi "
    "McConnell Clinton Pen Mélenchon Philippe Maire Darmanin Borne Hidalgo Dati Pécresse Wauquiez "
    "Sarkozy Hollande Royal Valls Chirac Jospin Villepin Juppé Lagarde Drian Aubry Bayrou Fabius"
)
_PLACES = {
    "fr": _pool(
        "Sotchi Osaka Washington Moscou Paris Londres Berlin Pékin Tokyo Genève Bruxelles "
        "Madrid Rome Varsovie Vienne Helsinki Kiev Minsk Ankara Téhéran"
    ),
    "en": _pool(
        "Osaka Sochi Washington Moscow Paris London Berlin Beijing Tokyo Geneva Brussels "
        "Madrid Rome Warsaw Vienna Helsinki Kyiv Minsk Ankara Tehran"
    ),
}
_COUNTRIES = {
    "fr": _pool("Russie Japon Chine Allemagne Italie Espagne Pologne Turquie Ukraine Iran"),
    "en": _pool("Russia Japan China Germany Italy Spain Poland Turkey Ukraine Iran"),
}
_MONTHS = {
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "en": "January February March April May June July August September October November December",
}
_WEEKDAYS = {
    "fr": "lundi mardi mercredi jeudi vendredi samedi dimanche",
    "en": "Monday Tuesday Wednesday Thursday Friday Saturday Sunday",
}


def _sentences(lang: str) -> list[str]:
    # The first line is the update stamp: written once, at the top of the article.
    lines = _SOURCES[lang].read_text(encoding="utf-8").splitlines()[1:]
    return [line.strip() for line in lines if line.strip()]


def _vary(sentence: str, lang: str, rng: random.Random) -> str:
    """One sentence with its numbers, people, places, months and weekdays drawn afresh."""
    people = {name: rng.choice(_LAST) for name in _LAST if name in sentence}
    firsts = {name: rng.choice(_FIRST) for name in _FIRST if name in sentence}
    swap = {**firsts, **people}
    swap.update({p: rng.choice(_PLACES[lang]) for p in _PLACES[lang] if p in sentence})
    swap.update({c: rng.choice(_COUNTRIES[lang]) for c in _COUNTRIES[lang] if c in sentence})
    months, weekdays = _MONTHS[lang].split(), _WEEKDAYS[lang].split()
    swap.update({m: rng.choice(months) for m in months if m in sentence})
    swap.update({d: rng.choice(weekdays) for d in weekdays if d in sentence})
    if swap:
        words = sorted(swap, key=len, reverse=True)
        pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, words)) + r")\b")
        sentence = pattern.sub(lambda m: swap[m.group()], sentence)
    # Every number afresh, same number of digits (a year stays a plausible year).
    return re.sub(
        r"\d+",
        lambda m: (
            str(rng.randint(10 ** (len(m.group()) - 1), 10 ** len(m.group()) - 1))
            if len(m.group()) != 4
            else str(rng.randint(1990, 2030))
        ),
        sentence,
    )


def generate(size: int, lang: str = "fr", seed: int = 0, single_line: bool = False) -> str:
    """A claim-dense article of about `size` characters (never more), reproducible by `seed`."""
    rng = random.Random(seed)
    sentences = _sentences(lang)
    stamp = (
        "Dernière mise à jour à 08h36 le 15/05/2019"
        if lang == "fr"
        else ("Updated 11:02 a.m. June 28, 2019")
    )
    parts, length = [stamp], len(stamp)
    separator = " " if single_line else "\n"
    while True:
        sentence = _vary(rng.choice(sentences), lang, rng)
        if length + len(sentence) + 1 > size:
            break
        parts.append(sentence)
        length += len(sentence) + 1
    return separator.join(parts) + "\n"


def _size(text: str) -> int:
    text = text.strip().lower()
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("km")) * factor)


def _run(path: Path, scorer: str, tree: Path | None, timeout: float) -> dict[str, object]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(tree or ROOT)
    env.setdefault("WORKBENCH_MAX_ARTICLE_MB", "100")
    command = [
        "/usr/bin/time", "-v", "timeout", str(int(timeout)), sys.executable, "-m", "workbench",
        "extract", str(path), "--scorer", scorer, "--max-article-mb", "100",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tree or ROOT)
    stats = {}
    for line in done.stderr.splitlines():
        key, _, value = line.strip().rpartition(": ")
        stats[key] = value
    wall = stats.get("Elapsed (wall clock) time (h:mm:ss or m:ss)", "0:0")
    seconds = sum(float(p) * 60**i for i, p in enumerate(reversed(wall.split(":"))))
    timed_out = done.returncode == 124
    if done.returncode not in (0, 124):
        tail = done.stderr.strip().splitlines()[-3:]
        raise SystemExit(f"extract failed on {path} ({done.returncode}): {tail}")
    return {
        "seconds": round(seconds, 1),
        "peak_mb": round(int(stats.get("Maximum resident set size (kbytes)", 0)) / 1024),
        "claims": None if timed_out else len(done.stdout.splitlines()),
        "timed_out": timed_out,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=USAGE, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--sizes", default="50k,100k,200k,500k,1m,2m")
    parser.add_argument("--scorer", default="rules", choices=("rules", "model"))
    parser.add_argument("--lang", default="fr", choices=("fr", "en"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--single-line", action="store_true")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--tree", type=Path, help="run this copy of the package instead")
    parser.add_argument("--keep", type=Path, help="keep the generated articles here")
    parser.add_argument("--json", type=Path, help="append the rows here as JSON lines")
    parser.add_argument("--generate", help="print one article of this size and stop")
    args = parser.parse_args()
    if args.generate:
        sys.stdout.write(generate(_size(args.generate), args.lang, args.seed, args.single_line))
        return
    folder = args.keep or Path(tempfile.mkdtemp(prefix="extract-scale-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"{'size':>6} {'scorer':>6} {'seconds':>8} {'peak MB':>8} {'claims':>7}")
    for label in args.sizes.split(","):
        text = generate(_size(label), args.lang, args.seed, args.single_line)
        path = folder / f"article-{label}.{args.lang}.txt"
        path.write_text(text, encoding="utf-8")
        row = _run(path, args.scorer, args.tree, args.timeout)
        seconds = f">{args.timeout:.0f}" if row["timed_out"] else str(row["seconds"])
        print(f"{label:>6} {args.scorer:>6} {seconds:>8} {row['peak_mb']:>8} {row['claims']!s:>7}")
        sys.stdout.flush()
        if args.json:
            with args.json.open("a", encoding="utf-8") as out:
                record = {"size": label, "bytes": len(text.encode()), "scorer": args.scorer}
                out.write(json.dumps(record | row | {"tree": str(args.tree or ROOT)}) + "\n")
    if not args.keep:
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()


if __name__ == "__main__":
    main()
