"""Checkers for lesson 06 (training on real variable-length sequences).

Each checker prints "Correct: ..." or "Not yet: ..." and returns True or
False; none raises on a wrong answer.
"""

from __future__ import annotations

import numpy as np

from ..datasets import load_japanese_vowels, stratified_split
from ..masks import sequence_mask
from ..padding import pad_sequences
from ._common import checker
from ._common import verdict as _verdict

EXERCISE_1_MAXLEN = 29
EXERCISE_2_MAXLEN = 45



def _as_float_array(answer, what: str):
    if answer is None:
        _verdict(False, f"{what} is still None; replace it with your answer.")
        return None
    try:
        return np.asarray(answer, dtype=np.float64)
    except (TypeError, ValueError):
        _verdict(False, f"{what} could not be turned into a float array (got {type(answer).__name__}).")
        return None


@checker
def exercise_1(fraction) -> bool:
    """Fraction of the entries of the test split, post-padded to 29 steps, that are padding."""
    lengths = load_japanese_vowels("test").lengths
    expected = 1.0 - lengths.sum() / (len(lengths) * EXERCISE_1_MAXLEN)
    got = _as_float_array(fraction, "fraction")
    if got is None:
        return False
    if got.shape != ():
        return _verdict(False, f"fraction should be one number, got shape {got.shape}.")
    got = float(got)
    if abs(got - expected) <= 1e-4:
        return _verdict(True, f"{expected:.4f} of the test array is padding: the LSTM would read it unless masked.")
    if abs(got - (1.0 - expected)) <= 1e-4:
        return _verdict(False, f"{got:.4f} is the fraction of *real* steps; padding is the rest.")
    if got > 1.0:
        return _verdict(False, f"a fraction lies in [0, 1]; {got:.4f} looks like a count.")
    return _verdict(False, f"got {got:.4f}; count padded steps = 370 * 29 - sum(lengths), divided by 370 * 29.")


@checker
def exercise_2(padded, probs, reference) -> bool:
    """The masked Keras model's test probabilities on pre-padded inputs of 45 steps.

    ``padded``: the (370, 45, 12) pre-padded test array you built;
    ``probs``: the masked model's probabilities on it, (370, 9);
    ``reference``: its probabilities on the post-padded 29-step array.
    """
    x = _as_float_array(padded, "padded")
    if x is None:
        return False
    ref = _as_float_array(reference, "reference")
    if ref is None:
        return False
    if ref.ndim != 2:
        return _verdict(
            False, f"reference should be the (370, 9) probabilities of the 29-step run, got shape {ref.shape}."
        )
    n = len(ref)
    if x.ndim != 3 or x.shape[:2] != (n, EXERCISE_2_MAXLEN):
        return _verdict(False, f"padded should have shape ({n}, {EXERCISE_2_MAXLEN}, 12), got {x.shape}.")
    real = np.any(x != 0, axis=2)
    if not real[:, -1].all():
        return _verdict(False, "the last step of some rows is padding: use padding='pre' so zeros come first.")
    p = _as_float_array(probs, "probs")
    if p is None:
        return False
    if p.shape != ref.shape:
        return _verdict(False, f"probs should have shape {ref.shape}, got {p.shape}.")
    diff = float(np.max(np.abs(p - ref)))
    if diff <= 1e-5:
        return _verdict(
            True, f"max abs diff {'< 1e-05' if diff < 1e-5 else f'{diff:.1e}'} from the post-padded 29-step run:\n"
            "a masked model ignores where and how much padding there is."
        )
    return _verdict(
        False, f"probs differ from the reference by up to {diff:.3f}; did you use the masked model (keras_masked)?"
    )


@checker
def exercise_3(mean) -> bool:
    """Per-feature mean of the raw training part (validation held out), over real steps only."""
    train = load_japanese_vowels("train")
    keep, _ = stratified_split(train.labels, 0.2, seed=0)
    seqs = [train.sequences[i] for i in keep]
    expected = np.concatenate(seqs).astype(np.float64).mean(axis=0)
    got = _as_float_array(mean, "mean")
    if got is None:
        return False
    if got.shape != expected.shape:
        return _verdict(False, f"mean should have shape {expected.shape} (one value per feature), got {got.shape}.")
    if np.allclose(got, expected, atol=1e-4):
        return _verdict(True, f"feature 0 mean {expected[0]:.4f}: real steps only, validation utterances left out.")
    padded = pad_sequences(seqs, dtype="float64")
    with_zeros = padded.reshape(-1, padded.shape[-1]).mean(axis=0)
    if np.allclose(got, with_zeros, atol=1e-4):
        return _verdict(False, "this mean includes the padding zeros; select real steps with the mask first.")
    per_sequence = np.mean([s.mean(axis=0) for s in seqs], axis=0)
    if np.allclose(got, per_sequence, atol=1e-4):
        return _verdict(False, "this averages per-utterance means, which over-weights short utterances; average steps.")
    all_train = np.concatenate(train.sequences).astype(np.float64).mean(axis=0)
    if np.allclose(got, all_train, atol=1e-4):
        return _verdict(False, "this includes the validation utterances; use only the indices in `keep`.")
    mask = sequence_mask([len(s) for s in seqs], padded.shape[1])
    return _verdict(
        False, f"feature 0: got {got[0]:.4f}, expected {expected[0]:.4f}; try padded[mask].mean(axis=0) "
        f"with mask of shape {mask.shape}."
    )
