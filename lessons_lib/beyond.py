"""NumPy references for lesson 10 (beyond one LSTM), and the widget's pure compute.

Everything here is NumPy only, in the Keras weight layout, so it is fast
(well under 100 ms a widget update) and framework-free:

- :func:`gru_forward`: a Keras ``GRU(reset_after=True)`` (gates z, r, h;
  bias of shape ``(2, 3u)``: input bias, then recurrent bias);
- :func:`attention_pool`: softmax attention pooling over time, masked or not;
- :func:`conv1d_same`: a ``Conv1D(padding="same")`` with zero edges;
- :func:`padding_gaps`: for one of :data:`MODELS` and a padding amount, how far
  each sequence's result in a padded batch is from the same sequence run alone,
  with and without the mask.

The lesson itself proves, cell by cell, that Keras and PyTorch agree with these
references; this module is what the section-7 widget draws from.
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import ArrayLike

from ._validate import check_count, check_side
from .bridge import bidirectional_lstm_forward
from .masks import sequence_mask
from .padding import pad_sequences
from .reference_lstm import lstm_forward, random_lstm_weights, sigmoid
from .synthetic import random_ragged_batch

__all__ = [
    "LENGTHS",
    "MAX_PAD",
    "MODELS",
    "attention_pool",
    "conv1d_same",
    "gru_forward",
    "model_forward",
    "padding_gaps",
    "random_gru_weights",
]

#: The models the widget offers.
MODELS = ("stacked", "bidirectional", "GRU", "+attention", "+Conv1D")
#: The widget's batch: three sequences of these lengths, 3 features each.
LENGTHS = (5, 3, 2)
#: The most extra padding steps the widget adds.
MAX_PAD = 6
_FEATURES, _UNITS = 3, 4


def _float3(name: str, x: ArrayLike) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 3:
        raise ValueError(f"{name} must be 3-D (batch, time, features), got shape {arr.shape}")
    return arr


def _bool_mask(mask: ArrayLike | None, shape: tuple[int, int]) -> np.ndarray:
    if mask is None:
        return np.ones(shape, dtype=bool)
    arr = np.asarray(mask)
    if arr.dtype != bool:
        raise TypeError(f"mask must be a bool array, got dtype {arr.dtype}")
    if arr.shape != shape:
        raise ValueError(f"mask must have shape (batch, time) = {shape}, got {arr.shape}")
    return arr


def random_gru_weights(n_features: int, units: int, *, seed: int = 0, scale: float = 0.5) -> dict[str, np.ndarray]:
    """Random Keras-layout GRU weights (``reset_after=True``), with non-zero biases.

    Returns ``{"kernel": (features, 3u), "recurrent_kernel": (u, 3u), "bias": (2, 3u)}``,
    float32, gate blocks in Keras's order z, r, h.

    Example:
        >>> {k: v.shape for k, v in random_gru_weights(3, 2).items()}
        {'kernel': (3, 6), 'recurrent_kernel': (2, 6), 'bias': (2, 6)}
    """
    check_count("n_features", n_features, minimum=1)
    check_count("units", units, minimum=1)
    rng = np.random.default_rng(seed)
    return {
        "kernel": (scale * rng.standard_normal((n_features, 3 * units))).astype(np.float32),
        "recurrent_kernel": (scale * rng.standard_normal((units, 3 * units))).astype(np.float32),
        "bias": (scale * rng.standard_normal((2, 3 * units))).astype(np.float32),
    }


def gru_forward(
    x: ArrayLike, kernel: ArrayLike, recurrent_kernel: ArrayLike, bias: ArrayLike, mask: ArrayLike | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """A Keras ``GRU(reset_after=True)`` over a padded batch; masked steps keep the state.

    ``z = sigmoid(x Wz + bz + h Uz + b'z)``, ``r`` likewise, and
    ``hh = tanh(x Wh + bh + r * (h Uh + b'h))``, ``h = z * h + (1 - z) * hh``.

    Args:
        x: ``(batch, time, features)``.
        kernel: ``(features, 3u)``, recurrent_kernel ``(u, 3u)``, bias ``(2, 3u)``; gates z, r, h.
        mask: optional ``(batch, time)`` bool.

    Returns:
        ``(outputs, h)``: ``(batch, time, u)`` and the state after each row's last real step.

    Example:
        >>> w = random_gru_weights(2, 3)
        >>> out, h = gru_forward(np.ones((1, 4, 2)), **w)
        >>> out.shape, bool(np.allclose(out[:, -1], h))
        ((1, 4, 3), True)
    """
    x = _float3("x", x)
    kernel = np.asarray(kernel, dtype=np.float64)
    rec = np.asarray(recurrent_kernel, dtype=np.float64)
    bias = np.asarray(bias, dtype=np.float64)
    units = rec.shape[0]
    if kernel.shape != (x.shape[2], 3 * units) or rec.shape != (units, 3 * units) or bias.shape != (2, 3 * units):
        raise ValueError(
            f"GRU weights must be kernel ({x.shape[2]}, {3 * units}), recurrent_kernel ({units}, {3 * units}), "
            f"bias (2, {3 * units}); got {kernel.shape}, {rec.shape}, {bias.shape}"
        )
    mask = _bool_mask(mask, x.shape[:2])
    batch, steps, _ = x.shape
    h = np.zeros((batch, units))
    outputs = np.zeros((batch, steps, units))
    for t in range(steps):
        xz = x[:, t] @ kernel + bias[0]
        hz = h @ rec + bias[1]
        z = sigmoid(xz[:, :units] + hz[:, :units])
        r = sigmoid(xz[:, units:2 * units] + hz[:, units:2 * units])
        hh = np.tanh(xz[:, 2 * units:] + r * hz[:, 2 * units:])
        h_new = z * h + (1 - z) * hh
        h = np.where(mask[:, t:t + 1], h_new, h)
        outputs[:, t] = h
    return outputs, h


def attention_pool(outputs: ArrayLike, score_vector: ArrayLike, mask: ArrayLike | None = None) -> np.ndarray:
    """Softmax attention pooling over time: ``sum_t a_t * outputs_t`` with ``a = softmax(outputs @ v)``.

    Masked steps get weight exactly 0. A fully masked row gives NaN (0/0), like torch.

    Example:
        >>> out = np.array([[[1.0], [3.0]]])
        >>> attention_pool(out, [0.0], mask=np.array([[True, False]]))
        array([[1.]])
    """
    outputs = _float3("outputs", outputs)
    v = np.asarray(score_vector, dtype=np.float64)
    if v.shape != (outputs.shape[2],):
        raise ValueError(f"score_vector must have shape ({outputs.shape[2]},), got {v.shape}")
    mask = _bool_mask(mask, outputs.shape[:2])
    scores = np.where(mask, outputs @ v, -np.inf)
    with np.errstate(invalid="ignore"):
        weights = np.exp(scores - scores.max(axis=1, keepdims=True))
        weights = weights / weights.sum(axis=1, keepdims=True)
    return np.einsum("bt,btu->bu", weights, outputs)


def conv1d_same(x: ArrayLike, kernel: ArrayLike, bias: ArrayLike) -> np.ndarray:
    """``keras.layers.Conv1D(padding="same")`` in NumPy: zeros beyond both ends of the time axis.

    Args:
        x: ``(batch, time, features)``; kernel ``(width, features, filters)`` (odd width); bias ``(filters,)``.

    Example:
        >>> conv1d_same(np.ones((1, 3, 1)), np.ones((3, 1, 1)), np.zeros(1))[0, :, 0]
        array([2., 3., 2.])
    """
    x = _float3("x", x)
    kernel = np.asarray(kernel, dtype=np.float64)
    if kernel.ndim != 3 or kernel.shape[1] != x.shape[2] or kernel.shape[0] % 2 == 0:
        raise ValueError(f"kernel must be (odd width, {x.shape[2]}, filters), got shape {kernel.shape}")
    half = kernel.shape[0] // 2
    xp = np.pad(x, ((0, 0), (half, half), (0, 0)))
    steps = x.shape[1]
    out = sum(xp[:, k:k + steps] @ kernel[k] for k in range(kernel.shape[0]))
    return out + np.asarray(bias, dtype=np.float64)


@functools.lru_cache(maxsize=1)
def _weights() -> dict:
    """Fixed seeded weights for every widget model (computed once)."""
    rng = np.random.default_rng(10)
    return {
        "lstm1": random_lstm_weights(_FEATURES, _UNITS, seed=101),
        "lstm2": random_lstm_weights(_UNITS, _UNITS, seed=102),
        "bi": {"forward": random_lstm_weights(_FEATURES, _UNITS, seed=103),
               "backward": random_lstm_weights(_FEATURES, _UNITS, seed=104)},
        "gru": random_gru_weights(_FEATURES, _UNITS, seed=105),
        "score": rng.standard_normal(_UNITS),
        "dense": (0.5 * rng.standard_normal((_FEATURES, _FEATURES)), 0.5 * rng.standard_normal(_FEATURES)),
        "conv": (0.5 * rng.standard_normal((3, _FEATURES, _FEATURES)), 0.1 * rng.standard_normal(_FEATURES)),
    }


def model_forward(model: str, x: ArrayLike, mask: ArrayLike | None = None) -> np.ndarray:
    """One result vector per row for a widget model: ``(batch, d)``.

    - "stacked": LSTM -> LSTM, final h; "bidirectional": [h_forward, h_backward];
    - "GRU": final h; "+attention": LSTM outputs -> :func:`attention_pool`;
    - "+Conv1D": ``tanh(Dense)`` per step -> :func:`conv1d_same` -> LSTM, final h.
      The mask goes to the LSTM only: a Conv1D has no use for it.

    Example:
        >>> model_forward("GRU", np.zeros((2, 3, 3))).shape
        (2, 4)
    """
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {model!r}")
    x = _float3("x", x)
    if x.shape[2] != _FEATURES:
        raise ValueError(f"x must have {_FEATURES} features, got {x.shape[2]}")
    w = _weights()
    m = None if mask is None else _bool_mask(mask, x.shape[:2])
    if model == "stacked":
        out, _, _ = lstm_forward(x, **w["lstm1"], mask=m)
        return lstm_forward(out, **w["lstm2"], mask=m)[1]
    if model == "bidirectional":
        if m is None:  # unmasked: the backward direction reads the whole padded row reversed
            h_f = lstm_forward(x, **w["bi"]["forward"])[1]
            h_b = lstm_forward(x[:, ::-1], **w["bi"]["backward"])[1]
        else:
            _, h_f, _, h_b, _ = bidirectional_lstm_forward(x, w["bi"], mask=m)
        return np.concatenate([h_f, h_b], axis=1)
    if model == "GRU":
        return gru_forward(x, **w["gru"], mask=m)[1]
    if model == "+attention":
        out, _, _ = lstm_forward(x, **w["lstm1"], mask=m)
        return attention_pool(out, w["score"], mask=m)
    dense_w, dense_b = w["dense"]
    z = conv1d_same(np.tanh(x @ dense_w + dense_b), *w["conv"])
    return lstm_forward(z, **w["lstm1"], mask=m)[1]


def padding_gaps(model: str, pad_amount: int, padding: str = "post") -> dict[str, list[float]]:
    """Per sequence, the max abs gap between its padded-batch result and the sequence run alone.

    The batch is :data:`LENGTHS` (seeded data, 3 features), padded with zeros to
    ``max(LENGTHS) + pad_amount`` steps on the ``padding`` side, and run through
    :func:`model_forward` twice: with the mask and without.

    Returns:
        ``{"masked": [...], "unmasked": [...]}``, one float per sequence.

    Example:
        >>> gaps = padding_gaps("stacked", 2)
        >>> max(gaps["masked"]) < 1e-9 < min(gaps["unmasked"])
        True
    """
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {model!r}")
    if isinstance(pad_amount, bool) or not isinstance(pad_amount, (int, np.integer)) or not 0 <= pad_amount <= MAX_PAD:
        raise ValueError(f"pad_amount must be an int in 0..{MAX_PAD}, got {pad_amount!r}")
    check_side("padding", padding)
    seqs = _batch()
    maxlen = max(LENGTHS) + int(pad_amount)
    x = pad_sequences(list(seqs), maxlen, padding=padding, dtype=np.float64)
    mask = sequence_mask(np.array(LENGTHS), maxlen, padding=padding)
    alone = np.concatenate([model_forward(model, s[None]) for s in seqs])
    gaps = {}
    for name, m in (("masked", mask), ("unmasked", None)):
        batch = model_forward(model, x, m)
        gaps[name] = [float(v) for v in np.abs(batch - alone).max(axis=1)]
    return gaps


@functools.lru_cache(maxsize=1)
def _batch() -> tuple[np.ndarray, ...]:
    return tuple(s.astype(np.float64) for s in random_ragged_batch(list(LENGTHS), _FEATURES, seed=7))
