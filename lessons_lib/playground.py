"""Compute behind the playground app (notebooks/09_playground.ipynb).

One function, :func:`run_playground`, runs a real Keras or PyTorch LSTM on a
small padded batch with the chosen masking method, and compares it with the
NumPy reference LSTM run on every sequence alone (no padding). The widget in
:mod:`lessons_lib.widgets.playground` only wires controls to it.

The batch is fixed by ``seed``: row ``b`` is the first ``lengths[b]`` steps of
a fixed random ``(MAX_LENGTH, N_FEATURES)`` array, so changing one length
only shortens or lengthens that row. The LSTM weights (non-zero biases) are
fixed too, so the numbers change only when a control changes.

Keras and PyTorch are imported when a run first needs them, never on import.
"""

from __future__ import annotations

import warnings
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike

from ._validate import as_lengths, check_count, check_side
from .masks import sequence_mask
from .padding import pad_sequences
from .reference_lstm import lstm_forward, random_lstm_weights

__all__ = [
    "FRAMEWORKS",
    "MAX_LENGTH",
    "MAX_PAD",
    "METHODS",
    "N_FEATURES",
    "UNITS",
    "format_diff",
    "playground_batch",
    "run_playground",
    "summary_line",
]

FRAMEWORKS = ("keras", "pytorch")
#: Masking methods per framework. "multiply outputs by mask" is the popular
#: mistake: it runs the LSTM unmasked and zeroes the padded outputs afterwards.
METHODS = {
    "keras": ("mask= argument", "Masking layer", "no mask", "multiply outputs by mask"),
    "pytorch": ("pack_padded_sequence", "no mask", "multiply outputs by mask"),
}
N_FEATURES = 2
UNITS = 3
MAX_LENGTH = 6
MAX_PAD = 4
#: Differences at or below this print as "< 1e-05" (float32 frameworks vs float64 reference).
ATOL = 1e-5


def playground_batch(lengths: ArrayLike, *, seed: int = 0) -> list[np.ndarray]:
    """The playground's sequences: row ``b`` is ``pool[b, :lengths[b]]``.

    Example:
        >>> [s.shape for s in playground_batch([3, 0, 2])]
        [(3, 2), (0, 2), (2, 2)]
    """
    lengths = as_lengths(lengths)
    over = np.flatnonzero(lengths > MAX_LENGTH)
    if over.size:
        raise ValueError(f"lengths[{over[0]}] = {lengths[over[0]]} is longer than MAX_LENGTH = {MAX_LENGTH}")
    pool = np.random.default_rng(seed).standard_normal((max(len(lengths), 1), MAX_LENGTH, N_FEATURES))
    return [pool[b, :n].astype(np.float32) for b, n in enumerate(lengths)]


def format_diff(value: float) -> str:
    """A difference as the app prints it: ``"< 1e-05"`` when within ATOL, else 4 decimals.

    Example:
        >>> format_diff(3e-7), format_diff(0.12345)
        ('< 1e-05', '0.1235')
    """
    if not np.isfinite(value):
        return "n/a"
    return f"< {ATOL:.0e}" if value <= ATOL else f"{value:.4f}"


@lru_cache(maxsize=4)
def _weights(seed: int) -> dict[str, np.ndarray]:
    return random_lstm_weights(N_FEATURES, UNITS, seed=seed + 1)


@lru_cache(maxsize=4)
def _keras_layers(seed: int):
    import keras

    from .keras_masking import lstm_layer

    return lstm_layer(_weights(seed), return_sequences=True), keras.layers.Masking(mask_value=0.0)


@lru_cache(maxsize=4)
def _torch_lstm(seed: int):
    from .torch_packing import lstm_from_keras_weights

    return lstm_from_keras_weights(_weights(seed))


def _run_keras(method: str, padded: np.ndarray, mask: np.ndarray, seed: int):
    lstm, masking = _keras_layers(seed)
    if method == "mask= argument":
        out = lstm(padded, mask=mask)
    elif method == "Masking layer":
        with warnings.catch_warnings():
            # Keras >= 3.16 (recurrent layers do not pass the mask on) warns here that the LSTM
            # "will therefore destroy the mask information": true but harmless, nothing follows it.
            # The LSTM itself still uses the mask, in both regimes.
            warnings.filterwarnings("ignore", message=".*does not support masking.*")
            out = lstm(masking(padded))
    else:  # "no mask" and "multiply outputs by mask" run the LSTM unmasked
        out = lstm(padded)
    out = np.asarray(out, dtype=np.float64)
    # A Keras LSTM repeats the carried state at masked steps, so the last output
    # is the final state h that return_sequences=False would return.
    return out, out[:, -1].copy()


