"""Provides the Ray engine: ingest's embedding and match's retrieval run on Ray workers (a
cluster, or Ray started on this machine), with the local engine's answers.

The workers run the very functions the local engine runs (the same embedders, `compute_matches`
over the same indexes), and only this process writes the workspace: ingest stores each batch
of documents with its vectors in one transaction in batch order, so a run killed anywhere
resumes like a local one, and an actor that dies is restarted by Ray and its batches retried.
Ray is an optional dependency (`pip install 'fact-check-workbench[ray]'`), imported only here.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench.errors import WorkbenchError

if TYPE_CHECKING:
    from workbench.embed import Embedder
    from workbench.match import Computed
    from workbench.retrieve import FusionConfig
    from workbench.workspace import Workspace

ENGINES = ("local", "ray")
# A match actor that dies (killed, out of memory, a lost node) is restarted and its work
# retried this many times before the run fails; Ray Data's embedding actors are restarted
# and their batches retried by Ray Data itself (its defaults; a test kills one).
RETRIES = 3


@dataclass(frozen=True)
class RaySettings:
    """Where Ray runs and how wide: `address` None starts Ray on this machine with `cpus`
    CPUs (all of them when None); `actors` is the number of workers, each loading the models
    (and, for match, the indexes) once; `batch_size` passages go to a worker at a time."""

    address: str | None = None
    actors: int = 2
    batch_size: int = 256
    cpus: int | None = None


class EmbedderFactory:
    """Builds the embedders in a worker from their references: models are loaded where they
    run, never shipped from the driver. Each runs at the precision given here (the
    workspace's, see `of`), never at the one the worker's $WORKBENCH_PRECISION names: the
    vectors a worker makes must be those the workspace holds."""

    def __init__(self, refs: Sequence[str], precisions: Sequence[str | None]) -> None:
        if len(precisions) != len(refs):
            raise ValueError("one precision per model reference (None: no int8 form)")
        self.refs = list(refs)
        self.precisions = list(precisions)

    @classmethod
    def of(cls, refs: Sequence[str], embedders: Sequence[Embedder]) -> EmbedderFactory:
        """The factory of these embedders (loaded here from `refs`), at the precision each
        runs at here: the workspace's, once `config.use_workspace_precision` set it."""
        precisions = [
            getattr(e, "precision", None) if getattr(e, "quantizable", False) else None
            for e in embedders
        ]
        return cls(refs, precisions)

    def __call__(self) -> list[Embedder]:
        from workbench.embed import load_embedder

        return [load_embedder(ref, p) for ref, p in zip(self.refs, self.precisions, strict=True)]


def start(settings: RaySettings) -> None:
    """Join the cluster at `settings.address` (or $RAY_ADDRESS), else start Ray here; a
    cluster that cannot be reached is a one-line error, not a hang."""
    try:
        import ray
    except ImportError:
        raise WorkbenchError(
            "the Ray engine needs Ray: pip install 'ray[data]' (or the project's [ray] extra)"
        ) from None
    if ray.is_initialized():
        return
    address = settings.address or os.environ.get("RAY_ADDRESS") or None
    options: dict[str, Any] = {
        "include_dashboard": False,
        "log_to_driver": False,
        "configure_logging": False,
    }
    if address and address != "local":
        _check_reachable(address)
        try:
            ray.init(address=address, **options)
        except Exception as exc:  # Ray raises ConnectionError, RuntimeError, ValueError...
            raise WorkbenchError(f"cannot join the Ray cluster at {address}: {exc}") from None
    else:
        cpus = settings.cpus or os.cpu_count() or 1
        ray.init(num_cpus=cpus, **options)
    import ray.data

    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """Fail fast on an address nothing listens at ('ray://host:10001', 'host:6379', 'auto')."""
    if address == "auto":
        return  # Ray finds the local cluster itself, and says so when there is none
    hostport = address.split("://", 1)[-1].rstrip("/")
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise WorkbenchError(f"Ray address {address!r} is not host:port or ray://host:port")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            pass
    except OSError as exc:
        raise WorkbenchError(f"cannot reach the Ray cluster at {address}: {exc}") from None


def shutdown() -> None:
    import ray

    if ray.is_initialized():
        ray.shutdown()


# --- ingest ------------------------------------------------------------------------------------


class _EmbedActor:
    """A Ray Data worker: loads the models once, then embeds each batch it is given."""

    def __init__(self, factory: Any) -> None:

        self.embedders = factory()

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        texts = [str(t) for t in batch["text"]]
        out = {"row": batch["row"]}
        for index, embedder in enumerate(self.embedders):
            out[f"m{index}"] = np.asarray(embedder.encode(texts), dtype=np.float32)
        return out


class RayEncoder:
    """The ingest encoder that embeds on Ray workers (an actor pool of Ray Data) and hands
    the batches back in order, so that the driver commits them as the local engine does."""

    def __init__(self, factory: Any, names: Sequence[str], settings: RaySettings) -> None:
        self.factory = factory
        self.names = list(names)
        self.settings = settings
        self.seconds = 0.0

    def stream(self, batches: list[list[str]]) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
        import ray.data

        if not any(batches):
            for index in range(len(batches)):
                yield index, {name: np.zeros((0, 0), np.float32) for name in self.names}
            return
        start(self.settings)
        owner = [b for b, texts in enumerate(batches) for _ in texts]
        offsets = np.cumsum([0, *(len(texts) for texts in batches)])
        texts = [t for batch in batches for t in batch]
        dataset = ray.data.from_items([{"row": i, "text": t} for i, t in enumerate(texts)])
        embedded = dataset.map_batches(
            _EmbedActor,
            fn_constructor_args=(self.factory,),
            batch_size=self.settings.batch_size,
            compute=ray.data.ActorPoolStrategy(size=max(1, self.settings.actors)),
            num_cpus=1,
            batch_format="numpy",
        )
        filled: dict[int, dict[str, np.ndarray]] = {}
        missing = [len(texts) for texts in batches]
        next_batch = 0
        started = time.perf_counter()
        for out in embedded.iter_batches(batch_size=None, batch_format="numpy"):
            for position, row in enumerate(out["row"]):
                batch = owner[int(row)]
                if batch not in filled:
                    filled[batch] = {}
                for index, name in enumerate(self.names):
                    vector = out[f"m{index}"][position]
                    matrix = filled[batch].setdefault(
                        name, np.zeros((len(batches[batch]), len(vector)), np.float32)
                    )
                    matrix[int(row) - offsets[batch]] = vector
                missing[batch] -= 1
            # Batches go to the driver's writer in order, as soon as each is complete.
            while next_batch < len(batches) and missing[next_batch] == 0:
                self.seconds += time.perf_counter() - started
                yield next_batch, filled.pop(next_batch, {})
                started = time.perf_counter()
                next_batch += 1
        if next_batch < len(batches):
            raise WorkbenchError("the Ray workers returned fewer vectors than passages sent")


# --- match -------------------------------------------------------------------------------------


class _MatchActor:
    """A Ray actor holding the workspace's indexes and models, matching claims on demand."""

    def __init__(
        self, root: str, factory: Any, fusion: FusionConfig, nli: tuple[str, str | None] | None
    ) -> None:
        from workbench import config
        from workbench.index import store
        from workbench.retrieve import Retriever
        from workbench.workspace import Workspace

        self.workspace = Workspace.open(root)
        embedders = factory()
        # The workspace's precision, not this worker's environment: the driver checked that.
        models = config.check_fingerprints(self.workspace, embedders, env=False)
        indexes = store.load(self.workspace, models)
        self.retriever = Retriever(embedders, indexes, fusion, self.workspace.passage_index_texts)
        self.nli = None
        if nli is not None:
            from workbench.hints.nli import load_nli

            self.nli = load_nli(*nli)

    def compute(self, claim_ids: list[int], k: int, counter_pool: int) -> Computed:
        from workbench.match import compute_matches

        return compute_matches(self.workspace, self.retriever, claim_ids, k, counter_pool, self.nli)


def match_on_ray(
    workspace: Workspace,
    factory: Any,
    fusion: FusionConfig,
    claim_ids: Sequence[int],
    k: int,
    counter_pool: int,
    settings: RaySettings,
    nli: tuple[str, str | None] | None = None,
) -> list[dict[str, Any]]:
    """`match_claims` with the claims split between Ray actors; this process writes.

    `nli` is the (path, labels) of an NLI model each actor loads (`hints.nli.nli_spec`). The
    workspace must be on a path every worker can open (a shared file system on a cluster)."""
    import ray
    from ray.util import ActorPool

    from workbench.index import store
    from workbench.match import merge_computed, store_matches

    ids = list(dict.fromkeys(claim_ids))
    if not ids:
        return []
    # Fresh indexes before the actors load them: they must never rebuild them side by side.
    store.ensure_fresh(workspace, workspace.get_meta("models"))
    start(settings)
    size = max(1, min(settings.actors, len(ids)))
    remote = ray.remote(num_cpus=1, max_restarts=RETRIES, max_task_retries=RETRIES)(_MatchActor)
    root = str(workspace.root.resolve())  # workers may not share this process's directory
    actors = [remote.remote(root, factory, fusion, nli) for _ in range(size)]
    # A few chunks per actor: a slow chunk does not hold the others back.
    step = max(1, -(-len(ids) // (size * 4)))
    chunks = [ids[i : i + step] for i in range(0, len(ids), step)]
    pool = ActorPool(actors)
    parts = list(
        pool.map(lambda actor, chunk: actor.compute.remote(chunk, k, counter_pool), chunks)
    )
    for actor in actors:
        ray.kill(actor)
    return store_matches(workspace, merge_computed(parts))
