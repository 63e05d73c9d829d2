"""Copy LSTM weights between Keras, PyTorch and the NumPy reference, both ways.

The common currency is the *Keras layout*, the one :func:`lessons_lib.lstm_forward`
takes::

    {"kernel": (features, 4u), "recurrent_kernel": (u, 4u), "bias": (4u,)}

and, for a bidirectional layer, ``{"forward": <that dict>, "backward": <that dict>}``.

Both frameworks use the gate order input, forget, cell candidate, output
(:data:`GATE_ORDER`), so only transposes are needed:

=====================  =================================================
Keras (``layer.cell``)  PyTorch (``nn.LSTM``, suffix ``_reverse`` for backward)
=====================  =================================================
``kernel``              ``weight_ih_l0.T``   (torch is (4u, features))
``recurrent_kernel``    ``weight_hh_l0.T``   (torch is (4u, u))
``bias``                ``bias_ih_l0 + bias_hh_l0``
=====================  =================================================

PyTorch computes ``x @ W_ih.T + b_ih + h @ W_hh.T + b_hh``: its two biases are
always added, so only their sum matters and it maps to Keras's one bias.
Going Keras -> PyTorch, :func:`keras_to_torch_weights` puts the whole bias in
``bias_ih`` and zeros in ``bias_hh`` (any split with the same sum is equally right).

Only single-layer LSTMs with the standard activations (tanh, sigmoid) are
supported: anything else has no counterpart on the other side and is rejected
with a clear error. Framework modules are imported lazily, so importing this
module does not import TensorFlow or PyTorch.

Example (needs torch)::

    w = lessons_lib.random_lstm_weights(3, 2, seed=0)
    lstm = copy_numpy_to_torch(w, torch.nn.LSTM(3, 2))
    torch_lstm_weights(lstm)["bias"]  # == w["bias"]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._validate import check_padded_batch, check_side
from .masks import sequence_mask
from .padding import unpad_sequences
from .reference_lstm import lstm_forward

__all__ = [
    "GATE_ORDER",
    "bidirectional_lstm_forward",
    "check_keras_weights",
    "check_torch_weights",
    "copy_keras_to_torch",
    "copy_numpy_to_keras",
    "copy_numpy_to_torch",
    "copy_torch_to_keras",
    "gate_slices",
    "keras_lstm_variables",
    "keras_lstm_weights",
    "keras_to_torch_weights",
    "reverse_within_length",
    "torch_lstm_gradients",
    "torch_lstm_weights",
    "torch_to_keras_weights",
    "valid_steps",
]

#: Gate order shared by Keras and PyTorch: input, forget, cell candidate (torch calls it g), output.
GATE_ORDER = ("i", "f", "c", "o")

_KERAS_KEYS = ("kernel", "recurrent_kernel", "bias")
_DIRECTIONS = ("forward", "backward")


def gate_slices(units: int) -> dict[str, slice]:
    """Where each gate lives along the ``4 * units`` axis (Keras columns, torch rows).

    Example:
        >>> gate_slices(2)["f"]
        slice(2, 4, None)
    """
    if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units < 1:
        raise ValueError(f"units must be a positive int, got {units!r}")
    return {g: slice(k * units, (k + 1) * units) for k, g in enumerate(GATE_ORDER)}


# ---------------------------------------------------------------- pure NumPy conversions


def _as_matrix(name: str, value: Any, ndim: int) -> np.ndarray:
    if value is None:
        raise TypeError(f"{name} is missing (got None)")
    if hasattr(value, "detach"):  # a torch tensor or parameter
        value = value.detach().cpu().numpy()
    elif hasattr(value, "numpy") and not isinstance(value, np.ndarray):  # a TF tensor / Keras variable
        value = value.numpy()
    arr = np.array(value)  # a copy: never hand back a view of the caller's array
    if not np.issubdtype(arr.dtype, np.floating):
        raise TypeError(f"{name} must be a float array, got dtype {arr.dtype}")
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {arr.shape}")
    return arr


def _check_keras_dict(weights: Any, name: str = "weights") -> dict[str, np.ndarray]:
    """Validate one direction in the Keras layout; return copies."""
    if not isinstance(weights, Mapping):
        raise TypeError(f"{name} must be a dict with keys {_KERAS_KEYS}, got {type(weights).__name__}")
    missing = [k for k in ("kernel", "recurrent_kernel") if k not in weights]
    extra = sorted(set(weights) - set(_KERAS_KEYS))
    if missing or extra:
        raise ValueError(
            f"{name} must have keys {_KERAS_KEYS} (bias optional); missing {missing}, unexpected {extra}"
        )
    kernel = _as_matrix(f"{name}['kernel']", weights["kernel"], 2)
    recurrent = _as_matrix(f"{name}['recurrent_kernel']", weights["recurrent_kernel"], 2)
    if kernel.shape[1] % 4 or kernel.shape[1] == 0:
        raise ValueError(f"{name}['kernel'] must have shape (features, 4 * units), got {kernel.shape}")
    units = kernel.shape[1] // 4
    if recurrent.shape != (units, 4 * units):
        raise ValueError(
            f"{name}['recurrent_kernel'] must have shape (units, 4 * units) = {(units, 4 * units)} "
            f"to match {name}['kernel'] {kernel.shape}, got {recurrent.shape}"
        )
    out = {"kernel": kernel, "recurrent_kernel": recurrent}
    if weights.get("bias") is not None:
        bias = _as_matrix(f"{name}['bias']", weights["bias"], 1)
        if bias.shape != (4 * units,):
            raise ValueError(f"{name}['bias'] must have shape (4 * units,) = {(4 * units,)}, got {bias.shape}")
        out["bias"] = bias
    return out


def _split_directions(weights: Any, name: str = "weights") -> tuple[dict[str, np.ndarray], ...]:
    """Return one validated Keras-layout dict per direction (1 or 2)."""
    if isinstance(weights, Mapping) and set(weights) == set(_DIRECTIONS):
        return tuple(_check_keras_dict(weights[d], f"{name}['{d}']") for d in _DIRECTIONS)
    if isinstance(weights, Mapping) and ("forward" in weights or "backward" in weights):
        raise ValueError(f"{name} for a bidirectional layer needs both 'forward' and 'backward', got {sorted(weights)}")
    return (_check_keras_dict(weights, name),)


def check_keras_weights(
    kernel: ArrayLike, recurrent_kernel: ArrayLike, bias: ArrayLike | None = None
) -> dict[str, np.ndarray]:
    """Float copies of one direction's Keras-layout weights, or a ValueError/TypeError naming the array.

    Example:
        >>> sorted(check_keras_weights(np.ones((3, 8)), np.ones((2, 8)), np.zeros(8)))
        ['bias', 'kernel', 'recurrent_kernel']
    """
    return _check_keras_dict({"kernel": kernel, "recurrent_kernel": recurrent_kernel, "bias": bias})


def check_torch_weights(
    weight_ih: ArrayLike, weight_hh: ArrayLike, bias_ih: ArrayLike | None = None, bias_hh: ArrayLike | None = None
) -> dict[str, np.ndarray]:
    """Float copies of one direction's torch-layout weights, or a ValueError/TypeError naming the array.

    Example:
        >>> sorted(check_torch_weights(np.ones((8, 3)), np.ones((8, 2))))
        ['weight_hh', 'weight_ih']
    """
    w_ih = _as_matrix("weight_ih", weight_ih, 2)
    w_hh = _as_matrix("weight_hh", weight_hh, 2)
    if w_ih.shape[0] % 4 or w_ih.shape[0] == 0:
        raise ValueError(f"weight_ih must have shape (4 * units, features), got {w_ih.shape}")
    units = w_ih.shape[0] // 4
    if w_hh.shape != (4 * units, units):
        raise ValueError(
            f"weight_hh must have shape (4 * units, units) = {(4 * units, units)} to match weight_ih "
            f"{w_ih.shape}, got {w_hh.shape}"
        )
    if (bias_ih is None) != (bias_hh is None):
        raise ValueError("bias_ih and bias_hh must both be given or both be None")
    out = {"weight_ih": w_ih, "weight_hh": w_hh}
    if bias_ih is not None:
        for name, b in (("bias_ih", bias_ih), ("bias_hh", bias_hh)):
            out[name] = _as_matrix(name, b, 1)
            if out[name].shape != (4 * units,):
                raise ValueError(f"{name} must have shape (4 * units,) = {(4 * units,)}, got {out[name].shape}")
    return out


def keras_to_torch_weights(
    kernel: ArrayLike, recurrent_kernel: ArrayLike, bias: ArrayLike | None = None
) -> dict[str, np.ndarray]:
    """Keras layout -> torch layout, one way: transpose each matrix; the bias goes to bias_ih.

    >>> t = keras_to_torch_weights(np.ones((3, 8)), np.ones((2, 8)), np.arange(8.0))
    >>> t["weight_ih"].shape, float(t["bias_hh"].sum())
    ((8, 3), 0.0)
    """
    w = check_keras_weights(kernel, recurrent_kernel, bias)  # float copies, shapes checked
    torch_w = {"weight_ih": w["kernel"].T.copy(), "weight_hh": w["recurrent_kernel"].T.copy()}
    if "bias" in w:
        torch_w["bias_ih"] = w["bias"]  # torch adds bias_ih and bias_hh, so any split
        torch_w["bias_hh"] = np.zeros_like(w["bias"])  # with the same sum is right
    return torch_w


def torch_to_keras_weights(
    weight_ih: ArrayLike, weight_hh: ArrayLike,
    bias_ih: ArrayLike | None = None, bias_hh: ArrayLike | None = None,
) -> dict[str, np.ndarray]:
    """torch layout -> Keras layout, one direction: transpose each matrix; add the two biases.

    >>> k = torch_to_keras_weights(np.ones((8, 3)), np.ones((8, 2)), np.ones(8), np.ones(8))
    >>> k["kernel"].shape, float(k["bias"][0])
    ((3, 8), 2.0)
    """
    t = check_torch_weights(weight_ih, weight_hh, bias_ih, bias_hh)  # float copies, shapes checked
    keras_w = {"kernel": t["weight_ih"].T.copy(), "recurrent_kernel": t["weight_hh"].T.copy()}
    if "bias_ih" in t:
        keras_w["bias"] = t["bias_ih"] + t["bias_hh"]  # torch always adds its two biases
    return keras_w


# ---------------------------------------------------------------- Keras side


def _keras_lstm_layers(layer: Any, name: str = "keras_layer") -> tuple[Any, ...]:
    """The LSTM layer(s) inside ``layer``: (lstm,) or (forward, backward)."""
    import keras

    if isinstance(layer, keras.layers.Bidirectional):
        inner = (layer.forward_layer, layer.backward_layer)
        for d, sub in zip(_DIRECTIONS, inner):
            if not isinstance(sub, keras.layers.LSTM):
                raise TypeError(
                    f"{name} must be a keras.layers.LSTM or Bidirectional(LSTM); its {d} layer is "
                    f"{type(sub).__name__}"
                )
        if not isinstance(layer.backward_layer, keras.layers.LSTM) or not layer.backward_layer.go_backwards:
            raise ValueError(f"{name}: the backward layer of a Bidirectional must have go_backwards=True")
        subs = inner
    elif isinstance(layer, keras.layers.LSTM):
        if layer.go_backwards:
            raise ValueError(
                f"{name} has go_backwards=True, which has no torch.nn.LSTM counterpart; "
                "wrap a forward LSTM in keras.layers.Bidirectional instead"
            )
        subs = (layer,)
    else:
        raise TypeError(f"{name} must be a keras.layers.LSTM or Bidirectional(LSTM), got {type(layer).__name__}")
    for sub in subs:
        act = getattr(sub.cell.activation, "__name__", repr(sub.cell.activation))
        rec = getattr(sub.cell.recurrent_activation, "__name__", repr(sub.cell.recurrent_activation))
        if (act, rec) != ("tanh", "sigmoid"):
            raise ValueError(
                f"{name} uses activation={act!r}, recurrent_activation={rec!r}; only 'tanh' and 'sigmoid' "
                "match torch.nn.LSTM and the NumPy reference"
            )
    return subs


def _require_built(layer: Any, name: str) -> None:
    if not layer.built:
        raise ValueError(
            f"{name} ({type(layer).__name__}) is not built yet, so it has no weights; call it on a batch "
            "or use layer.build((None, None, features)) first"
        )


def keras_lstm_variables(keras_layer: Any) -> dict:
    """The Keras variables of an LSTM or Bidirectional(LSTM), in the bridge's dict layout.

    Handy as ``tape.gradient(loss, keras_lstm_variables(layer))``, which returns
    the gradients in the same (Keras) layout.
    """
    subs = _keras_lstm_layers(keras_layer)
    _require_built(keras_layer, "keras_layer")
    dicts = []
    for sub in subs:
        d = {"kernel": sub.cell.kernel, "recurrent_kernel": sub.cell.recurrent_kernel}
        if sub.cell.use_bias:
            d["bias"] = sub.cell.bias
        dicts.append(d)
    return dicts[0] if len(dicts) == 1 else dict(zip(_DIRECTIONS, dicts))


def keras_lstm_weights(keras_layer: Any) -> dict:
    """Keras LSTM (or Bidirectional(LSTM)) -> NumPy weights in the Keras layout.

    Returns ``{"kernel", "recurrent_kernel", "bias"}`` (no "bias" with
    ``use_bias=False``), or ``{"forward": ..., "backward": ...}`` for a
    Bidirectional layer. These feed :func:`lessons_lib.lstm_forward` directly.
    """
    variables = keras_lstm_variables(keras_layer)
    if "forward" in variables:
        return {d: {k: np.array(v.numpy()) for k, v in variables[d].items()} for d in _DIRECTIONS}
    return {k: np.array(v.numpy()) for k, v in variables.items()}


def copy_numpy_to_keras(weights: Mapping, keras_layer: Any) -> Any:
    """Write Keras-layout NumPy weights into a Keras LSTM or Bidirectional(LSTM).

    An unbuilt layer is built for the kernel's feature size. Shapes must match
    the layer (units, features, bias or not) or a ValueError names the array.
    Returns ``keras_layer``.
    """
    subs = _keras_lstm_layers(keras_layer)
    per_dir = _split_directions(weights)
    if len(per_dir) != len(subs):
        want = "{'forward': ..., 'backward': ...}" if len(subs) == 2 else "one {'kernel', 'recurrent_kernel', 'bias'} dict"
        raise ValueError(
            f"weights has {len(per_dir)} direction(s) but keras_layer "
            f"({type(keras_layer).__name__}) has {len(subs)}; pass {want}"
        )
    if not keras_layer.built:
        keras_layer.build((None, None, per_dir[0]["kernel"].shape[0]))
    targets = keras_lstm_variables(keras_layer)
    targets = (targets["forward"], targets["backward"]) if len(subs) == 2 else (targets,)
    labels = ("weights['forward']", "weights['backward']") if len(subs) == 2 else ("weights",)
    # Check everything first so a bad call leaves the layer unchanged.
    for w, tgt, label in zip(per_dir, targets, labels):
        if ("bias" in w) != ("bias" in tgt):
            raise ValueError(
                f"{label} {'has' if 'bias' in w else 'lacks'} a bias but the Keras layer has "
                f"use_bias={'bias' in tgt}"
            )
        for k, var in tgt.items():
            if tuple(w[k].shape) != tuple(var.shape):
                raise ValueError(f"{label}['{k}'] has shape {w[k].shape} but the Keras layer expects {tuple(var.shape)}")
    for w, tgt in zip(per_dir, targets):
        for k, var in tgt.items():
            var.assign(w[k].astype(var.dtype))
    return keras_layer


# ---------------------------------------------------------------- PyTorch side


def _check_torch_lstm(lstm: Any, name: str = "torch_lstm") -> tuple[str, ...]:
    """Validate a torch.nn.LSTM we can bridge; return its parameter suffixes."""
    import torch

    if not isinstance(lstm, torch.nn.LSTM):
        raise TypeError(f"{name} must be a torch.nn.LSTM, got {type(lstm).__name__}")
    if lstm.num_layers != 1:
        raise ValueError(
            f"{name} has num_layers={lstm.num_layers}; the bridge takes one-layer LSTMs "
            "(stack several instead)"
        )
    if getattr(lstm, "proj_size", 0):
        raise ValueError(f"{name} has proj_size={lstm.proj_size}; Keras has no projected LSTM")
    return ("_l0", "_l0_reverse") if lstm.bidirectional else ("_l0",)


def torch_lstm_weights(torch_lstm: Any) -> dict:
    """PyTorch ``nn.LSTM`` -> NumPy weights in the Keras layout (bias = bias_ih + bias_hh).

    Returns one ``{"kernel", "recurrent_kernel", "bias"}`` dict, or
    ``{"forward": ..., "backward": ...}`` for ``bidirectional=True``.
    """
    suffixes = _check_torch_lstm(torch_lstm)
    dicts = []
    for s in suffixes:
        p = dict(torch_lstm.named_parameters())
        dicts.append(
            torch_to_keras_weights(
                p[f"weight_ih{s}"], p[f"weight_hh{s}"], p.get(f"bias_ih{s}"), p.get(f"bias_hh{s}")
            )
        )
    return dicts[0] if len(dicts) == 1 else dict(zip(_DIRECTIONS, dicts))


def copy_numpy_to_torch(weights: Mapping, torch_lstm: Any) -> Any:
    """Write Keras-layout NumPy weights into a ``torch.nn.LSTM``; returns it.

    ``bias_ih`` gets the Keras bias and ``bias_hh`` zeros. Shapes must match
    (input_size, hidden_size, bias, bidirectional) or a ValueError names the array.
    """
    import torch

    suffixes = _check_torch_lstm(torch_lstm)
    per_dir = _split_directions(weights)
    if len(per_dir) != len(suffixes):
        raise ValueError(
            f"weights has {len(per_dir)} direction(s) but torch_lstm has bidirectional={torch_lstm.bidirectional}"
        )
    params = dict(torch_lstm.named_parameters())
    labels = ("weights['forward']", "weights['backward']") if len(suffixes) == 2 else ("weights",)
    plan = []
    for w, s, label in zip(per_dir, suffixes, labels):
        if ("bias" in w) != torch_lstm.bias:
            raise ValueError(
                f"{label} {'has' if 'bias' in w else 'lacks'} a bias but torch_lstm has bias={torch_lstm.bias}"
            )
        t = keras_to_torch_weights(w["kernel"], w["recurrent_kernel"], w.get("bias"))
        for k, arr in t.items():
            param = params[f"{k}{s}"]
            if tuple(arr.shape) != tuple(param.shape):
                keras_name = {"weight_ih": "kernel", "weight_hh": "recurrent_kernel"}.get(k, "bias")
                raise ValueError(
                    f"{label}['{keras_name}'] gives {k}{s} shape {arr.shape} but torch_lstm "
                    f"(input_size={torch_lstm.input_size}, hidden_size={torch_lstm.hidden_size}) "
                    f"expects {tuple(param.shape)}"
                )
            plan.append((param, arr))
    with torch.no_grad():
        for param, arr in plan:
            param.copy_(torch.as_tensor(arr, dtype=param.dtype))
    return torch_lstm


def copy_keras_to_torch(keras_layer: Any, torch_lstm: Any) -> Any:
    """Copy a Keras LSTM / Bidirectional(LSTM) into a ``torch.nn.LSTM``; returns the torch LSTM."""
    _check_torch_lstm(torch_lstm)
    return copy_numpy_to_torch(keras_lstm_weights(keras_layer), torch_lstm)


def copy_torch_to_keras(torch_lstm: Any, keras_layer: Any) -> Any:
    """Copy a ``torch.nn.LSTM`` into a Keras LSTM / Bidirectional(LSTM); returns the Keras layer."""
    _keras_lstm_layers(keras_layer)
    return copy_numpy_to_keras(torch_lstm_weights(torch_lstm), keras_layer)


def torch_lstm_gradients(torch_lstm: Any) -> dict:
    """The ``.grad`` of a ``torch.nn.LSTM``'s parameters, in the Keras layout.

    The gradient of the Keras bias is ``bias_ih.grad``, which equals
    ``bias_hh.grad``: the loss sees only their sum. Call after ``loss.backward()``.
    """
    suffixes = _check_torch_lstm(torch_lstm)
    params = dict(torch_lstm.named_parameters())
    dicts = []
    for s in suffixes:
        grads = {}
        for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            p = params.get(f"{k}{s}")
            if p is None:
                continue
            if p.grad is None:
                raise ValueError(f"torch_lstm.{k}{s}.grad is None: call loss.backward() first")
            grads[k] = p.grad.detach().cpu().numpy().astype(np.float64)
        d = {"kernel": grads["weight_ih"].T.copy(), "recurrent_kernel": grads["weight_hh"].T.copy()}
        if "bias_ih" in grads:
            d["bias"] = grads["bias_ih"]
        dicts.append(d)
    return dicts[0] if len(dicts) == 1 else dict(zip(_DIRECTIONS, dicts))


# ---------------------------------------------------------------- NumPy reference, bidirectional


def _reversal_index(mask: np.ndarray) -> np.ndarray:
    """Per row, an index that reverses the order of the True steps and fixes the others."""
    batch, steps = mask.shape
    counts = mask.sum(axis=1)
    order = np.argsort(~mask, axis=1, kind="stable")  # valid positions first, in time order
    rank = np.cumsum(mask, axis=1) - 1  # rank of each valid step within its row
    partner = np.take_along_axis(order, np.clip(counts[:, None] - 1 - rank, 0, max(steps - 1, 0)), axis=1)
    return np.where(mask, partner, np.arange(steps)[None, :])


def reverse_within_length(
    padded: ArrayLike, lengths: ArrayLike, *, padding: str = "post"
) -> np.ndarray:
    """Reverse each sequence's real steps in time; the padding stays where it is.

    ``padded`` is (batch, time) or (batch, time, features), ``lengths`` (batch,).
    >>> reverse_within_length(np.array([[1, 2, 3, 0], [4, 5, 0, 0]]), [3, 2])
    array([[3, 2, 1, 0],
           [5, 4, 0, 0]])
    """
    check_side("padding", padding)
    padded, lengths = check_padded_batch(padded, lengths)  # shapes and lengths checked
    out = padded.copy()
    for b, n in enumerate(lengths):
        real = slice(0, n) if padding == "post" else slice(padded.shape[1] - n, padded.shape[1])
        out[b, real] = padded[b, real][::-1]
    return out


def bidirectional_lstm_forward(
    x: ArrayLike, weights: Mapping, mask: ArrayLike | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """NumPy reference for a bidirectional LSTM (Keras ``merge_mode="concat"``).

    The forward direction is :func:`lstm_forward`. The backward direction runs
    :func:`lstm_forward` on each sequence's valid steps in reverse order (the
    padding stays put and is skipped by the mask), and its outputs are put back
    in the original time order.

    Args:
        x: ``(batch, time, features)``.
        weights: ``{"forward": {...}, "backward": {...}}`` in the Keras layout.
        mask: optional ``(batch, time)`` bool; None means every step is real.

    Returns:
        ``(outputs, h_fw, c_fw, h_bw, c_bw)`` with outputs ``(batch, time, 2u)``
        (forward units first), the order a Keras ``Bidirectional(...,
        return_state=True)`` returns. ``h_bw`` is the backward state after it has
        read back to the first real step.
    """
    fw, bw = _split_directions(weights) if isinstance(weights, Mapping) and "forward" in weights else (None, None)
    if fw is None:
        raise ValueError("weights must be {'forward': {...}, 'backward': {...}} for a bidirectional LSTM")
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"x must be 3-D (batch, time, features), got shape {x.shape}")
    if mask is None:
        mask_arr = np.ones(x.shape[:2], dtype=bool)
    else:
        mask_arr = np.asarray(mask)
        if mask_arr.dtype != bool:
            raise TypeError(f"mask must be a bool array, got dtype {mask_arr.dtype}")
        if mask_arr.shape != x.shape[:2]:
            raise ValueError(f"mask must have shape (batch, time) = {x.shape[:2]}, got {mask_arr.shape}")
    out_f, h_f, c_f = lstm_forward(x, mask=mask, **fw)
    index = _reversal_index(mask_arr)
    x_rev = np.take_along_axis(x, index[:, :, None], axis=1)
    out_b_rev, h_b, c_b = lstm_forward(x_rev, mask=mask, **bw)
    out_b = np.take_along_axis(out_b_rev, index[:, :, None], axis=1)
    return np.concatenate([out_f, out_b], axis=-1), h_f, c_f, h_b, c_b


def valid_steps(outputs: Any, lengths: ArrayLike, *, padding: str = "post") -> np.ndarray:
    """Stack the outputs at real steps of every sequence into one ``(sum(lengths), units)`` array.

    Lets you compare a pre-padded and a post-padded run step by step.
    Accepts NumPy, TF or torch arrays.

    Example:
        >>> valid_steps(np.arange(6.0).reshape(2, 3, 1), [1, 2], padding="pre")[:, 0]
        array([2., 4., 5.])
    """
    if hasattr(outputs, "detach"):
        outputs = outputs.detach().cpu().numpy()
    elif hasattr(outputs, "numpy") and not isinstance(outputs, np.ndarray):
        outputs = outputs.numpy()
    outputs = np.asarray(outputs)
    if outputs.ndim != 3:
        raise ValueError(f"outputs must be 3-D (batch, time, units), got shape {outputs.shape}")
    parts = unpad_sequences(outputs, lengths, padding=padding)
    return np.concatenate(parts, axis=0) if parts else outputs[:0, 0]
