"""MiniLM in int8 (ONNX) or fp32 (torch): a workspace keeps the precision it was embedded with."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from workbench import config
from workbench.embed import (
    DEFAULT_PRECISION,
    PRECISION_ENV,
    HashingEmbedder,
    requested_precision,
)
from workbench.errors import ModelMismatchError, WorkbenchError
from workbench.ingest import ingest
from workbench.workspace import Workspace


class TwoPrecisions:
    """A fake model with an int8 form whose vectors differ a little from its fp32 ones."""

    quantizable = True
    languages = frozenset({"en"})

    def __init__(self) -> None:
        self.inner = HashingEmbedder(64)
        self.name, self.dim = "st:fake-minilm", 64
        self.precision = requested_precision() or DEFAULT_PRECISION

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self.inner.encode(texts)
        if self.precision == "int8":
            vectors = np.round(vectors * 4) / 4 + 0.01
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors.astype(np.float32)


def _workspace(tmp_path: Path, evidence_file: Path, precision: str | None) -> Workspace:
    ws = Workspace.open(tmp_path / "ws", create=True)
    with pytest.MonkeyPatch.context() as patch:
        if precision:
            patch.setenv(PRECISION_ENV, precision)
        ingest(ws, [evidence_file], [TwoPrecisions()])
    return ws


def test_new_workspace_records_its_precision(tmp_path: Path, evidence_file: Path) -> None:
    default = _workspace(tmp_path / "a", evidence_file, None).get_meta("models")[0]
    asked = _workspace(tmp_path / "b", evidence_file, "int8").get_meta("models")[0]
    assert (default["precision"], asked["precision"]) == (DEFAULT_PRECISION, "int8")
    assert "precision" not in config.describe([HashingEmbedder(8)])[0]


@pytest.mark.parametrize(("made", "default"), [("int8", "fp32"), ("fp32", "int8")])
def test_workspace_is_queried_at_its_own_precision(
    tmp_path: Path,
    evidence_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    made: str,
    default: str,
) -> None:
    ws = _workspace(tmp_path, evidence_file, made)
    monkeypatch.delenv(PRECISION_ENV, raising=False)
    embedder = TwoPrecisions()
    embedder.precision = default  # what a new workspace would get...
    config.check_fingerprints(ws, [embedder])  # ...but this one was embedded otherwise
    assert embedder.precision == made


def test_other_precision_asked_for_is_refused_in_one_line(
    tmp_path: Path, evidence_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = _workspace(tmp_path, evidence_file, "int8")
    monkeypatch.setenv(PRECISION_ENV, "fp32")
    with pytest.raises(ModelMismatchError) as caught:
        config.check_fingerprints(ws, [TwoPrecisions()])
    message = str(caught.value)
    assert "holds int8 vectors" in message and "reindex" in message and "\n" not in message


def test_workspace_from_before_int8_is_fp32(tmp_path: Path, evidence_file: Path) -> None:
    ws = _workspace(tmp_path, evidence_file, "fp32")
    models = ws.get_meta("models")
    del models[0]["precision"]  # as written before precisions existed
    with ws.transaction() as conn:
        ws.set_meta(conn, "models", models)
    embedder = TwoPrecisions()
    config.check_fingerprints(ws, [embedder])
    assert embedder.precision == "fp32"


def test_unknown_precision_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PRECISION_ENV, "fp16")
    with pytest.raises(WorkbenchError, match="int8 or fp32"):
        requested_precision()


def _tiny_graph(tmp_path: Path) -> tuple[Path, np.ndarray, np.ndarray]:
    """x @ w1 and x @ w2 (one input, two products, as Q and K share theirs), then (x @ w1) @ w3:
    channel 3 of x runs 40 times larger than the rest."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(5)
    w1, w2, w3 = (rng.normal(size=(16, 16)).astype(np.float32) for _ in range(3))
    x = rng.normal(size=(1, 7, 16)).astype(np.float32)
    x[..., 3] *= 40
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "w1"], ["a"], name="first"),
            helper.make_node("MatMul", ["x", "w2"], ["b"], name="second"),
            helper.make_node("MatMul", ["a", "w3"], ["c"], name="third"),
            helper.make_node("Add", ["b", "c"], ["y"], name="sum"),
        ],
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, None, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, None, 16])],
        [numpy_helper.from_array(w, name) for w, name in ((w1, "w1"), (w2, "w2"), (w3, "w3"))],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = tmp_path / "tiny.onnx"
    onnx.save(model, str(path))
    expected = (x @ w2 + (x @ w1) @ w3)[0]
    return path, x, expected


