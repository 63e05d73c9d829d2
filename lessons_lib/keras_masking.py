"""Keras 3 masking helpers for lesson 02: layers with known weights, masks, references.

Import it explicitly, after ``ll.setup_notebook(...)``::

    from lessons_lib import keras_masking as km

What is here:

- :func:`lstm_arrays`, :func:`embedding_table`: known weights, as the arrays
  that ``layer.set_weights(...)`` takes (lesson 02 builds its layers in plain
  Keras and loads these);
- :func:`lstm_layer`, :func:`bidirectional_lstm`, :func:`embedding_layer`:
  built Keras layers with fixed, seeded weights (non-zero LSTM biases, so
  padding effects are visible), for later lessons, tests and the widget;
- :func:`keras_mask_of`, :func:`without_keras_mask`: read or drop the
  ``_keras_mask`` that eager Keras tensors carry;
- :func:`run_one_by_one`: the honest reference, each sequence run alone;
- :func:`call_explained`, :func:`short_error_message`: call Keras and turn a
  long TensorFlow error into a short, path-free one of the same type;
- :func:`cudnn_mask_ok`: the cuDNN mask rule, computed with NumPy;
- :func:`masked_mean`: the number Keras reports for a masked per-step loss;
  these two are taught in lesson 02, in ``#@save lessons_lib.keras_masking``
  cells that must stay identical to the code here (``tools/taught_code.py``);
- :func:`masking_method_output`: the pure function behind the lesson's widget.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._validate import check_count, check_side
from .masks import sequence_mask
from .notebook_setup import KERNEL_ENV
from .padding import pad_sequences

# TensorFlow reads its log settings once, at import; without these it writes to stderr.
for _key in ("TF_CPP_MIN_LOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS", "KERAS_BACKEND"):
    os.environ.setdefault(_key, KERNEL_ENV[_key])

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

__all__ = [
    "METHODS",
    "bidirectional_lstm",
    "call_explained",
    "compiled_calls",
    "cudnn_mask_ok",
    "embedding_layer",
    "embedding_table",
    "keras_mask_of",
    "lstm_arrays",
    "lstm_layer",
    "masked_mean",
    "masking_method_output",
    "run_one_by_one",
    "short_error_message",
    "without_keras_mask",
]

WEIGHT_NAMES = ("kernel", "recurrent_kernel", "bias")

#: The masking methods the widget compares (see :func:`masking_method_output`).
METHODS = ("none", "mask_zero", "Masking", "Masking after Embedding", "explicit mask")


def _check_weights(name: str, weights: Any) -> tuple[list[np.ndarray], int, int]:
    """Validate a Keras-layout weight dict; return (arrays, n_features, units)."""
    if not isinstance(weights, Mapping):
        raise TypeError(f"{name} must be a dict with keys {WEIGHT_NAMES}, got {type(weights).__name__}")
    missing = [k for k in WEIGHT_NAMES if k not in weights]
    if missing:
        raise ValueError(f"{name} is missing {missing}; expected keys {WEIGHT_NAMES}")
    kernel, recurrent, bias = (np.asarray(weights[k], dtype=np.float32) for k in WEIGHT_NAMES)
    if kernel.ndim != 2 or kernel.shape[1] % 4 or kernel.shape[1] == 0:
        raise ValueError(f"{name}['kernel'] must have shape (features, 4 * units), got {kernel.shape}")
    units = kernel.shape[1] // 4
    if recurrent.shape != (units, 4 * units):
        raise ValueError(f"{name}['recurrent_kernel'] must have shape {(units, 4 * units)}, got {recurrent.shape}")
    if bias.shape != (4 * units,):
        raise ValueError(f"{name}['bias'] must have shape {(4 * units,)}, got {bias.shape}")
    return [kernel.copy(), recurrent.copy(), bias.copy()], kernel.shape[0], units


def lstm_arrays(weights: Mapping[str, ArrayLike]) -> list[np.ndarray]:
    """The arrays of a Keras-layout weight dict, in the order ``LSTM.set_weights`` takes them.

    ``[kernel (features, 4u), recurrent_kernel (u, 4u), bias (4u,)]``, float32
    copies (gate order i, f, c, o). For a ``Bidirectional(LSTM)``, add the
    backward layer's list after the forward one's.

    Example:
        >>> import lessons_lib as ll
        >>> [a.shape for a in lstm_arrays(ll.random_lstm_weights(3, 4, seed=0))]
        [(3, 16), (4, 16), (16,)]
    """
    return _check_weights("weights", weights)[0]


def lstm_layer(
    weights: Mapping[str, ArrayLike],
    *,
    return_sequences: bool = False,
    zero_output_for_mask: bool = False,
    go_backwards: bool = False,
    use_cudnn: str | bool = "auto",
    name: str | None = None,
) -> keras.layers.LSTM:
    """A built ``keras.layers.LSTM`` holding ``weights`` (Keras layout).

    Args:
        weights: ``{"kernel": (features, 4u), "recurrent_kernel": (u, 4u),
            "bias": (4u,)}``, e.g. from ``ll.random_lstm_weights``.
        return_sequences, zero_output_for_mask, go_backwards, use_cudnn:
            passed to ``keras.layers.LSTM``.

    Example:
        >>> import lessons_lib as ll
        >>> lstm = lstm_layer(ll.random_lstm_weights(3, 4, seed=0))
        >>> tuple(lstm(np.ones((2, 5, 3), "float32")).shape)
        (2, 4)
    """
    arrays, n_features, units = _check_weights("weights", weights)
    layer = keras.layers.LSTM(
        units,
        return_sequences=return_sequences,
        zero_output_for_mask=zero_output_for_mask,
        go_backwards=go_backwards,
        use_cudnn=use_cudnn,
        name=name,
    )
    layer.build((None, None, n_features))
    layer.set_weights(arrays)
    return layer


def bidirectional_lstm(
    forward_weights: Mapping[str, ArrayLike],
    backward_weights: Mapping[str, ArrayLike],
    *,
    return_sequences: bool = False,
    merge_mode: str = "concat",
) -> keras.layers.Bidirectional:
    """A built ``Bidirectional(LSTM)`` with known forward and backward weights.

    With ``merge_mode="concat"`` the output is ``[forward units | backward units]``.

    Example:
        >>> import lessons_lib as ll
        >>> bi = bidirectional_lstm(ll.random_lstm_weights(3, 4, seed=1), ll.random_lstm_weights(3, 4, seed=2))
        >>> tuple(bi(np.ones((2, 5, 3), "float32")).shape)
        (2, 8)
    """
    fw, n_fw, units = _check_weights("forward_weights", forward_weights)
    bw, n_bw, units_bw = _check_weights("backward_weights", backward_weights)
    if (n_fw, units) != (n_bw, units_bw):
        raise ValueError(
            f"forward_weights (features={n_fw}, units={units}) and backward_weights "
            f"(features={n_bw}, units={units_bw}) must have the same sizes"
        )
    layer = keras.layers.Bidirectional(
        keras.layers.LSTM(units, return_sequences=return_sequences), merge_mode=merge_mode
    )
    layer.build((None, None, n_fw))
    layer.set_weights(fw + bw)
    return layer


def embedding_table(vocab_size: int, output_dim: int, *, seed: int = 0, scale: float = 1.0) -> np.ndarray:
    """A seeded ``(vocab_size, output_dim)`` float32 table; row 0 is NOT zero, as in Keras.

    Example:
        >>> embedding_table(5, 2, seed=0).shape
        (5, 2)
    """
    check_count("vocab_size", vocab_size, minimum=2)
    check_count("output_dim", output_dim, minimum=1)
    return (scale * np.random.default_rng(seed).standard_normal((vocab_size, output_dim))).astype(np.float32)


def embedding_layer(
    vocab_size: int, output_dim: int, *, mask_zero: bool = False, seed: int = 0, scale: float = 1.0
) -> keras.layers.Embedding:
    """A built ``keras.layers.Embedding`` holding :func:`embedding_table` ``(vocab_size, output_dim, seed=seed)``.

    Two layers made with the same seed share the table, so ``mask_zero=True``
    and ``mask_zero=False`` can be compared fairly.

    Example:
        >>> emb = embedding_layer(10, 3, mask_zero=True)
        >>> emb.compute_mask(np.array([[4, 2, 0]])).numpy().tolist()
        [[True, True, False]]
    """
    if not isinstance(mask_zero, (bool, np.bool_)):
        raise TypeError(f"mask_zero must be a bool, got {mask_zero!r}")
    table = embedding_table(vocab_size, output_dim, seed=seed, scale=scale)
    layer = keras.layers.Embedding(vocab_size, output_dim, mask_zero=bool(mask_zero))
    layer.build((None, None))
    layer.set_weights([table])
    return layer


def keras_mask_of(tensor: Any) -> np.ndarray | None:
    """The mask an eager Keras tensor carries (``_keras_mask``) as a NumPy bool array, or None.

    Example:
        >>> e = embedding_layer(10, 3, mask_zero=True)(np.array([[4, 0]]))
        >>> keras_mask_of(e).tolist()
        [[True, False]]
        >>> keras_mask_of(np.zeros(2)) is None
        True
    """
    mask = getattr(tensor, "_keras_mask", None)
    return None if mask is None else np.asarray(mask).astype(bool)


def without_keras_mask(tensor: Any) -> tf.Tensor:
    """A copy of ``tensor`` that carries no ``_keras_mask`` (the input is left unchanged).

    ``lstm(e)`` is masked whenever ``e`` carries a mask, even without ``mask=``;
    an honest "unmasked" run must drop it first.

    Example:
        >>> e = embedding_layer(10, 3, mask_zero=True)(np.array([[4, 0]]))
        >>> keras_mask_of(without_keras_mask(e)) is None, keras_mask_of(e) is not None
        (True, True)
    """
    if tensor is None:
        raise TypeError("tensor must be an array or a tensor, got None")
    return tf.identity(tf.convert_to_tensor(tensor))


def run_one_by_one(fn: Callable[[np.ndarray], Any], sequences: Sequence[ArrayLike]) -> np.ndarray:
    """Run ``fn`` on each sequence alone (a batch of one, no padding) and stack the results.

    This is the reference every masked batch must reproduce.

    Args:
        fn: maps a ``(1, time, ...)`` array to a ``(1, ...)`` result (a layer or a model).
        sequences: the unpadded sequences, each of length >= 1.

    Returns:
        ``np.ndarray`` of shape ``(len(sequences), ...)``.

    Example:
        >>> run_one_by_one(lambda b: b.sum(axis=1), [np.ones(3), np.ones(1)]).tolist()
        [3.0, 1.0]
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    if isinstance(sequences, (str, bytes)) or len(sequences) == 0:
        raise ValueError(f"sequences must be a non-empty list of arrays, got {sequences!r}")
    results = []
    for i, seq in enumerate(sequences):
        arr = np.asarray(seq)
        if arr.ndim == 0 or arr.shape[0] == 0:
            raise ValueError(f"sequences[{i}] has length 0; an LSTM cannot run on an empty sequence alone")
        out = fn(arr[None])
        out = out.numpy() if hasattr(out, "numpy") else np.asarray(out)
        results.append(out[0])
    return np.stack(results)


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_NODE = re.compile(r"\{\{[^}]*\}\}\s*")
_OP_SUFFIX = re.compile(r"\s*\[Op:[^\]]*\](?:\s*name:\s*\S*)?\s*$")
_CALLING = re.compile(r"Exception encountered when calling ([\w.]+)\(\)")


