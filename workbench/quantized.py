"""Provides the int8 encoder: a sentence-transformers model exported to ONNX and quantised here.

The packaged MiniLM weights are exported once (torch's ONNX exporter, mean pooling inside the
graph) and their weight matrices quantised to int8 per output channel (ONNX Runtime's dynamic
quantisation), into a per-user cache; nothing is downloaded. A few input channels of each
matrix product carry values far larger than the rest (found once, on packaged calibration
texts): they are multiplied in float, apart, so that the int8 scale of each input fits the
others. Each text runs alone: dynamic quantisation scales a whole input tensor at once, so in
a padded batch a text's vector would depend on its neighbours (cosine 0.992 between the two on
CLEF fact-checks), while one text at a time gives one vector per text, and no padding to
compute. Batches go to a few worker threads, one ONNX Runtime thread each.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import itertools
import json
import logging
import os
import warnings
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from workbench.errors import WorkbenchError
from workbench.notes import say

# Bump when the export or the quantisation changes: the cached file is then made again
# (3: every feed-forward down-projection kept in float; 4: every product in int8 but its
# outlier input channels, see `_split_outliers`).
RECIPE = 4
# The same for the fp32 file (2: eager attention, fused by ONNX Runtime's optimiser).
FP32_RECIPE = 2
# Input channels of each matrix product multiplied in float (the largest on the calibration
# texts). On Climate-FEVER evidence, cosine to fp32: 0.9942 with none, 0.9993 with 8, 0.9994
# with 16; recipe 3 gave 0.9971.
OUTLIERS = 8
CALIBRATION = Path(__file__).parent / "model" / "int8-calibration.json"
_CALLS = itertools.count()  # numbers each export of this process (its files' names)
FILE = "model-int8.onnx"
FP32_FILE = "model-fp32.onnx"  # the same export, not quantised: the claims' encoder
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


CACHE_ENV = "WORKBENCH_CACHE"
# Errors of a write that went wrong: the cache's fault, whatever file they name.
_WRITE_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS}


def cache_root() -> Path:
    """$WORKBENCH_CACHE, else $XDG_CACHE_HOME/workbench, else ~/.cache/workbench."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "workbench"


def _key(model_dir: Path) -> str:
    """Identifies the weights and the tools that turn them into the int8 file (their versions
    read from the package metadata: importing torch to ask would cost a second)."""
    from importlib.metadata import version

    weights = sorted(model_dir.glob("*.safetensors")) or sorted(model_dir.glob("*.bin"))
    stamp = [[p.name, p.stat().st_size, p.stat().st_mtime_ns] for p in weights]
    tools = [version(name) for name in ("torch", "onnxruntime", "onnx")]
    payload = json.dumps([str(model_dir.resolve()), stamp, FP32_RECIPE, int8_recipe(), tools])
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def int8_recipe() -> list:
    """What makes the int8 file what it is besides the weights and the tools: the recipe
    number, the outlier count and the calibration texts (a change to either of the last two
    without a new recipe number still makes a new file)."""
    try:
        calibration = hashlib.sha256(CALIBRATION.read_bytes()).hexdigest()
    except OSError:  # reported by `calibration_texts`, before an int8 export
        calibration = ""
    return [RECIPE, OUTLIERS, calibration]


def int8_model(model_dir: Path) -> Path:
    """The int8 ONNX file of the sentence-transformers model in `model_dir`, exported and
    quantised on first use (about 15 s) into `cache_root()`."""
    return onnx_model(model_dir, "int8")


