"""Real ragged data shipped with the course: the Japanese Vowels data set.

Nine male speakers said the Japanese vowels /ae/; each utterance became a
sequence of 12 LPC cepstrum coefficients per frame, 7 to 29 frames long. The
task is to name the speaker. The files come from the UEA multivariate
archive, as shipped in the ``aeon`` package (see
``lessons_lib/data/japanese_vowels/README.md`` for source, citation and
licence). Nothing is downloaded: the gzipped ``.ts`` files live in this
package, and :func:`load_japanese_vowels` checks their sha256 before parsing.

Example:
    >>> train = load_japanese_vowels("train")
    >>> len(train.sequences), train.sequences[0].shape, train.labels[:3]
    (270, (20, 12), array([0, 0, 0]))
"""

from __future__ import annotations

import gzip
import hashlib
import pathlib
from importlib import resources
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from ._validate import check_count

__all__ = [
    "CHECKSUMS",
    "N_CLASSES",
    "N_FEATURES",
    "ChecksumError",
    "RaggedSplit",
    "fit_standardizer",
    "load_japanese_vowels",
    "parse_ts",
    "read_verified",
    "standardize",
    "stratified_split",
    "verify_bytes",
    "PreparedData",
    "prepare_japanese_vowels",
]

N_FEATURES = 12
N_CLASSES = 9
_DATA_DIR = "data/japanese_vowels"

#: split -> (file name, sha256 of the *decompressed* text). The text hashes are
#: those of aeon 1.6.0's ``JapaneseVowels_TRAIN.ts`` / ``_TEST.ts``, so anyone
#: can check the files against the upstream copies.
CHECKSUMS = {
    "train": ("JapaneseVowels_TRAIN.ts.gz", "68a430eabd919cc77f40b1f5f3bc0dcafacc1486bca9260785aeb7d262cc78cd"),
    "test": ("JapaneseVowels_TEST.ts.gz", "b3d41d6a0ca3bcad3afb9ca7d4365382aa51341e2e58bae2a574babdda5b9462"),
}


class ChecksumError(ValueError):
    """A data file's content does not match the sha256 recorded for it."""


class RaggedSplit(NamedTuple):
    """Ragged sequences and their integer labels.

    ``sequences`` is a list of float32 arrays of shape (time_i, features);
    ``labels`` is an int64 array (n,) of class indices 0..k-1.
    """

    sequences: list[np.ndarray]
    labels: np.ndarray

    @property
    def lengths(self) -> np.ndarray:
        """Number of time steps of each sequence, int64 (n,)."""
        return np.array([len(s) for s in self.sequences], dtype=np.int64)


def read_verified(path: str | pathlib.Path, sha256: str) -> str:
    """Read a gzipped text file and check the sha256 of its decompressed bytes.

    Raises ``ChecksumError`` (a ValueError) naming the file and both hashes
    when they differ, and ``ValueError`` when the file is not valid gzip.

    Example:
        >>> text = read_verified("JapaneseVowels_TRAIN.ts.gz", CHECKSUMS["train"][1])  # doctest: +SKIP
    """
    path = pathlib.Path(path)
    return verify_bytes(path.name, path.read_bytes(), sha256)


def verify_bytes(name: str, compressed: bytes, sha256: str) -> str:
    """Decompress gzip ``compressed`` and check its sha256; return the text.

    ``name`` only labels the error message. Raises ``ChecksumError`` on a
    mismatch and ``ValueError`` when the bytes are not gzip.

    Example:
        >>> import gzip, hashlib
        >>> verify_bytes("x.gz", gzip.compress(b"hi"), hashlib.sha256(b"hi").hexdigest())
        'hi'
    """
    if not isinstance(compressed, (bytes, bytearray)):
        raise TypeError(f"compressed must be bytes, got {type(compressed).__name__}")
    try:
        raw = gzip.decompress(compressed)
    except (OSError, EOFError) as err:  # gzip.BadGzipFile is an OSError
        raise ValueError(f"{name} is not a valid gzip file ({err})") from None
    got = hashlib.sha256(raw).hexdigest()
    if got != sha256:
        raise ChecksumError(
            f"{name} is damaged or was changed (restore it from the repository):\n"
            f"sha256 of the decompressed data {got},\n"
            f"expected                        {sha256}"
        )
    return raw.decode("utf-8")