def short_error_message(exc: BaseException) -> str:
    """The core of a Keras/TensorFlow error message, without colours, node names or argument dumps.

    ``"Exception encountered when calling LSTM.call(). <core> Arguments received ..."``
    becomes ``"in LSTM.call(): <core>"``.

    Example:
        >>> short_error_message(ValueError("Exception encountered when calling LSTM.call().\\n\\n"
        ...     "\\x1b[1mbad mask\\x1b[0m\\n\\nArguments received by LSTM.call():\\n  x=1"))
        'in LSTM.call(): bad mask'
    """
    if not isinstance(exc, BaseException):
        raise TypeError(f"exc must be an exception, got {type(exc).__name__}")
    text = _ANSI.sub("", getattr(exc, "message", None) or str(exc))
    where = _CALLING.search(text)
    body = text.split("Arguments received by")[0]
    if where:
        body = body[where.end() :]
    lines = [ln.strip() for ln in body.splitlines() if ln.strip() and ln.strip() != "."]
    core = _OP_SUFFIX.sub("", _NODE.sub("", " ".join(lines))).strip()
    return f"in {where.group(1)}(): {core}" if where else core


def call_explained(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call ``fn(*args, **kwargs)``; if it fails, re-raise the same exception type with a short message.

    TensorFlow errors embed node names, device strings and argument dumps
    that change with the call site; this keeps the exception's type and the
    sentence that explains it (see :func:`short_error_message`).

    Example:
        >>> call_explained(lambda a: a + 1, 1)
        2
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    try:
        return fn(*args, **kwargs)
    except tf.errors.OpError as exc:
        raise type(exc)(None, None, short_error_message(exc)) from None
    except (ValueError, TypeError, NotImplementedError) as exc:
        raise type(exc)(short_error_message(exc)) from None


def cudnn_mask_ok(mask: ArrayLike) -> dict[str, bool]:
    """Check a ``(batch, time)`` bool mask against the cuDNN kernel's rule.

    cuDNN receives one length per sequence, so Keras sends a mask to it only if
    every row is strictly right-padded (a True block first, then only False)
    and no row is entirely False.

    Example:
        >>> cudnn_mask_ok([[True, True, False], [True, False, False]])
        {'right_padded': True, 'no_empty_row': True, 'ok': True}
    """
    arr = np.asarray(mask)
    if arr.ndim != 2:
        raise ValueError(f"mask must be 2-D (batch, time), got shape {arr.shape}")
    if arr.dtype != bool:
        raise TypeError(f"mask must be a bool array, got dtype {arr.dtype}")
    lengths = arr.sum(axis=1)
    right_padded = bool((arr == sequence_mask(lengths, arr.shape[1], padding="post")).all())
    no_empty_row = bool((lengths > 0).all())
    ok = right_padded and no_empty_row
    return {"right_padded": right_padded, "no_empty_row": no_empty_row, "ok": ok}


def masked_mean(values: ArrayLike, mask: ArrayLike) -> float:
    """Mean of ``values`` over the True entries of ``mask``: what a Keras loss reports, masked.

    Keras gives each real step the weight ``total / n_real`` and each masked step
    0, then averages over all steps: ``sum(values * mask) / n_real``. An
    all-False mask gives 0.0, as in Keras.

    Example:
        >>> masked_mean([[1.0, 3.0, 100.0]], [[True, True, False]])
        2.0
    """
    vals, m = np.asarray(values, dtype=np.float64), np.asarray(mask)
    if m.dtype != bool:
        raise TypeError(f"mask must be a bool array, got dtype {m.dtype}")
    if m.shape != vals.shape:
        raise ValueError(f"mask must have the shape of values {vals.shape}, got {m.shape}")
    n_real = int(m.sum())
    return float(np.where(m, vals, 0.0).sum() / n_real) if n_real else 0.0


# --- the widget's pure function -------------------------------------------------

DEMO_TOKENS = np.array([3, 7, 1, 9, 4])
DEMO_VOCAB, DEMO_DIM, DEMO_UNITS, DEMO_SEED = 12, 3, 4, 2


def compiled_calls(layer: Any, n_features: int) -> dict:
    """``layer(x)`` and ``layer(x, mask=m)`` as ``tf.function`` calls: ``{"none": f(x), "mask": f(x, m)}``.

    Each is traced once for any batch size and length (both axes free), then runs the same layer
    with the same weights. An eager Keras LSTM call costs 25-50 ms on a CPU (TensorFlow runs its
    step loop op by op); the compiled call about 1 ms, with bit-identical outputs. The lesson 02
    widget and the playground use it to answer within 100 ms.

    Example:
        >>> calls = compiled_calls(keras.layers.LSTM(2), n_features=3)
        >>> calls["mask"](np.ones((1, 4, 3), np.float32), np.array([[1, 1, 0, 0]], bool)).shape
        TensorShape([1, 2])
    """
    x_spec = tf.TensorSpec((None, None, n_features), tf.float32)
    m_spec = tf.TensorSpec((None, None), tf.bool)
    return {
        "none": tf.function(lambda x: layer(x), input_signature=[x_spec]),
        "mask": tf.function(lambda x, m: layer(x, mask=m), input_signature=[x_spec, m_spec]),
    }


@functools.lru_cache(maxsize=4)
def _demo_layers(vocab_size: int, dim: int, units: int, seed: int) -> dict:
    """The widget's layers, built once; the LSTM also as two compiled calls (:func:`compiled_calls`)."""
    from .reference_lstm import random_lstm_weights

    lstm = lstm_layer(random_lstm_weights(dim, units, seed=seed))
    calls = compiled_calls(lstm, dim)
    return {
        "table": embedding_table(vocab_size, dim, seed=seed),
        "embed": embedding_layer(vocab_size, dim, mask_zero=False, seed=seed),
        "embed_mask_zero": embedding_layer(vocab_size, dim, mask_zero=True, seed=seed),
        "masking": keras.layers.Masking(mask_value=0.0),
        "lstm": lstm,
        "lstm_unmasked": calls["none"],
        "lstm_masked": calls["mask"],
    }


def _run_lstm(layers: dict, x: Any, mask: np.ndarray | None) -> np.ndarray:
    """``layers["lstm"](x, mask=mask)`` (no mask: ``lstm(x)``), through the compiled calls; (units,)."""
    x = tf.convert_to_tensor(x, tf.float32)
    if mask is None:
        return layers["lstm_unmasked"](x).numpy()[0]
    return layers["lstm_masked"](x, tf.convert_to_tensor(mask, tf.bool)).numpy()[0]


def masking_method_output(
    method: str = "mask_zero",
    padding: str = "post",
    pad_amount: int = 3,
    *,
    tokens: ArrayLike | None = None,
) -> dict:
    """Pad one token sequence, mask it one way, and compare the LSTM's final output with the unpadded run.

    The same embedding table and LSTM weights are used by every method.

    Methods (:data:`METHODS`):

    - ``"none"``: ``Embedding(mask_zero=False)`` then LSTM, no mask;
    - ``"mask_zero"``: ``Embedding(mask_zero=True)`` then LSTM;
    - ``"Masking"``: the embedded vectors of the real tokens, padded with
      zero *vectors* (float features), then ``Masking(0.0)`` and LSTM;
    - ``"Masking after Embedding"``: ``Embedding`` then ``Masking(0.0)``: the
      classic bug, it masks nothing;
    - ``"explicit mask"``: ``Embedding`` then ``LSTM(x, mask=tokens != 0)``.

    Args:
        method: one of :data:`METHODS`.
        padding: "pre" or "post".
        pad_amount: zero steps added (>= 0).
        tokens: 1-D token ids >= 1 (0 is padding); default :data:`DEMO_TOKENS`.

    Returns:
        ``{"method", "padding", "pad_amount", "padded_tokens": (T,), "mask": (T,) bool
        (the mask the LSTM saw; all True when it saw none), "output": (units,),
        "reference": (units,), "max_abs_diff": float}``

    Example:
        >>> r = masking_method_output("mask_zero", "pre", 2)
        >>> r["mask"].tolist(), r["max_abs_diff"] < 1e-5
        ([False, False, True, True, True, True, True], True)
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    check_side("padding", padding)
    pad_amount = check_count("pad_amount", pad_amount)
    toks = DEMO_TOKENS if tokens is None else np.asarray(tokens)
    if toks.ndim != 1 or toks.size == 0 or not np.issubdtype(toks.dtype, np.integer):
        raise ValueError(f"tokens must be a non-empty 1-D array of ints, got {toks!r}")
    bad = np.flatnonzero((toks < 1) | (toks >= DEMO_VOCAB))
    if bad.size:
        raise ValueError(
            f"tokens[{bad[0]}] = {toks[bad[0]]} must be in 1..{DEMO_VOCAB - 1} (0 is the padding id)"
        )
    layers = _demo_layers(DEMO_VOCAB, DEMO_DIM, DEMO_UNITS, DEMO_SEED)
    table = layers["table"]
    steps = toks.size + pad_amount
    padded = pad_sequences([toks], steps, padding=padding, value=0)
    reference = _run_lstm(layers, table[toks][None], None)

    if method == "none":
        x = layers["embed"](padded)
    elif method == "mask_zero":
        x = layers["embed_mask_zero"](padded)
    elif method == "Masking":
        features = pad_sequences([table[toks]], steps, padding=padding, value=0.0).astype(np.float32)
        x = layers["masking"](features)
    elif method == "Masking after Embedding":
        x = layers["masking"](layers["embed"](padded))
    else:  # explicit mask
        x = layers["embed"](padded)
    # The mask the LSTM sees: the explicit one, else the one Keras attached to x (what a plain
    # ``lstm(x)`` would pick up), else none.
    explicit = (padded != 0) if method == "explicit mask" else None
    seen = explicit if explicit is not None else keras_mask_of(x)
    output = _run_lstm(layers, x, seen)
    seen = np.ones(steps, bool) if seen is None else np.asarray(seen)[0]
    return {
        "method": method,
        "padding": padding,
        "pad_amount": pad_amount,
        "padded_tokens": padded[0],
        "mask": seen,
        "output": output,
        "reference": reference,
        "max_abs_diff": float(np.abs(output.astype(np.float64) - reference).max()),
    }