def onnx_model(model_dir: Path, precision: str) -> Path:
    """The model's ONNX file in `precision` ("int8": quantised; "fp32": the plain export),
    made on first use (about 15 s) into `cache_root()`."""
    model_dir = Path(model_dir)
    folder = cache_root() / "onnx" / f"{'-'.join(model_dir.parts[-2:])}-{_key(model_dir)}"
    name = FILE if precision == "int8" else FP32_FILE
    path = folder / name
    if path.exists():
        return path
    try:
        import onnx  # noqa: F401  (the export needs it; checked before anything runs)
    except ImportError:
        raise WorkbenchError("exporting the model to ONNX needs onnx (pip install onnx)") from None
    unwritable = f"cannot write the {precision} ONNX export into {folder}"
    advice = f"set {CACHE_ENV} to a writable folder"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a read-only disk, a file in the way, /proc
        raise WorkbenchError(f"{unwritable} ({exc.strerror or exc}): {advice}") from None
    # Checked before the export's seconds of work, which would end in a failed write.
    if not os.access(folder, os.W_OK):
        raise WorkbenchError(f"{unwritable}: {advice}")
    # Checked before the export's seconds of work, as the folder is.
    calibration = calibration_texts() if precision == "int8" else None
    label = "-".join(model_dir.parts[-2:])
    say(f"exporting {label} to {precision} ONNX, once (about 15 s), into {folder}")
    # A file beside the final one, renamed into place: a second process exporting at the
    # same time, or one killed half-way, never leaves a partial file under the final name.
    # Its name is unique to this call, so that two threads of one process exporting at once
    # (the claims' and the passages' files) never write into each other's.
    partial = folder / f".{name}.{os.getpid()}.{next(_CALLS)}"
    try:
        _export(model_dir, partial, calibration)
        partial.replace(path)
    except OSError as exc:
        # A full disk mid-export (nothing is left under the final name) is the cache's
        # fault; a model folder that cannot be read (transformers raises OSError) is not.
        inside = bool(exc.filename) and Path(str(exc.filename)).resolve().is_relative_to(
            folder.resolve()
        )
        if inside or exc.errno in _WRITE_ERRORS:
            raise WorkbenchError(f"{unwritable} ({exc.strerror or exc}): {advice}") from None
        raise WorkbenchError(f"cannot export the model in {model_dir}: {exc}") from None
    finally:
        partial.unlink(missing_ok=True)
        partial.with_name(partial.name + ".fp32.onnx").unlink(missing_ok=True)
    return path


def calibration_texts(path: Path | None = None) -> list[str]:
    """The packaged calibration texts (`CALIBRATION`), or one clear error: a missing or damaged
    file would otherwise end the export in a traceback, after its seconds of work."""
    path = path or CALIBRATION
    damaged = f"the int8 calibration texts {path} are missing or damaged: reinstall the workbench"
    try:
        texts = json.loads(path.read_text(encoding="utf-8"))["texts"]
    except (OSError, UnicodeDecodeError, ValueError, TypeError, KeyError):
        raise WorkbenchError(damaged) from None
    if (
        not isinstance(texts, list)
        or not texts
        or not all(isinstance(t, str) and t.strip() for t in texts)
    ):
        raise WorkbenchError(damaged)
    return texts


