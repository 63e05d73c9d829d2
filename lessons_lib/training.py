"""Small, deterministic training helpers for a sequence classifier in Keras and PyTorch.

Both frameworks get the same recipe: an LSTM with ``units`` cells whose last
state feeds a softmax over the classes, Adam, sparse cross-entropy, the same
mini-batches in the same order (:func:`epoch_batches`), and the weights of the
epoch with the lowest *validation* loss kept at the end (never chosen on the
test set). The Keras model is masked or not (a ``Masking`` layer); the torch
model is packed or not (``pack_padded_sequence``).

Import it after ``ll.setup_notebook(...)``: it imports torch on import and
Keras when a Keras helper is first called.

Example:
    >>> model = TorchLSTMClassifier(12, 9, units=8, seed=0)
    >>> x = np.zeros((2, 5, 12), np.float32)
    >>> predict_proba_torch(model, x, lengths=[5, 3]).shape
    (2, 9)
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from ._validate import as_lengths, check_count

__all__ = [
    "RECIPE",
    "SEEDS",
    "History",
    "TorchLSTMClassifier",
    "accuracy",
    "binomial_standard_error",
    "seed_stats",
    "seed_table",
    "build_keras_classifier",
    "epoch_batches",
    "fit_keras",
    "fit_torch",
    "predict_proba_keras",
    "predict_proba_torch",
    "probabilities_with_padding",
    "restart_keras",
]

#: The lesson 06 recipe, shared by every model so that only masking differs. Chosen on
#: validation loss (never on the test set) among four recipes, over seeds 0-4: see the
#: lesson's "Five seeds" section. ``seed`` is the one the lesson walks through first.
RECIPE = {"units": 32, "epochs": 30, "batch_size": 64, "learning_rate": 0.02, "seed": 0}

#: The seeds whose results lesson 06 reports (mean, std, min, max).
SEEDS = (0, 1, 2, 3, 4)


@dataclass
class History:
    """Per-epoch learning curves of one training run (epochs count from 1)."""

    name: str
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)

    @property
    def best_epoch(self) -> int:
        """The epoch (1-based) with the lowest validation loss; its weights are kept."""
        if not self.val_loss:
            raise ValueError(f"{self.name}: no epochs recorded")
        return int(np.argmin(self.val_loss)) + 1

    def epoch_lines(self, every: int = 5) -> str:
        """Compact learning curve: one line for epoch 1 and every ``every``-th epoch."""
        every = check_count("every", every, minimum=1)
        return "\n".join(
            f"epoch {e:>2}: train loss {self.train_loss[e - 1]:.3f}  val loss {self.val_loss[e - 1]:.3f}  "
            f"val acc {self.val_accuracy[e - 1]:.3f}"
            for e in range(1, len(self.val_loss) + 1)
            if e == 1 or e % every == 0
        )

    def summary(self) -> str:
        """One compact line: best epoch and its validation loss and accuracy."""
        b = self.best_epoch
        return (
            f"{self.name:<16} best epoch {b:>2}/{len(self.val_loss)}: "
            f"train loss {self.train_loss[b - 1]:.3f}, val loss {self.val_loss[b - 1]:.3f}, "
            f"val acc {self.val_accuracy[b - 1]:.3f}"
        )


def epoch_batches(n: int, batch_size: int, epochs: int, *, seed: int = 0) -> list[list[np.ndarray]]:
    """Shuffled mini-batch indices for every epoch: ``result[epoch][batch]``.

    Both frameworks train on exactly these batches, so their runs differ only
    in the framework (and the initial weights).

    Example:
        >>> [b.tolist() for b in epoch_batches(5, 2, 1, seed=0)[0]]
        [[2, 4], [3, 0], [1]]
    """
    n = check_count("n", n, minimum=1)
    batch_size = check_count("batch_size", batch_size, minimum=1)
    epochs = check_count("epochs", epochs, minimum=1)
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(epochs):
        order = rng.permutation(n)
        out.append([order[i : i + batch_size] for i in range(0, n, batch_size)])
    return out


def accuracy(probs: ArrayLike, labels: ArrayLike) -> float:
    """Fraction of rows whose arg-max equals the label.

    Example:
        >>> accuracy([[0.9, 0.1], [0.2, 0.8]], [0, 0])
        0.5
    """
    probs = np.asarray(probs)
    labels = np.asarray(labels)
    if probs.ndim != 2 or labels.shape != (probs.shape[0],):
        raise ValueError(f"probs must be (n, classes) and labels (n,), got {probs.shape} and {labels.shape}")
    return float(np.mean(probs.argmax(axis=1) == labels))


def binomial_standard_error(p: float, n: int) -> float:
    """Standard error ``sqrt(p (1 - p) / n)`` of an accuracy ``p`` measured on ``n`` independent items.

    Example:
        >>> round(binomial_standard_error(0.96, 370), 4)
        0.0102
    """
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be a number in [0, 1], got {p!r}")
    n = check_count("n", n, minimum=1)
    return float(np.sqrt(p * (1.0 - p) / n))


def seed_stats(by_seed: Mapping[int, float]) -> dict:
    """Mean, sample standard deviation (ddof=1), minimum and maximum of one result over seeds.

    ``by_seed`` maps each seed to a number (an accuracy, say). Returns
    ``{"seeds": [...], "mean", "std", "min", "max"}``; the standard deviation
    needs at least two seeds.

    Example:
        >>> s = seed_stats({0: 0.96, 1: 0.94, 2: 0.95})
        >>> s["seeds"], round(s["mean"], 4), round(s["std"], 4), s["min"], s["max"]
        ([0, 1, 2], 0.95, 0.01, 0.94, 0.96)
    """
    if not isinstance(by_seed, Mapping) or len(by_seed) < 2:
        raise ValueError(f"by_seed must map at least 2 seeds to numbers, got {by_seed!r}")
    values = []
    for seed, v in by_seed.items():
        if isinstance(v, bool) or not isinstance(v, (int, float, np.floating, np.integer)) or not np.isfinite(v):
            raise TypeError(f"by_seed[{seed!r}] must be a finite number, got {v!r}")
        values.append(float(v))
    values = np.array(values)
    return {
        "seeds": list(by_seed),
        "mean": float(values.mean()),
        "std": float(values.std(ddof=1)),
        "min": float(values.min()),
        "max": float(values.max()),
    }


def seed_table(results: Mapping[str, Mapping[int, float]], *, title: str = "test accuracy") -> str:
    """A fixed-width table: one row per model with mean, std (ddof=1), min and max over its seeds.

    ``results[model][seed]`` is one number. Every model must have the same
    seeds; they are named in the header line.

    Example:
        >>> print(seed_table({"a": {0: 0.9, 1: 0.8}}))
        test accuracy over seeds [0, 1] (std: sample standard deviation)
        model             mean     std     min     max
        a               0.8500  0.0707  0.8000  0.9000
    """
    if not isinstance(results, Mapping) or not results:
        raise ValueError(f"results must be a non-empty mapping of model -> {{seed: value}}, got {results!r}")
    stats = {name: seed_stats(by_seed) for name, by_seed in results.items()}
    seeds = next(iter(stats.values()))["seeds"]
    for name, s in stats.items():
        if sorted(s["seeds"]) != sorted(seeds):
            raise ValueError(f"results[{name!r}] has seeds {s['seeds']}, expected {seeds}")
    lines = [f"{title} over seeds {seeds} (std: sample standard deviation)",
             f"{'model':<14} {'mean':>7} {'std':>7} {'min':>7} {'max':>7}"]
    lines += [f"{name:<14} {s['mean']:>7.4f} {s['std']:>7.4f} {s['min']:>7.4f} {s['max']:>7.4f}" for name, s in stats.items()]
    return "\n".join(lines)


def _check_xy(x: ArrayLike, y: ArrayLike, name: str) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y, dtype=np.int64)
    if x.ndim != 3:
        raise ValueError(f"{name} must be (batch, time, features), got shape {x.shape}")
    if y.shape != (x.shape[0],):
        raise ValueError(f"labels for {name} must have shape ({x.shape[0]},), got {y.shape}")
    return x, y


def _nll(probs: np.ndarray, y: np.ndarray) -> float:
    return float(-np.mean(np.log(np.clip(probs[np.arange(len(y)), y], 1e-12, None))))


# ----------------------------------------------------------------------------- Keras


def build_keras_classifier(
    n_features: int, n_classes: int, *, units: int = 32, masked: bool = True, seed: int = 0, learning_rate: float = 0.01
):
    """A compiled Keras model: [Masking(0.0)] -> LSTM(units) -> Dense(softmax).

    With ``masked=True`` a ``Masking(mask_value=0.0)`` layer marks padded steps
    (all features exactly 0), and the LSTM carries its state over them. With
    ``masked=False`` the LSTM reads the zeros as data. Initial weights depend
    only on ``seed``, not on what was built before.
    """
    import keras

    n_features = check_count("n_features", n_features, minimum=1)
    n_classes = check_count("n_classes", n_classes, minimum=2)
    units = check_count("units", units, minimum=1)
    init = keras.initializers
    inputs = keras.Input(shape=(None, n_features), name="frames")
    x = keras.layers.Masking(mask_value=0.0, name="masking")(inputs) if masked else inputs
    x = keras.layers.LSTM(
        units,
        kernel_initializer=init.GlorotUniform(seed=seed),
        recurrent_initializer=init.Orthogonal(seed=seed + 1),
        name="lstm",
    )(x)
    outputs = keras.layers.Dense(
        n_classes, activation="softmax", kernel_initializer=init.GlorotUniform(seed=seed + 2), name="classes"
    )(x)
    model = keras.Model(inputs, outputs, name="masked" if masked else "unmasked")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy")
    return model


def predict_proba_keras(model, x: ArrayLike, *, batch_size: int = 512) -> np.ndarray:
    """Class probabilities (n, classes) as float64, without progress output.

    Calls ``model.predict_on_batch`` on chunks of ``batch_size`` rows: it runs
    the model's compiled predict step directly, about 10 times faster here than
    ``model.predict`` on these small arrays (``predict`` builds a data pipeline
    on every call). The probabilities are the same.
    """
    x = np.asarray(x, dtype=np.float32)
    batch_size = check_count("batch_size", batch_size, minimum=1)
    chunks = [np.asarray(model.predict_on_batch(x[i : i + batch_size])) for i in range(0, len(x), batch_size)]
    return np.concatenate(chunks).astype(np.float64)


def restart_keras(model, fresh) -> None:
    """Reset a compiled (possibly trained) ``model`` to the untrained state of ``fresh``.

    Copies ``fresh``'s weights and its optimizer's initial state (step count,
    learning rate, Adam moments) into ``model``. Both must come from the same
    builder, so that their weights and optimizer variables line up. Training
    ``model`` afterwards gives exactly what training ``fresh`` would, but
    reuses ``model``'s traced train and predict steps: Keras traces them once
    per model (about a second each here), which would otherwise be paid again
    for every seed.

    Example:
        >>> a = build_keras_classifier(3, 2, units=4, seed=0)  # doctest: +SKIP
        >>> restart_keras(a, build_keras_classifier(3, 2, units=4, seed=1))  # doctest: +SKIP
    """
    fresh.optimizer.build(fresh.trainable_variables)
    model.optimizer.build(model.trainable_variables)
    weights = fresh.get_weights()
    if [w.shape for w in weights] != [w.shape for w in model.get_weights()]:
        raise ValueError("model and fresh have different weight shapes; build both with the same builder")
    states = [np.asarray(v) for v in fresh.optimizer.variables]
    targets = model.optimizer.variables
    if [s.shape for s in states] != [tuple(v.shape) for v in targets]:
        raise ValueError("model and fresh have different optimizer variables; compile both the same way")
    model.set_weights(weights)
    for variable, value in zip(targets, states):
        variable.assign(value)


def fit_keras(
    model,
    x: ArrayLike,
    y: ArrayLike,
    x_val: ArrayLike,
    y_val: ArrayLike,
    *,
    epochs: int,
    batch_size: int = 32,
    seed: int = 0,
    name: str = "keras",
) -> History:
    """Train ``model`` on the batches of :func:`epoch_batches`; keep the best-validation weights.

    Each batch goes through ``model.train_on_batch`` (no progress bar, so the
    output is stable under nbval); validation loss and accuracy are measured
    after every epoch. Returns a :class:`History`.
    """
    x, y = _check_xy(x, y, "x")
    x_val, y_val = _check_xy(x_val, y_val, "x_val")
    hist = History(name)
    best, best_weights = np.inf, None
    for batches in epoch_batches(len(x), batch_size, epochs, seed=seed):
        losses = [float(model.train_on_batch(x[b], y[b])) for b in batches]
        probs = predict_proba_keras(model, x_val)
        hist.train_loss.append(float(np.mean(losses)))
        hist.val_loss.append(_nll(probs, y_val))
        hist.val_accuracy.append(accuracy(probs, y_val))
        if hist.val_loss[-1] < best:
            best, best_weights = hist.val_loss[-1], model.get_weights()
    model.set_weights(best_weights)
    return hist


# ----------------------------------------------------------------------------- PyTorch


class TorchLSTMClassifier(nn.Module):
    """LSTM(units) -> Linear(classes) on the last state ``h_n``; returns logits.

    ``forward(x, lengths=None)``: with ``lengths`` (post-padded ``x``) the
    batch is packed, so each sequence stops at its own last real step; without
    it the LSTM runs over every step, padding included. Initial weights depend
    only on ``seed``.
    """

    def __init__(self, n_features: int, n_classes: int, *, units: int = 32, seed: int = 0):
        super().__init__()
        n_features = check_count("n_features", n_features, minimum=1)
        n_classes = check_count("n_classes", n_classes, minimum=2)
        units = check_count("units", units, minimum=1)
        gen_state = torch.random.get_rng_state()
        torch.manual_seed(seed)
        try:
            self.lstm = nn.LSTM(n_features, units, batch_first=True)
            self.head = nn.Linear(units, n_classes)
        finally:
            torch.random.set_rng_state(gen_state)  # leave the global generator as it was

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        if lengths is not None:
            # pack_padded_sequence wants CPU int64 lengths; enforce_sorted=False keeps batch order in h_n.
            x = pack_padded_sequence(x, lengths.cpu().long(), batch_first=True, enforce_sorted=False)
        _, (h_n, _) = self.lstm(x)
        return self.head(h_n[-1])


def predict_proba_torch(model: TorchLSTMClassifier, x: ArrayLike, lengths: ArrayLike | None = None) -> np.ndarray:
    """Class probabilities (n, classes) as float64; packed when ``lengths`` is given."""
    xt = torch.as_tensor(np.asarray(x, dtype=np.float32))
    lt = None if lengths is None else torch.as_tensor(as_lengths(lengths))
    model.eval()
    with torch.no_grad():
        return torch.softmax(model(xt, lt), dim=1).double().numpy()


def fit_torch(
    model: TorchLSTMClassifier,
    x: ArrayLike,
    y: ArrayLike,
    x_val: ArrayLike,
    y_val: ArrayLike,
    *,
    epochs: int,
    lengths: ArrayLike | None = None,
    lengths_val: ArrayLike | None = None,
    batch_size: int = 32,
    seed: int = 0,
    learning_rate: float = 0.01,
    name: str = "torch",
) -> History:
    """Train with Adam on the batches of :func:`epoch_batches`; keep the best-validation weights.

    Pass ``lengths`` and ``lengths_val`` (both or neither) to train packed.
    """
    x, y = _check_xy(x, y, "x")
    x_val, y_val = _check_xy(x_val, y_val, "x_val")
    if (lengths is None) != (lengths_val is None):
        raise ValueError("pass both lengths and lengths_val (packed) or neither (unpacked)")
    lt = None if lengths is None else torch.as_tensor(as_lengths(lengths))
    if lt is not None and lt.shape != (len(x),):
        raise ValueError(f"lengths must have shape ({len(x)},), got {tuple(lt.shape)}")
    xt, yt = torch.as_tensor(x), torch.as_tensor(y)
    opt = torch.optim.Adam(model.parameters(), lr=learning_rate)
    loss_fn = nn.CrossEntropyLoss()
    hist = History(name)
    best, best_state = np.inf, None
    for batches in epoch_batches(len(x), batch_size, epochs, seed=seed):
        model.train()
        losses = []
        for b in batches:
            b = torch.as_tensor(b)
            opt.zero_grad()
            loss = loss_fn(model(xt[b], None if lt is None else lt[b]), yt[b])
            loss.backward()
            opt.step()
            losses.append(loss.item())
        probs = predict_proba_torch(model, x_val, lengths_val)
        hist.train_loss.append(float(np.mean(losses)))
        hist.val_loss.append(_nll(probs, y_val))
        hist.val_accuracy.append(accuracy(probs, y_val))
        if hist.val_loss[-1] < best:
            best, best_state = hist.val_loss[-1], copy.deepcopy(model.state_dict())
    model.load_state_dict(best_state)
    model.eval()
    return hist


def probabilities_with_padding(
    model: TorchLSTMClassifier, sequence: ArrayLike, extra_padding: int, *, padding: str = "post", packed: bool = False
) -> np.ndarray:
    """Class probabilities (classes,) for one sequence with ``extra_padding`` zero steps added.

    The zeros go before (``padding="pre"``) or after (``"post"``) the real
    steps. With ``packed=True`` the model is told the real length (post
    padding only), so the answer must not depend on ``extra_padding``.

    Example:
        >>> m = TorchLSTMClassifier(2, 3, units=4, seed=0)
        >>> p0 = probabilities_with_padding(m, np.ones((3, 2)), 0, packed=True)
        >>> bool(np.allclose(p0, probabilities_with_padding(m, np.ones((3, 2)), 9, packed=True)))
        True
    """
    seq = np.asarray(sequence, dtype=np.float32)
    if seq.ndim != 2 or seq.shape[0] == 0:
        raise ValueError(f"sequence must be a non-empty (time, features) array, got shape {seq.shape}")
    extra = check_count("extra_padding", extra_padding)
    if padding not in ("pre", "post"):
        raise ValueError(f"padding must be 'pre' or 'post', got {padding!r}")
    if packed and padding != "post":
        raise ValueError("packed=True needs padding='post' (packing reads the first `length` steps)")
    zeros = np.zeros((extra, seq.shape[1]), np.float32)
    x = np.concatenate([seq, zeros] if padding == "post" else [zeros, seq])[None]
    return predict_proba_torch(model, x, [len(seq)] if packed else None)[0]