def test_outlier_channels_are_multiplied_apart_in_float(tmp_path: Path) -> None:
    """The int8 export splits each weight product: the rewritten graph computes the same thing
    in float, the largest input channels go to a product left in float, and the rest is int8
    with a scale that no longer spans the outliers (closer to the float result than int8
    over every channel: half the error or less)."""
    import onnx
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from workbench.quantized import _input_peaks, _split_outliers

    path, x, expected = _tiny_graph(tmp_path)

    def run(model_path: Path) -> np.ndarray:
        session = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
        return session.run(None, {"x": x})[0][0]

    graph = onnx.load(str(path))
    w1 = onnx.numpy_helper.to_array(graph.graph.initializer[0])
    peaks = _input_peaks(graph, [{"x": x[:, :4]}, {"x": x[:, 4:]}])  # two runs, one peak
    assert sorted(peaks) == ["a", "x"]
    assert np.allclose(peaks["x"], np.abs(x).max(axis=(0, 1)))
    assert np.allclose(peaks["a"], np.abs(x @ w1).max(axis=(0, 1)), rtol=1e-5)
    assert list(graph.graph.output[0].name) == list("y")  # the graph itself is left as it was

    in_float = _split_outliers(graph, peaks, 1)
    assert in_float == ["first_outliers", "second_outliers", "third_outliers"]
    assert sum(n.op_type == "Gather" for n in graph.graph.node) == 2  # x's split is shared
    channels = {t.name: t for t in graph.graph.initializer}["outliers_0_channels"]
    assert onnx.numpy_helper.to_array(channels).tolist() == [3]
    split = tmp_path / "split.onnx"
    onnx.save(graph, str(split))
    onnx.checker.check_model(str(split))
    assert np.allclose(run(split), expected, rtol=1e-5, atol=1e-3)

    def quantised(source: Path, exclude: list[str]) -> Path:
        out = tmp_path / f"{source.stem}-int8.onnx"
        quantize_dynamic(str(source), str(out), weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=["MatMul"], nodes_to_exclude=exclude)  # fmt: skip
        return out

    plain, kept = quantised(path, []), quantised(split, in_float)
    ops = [n.op_type for n in onnx.load(str(kept)).graph.node]
    assert ops.count("MatMulInteger") == 3 and ops.count("MatMul") == 3

    def error(model_path: Path) -> float:
        return float(np.abs(run(model_path) - expected).mean())

    assert error(kept) < error(plain) / 2


def test_a_fusion_that_fails_or_changes_the_vectors_keeps_the_plain_export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """ONNX Runtime's optimiser is no stable interface: whatever it does wrong, the claims'
    fp32 file stays the plain export, which is only slower."""
    import onnx
    from onnxruntime.transformers import optimizer

    from workbench import quantized

    path, x, _ = _tiny_graph(tmp_path)
    plain = path.read_bytes()
    config = type("Config", (), {"num_attention_heads": 2, "hidden_size": 16})()

    def fails(*args: object, **kwargs: object) -> None:
        raise RuntimeError("no pattern")

    monkeypatch.setattr(optimizer, "optimize_model", fails)
    quantized._fuse(path, config, {"x": x})
    assert path.read_bytes() == plain
    assert "keeping it unfused" in capsys.readouterr().err

    def other_vectors(*args: object, **kwargs: object) -> object:
        graph = onnx.load(str(path))
        graph.graph.initializer[0].float_data[:] = [0.0] * 256  # w1 zeroed
        graph.graph.initializer[0].ClearField("raw_data")
        return type("Fused", (), {"model": graph})()

    monkeypatch.setattr(optimizer, "optimize_model", other_vectors)
    quantized._fuse(path, config, {"x": x})
    assert path.read_bytes() == plain
    assert "other vectors" in capsys.readouterr().err

    same = lambda *args, **kwargs: type("Fused", (), {"model": onnx.load(str(path))})()  # noqa: E731
    monkeypatch.setattr(optimizer, "optimize_model", same)
    quantized._fuse(path, config, {"x": x})  # a graph with the same vectors is written
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    "content",
    [None, b"", b"\xff\xfe not json", b'{"texts": []}', b'{"about": "no texts"}',
     b'{"texts": "one string"}', b'{"texts": ["a text", 3]}', b'[1, 2]'],
)  # fmt: skip
def test_missing_or_damaged_calibration_texts_are_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes | None
) -> None:
    """Checked before the export's seconds of work: a damaged package gives one line, not a
    traceback after the export."""
    from workbench import quantized

    path = tmp_path / "int8-calibration.json"
    if content is not None:
        path.write_bytes(content)
    monkeypatch.setattr(quantized, "CALIBRATION", path)
    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path / "cache"))
    model = tmp_path / "org" / "model"
    model.mkdir(parents=True)
    exported: list[Path] = []

    def export(model_dir: Path, out: Path, calibration: list | None) -> None:
        exported.append(model_dir)
        out.write_bytes(b"onnx")

    monkeypatch.setattr(quantized, "_export", export)
    with pytest.raises(WorkbenchError, match=r"calibration texts .* missing or damaged"):
        quantized.onnx_model(model, "int8")
    assert not exported
    quantized.onnx_model(model, "fp32")  # the fp32 export needs no calibration
    assert exported == [model]