def _export(model_dir: Path, out: Path, calibration: list[str] | None) -> None:
    """The export into `out`; quantised to int8 with `calibration` texts, else fp32."""
    import onnx
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from sentence_transformers import SentenceTransformer

    # The fp32 file encodes claims one at a time: exported with plain (eager) attention, whose
    # graph ONNX Runtime's transformer optimiser recognises and fuses (attention, layer norms,
    # GELU). The int8 file keeps the export it was measured with.
    eager = {"model_kwargs": {"attn_implementation": "eager"}} if calibration is None else {}
    model = SentenceTransformer(str(model_dir), device="cpu", **eager)
    steps = [type(module).__name__ for module in model]
    pooling = getattr(model[1], "pooling_mode", None) if len(model) > 1 else None
    if steps[:2] != ["Transformer", "Pooling"] or pooling not in (None, "mean"):
        raise WorkbenchError(f"int8 export needs a transformer with mean pooling, not {steps}")
    transformer = model[0].auto_model.eval()

    class Pooled(torch.nn.Module):
        """The transformer and mean pooling over real tokens: one vector per text."""

        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            hidden = self.transformer(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)

    example = model[0].tokenizer(["an example", "a second example text"], padding=True,
                                 return_tensors="pt")  # fmt: skip
    fp32 = out.with_name(out.name + ".fp32.onnx")  # the plain export, beside `out`
    axes = {name: {0: "batch", 1: "tokens"} for name in INPUTS}
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")  # the tracer's notes on shapes, meant for developers
        torch.onnx.export(
            Pooled().eval(),
            tuple(example[name] for name in INPUTS),
            str(fp32),
            input_names=list(INPUTS),
            output_names=["embedding"],
            dynamic_axes={**axes, "embedding": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )
    if calibration is None:
        _fuse(fp32, transformer.config, {name: example[name].numpy() for name in INPUTS})
        fp32.replace(out)
        return
    graph = onnx.load(str(fp32))
    feeds = _calibration_feeds(model[0].tokenizer, calibration, model.max_seq_length)
    peaks = _input_peaks(graph, feeds)
    in_float = _split_outliers(graph, peaks, OUTLIERS)
    onnx.save(graph, str(fp32))
    with _quiet_root_logger():
        quantize_dynamic(
            str(fp32),
            str(out),
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul"],
            nodes_to_exclude=in_float,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )


@contextlib.contextmanager
def _quiet_root_logger() -> Iterator[None]:
    """ONNX Runtime's quantiser and optimiser log with logging.warning(), which would give the
    root logger a handler for good (and then print every library's debug lines): a silent
    one while they run."""
    silent = logging.NullHandler()
    logging.getLogger().addHandler(silent)
    try:
        yield
    finally:
        logging.getLogger().removeHandler(silent)


def _session_options(threads: int) -> Any:
    """ONNX Runtime options for one text per run on `threads` threads, which do not spin after
    a run: they would take the core the next model needs (USE-m3's BLAS right after, on two
    cores)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def _fuse(path: Path, config: Any, example: dict[str, np.ndarray]) -> None:
    """Rewrites the fp32 file at `path` with ONNX Runtime's fused transformer kernels: the same
    vectors (within 2e-7 on CLEF tweets), a claim encoded in about 11 ms instead of 13 on two
    threads (bench/speed.py --match). The fused kernels take one unpadded (or right-padded)
    text per run, as `ClaimEncoder` gives them. The optimiser is no stable interface: where it
    fails, or its graph gives other vectors on `example` than the plain one, the plain export
    stays (it is only slower)."""
    import onnxruntime as ort

    def vectors(model: Path | bytes) -> np.ndarray:
        source = str(model) if isinstance(model, Path) else model
        session = ort.InferenceSession(source, providers=["CPUExecutionProvider"])
        return session.run(None, example)[0]

    heads = int(getattr(config, "num_attention_heads", 0) or 0)
    hidden = int(getattr(config, "hidden_size", 0) or 0)
    try:
        from onnxruntime.transformers import optimizer

        with _quiet_root_logger():
            fused = optimizer.optimize_model(
                str(path), model_type="bert", num_heads=heads, hidden_size=hidden, opt_level=1
            )
        graph = fused.model.SerializeToString()
        if np.abs(vectors(graph) - vectors(path)).max() > 1e-4:
            raise ValueError("the fused graph gives other vectors")
    except Exception as exc:  # any failure leaves the plain export, which works
        say(f"ONNX Runtime could not fuse the exported model ({exc}); keeping it unfused")
        return
    path.write_bytes(graph)


def _weight_products(graph: Any) -> list[int]:
    """The positions of the matrix products of an input by a weight matrix (the ones
    quantisation changes) among the graph's nodes."""
    weights = {t.name for t in graph.graph.initializer if len(t.dims) == 2}
    return [
        i for i, n in enumerate(graph.graph.node) if n.op_type == "MatMul" and n.input[1] in weights
    ]


def _input_peaks(graph: Any, feeds: Iterable[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Per input of a weight product, the largest absolute value of each of its channels over
    `feeds` (the float graph run with its products' inputs made outputs)."""
    import onnx
    import onnxruntime as ort

    names = list(dict.fromkeys(graph.graph.node[i].input[0] for i in _weight_products(graph)))
    probe = onnx.ModelProto()
    probe.CopyFrom(graph)
    del probe.graph.output[:]
    probe.graph.output.extend(
        onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None) for name in names
    )
    options = _session_options(min(2, os.cpu_count() or 1))  # as the encoders' sessions
    session = ort.InferenceSession(
        probe.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    peaks: dict[str, np.ndarray] = {}
    for feed in feeds:
        for name, value in zip(names, session.run(names, feed), strict=True):
            peak = np.abs(value).reshape(-1, value.shape[-1]).max(axis=0)
            peaks[name] = np.maximum(peaks[name], peak) if name in peaks else peak
    return peaks


def _calibration_feeds(
    tokenizer: Any, texts: list[str], max_length: int
) -> Iterator[dict[str, np.ndarray]]:
    """The calibration texts, tokenised as the encoder does, one text per run."""
    encoded = tokenizer(texts, truncation="longest_first", max_length=max_length)
    for row in range(len(texts)):
        yield {
            name: np.asarray([encoded[name][row]], dtype=np.int64)
            for name in INPUTS
            if name in encoded
        }


def _split_outliers(graph: Any, peaks: dict[str, np.ndarray], count: int) -> list[str]:
    """Rewrites each weight product X @ W as (X with its `count` largest channels zeroed) @ W
    plus those channels of X @ their rows of W; returns the names of the second products, to
    be left in float. The sum is the same product in float; in int8, one scale per input no
    longer has to span a few channels tens of times larger than the rest (the peaks of the
    first layers' feed-forward inputs are about 25 against a median of 2)."""
    from onnx import helper, numpy_helper

    weights = {t.name: t for t in graph.graph.initializer}
    products = set(_weight_products(graph))
    split: dict[str, tuple[str, str, np.ndarray]] = {}  # input -> masked, gathered, channels
    nodes, in_float = [], []
    for position, original in enumerate(graph.graph.node):
        node = type(original)()
        node.CopyFrom(original)  # the graph's node list is rebuilt below
        if position not in products:
            nodes.append(node)
            continue
        x, w, y = node.input[0], node.input[1], node.output[0]
        if x not in split:
            peak = peaks[x]
            channels = np.sort(np.argsort(-peak, kind="stable")[: min(count, len(peak))])
            mask = np.ones(len(peak), dtype=np.float32)
            mask[channels] = 0.0
            tag = f"outliers_{len(split)}"
            graph.graph.initializer.extend([
                numpy_helper.from_array(mask, f"{tag}_mask"),
                numpy_helper.from_array(channels.astype(np.int64), f"{tag}_channels"),
            ])  # fmt: skip
            masked, gathered = f"{tag}_inliers", f"{tag}_values"
            nodes += [
                helper.make_node("Mul", [x, f"{tag}_mask"], [masked], name=f"{tag}_masking"),
                helper.make_node(
                    "Gather", [x, f"{tag}_channels"], [gathered], name=f"{tag}_gather", axis=-1
                ),
            ]
            split[x] = (masked, gathered, channels)
        inliers, values, channels = split[x]
        rows = numpy_helper.to_array(weights[w])[channels]
        name = f"{node.name or y}_outliers"
        graph.graph.initializer.append(numpy_helper.from_array(rows, f"{name}_weight"))
        node.input[0] = inliers
        node.output[0] = f"{y}_inliers"
        nodes += [
            node,
            helper.make_node("MatMul", [values, f"{name}_weight"], [f"{y}_outliers"], name=name),
            helper.make_node("Add", [f"{y}_inliers", f"{y}_outliers"], [y], name=f"{name}_sum"),
        ]
        in_float.append(name)
    # The new names must not meet the graph's own (a clash would rewire it silently).
    names = [n.name for n in nodes if n.name]
    tensors = [t.name for t in graph.graph.initializer] + [o for n in nodes for o in n.output]
    if len(set(names)) != len(names) or len(set(tensors)) != len(tensors):
        raise WorkbenchError("cannot quantise this model: its names clash with the int8 split")
    del graph.graph.node[:]
    graph.graph.node.extend(nodes)
    return in_float


class Int8Encoder:
    """Encodes texts with the int8 file of a sentence-transformers model (mean pooling),
    tokenised as sentence-transformers does; vectors are not normalised here.

    `precision="fp32"` runs the plain export instead (`ClaimEncoder`)."""

    precision = "int8"
    # What to do without ONNX Runtime, said after the error.
    instead = (
        ", or the torch model: WORKBENCH_PRECISION=fp32 for a new workspace, "
        "'WORKBENCH_PRECISION=fp32 workbench reindex' for an int8 one"
    )

    def __init__(self, model_dir: Path, workers: int | None = None, threads: int = 1) -> None:
        try:
            import onnxruntime as ort  # (onnx, 0.6 s to import, only where an export is made)
        except ImportError:
            raise WorkbenchError(
                f"{self.precision} ONNX MiniLM needs onnxruntime and onnx "
                f"(pip install onnxruntime onnx){self.instead}"
            ) from None
        from transformers import AutoTokenizer

        model_dir = Path(model_dir)
        # One text per run: threads come from the workers (`threads` for one text at a time).
        self.session = ort.InferenceSession(
            str(onnx_model(model_dir, self.precision)),
            _session_options(threads),
            providers=["CPUExecutionProvider"],
        )
        self.tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
        config = model_dir / "sentence_bert_config.json"
        settings: dict[str, Any] = json.loads(config.read_text()) if config.exists() else {}
        self.max_length = int(settings.get("max_seq_length") or self.tokenizer.model_max_length)
        self.dim = int(self.session.get_outputs()[0].shape[-1])
        self.workers = workers or max(1, min(4, os.cpu_count() or 1))

    def _run(self, features: dict[str, list[int]]) -> np.ndarray:
        feed = {name: np.asarray([features[name]], dtype=np.int64) for name in features}
        return self.session.run(None, feed)[0][0]

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Tokenised here, all at once and unpadded: a fast tokenizer shared between threads
        # can refuse a second caller while it sets its truncation.
        encoded = self.tokenizer(
            [str(t) for t in texts], truncation="longest_first", max_length=self.max_length
        )
        ids = encoded["input_ids"]
        types = encoded.get("token_type_ids") or [[0] * len(row) for row in ids]
        features = [
            {"input_ids": row, "attention_mask": mask, "token_type_ids": kinds}
            for row, mask, kinds in zip(ids, encoded["attention_mask"], types, strict=True)
        ]
        if len(features) < 2 * self.workers:
            rows = [self._run(f) for f in features]
        else:
            # ONNX Runtime lets go of the GIL while it runs: one text per worker at a time.
            with ThreadPoolExecutor(self.workers) as pool:
                rows = list(pool.map(self._run, features))
        return np.stack(rows).astype(np.float32)


class ClaimEncoder(Int8Encoder):
    """The model's ONNX file in `precision`, for the claims of a match: one text at a time with
    two threads. At fp32, the same vectors as sentence-transformers (within 2e-7 on CLEF
    tweets) in about half the time (about 11 ms a tweet on two cores with its attention fused
    by ONNX Runtime, 13 before, against 25 alone and 28 in a padded batch with torch); at int8,
    the same vectors as the passages' encoder (the same file), which runs a few texts on one
    thread."""

    instead = ""  # matching falls back to `encode` by itself (`encode_query`)

    def __init__(self, model_dir: Path, precision: str = "fp32") -> None:
        self.precision = precision
        super().__init__(model_dir, workers=1, threads=claim_threads())


def claim_threads() -> int:
    """Two threads for one claim, fewer where this process may use fewer cores (its CPU
    affinity; $OMP_NUM_THREADS, which Ray sets to an actor's share)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        cores = os.cpu_count() or 1
    limit = os.environ.get("OMP_NUM_THREADS", "")
    if limit.isdigit() and int(limit) > 0:
        cores = min(cores, int(limit))
    return max(1, min(2, cores))