def parse_ts(text: str) -> RaggedSplit:
    """Parse a multivariate ``.ts`` file (sktime/aeon format) into a RaggedSplit.

    Each data line is ``dim_1:dim_2:...:dim_d:label`` with comma-separated
    values per dimension. Labels are mapped to 0..k-1 in the order of the
    header's ``@classLabel true ...`` list. Every dimension of a case must have
    the same length; missing values (``?``) are rejected.

    Example:
        >>> s = parse_ts("@dimensions 2\\n@classLabel true a b\\n@data\\n1,2:3,4:b\\n")
        >>> s.sequences[0].tolist(), s.labels.tolist()
        ([[1.0, 3.0], [2.0, 4.0]], [1])
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    classes: list[str] | None = None
    dims: int | None = None
    sequences: list[np.ndarray] = []
    labels: list[int] = []
    in_data = False
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if not in_data:
            words = line.split()
            key = words[0].lower()
            if key == "@dimensions":
                dims = int(words[1])
            elif key == "@classlabel":
                if len(words) < 3 or words[1].lower() != "true":
                    raise ValueError(f"line {lineno}: expected '@classLabel true <labels...>', got {line!r}")
                classes = words[2:]
            elif key == "@data":
                in_data = True
            continue
        if classes is None:
            raise ValueError("the header has no '@classLabel true ...' line before @data")
        *fields, label = line.split(":")
        if dims is not None and len(fields) != dims:
            raise ValueError(f"line {lineno}: expected {dims} dimensions, got {len(fields)}")
        if label not in classes:
            raise ValueError(f"line {lineno}: label {label!r} is not one of the declared classes {classes}")
        if any("?" in f for f in fields):
            raise ValueError(f"line {lineno}: missing values ('?') are not supported")
        try:
            columns = [np.array(f.split(","), dtype=np.float32) for f in fields]
        except ValueError as err:
            raise ValueError(f"line {lineno}: {err}") from None
        if len({len(c) for c in columns}) != 1:
            raise ValueError(f"line {lineno}: dimensions have different lengths {[len(c) for c in columns]}")
        sequences.append(np.stack(columns, axis=1))
        labels.append(classes.index(label))
    if not in_data:
        raise ValueError("no '@data' line found; is this a .ts file?")
    return RaggedSplit(sequences, np.array(labels, dtype=np.int64))


def load_japanese_vowels(split: str = "train") -> RaggedSplit:
    """Load the train (270 utterances) or test (370) split of Japanese Vowels.

    Returns a :class:`RaggedSplit`: ``sequences`` is a list of float32 arrays
    (time_i, 12) with time_i in 7..29, ``labels`` int64 speaker indices 0..8
    (speaker number minus one). The packaged file is read through
    ``importlib.resources`` and its sha256 is verified; nothing is downloaded.
    The data are returned raw (not standardised); see :func:`fit_standardizer`.

    Example:
        >>> test = load_japanese_vowels("test")
        >>> len(test.sequences), int(test.lengths.min()), int(test.lengths.max())
        (370, 7, 29)
    """
    if not isinstance(split, str) or split not in CHECKSUMS:
        raise ValueError(f"split must be one of {sorted(CHECKSUMS)}, got {split!r}")
    name, sha256 = CHECKSUMS[split]
    resource = resources.files("lessons_lib").joinpath(_DATA_DIR, name)
    return parse_ts(verify_bytes(name, resource.read_bytes(), sha256))


def stratified_split(labels: ArrayLike, fraction: float, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Split indices into (keep, held_out), holding out ``fraction`` of each class.

    Use it to carve a validation set out of the *training* split, so that
    epochs and other choices are never tuned on the test set. Both index
    arrays are sorted; each class keeps at least one example on each side.

    Example:
        >>> keep, held = stratified_split([0, 0, 0, 0, 1, 1, 1, 1], 0.25, seed=0)
        >>> len(keep), len(held)
        (6, 2)
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"labels must be a non-empty 1-D array, got shape {labels.shape}")
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must be a number strictly between 0 and 1, got {fraction!r}")
    check_count("seed", seed)
    rng = np.random.default_rng(seed)
    held = []
    for cls in np.unique(labels):
        idx = np.flatnonzero(labels == cls)
        if idx.size < 2:
            raise ValueError(f"class {cls.item()!r} has {idx.size} example; need at least 2 to split it")
        n_held = min(max(1, int(round(fraction * idx.size))), idx.size - 1)
        held.append(rng.permutation(idx)[:n_held])
    held_out = np.sort(np.concatenate(held))
    keep = np.setdiff1d(np.arange(labels.size), held_out)
    return keep, held_out


def fit_standardizer(sequences: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and standard deviation over every time step of ``sequences``.

    Fit it on the training sequences only, then apply :func:`standardize` to
    every split. Returns two float32 arrays of shape (features,).

    Example:
        >>> mean, std = fit_standardizer([np.array([[0.0], [2.0]]), np.array([[4.0]])])
        >>> mean.tolist(), [round(float(v), 4) for v in std]
        ([2.0], [1.633])
    """
    if len(sequences) == 0:
        raise ValueError("sequences must not be empty")
    steps = np.concatenate([np.asarray(s, dtype=np.float64) for s in sequences], axis=0)
    if steps.ndim != 2 or steps.shape[0] == 0:
        raise ValueError(f"sequences must be 2-D (time, features) arrays with steps, got stacked shape {steps.shape}")
    std = steps.std(axis=0)
    if np.any(std == 0):
        raise ValueError(f"feature {int(np.flatnonzero(std == 0)[0])} is constant; cannot standardise it")
    return steps.mean(axis=0).astype(np.float32), std.astype(np.float32)


