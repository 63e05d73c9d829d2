"""Compute behind the playground app (notebooks/09_playground.ipynb).

:func:`run_playground` runs a real Keras or PyTorch LSTM (optionally
bidirectional) on a small padded batch with the chosen masking method, and
compares it with the NumPy reference LSTM run on every sequence alone (no
padding). The widget in :mod:`lessons_lib.widgets.playground` only wires
controls to it; the pictures (:func:`gap_svg`, :func:`batch_svg`) are pure
functions of a result that return small inline SVG strings.

The batch is fixed by ``seed``: row ``b`` is the first ``lengths[b]`` steps of
a fixed random ``(MAX_LENGTH, N_FEATURES)`` array, so changing one length only
shortens or lengthens that row. The LSTM weights are fixed too: "trained-like"
ones with a random bias on every gate, or (``fresh_init=True``) the same
kernels with the bias a freshly built ``keras.layers.LSTM`` has (zeros, the
forget gate's 1), whose zero candidate bias hides the pre-padding trap.

Frameworks are imported when a run first needs one, never on import, and set
up then as lesson 00's ``setup_notebook`` sets them up (seeds, determinism,
one thread). The Keras layers run inside one ``tf.function`` per
(direction, mask kind), traced once with a free time axis: eager Keras at 56
steps takes 130-340 ms a call on this course's CPU, the traced graph a few ms.
Results are cached by configuration (they are deterministic).
"""

from __future__ import annotations

import sys
import warnings
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike

from ._validate import as_lengths, check_count, check_side
from .masks import sequence_mask
from .padding import pad_sequences
from .reference_lstm import lstm_forward, random_lstm_weights