def test_two_threads_exporting_at_once_never_share_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The claims' encoder and the passages' can export in two threads of one process: each
    export writes files of its own, renamed into place."""
    import threading

    from workbench import quantized

    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path / "cache"))
    model = tmp_path / "org" / "model"
    model.mkdir(parents=True)
    both_in = threading.Barrier(2, timeout=10)
    written: list[Path] = []

    def export(model_dir: Path, out: Path, calibration: list | None) -> None:
        out.write_bytes(b"onnx")
        written.append(out)
        both_in.wait()  # both exports are half-way at once

    monkeypatch.setattr(quantized, "_export", export)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            quantized.onnx_model(model, "fp32")
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(set(written)) == 2
    assert [p.name for p in (tmp_path / "cache").rglob("*") if p.is_file()] == ["model-fp32.onnx"]


def test_packaged_calibration_texts_are_english_passages() -> None:
    from workbench.quantized import calibration_texts

    texts = calibration_texts()
    assert len(texts) == 110 and all("\n" in t for t in texts)


# ----- the real model (slow: exports and quantises MiniLM once, ~10 s) --------------------------

SENTENCES = [
    "Vladimir Putin met US Secretary of State Mike Pompeo in Sochi on 14 May 2019.",
    "The special counsel did not establish that the Trump campaign coordinated with Russia.",
    "Donald Trump was ready to meet the Russian leader at the G20 summit in Osaka in June.",
    "A photo shows butterflies drinking water from a wombat hole after the Australian fires.",
    "Drinking hot water every 15 minutes does not kill the coronavirus.",
    "Le président russe a rencontré le secrétaire d'État américain à Sotchi.",
]


@pytest.fixture(scope="module")
def minilm_pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    from workbench.embed import SentenceTransformerEmbedder

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WORKBENCH_CACHE", str(tmp_path_factory.mktemp("cache")))
        int8 = SentenceTransformerEmbedder(precision="int8")
        fp32 = SentenceTransformerEmbedder(precision="fp32")
        yield int8, fp32


@pytest.mark.slow
def test_int8_vectors_stay_close_to_fp32(minilm_pair: tuple) -> None:
    int8, fp32 = minilm_pair
    cosines = (int8.encode(SENTENCES) * fp32.encode(SENTENCES)).sum(axis=1)
    # Outlier channels in float (recipe 4): about 0.999; recipe 3 gave 0.997, int8 over every
    # channel 0.994 (Climate-FEVER evidence).
    assert cosines.min() >= 0.997 and cosines.mean() >= 0.998


@pytest.mark.slow
def test_int8_vector_of_a_text_does_not_depend_on_its_batch(minilm_pair: tuple) -> None:
    int8, _ = minilm_pair
    batch = int8.encode(SENTENCES * 3)  # enough texts for the worker threads
    alone = np.stack([int8.encode([s])[0] for s in SENTENCES])
    assert np.array_equal(batch[: len(SENTENCES)], alone)
    assert np.allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)


@pytest.mark.slow
def test_int8_is_exported_once_into_the_cache(minilm_pair: tuple) -> None:
    from workbench.quantized import cache_root, int8_model

    int8, _ = minilm_pair
    int8.encode(["x"])
    files = list((cache_root() / "onnx").glob("*/model-int8.onnx"))
    assert len(files) == 1
    before = files[0].stat().st_mtime_ns
    assert int8_model(Path(int8._resolve())) == files[0]
    assert files[0].stat().st_mtime_ns == before


@pytest.mark.slow
def test_claims_are_encoded_by_the_fp32_onnx_export_with_the_same_vectors(
    minilm_pair: tuple,
) -> None:
    import onnx

    from workbench.quantized import ClaimEncoder, cache_root

    int8, fp32 = minilm_pair
    claims = fp32.encode_query(SENTENCES)
    assert isinstance(fp32._claims, ClaimEncoder)
    files = list((cache_root() / "onnx").glob("*/model-fp32.onnx"))
    assert files
    # Fused by ONNX Runtime's transformer optimiser (faster for one claim at a time)...
    ops = {node.op_type for node in onnx.load(str(files[0])).graph.node}
    assert {"Attention", "SkipLayerNormalization"} <= ops
    # ...with the same vectors as torch's (what the passages were stored with), not merely close.
    assert np.abs(claims - fp32.encode(SENTENCES)).max() < 1e-5
    # An int8 workspace's claims go through the int8 model, as its passages did: the same
    # file, two threads for one claim, the same vectors.
    if int8.int8.workers >= 2:  # (one core: the passage encoder takes every claim anyway)
        assert np.array_equal(int8.encode_query(SENTENCES[:3]), int8.encode(SENTENCES[:3]))
        assert isinstance(int8._claims, ClaimEncoder) and int8._claims.precision == "int8"
    assert np.array_equal(int8.encode_query(SENTENCES), int8.encode(SENTENCES))


@pytest.mark.slow
def test_without_the_onnx_export_claims_are_encoded_by_torch(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from workbench import quantized
    from workbench.embed import SentenceTransformerEmbedder

    def unavailable(model_dir: Path) -> None:
        raise ImportError("no onnxruntime")

    monkeypatch.setattr(quantized, "ClaimEncoder", unavailable)
    fp32 = SentenceTransformerEmbedder(precision="fp32")
    assert np.array_equal(fp32.encode_query(SENTENCES[:2]), fp32.encode(SENTENCES[:2]))
    assert fp32._claims is False
    assert "matching with torch" in capsys.readouterr().err


def test_claim_encoder_threads_follow_the_cores_this_process_may_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from workbench.quantized import claim_threads

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert 1 <= claim_threads() <= 2
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # what Ray gives an actor of one CPU
    assert claim_threads() == 1


def test_an_unwritable_cache_fails_before_the_export_starts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from workbench import quantized
    from workbench.errors import WorkbenchError

    def export(*args: object, **kwargs: object) -> None:
        raise AssertionError("the export ran")

    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(quantized, "_export", export)
    monkeypatch.setattr(quantized.os, "access", lambda path, mode: False)
    model = tmp_path / "model"
    model.mkdir()
    with pytest.raises(WorkbenchError, match="cannot write the fp32 ONNX export"):
        quantized.onnx_model(model, "fp32")


def test_reindex_keeps_the_workspace_s_precision_unless_asked(
    tmp_path: Path, evidence_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Following "run 'workbench reindex'" after a library update must not switch precision.
    stored = _workspace(tmp_path, evidence_file, "int8").get_meta("models")
    monkeypatch.delenv(PRECISION_ENV, raising=False)
    embedder = TwoPrecisions()
    embedder.precision = "fp32"  # what the default would give
    assert config.keep_stored_precision(stored, [embedder]) == []
    assert embedder.precision == "int8"
    monkeypatch.setenv(PRECISION_ENV, "fp32")
    embedder = TwoPrecisions()
    assert config.keep_stored_precision(stored, [embedder]) == ["st:fake-minilm at fp32, was int8"]
    assert embedder.precision == "fp32"
    monkeypatch.delenv(PRECISION_ENV)
    del stored[0]["precision"]  # a workspace from before precisions were recorded
    embedder = TwoPrecisions()
    embedder.precision = "int8"
    assert config.keep_stored_precision(stored, [embedder]) == [] and embedder.precision == "fp32"


def test_an_unusable_cache_folder_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from workbench import quantized

    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    monkeypatch.setenv("WORKBENCH_CACHE", str(blocker / "cache"))  # a file in the way
    model = tmp_path / "model"
    model.mkdir()
    with pytest.raises(WorkbenchError) as caught:
        quantized.onnx_model(model, "int8")
    message = str(caught.value)
    assert "cannot write the int8 ONNX export" in message and "WORKBENCH_CACHE" in message
    assert "\n" not in message


def test_a_model_folder_that_cannot_be_read_is_not_blamed_on_the_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from workbench import quantized

    def export(model_dir: Path, *args: object, **kwargs: object) -> None:
        # What transformers raises for a folder without weights.
        raise OSError(f"Error no file named model.safetensors found in directory {model_dir}.")

    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(quantized, "_export", export)
    model = tmp_path / "model"
    model.mkdir()
    with pytest.raises(WorkbenchError) as caught:
        quantized.onnx_model(model, "int8")
    assert "cannot export the model in" in str(caught.value)
    assert "WORKBENCH_CACHE" not in str(caught.value)

    def full(model_dir: Path, out: Path, *args: object) -> None:
        raise OSError(28, "No space left on device", str(out))

    monkeypatch.setattr(quantized, "_export", full)
    with pytest.raises(WorkbenchError, match=r"cannot write the int8 ONNX export .*CACHE"):
        quantized.onnx_model(model, "int8")
    assert not list((tmp_path / "cache").rglob("*.onnx*"))  # no partial file left