def standardize(sequences: list[np.ndarray], mean: ArrayLike, std: ArrayLike) -> list[np.ndarray]:
    """Return new float32 sequences ``(s - mean) / std``; the inputs are not changed.

    Example:
        >>> standardize([np.array([[1.0], [3.0]])], [2.0], [1.0])[0].ravel().tolist()
        [-1.0, 1.0]
    """
    mean = np.asarray(mean, dtype=np.float32)
    std = np.asarray(std, dtype=np.float32)
    if mean.shape != std.shape or mean.ndim != 1:
        raise ValueError(f"mean and std must be 1-D of equal shape, got {mean.shape} and {std.shape}")
    out = []
    for i, s in enumerate(sequences):
        s = np.asarray(s, dtype=np.float32)
        if s.ndim != 2 or s.shape[1] != mean.shape[0]:
            raise ValueError(f"sequences[{i}] has shape {s.shape}; expected (time, {mean.shape[0]})")
        out.append((s - mean) / std)
    return out


class PreparedData(NamedTuple):
    """Standardised train / validation / test splits and the training statistics used."""

    train: RaggedSplit
    val: RaggedSplit
    test: RaggedSplit
    mean: np.ndarray
    std: np.ndarray


def prepare_japanese_vowels(val_fraction: float = 0.2, *, seed: int = 0) -> PreparedData:
    """The lesson 06 pipeline in one call: load, hold out validation, standardise.

    1. load both splits; 2. hold out ``val_fraction`` of each speaker of the
    *training* split (:func:`stratified_split`); 3. fit mean and std on the
    remaining training steps only; 4. standardise all three splits with them.

    Example:
        >>> data = prepare_japanese_vowels()
        >>> len(data.train.sequences), len(data.val.sequences), len(data.test.sequences)
        (216, 54, 370)
    """
    full = load_japanese_vowels("train")
    test = load_japanese_vowels("test")
    keep, held = stratified_split(full.labels, val_fraction, seed=seed)
    mean, std = fit_standardizer([full.sequences[i] for i in keep])

    def part(split: RaggedSplit, idx: np.ndarray) -> RaggedSplit:
        return RaggedSplit(standardize([split.sequences[i] for i in idx], mean, std), split.labels[idx])

    return PreparedData(
        part(full, keep), part(full, held), part(test, np.arange(len(test.labels))), mean, std
    )