__all__ = [
    "ATOL",
    "FRAMEWORKS",
    "MAX_LENGTH",
    "MAX_PAD",
    "METHODS",
    "N_FEATURES",
    "UNITS",
    "batch_svg",
    "format_diff",
    "fresh_keras_bias",
    "gap_svg",
    "loaded_frameworks",
    "playground_batch",
    "playground_weights",
    "run_playground",
    "summary_line",
    "verdict",
    "warm_up_keras",
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
MAX_PAD = 50
MAX_ROWS = 5
#: Differences at or below this print as "< 1e-05" (float32 frameworks vs float64 reference).
ATOL = 1e-5
_SETUP_NAME = {"keras": "tensorflow", "pytorch": "torch"}


def loaded_frameworks() -> list[str]:
    """Which of TensorFlow and PyTorch this process has imported so far."""
    return [name for name in ("tensorflow", "torch") if name in sys.modules]


def _ready(framework: str, seed: int) -> None:
    """Import and set up ``framework`` the first time a run needs it (seeds, determinism, threads)."""
    name = _SETUP_NAME[framework]
    if name in _SET_UP:
        return
    from .notebook_setup import setup_notebook

    # Also reseeds Python's and NumPy's global generators (the playground uses neither).
    setup_notebook(seed, frameworks=(name,), quiet=True, xmode=None)
    _SET_UP.add(name)


_SET_UP: set[str] = set()


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
    pool = np.random.default_rng(seed).standard_normal((max(len(lengths), MAX_ROWS), MAX_LENGTH, N_FEATURES))
    return [pool[b, :n].astype(np.float32) for b, n in enumerate(lengths)]


def fresh_keras_bias(units: int = UNITS) -> np.ndarray:
    """The bias of a freshly built ``keras.layers.LSTM(units)``: zeros, and 1 on the forget gate.

    Keras's default ``unit_forget_bias=True``; the gate order is i, f, c, o, so the
    candidate (c) block is zero.

    Example:
        >>> fresh_keras_bias(2).tolist()
        [0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0]
    """
    units = check_count("units", units, minimum=1)
    bias = np.zeros(4 * units, np.float32)
    bias[units:2 * units] = 1.0
    return bias


@lru_cache(maxsize=8)
def _weights_cached(seed: int, fresh_init: bool) -> tuple[dict, dict]:
    out = []
    for direction in (1, 2):  # forward, backward
        w = random_lstm_weights(N_FEATURES, UNITS, seed=seed + direction)
        if fresh_init:
            w["bias"] = fresh_keras_bias(UNITS)
        for a in w.values():
            a.flags.writeable = False
        out.append(w)
    return out[0], out[1]


def playground_weights(seed: int = 0, fresh_init: bool = False) -> tuple[dict, dict]:
    """(forward, backward) LSTM weights in the Keras layout (read-only arrays).

    Example:
        >>> fw, bw = playground_weights(0, fresh_init=True)
        >>> fw["kernel"].shape, float(abs(fw["bias"][6:9]).max())
        ((2, 12), 0.0)
    """
    check_count("seed", seed)
    return _weights_cached(seed, bool(fresh_init))


def _arrays(w: dict) -> list[np.ndarray]:
    return [np.array(w[k]) for k in ("kernel", "recurrent_kernel", "bias")]


@lru_cache(maxsize=8)
def _keras_model(seed: int, bidirectional: bool):
    """One Keras layer (LSTM or Bidirectional LSTM) and its traced calls, per (seed, direction)."""
    import keras
    import tensorflow as tf

    from .keras_masking import bidirectional_lstm, compiled_calls, lstm_layer

    fw, bw = playground_weights(seed)
    if bidirectional:
        layer = bidirectional_lstm(fw, bw, return_sequences=True)
    else:
        layer = lstm_layer(fw, return_sequences=True)
    masking = keras.layers.Masking(mask_value=0.0)
    calls = compiled_calls(layer, N_FEATURES)

    @tf.function(input_signature=[tf.TensorSpec((None, None, N_FEATURES), tf.float32)])
    def with_masking_layer(x):
        with warnings.catch_warnings():
            # Keras >= 3.16 (recurrent layers do not pass the mask on) warns that the LSTM "will
            # therefore destroy the mask information": true but harmless, nothing follows it.
            warnings.filterwarnings("ignore", message=".*does not support masking.*")
            return layer(masking(x))

    return {"layer": layer, "fresh": [False], "mask": calls["mask"], "masking": with_masking_layer,
            "none": calls["none"]}


def warm_up_keras(seed: int = 0) -> None:
    """Trace every Keras call the app can make (3 mask kinds x 2 directions, about 0.2 s each the
    first time), so that no later control change waits for a trace."""
    _ready("keras", seed)
    x, m = np.ones((1, 2, N_FEATURES), np.float32), np.ones((1, 2), bool)
    for bidirectional in (False, True):
        model = _keras_model(seed, bidirectional)
        model["mask"](x, m), model["masking"](x), model["none"](x)


def _run_keras(method, padded, mask, seed, fresh_init, bidirectional):
    model = _keras_model(seed, bidirectional)
    if model["fresh"][0] != fresh_init:  # swap the weights in place (the traced calls read them)
        fw, bw = playground_weights(seed, fresh_init)
        model["layer"].set_weights(_arrays(fw) + (_arrays(bw) if bidirectional else []))
        model["fresh"][0] = fresh_init
    if method == "mask= argument":
        out = model["mask"](padded, mask)
    elif method == "Masking layer":
        out = model["masking"](padded)
    else:  # "no mask" and "multiply outputs by mask" run the LSTM unmasked
        out = model["none"](padded)
    computed = mask if method in ("mask= argument", "Masking layer") else np.ones_like(mask)
    steps = int(mask.size) * (2 if bidirectional else 1)  # every row at every step (myth 7)
    return np.asarray(out, dtype=np.float64), computed, None, steps


@lru_cache(maxsize=8)
def _torch_lstm(seed: int, fresh_init: bool, bidirectional: bool):
    from .torch_packing import lstm_from_keras_weights

    fw, bw = ({k: np.array(v) for k, v in w.items()} for w in playground_weights(seed, fresh_init))
    return lstm_from_keras_weights(fw, reverse_weights=bw if bidirectional else None)


def _run_torch(method, padded, lengths, seed, fresh_init, bidirectional):
    import torch
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    lstm = _torch_lstm(seed, fresh_init, bidirectional)
    x = torch.tensor(padded)
    batch, time = padded.shape[:2]
    with torch.no_grad():
        if method == "pack_padded_sequence":
            if (lengths == 0).any():
                raise ValueError("pack_padded_sequence rejects zero lengths")
            packed = pack_padded_sequence(x, torch.tensor(lengths), batch_first=True, enforce_sorted=False)
            out_packed, (h_n, _) = lstm(packed)
            out, _ = pad_packed_sequence(out_packed, batch_first=True, total_length=time)
            # The packed layout: row b's computed steps are its first lengths[b] slots.
            computed = np.arange(time)[None, :] < lengths[:, None]
            steps = int(packed.batch_sizes.sum()) * (2 if bidirectional else 1)
        else:
            out, (h_n, _) = lstm(x)
            computed = np.ones((batch, time), bool)
            steps = batch * time * (2 if bidirectional else 1)
    h = torch.cat(list(h_n), dim=1).numpy().astype(np.float64)  # [forward | backward]
    return out.numpy().astype(np.float64), computed, h, steps


def _held_states(out: np.ndarray, computed: np.ndarray, bidirectional: bool) -> np.ndarray:
    """The state each direction holds after each step: its output where it computed one, else
    the state it carried (forward: from the left, backward: from the right; 0 before any)."""
    held = np.zeros_like(out)
    batch, time = computed.shape
    halves = [(0, UNITS, range(time))] + ([(UNITS, 2 * UNITS, range(time - 1, -1, -1))] if bidirectional else [])
    for lo, hi, order in halves:
        state = np.zeros((batch, hi - lo))
        for t in order:
            state = np.where(computed[:, t, None], out[:, t, lo:hi], state)
            held[:, t, lo:hi] = state
    return held


def _reference(seqs, mask, fw, bw, bidirectional):
    """Reference outputs per row (real steps) and the reference held state at every step."""
    batch, time = mask.shape
    width = UNITS * (2 if bidirectional else 1)
    outs, held, h_ref = [], np.zeros((batch, time, width)), np.zeros((batch, width))
    for b, s in enumerate(seqs):
        parts = [lstm_forward(s[None], **fw)[0][0]] if len(s) else [np.zeros((0, UNITS))]
        if bidirectional:
            parts.append(lstm_forward(s[::-1][None], **bw)[0][0][::-1] if len(s) else np.zeros((0, UNITS)))
        ref = np.concatenate(parts, axis=1)
        outs.append(ref)
        real = np.flatnonzero(mask[b])
        row = np.zeros((time, width))
        row[real] = ref
        computed = mask[b][None]
        held[b] = _held_states(row[None], computed, bidirectional)[0]
        if len(s):
            h_ref[b, :UNITS] = ref[-1, :UNITS]
            if bidirectional:
                h_ref[b, UNITS:] = ref[0, UNITS:]
    return outs, held, h_ref


def _check_flag(name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def run_playground(
    framework: str = "keras",
    method: str = "mask= argument",
    padding: str = "post",
    pad_amount: int = 2,
    lengths: ArrayLike = (5, 3, 2),
    *,
    fresh_init: bool = False,
    bidirectional: bool = False,
    seed: int = 0,
) -> dict:
    """Run one playground configuration and compare it with the unpadded reference.

    Args:
        framework: "keras" or "pytorch".
        method: one of ``METHODS[framework]``.
        padding: "post" or "pre".
        pad_amount: extra padded steps beyond the longest sequence, 0 to MAX_PAD.
        lengths: 1 to 5 lengths, each 0 to MAX_LENGTH.
        fresh_init: use the bias of a freshly built Keras LSTM (zero candidate bias).
        bidirectional: a bidirectional LSTM (outputs and states ``[forward | backward]``).
        seed: picks the data and the weights.

    Returns:
        A dict (read-only arrays; cached by configuration) with ``padded``
        (batch, time, features), ``mask`` (batch, time), ``lengths``,
        ``outputs`` (batch, time, width) as the method returns them (after the
        multiplication for "multiply outputs by mask"), ``h`` (batch, width)
        the final state the layer hands on ([forward final | backward final]),
        ``h_reference``, ``h_diff`` (batch,) per-row max abs difference of
        ``h``, ``output_diff`` (batch,) per-row max abs difference at the real
        steps, ``gap`` (batch, time): max abs difference between the state the
        LSTM holds after each step and the state the unpadded run holds there
        (0 before its first real step, carried across padding), ``steps``:
        LSTM steps computed (a step is one row at one time step, per direction),
        ``real_steps``: those that read real data, ``cudnn_ok``: would Keras's
        cuDNN kernel accept this mask (None for PyTorch), and ``error``: None,
        or why the framework refused (then the layer's arrays are None).

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
    if not 1 <= lengths.size <= MAX_ROWS:
        raise ValueError(f"lengths must hold 1 to {MAX_ROWS} lengths, got {lengths.size}")
    playground_batch(lengths)  # names a length over MAX_LENGTH
    fresh_init = _check_flag("fresh_init", fresh_init)
    bidirectional = _check_flag("bidirectional", bidirectional)
    seed = check_count("seed", seed)
    return dict(_run_cached(framework, method, padding, pad_amount, tuple(lengths.tolist()), fresh_init,
                            bidirectional, seed))


@lru_cache(maxsize=256)
def _run_cached(framework, method, padding, pad_amount, lengths, fresh_init, bidirectional, seed):
    lengths = np.array(lengths, dtype=np.int64)
    seqs = playground_batch(lengths, seed=seed)
    maxlen = int(lengths.max()) + pad_amount
    fw, bw = playground_weights(seed, fresh_init)
    padded = pad_sequences(seqs, maxlen, padding=padding, value=0.0, dtype=np.float32)
    mask = sequence_mask(lengths, maxlen, padding=padding)
    out_ref, held_ref, h_ref = _reference(seqs, mask, fw, bw, bidirectional)
    result = {"padded": padded, "mask": mask, "h_reference": h_ref, "lengths": lengths,
              "outputs": None, "h": None, "h_diff": None, "output_diff": None, "gap": None,
              "steps": None, "real_steps": int(lengths.sum()) * (2 if bidirectional else 1),
              "cudnn_ok": None, "error": None}
    if maxlen == 0:
        result["error"] = "nothing to run: every length is 0 and there is no padding"
        return _frozen(result)
    _ready(framework, seed)
    try:
        if framework == "keras":
            from .keras_masking import cudnn_mask_ok

            out, computed, h, steps = _run_keras(method, padded, mask, seed, fresh_init, bidirectional)
            # No mask given: the cuDNN kernel runs; a mask: only strictly right-padded, no empty row.
            given = method in ("mask= argument", "Masking layer")
            result["cudnn_ok"] = cudnn_mask_ok(mask)["ok"] if given else True
        else:
            out, computed, h, steps = _run_torch(method, padded, lengths, seed, fresh_init, bidirectional)
    except ValueError as err:
        result["error"] = str(err)
        return _frozen(result)
    held = _held_states(out, computed, bidirectional)
    if h is None:  # Keras: the final states are what each direction holds at its last step
        h = np.concatenate([held[:, -1, :UNITS], held[:, 0, UNITS:]], axis=1)
    if method == "multiply outputs by mask":
        out = out * mask[:, :, None]
    out_diff = np.array([
        float(np.abs(out[b][mask[b]] - out_ref[b]).max()) if lengths[b] else 0.0 for b in range(len(seqs))
    ])
    result.update(outputs=out, h=h, h_diff=np.abs(h - h_ref).max(axis=1), output_diff=out_diff,
                  gap=np.abs(held - held_ref).max(axis=2), steps=steps)
    return _frozen(result)


def _frozen(result: dict) -> dict:
    for value in result.values():
        if isinstance(value, np.ndarray):
            value.flags.writeable = False
    return result


def format_diff(value: float) -> str:
    """A difference as the app prints it: ``"< 1e-05"`` when within ATOL, else 4 decimals.

    Example:
        >>> format_diff(3e-7), format_diff(0.12345)
        ('< 1e-05', '0.1235')
    """
    if not np.isfinite(value):
        return "n/a"
    return f"< {ATOL:.0e}" if value <= ATOL else f"{value:.4f}"


def verdict(result: dict) -> str | None:
    """"equal" when the final state and every real-step output match the reference within ATOL,
    "different" otherwise, None when the run failed."""
    if result["error"]:
        return None
    close = float(result["h_diff"].max()) <= ATOL and float(result["output_diff"].max()) <= ATOL
    return "equal" if close else "different"


def summary_line(result: dict, guess: str | None = None) -> str:
    """The one-line ``Result: ...`` text (at most 99 characters) for a :func:`run_playground` result.

    ``guess``: None (no guess mode), "?" (not guessed yet: the numbers stay hidden),
    "equal" or "different".

    Example:
        >>> r = {"lengths": np.array([2]), "error": "boom"}
        >>> summary_line(r)
        'Result: error: boom'
        >>> summary_line(r, "?")
        'Result: hidden until you guess: equal to the reference, or different?'
    """
    if guess not in (None, "?", "equal", "different"):
        raise ValueError(f"guess must be None, '?', 'equal' or 'different', got {guess!r}")
    if guess == "?":
        return "Result: hidden until you guess: equal to the reference, or different?"
    if result["error"]:
        return "Result: error: " + result["error"]
    h_diff = format_diff(float(result["h_diff"].max()))
    out_diff = format_diff(float(result["output_diff"].max()))
    gaps = f"final-state gap {h_diff}, real-step gap {out_diff}"
    if guess is not None:
        right = "right" if guess == verdict(result) else "wrong"
        return f"Result: your guess '{guess}' is {right}: {verdict(result)}; {gaps}"
    cudnn = {None: "n/a", True: "yes", False: "no"}[result["cudnn_ok"]]
    return (f"Result: {verdict(result)}; {gaps}; {result['steps']} steps "
            f"({result['real_steps']} real); cuDNN {cudnn}")


# Pictures: small inline SVG strings, fixed size whatever the batch (readable when projected).

SVG_WIDTH = 600
_FONT = 'font-family="sans-serif" font-size="12"'
_LEFT = 70  # room for the row labels


def _x(t: float, time: int) -> float:
    return _LEFT + (SVG_WIDTH - _LEFT - 10) * t / max(time, 1)


def gap_svg(result: dict, *, row_height: int = 44) -> str:
    """One small line plot per row: the gap (:func:`run_playground`'s ``gap``) step by step.

    Padded steps are shaded grey; the y axis of every row runs from 0 to the
    largest gap in the batch (at least 0.01), written at the top left.

    Example:
        >>> r = {"mask": np.array([[True, False]]), "gap": np.array([[0.0, 0.5]]), "error": None}
        >>> s = gap_svg(r)
        >>> s.startswith("<svg") and s.count("<polyline") == 1
        True
    """
    mask = np.asarray(result["mask"])
    batch, time = mask.shape
    height = 24 + batch * row_height + 20
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{SVG_WIDTH}" height="{height}" '
             f'viewBox="0 0 {SVG_WIDTH} {height}" role="img">']
    gap = result.get("gap")
    top = max(0.01, float(gap.max())) if gap is not None and gap.size else 0.01
    title = ("gap |held state - reference| per step (grey: padding)" if gap is not None
             else "gap: not computed")
    parts.append(f'<text x="4" y="15" {_FONT}>{title}; y axis 0 to {top:.3g}</text>')
    for b in range(batch):
        y0 = 24 + b * row_height
        base = y0 + row_height - 6
        parts.append(f'<text x="4" y="{base - 10}" {_FONT}>row {b + 1}</text>')
        for t in np.flatnonzero(~mask[b]):
            parts.append(f'<rect x="{_x(t, time):.1f}" y="{y0}" width="{_x(t + 1, time) - _x(t, time):.2f}" '
                         f'height="{row_height - 6}" fill="#ddd"/>')
        parts.append(f'<line x1="{_LEFT}" y1="{base}" x2="{SVG_WIDTH - 10}" y2="{base}" stroke="#888"/>')
        if gap is not None:
            pts = " ".join(f"{_x(t + 0.5, time):.1f},{base - (row_height - 10) * gap[b, t] / top:.1f}"
                           for t in range(time))
            parts.append(f'<polyline points="{pts}" fill="none" stroke="#c0392b" stroke-width="2"/>')
    axis_y = 24 + batch * row_height + 14
    parts.append(f'<text x="{_LEFT}" y="{axis_y}" {_FONT}>step 0</text>')
    parts.append(f'<text x="{SVG_WIDTH - 10}" y="{axis_y}" text-anchor="end" {_FONT}>step {time - 1}</text>')
    parts.append("</svg>")
    return "".join(parts)


def batch_svg(result: dict, *, row_height: int = 26) -> str:
    """A heatmap of the padded batch's first feature (blue < 0 < red), the mask over it.

    Real steps (mask 1) have a black outline; padded steps (mask 0) are hatched grey.

    Example:
        >>> r = {"mask": np.array([[True, False]]), "padded": np.zeros((1, 2, 2), np.float32)}
        >>> s = batch_svg(r)
        >>> s.startswith("<svg") and s.count("<rect") == 2 + 1
        True
    """
    mask = np.asarray(result["mask"])
    values = np.asarray(result["padded"])[..., 0]
    batch, time = mask.shape
    height = 22 + batch * row_height + 4
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{SVG_WIDTH}" height="{height}" '
             f'viewBox="0 0 {SVG_WIDTH} {height}" role="img">',
             '<defs><pattern id="pad" width="6" height="6" patternUnits="userSpaceOnUse">'
             '<rect width="6" height="6" fill="#eee"/><path d="M0,6 L6,0" stroke="#999"/></pattern></defs>',
             f'<text x="4" y="15" {_FONT}>padded batch, feature 1 (blue &lt; 0 &lt; red); '
             'hatched: mask 0</text>']
    for b in range(batch):
        y0 = 22 + b * row_height
        parts.append(f'<text x="4" y="{y0 + row_height - 9}" {_FONT}>row {b + 1}</text>')
        for t in range(time):
            x, w = _x(t, time), _x(t + 1, time) - _x(t, time)
            if mask[b, t]:
                v = float(np.clip(values[b, t] / 2.0, -1, 1))
                color = (f"rgb(255,{int(255 * (1 - v))},{int(255 * (1 - v))})" if v >= 0
                         else f"rgb({int(255 * (1 + v))},{int(255 * (1 + v))},255)")
                parts.append(f'<rect x="{x:.1f}" y="{y0}" width="{w:.2f}" height="{row_height - 4}" '
                             f'fill="{color}" stroke="#000" stroke-width="0.6"/>')
            else:
                parts.append(f'<rect x="{x:.1f}" y="{y0}" width="{w:.2f}" height="{row_height - 4}" '
                             'fill="url(#pad)"/>')
    parts.append("</svg>")
    return "".join(parts)
