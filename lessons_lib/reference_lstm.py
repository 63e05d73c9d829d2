"""A NumPy reference LSTM in the Keras weight layout, with Keras mask semantics.

Weights: ``kernel`` (features, 4u), ``recurrent_kernel`` (u, 4u), ``bias`` (4u,),
gates in the order input, forget, cell candidate, output (i, f, c, o), the
order shared by Keras and PyTorch. On a masked step the state (h, c) carries
over unchanged and the output repeats the carried ``h``, as in a Keras LSTM.
Everything is computed in float64, so it can serve as ground truth.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["lstm_forward", "random_lstm_weights", "sigmoid"]


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Numerically stable logistic function."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _as_float_array(name: str, value: ArrayLike, ndim: int) -> np.ndarray:
    from ._validate import check_numeric

    arr = np.asarray(value)
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        try:
            check_numeric(name, arr)  # names the first bad index
        except TypeError as err:
            raise TypeError(f"{name} must be numeric, got dtype {arr.dtype}: {err}") from None
        raise TypeError(f"{name} must be numeric, got dtype {arr.dtype}")
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {arr.shape}")
    return arr.astype(np.float64)


def lstm_forward(
    x: ArrayLike,
    kernel: ArrayLike,
    recurrent_kernel: ArrayLike,
    bias: ArrayLike,
    mask: ArrayLike | None = None,
    *,
    h0: ArrayLike | None = None,
    c0: ArrayLike | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run an LSTM over a padded batch, skipping masked steps.

    Args:
        x: ``(batch, time, features)`` inputs.
        kernel: ``(features, 4 * units)`` input weights, gates i, f, c, o.
        recurrent_kernel: ``(units, 4 * units)`` recurrent weights.
        bias: ``(4 * units,)``.
        mask: optional ``(batch, time)`` bool; False steps leave h and c unchanged.
        h0, c0: optional ``(batch, units)`` initial states (zeros by default).

    Returns:
        ``(outputs, h, c)``: outputs ``(batch, time, units)``, and the final
        states ``(batch, units)``. With a mask, ``h`` is the state after each
        sequence's last real step.

    Example:
        >>> w = random_lstm_weights(2, 3, seed=0)
        >>> out, h, c = lstm_forward(np.ones((1, 4, 2)), **w)
        >>> out.shape, h.shape
        ((1, 4, 3), (1, 3))
    """
    x = _as_float_array("x", x, 3)
    kernel = _as_float_array("kernel", kernel, 2)
    recurrent_kernel = _as_float_array("recurrent_kernel", recurrent_kernel, 2)
    bias = _as_float_array("bias", bias, 1)
    batch, steps, features = x.shape
    if kernel.shape[0] != features or kernel.shape[1] % 4:
        raise ValueError(
            f"kernel must have shape (features={features}, 4 * units), got {kernel.shape}"
        )
    units = kernel.shape[1] // 4
    if recurrent_kernel.shape != (units, 4 * units):
        raise ValueError(f"recurrent_kernel must have shape ({units}, {4 * units}), got {recurrent_kernel.shape}")
    if bias.shape != (4 * units,):
        raise ValueError(f"bias must have shape ({4 * units},), got {bias.shape}")
    if mask is not None:
        mask = np.asarray(mask)
        if mask.dtype != bool:
            from ._validate import index_text

            bad = [i for i, v in np.ndenumerate(mask) if not isinstance(v, (bool, np.bool_))][:1] if mask.dtype.kind == "O" else []
            where = bad[0] if bad else (0,) * mask.ndim
            v = mask[where] if mask.size else None
            v = v.item() if isinstance(v, np.generic) else v
            first = "" if mask.size == 0 else f" (mask{index_text(where)} = {v!r})"
            raise TypeError(f"mask must be a bool array, got dtype {mask.dtype}{first}")
        if mask.shape != (batch, steps):
            raise ValueError(f"mask must have shape (batch, time) = {(batch, steps)}, got {mask.shape}")
    h = np.zeros((batch, units)) if h0 is None else _as_float_array("h0", h0, 2).copy()
    c = np.zeros((batch, units)) if c0 is None else _as_float_array("c0", c0, 2).copy()
    for name, state in (("h0", h), ("c0", c)):
        if state.shape != (batch, units):
            raise ValueError(f"{name} must have shape {(batch, units)}, got {state.shape}")

    projected = x @ kernel + bias  # (batch, time, 4u): the input part of every step at once
    outputs = np.empty((batch, steps, units))
    for t in range(steps):
        z = projected[:, t] + h @ recurrent_kernel
        i, f = sigmoid(z[:, :units]), sigmoid(z[:, units : 2 * units])
        g, o = np.tanh(z[:, 2 * units : 3 * units]), sigmoid(z[:, 3 * units :])
        c_new = f * c + i * g
        h_new = o * np.tanh(c_new)
        if mask is not None:
            keep = mask[:, t, None]
            c_new = np.where(keep, c_new, c)
            h_new = np.where(keep, h_new, h)
        h, c = h_new, c_new
        outputs[:, t] = h
    return outputs, h, c


def random_lstm_weights(
    n_features: int, units: int, *, seed: int = 0, scale: float = 0.5, bias_scale: float = 0.5
) -> dict[str, np.ndarray]:
    """Random LSTM weights in the Keras layout, with a non-zero bias.

    A freshly built Keras LSTM has a zero cell-candidate bias, so zero padding
    leaves its state at exactly zero and "shows" that padding is harmless. These
    weights have a random bias on every gate, so padding effects are visible.

    Returns:
        ``{"kernel": (n_features, 4u), "recurrent_kernel": (u, 4u), "bias": (4u,)}``
        as float32 arrays, ready for ``lstm_forward(x, **weights)``.

    Example:
        >>> sorted(random_lstm_weights(3, 2).items(), key=lambda kv: kv[0])[0][1].shape
        (8,)
    """
    from ._validate import check_count

    check_count("n_features", n_features, minimum=1)
    check_count("units", units, minimum=1)
    rng = np.random.default_rng(seed)
    return {
        "kernel": (scale * rng.standard_normal((n_features, 4 * units))).astype(np.float32),
        "recurrent_kernel": (scale * rng.standard_normal((units, 4 * units))).astype(np.float32),
        "bias": (bias_scale * rng.standard_normal(4 * units)).astype(np.float32),
    }