def _run_torch(method: str, padded: np.ndarray, lengths: np.ndarray, seed: int):
    import torch
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    lstm = _torch_lstm(seed)
    x = torch.tensor(padded)
    with torch.no_grad():
        if method == "pack_padded_sequence":
            if (lengths == 0).any():
                raise ValueError("pack_padded_sequence rejects zero lengths")
            packed = pack_padded_sequence(x, torch.tensor(lengths), batch_first=True, enforce_sorted=False)
            out_packed, (h_n, _) = lstm(packed)
            out, _ = pad_packed_sequence(out_packed, batch_first=True, total_length=padded.shape[1])
        else:
            out, (h_n, _) = lstm(x)
    return out.numpy().astype(np.float64), h_n[0].numpy().astype(np.float64)


def run_playground(
    framework: str = "keras",
    method: str = "mask= argument",
    padding: str = "post",
    pad_amount: int = 2,
    lengths: ArrayLike = (5, 3, 2),
    *,
    seed: int = 0,
) -> dict:
    """Run one playground configuration and compare it with the unpadded reference.

    Args:
        framework: "keras" or "pytorch".
        method: one of ``METHODS[framework]``.
        padding: "post" or "pre".
        pad_amount: extra padded steps beyond the longest sequence, 0 to MAX_PAD.
        lengths: 1 to 5 lengths, each 0 to MAX_LENGTH.
        seed: picks the data and the weights.

    Returns:
        A dict with ``padded`` (batch, time, features), ``mask`` (batch, time),
        ``outputs`` (batch, time, units) as the method returns them (after the
        multiplication for "multiply outputs by mask"), ``h`` (batch, units) the
        final state the layer hands on, ``h_reference`` (batch, units),
        ``h_diff`` (batch,) per-row max abs difference of ``h``,
        ``output_diff`` (batch,) per-row max abs difference at the real steps,
        and ``error``: None, or why the framework refused (then the arrays
        other than ``padded``, ``mask`` and ``h_reference`` are None).

    Example:
        >>> r = run_playground("keras", "mask= argument", "pre", 2, [3, 1])  # doctest: +SKIP
        >>> float(r["h_diff"].max()) < 1e-5  # doctest: +SKIP
        True
    """
    if framework not in FRAMEWORKS:
        raise ValueError(f"framework must be one of {FRAMEWORKS}, got {framework!r}")
    if method not in METHODS[framework]:
        raise ValueError(f"method must be one of {METHODS[framework]} for {framework}, got {method!r}")
    check_side("padding", padding)
    pad_amount = check_count("pad_amount", pad_amount)
    if pad_amount > MAX_PAD:
        raise ValueError(f"pad_amount must be <= {MAX_PAD}, got {pad_amount}")
    lengths = as_lengths(lengths)
    if not 1 <= lengths.size <= 5:
        raise ValueError(f"lengths must hold 1 to 5 lengths, got {lengths.size}")
    check_count("seed", seed)

    seqs = playground_batch(lengths, seed=seed)
    maxlen = int(lengths.max()) + pad_amount
    w = _weights(seed)
    h_ref = np.stack([lstm_forward(s[None], **w)[1][0] for s in seqs])
    out_ref = [lstm_forward(s[None], **w)[0][0] for s in seqs]
    padded = pad_sequences(seqs, maxlen, padding=padding, value=0.0, dtype=np.float32)
    mask = sequence_mask(lengths, maxlen, padding=padding)
    result = {"padded": padded, "mask": mask, "h_reference": h_ref, "lengths": lengths,
              "outputs": None, "h": None, "h_diff": None, "output_diff": None, "error": None}
    if maxlen == 0:
        result["error"] = "nothing to run: every length is 0 and there is no padding"
        return result
    try:
        if framework == "keras":
            out, h = _run_keras(method, padded, mask, seed)
        else:
            out, h = _run_torch(method, padded, lengths, seed)
    except ValueError as err:
        result["error"] = str(err)
        return result
    if method == "multiply outputs by mask":
        out = out * mask[:, :, None]
    out_diff = np.array([
        float(np.abs(out[b][mask[b]] - out_ref[b]).max()) if lengths[b] else 0.0 for b in range(len(seqs))
    ])
    result.update(outputs=out, h=h, h_diff=np.abs(h - h_ref).max(axis=1), output_diff=out_diff)
    return result


def summary_line(result: dict, framework: str, method: str, padding: str, pad_amount: int) -> str:
    """The one-line ``Result: ...`` text the app shows for a :func:`run_playground` result.

    Example:
        >>> r = {"lengths": np.array([2]), "error": "boom"}
        >>> summary_line(r, "pytorch", "no mask", "post", 1)
        'Result: pytorch, no mask, post-padding +1, lengths [2]: error: boom'
    """
    head = f"Result: {framework}, {method}, {padding}-padding +{pad_amount}, lengths {result['lengths'].tolist()}: "
    if result["error"]:
        return head + "error: " + result["error"]
    h_diff = float(result["h_diff"].max())
    out_diff = float(result["output_diff"].max())
    verdict = "matches the reference" if h_diff <= ATOL and out_diff <= ATOL else "differs from the reference"
    return head + f"final state diff {format_diff(h_diff)}, real-step output diff {format_diff(out_diff)} ({verdict})"
