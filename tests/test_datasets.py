"""Tests for lessons_lib.datasets: the packaged Japanese Vowels data and its loader."""

from __future__ import annotations

import gzip
import hashlib
from importlib import resources

import numpy as np
import pytest

from lessons_lib import datasets as ds

TINY_TS = """#comment line
@problemName Tiny
@dimensions 2
@equalLength false
@classLabel true a b c
@data
1,2,3:4,5,6:b
7:8:a
"""


# ----------------------------------------------------------------------------- the packaged data


@pytest.mark.parametrize(
    "split, n, lengths, per_class",
    [
        ("train", 270, (7, 26), [30] * 9),
        ("test", 370, (7, 29), [31, 35, 88, 44, 29, 24, 40, 50, 29]),
    ],
)
def test_load_japanese_vowels_shapes_and_counts(split, n, lengths, per_class):
    data = ds.load_japanese_vowels(split)
    assert isinstance(data, ds.RaggedSplit)
    assert len(data.sequences) == n and data.labels.shape == (n,)
    assert data.labels.dtype == np.int64 and set(np.unique(data.labels)) == set(range(9))
    assert all(s.dtype == np.float32 and s.ndim == 2 and s.shape[1] == 12 for s in data.sequences)
    assert (int(data.lengths.min()), int(data.lengths.max())) == lengths
    assert np.bincount(data.labels).tolist() == per_class
    assert all(np.isfinite(s).all() for s in data.sequences)


def test_load_japanese_vowels_first_values_match_the_ts_file():
    data = ds.load_japanese_vowels("train")
    first = data.sequences[0]
    assert first.shape == (20, 12) and data.labels[0] == 0
    # first two values of dimension 1 and of dimension 2 in JapaneseVowels_TRAIN.ts
    np.testing.assert_allclose(first[:2, 0], [1.860936, 1.891651], rtol=0, atol=1e-6)
    np.testing.assert_allclose(first[:2, 1], [-0.207383, -0.193249], rtol=0, atol=1e-6)
    assert data.labels[-1] == 8  # the last 30 utterances are speaker 9


def test_load_returns_fresh_arrays_each_call():
    a = ds.load_japanese_vowels("train")
    a.sequences[0][:] = 99.0
    a.labels[:] = 5
    b = ds.load_japanese_vowels("train")
    assert b.sequences[0][0, 0] != 99.0 and b.labels[0] == 0


def test_packaged_files_match_recorded_checksums():
    for split, (name, sha256) in ds.CHECKSUMS.items():
        blob = resources.files("lessons_lib").joinpath("data/japanese_vowels", name).read_bytes()
        assert hashlib.sha256(gzip.decompress(blob)).hexdigest() == sha256, split
    readme = resources.files("lessons_lib").joinpath("data/japanese_vowels/README.md").read_text()
    for name, sha256 in ds.CHECKSUMS.values():
        assert name in readme and sha256 in readme
    for needed in ("Kudo", "Toyama", "Shimbo", "1999", "CC BY 4.0"):
        assert needed in readme


@pytest.mark.parametrize("split", ["validation", "TRAIN", "", None, 0])
def test_unknown_split_is_rejected_by_name(split):
    with pytest.raises(ValueError, match=r"split must be one of \['test', 'train'\], got " + repr(split).replace("'", ".")):
        ds.load_japanese_vowels(split)


def test_checksum_mismatch_in_the_package_gives_a_clear_error(monkeypatch):
    name, _ = ds.CHECKSUMS["train"]
    monkeypatch.setitem(ds.CHECKSUMS, "train", (name, "0" * 64))
    with pytest.raises(ds.ChecksumError, match=rf"{name} is damaged[^\n]*\n[^\n]*\nexpected +0{{64}}$"):
        ds.load_japanese_vowels("train")


# ----------------------------------------------------------------------------- verify_bytes / read_verified


def test_verify_bytes_accepts_good_and_rejects_changed_data():
    text = "hello ragged world\n"
    sha = hashlib.sha256(text.encode()).hexdigest()
    assert ds.verify_bytes("x.gz", gzip.compress(text.encode()), sha) == text
    with pytest.raises(ds.ChecksumError, match=r"x\.gz is damaged.*:\nsha256 of the decompressed data [0-9a-f]{64},\nexpected +" + sha):
        ds.verify_bytes("x.gz", gzip.compress(b"hello ragged World\n"), sha)
    assert issubclass(ds.ChecksumError, ValueError)


def test_verify_bytes_rejects_non_gzip_and_non_bytes():
    with pytest.raises(ValueError, match=r"x\.gz is not a valid gzip file"):
        ds.verify_bytes("x.gz", b"plain text", "0" * 64)
    with pytest.raises(ValueError, match=r"x\.gz is not a valid gzip file"):
        ds.verify_bytes("x.gz", gzip.compress(b"abc")[:-5], "0" * 64)  # truncated
    with pytest.raises(TypeError, match="compressed must be bytes, got str"):
        ds.verify_bytes("x.gz", "not bytes", "0" * 64)


def test_read_verified_reads_a_file(tmp_path):
    path = tmp_path / "tiny.ts.gz"
    path.write_bytes(gzip.compress(TINY_TS.encode()))
    sha = hashlib.sha256(TINY_TS.encode()).hexdigest()
    assert ds.read_verified(path, sha) == TINY_TS
    path.write_bytes(gzip.compress(TINY_TS.replace("7:8", "7:9").encode()))
    with pytest.raises(ds.ChecksumError, match=r"^tiny\.ts\.gz is damaged"):
        ds.read_verified(str(path), sha)


# ----------------------------------------------------------------------------- parse_ts


def test_parse_ts_tiny_file():
    split = ds.parse_ts(TINY_TS)
    assert [s.tolist() for s in split.sequences] == [[[1, 4], [2, 5], [3, 6]], [[7, 8]]]
    assert split.labels.tolist() == [1, 0]
    assert split.lengths.tolist() == [3, 1]
    assert split.sequences[0].dtype == np.float32


@pytest.mark.parametrize(
    "text, message",
    [
        ("@dimensions 2\n@classLabel true a\n", "no '@data' line"),
        ("@dimensions 2\n@data\n1:2:a\n", r"no '@classLabel true \.\.\.' line"),
        ("@classLabel false\n@data\n", "line 1: expected '@classLabel true"),
        ("@dimensions 2\n@classLabel true a\n@data\n1,2:3:a\n", r"line 4: dimensions have different lengths \[2, 1\]"),
        ("@dimensions 2\n@classLabel true a\n@data\n1:2:3:a\n", "line 4: expected 2 dimensions, got 3"),
        ("@dimensions 1\n@classLabel true a\n@data\n1,2:z\n", r"line 4: label 'z' is not one of the declared classes \['a'\]"),
        ("@dimensions 1\n@classLabel true a\n@data\n1,?:a\n", r"line 4: missing values \('\?'\)"),
        ("@dimensions 1\n@classLabel true a\n@data\n1,x:a\n", "line 4: could not convert"),
    ],
)
def test_parse_ts_bad_input(text, message):
    with pytest.raises(ValueError, match=message):
        ds.parse_ts(text)


def test_parse_ts_rejects_bytes():
    with pytest.raises(TypeError, match="text must be a str, got bytes"):
        ds.parse_ts(b"@data\n")


# ----------------------------------------------------------------------------- split and standardise


def test_stratified_split_holds_out_per_class_and_is_seeded():
    labels = np.repeat(np.arange(9), 30)
    before = labels.copy()
    keep, held = ds.stratified_split(labels, 0.2, seed=0)
    assert len(keep) == 216 and len(held) == 54
    assert np.bincount(labels[held]).tolist() == [6] * 9
    assert np.intersect1d(keep, held).size == 0 and np.union1d(keep, held).tolist() == list(range(270))
    assert np.all(np.diff(keep) > 0) and np.all(np.diff(held) > 0)
    again, held_again = ds.stratified_split(labels, 0.2, seed=0)
    assert np.array_equal(held, held_again)
    assert not np.array_equal(held, ds.stratified_split(labels, 0.2, seed=1)[1])
    assert np.array_equal(labels, before)


def test_stratified_split_keeps_one_on_each_side():
    keep, held = ds.stratified_split([0, 0, 1, 1, 1], 0.9, seed=0)
    assert len(held) == 3 and len(keep) == 2  # one kept per class even at 0.9


@pytest.mark.parametrize("fraction", [0, 1, 1.5, -0.1, "0.2", True])
def test_stratified_split_bad_fraction(fraction):
    with pytest.raises(ValueError, match=r"fraction must be a number strictly between 0 and 1, got " + repr(fraction).replace(".", r"\.")):
        ds.stratified_split([0, 0, 1, 1], fraction)


def test_stratified_split_bad_labels():
    with pytest.raises(ValueError, match=r"labels must be a non-empty 1-D array, got shape \(0,\)"):
        ds.stratified_split([], 0.2)
    with pytest.raises(ValueError, match="class 3 has 1 example"):
        ds.stratified_split([0, 0, 3], 0.2)
    with pytest.raises(TypeError, match="seed must be an int"):
        ds.stratified_split([0, 0, 1, 1], 0.5, seed=1.5)


def test_fit_standardizer_uses_every_real_step():
    seqs = [np.array([[0.0, 1.0], [2.0, 1.0]]), np.array([[4.0, 3.0]])]
    mean, std = ds.fit_standardizer(seqs)
    np.testing.assert_allclose(mean, [2.0, 5 / 3], rtol=1e-6)
    np.testing.assert_allclose(std, [np.std([0, 2, 4]), np.std([1, 1, 3])], rtol=1e-6)
    assert mean.dtype == np.float32 and std.dtype == np.float32
    assert seqs[0].tolist() == [[0.0, 1.0], [2.0, 1.0]]


def test_fit_standardizer_bad_input():
    with pytest.raises(ValueError, match="sequences must not be empty"):
        ds.fit_standardizer([])
    with pytest.raises(ValueError, match="feature 1 is constant"):
        ds.fit_standardizer([np.array([[0.0, 1.0], [2.0, 1.0]])])


def test_standardize_returns_new_arrays_and_checks_shapes():
    seqs = [np.array([[1.0, 10.0], [3.0, 30.0]], dtype=np.float32)]
    out = ds.standardize(seqs, [2.0, 20.0], [1.0, 10.0])
    assert out[0].tolist() == [[-1.0, -1.0], [1.0, 1.0]] and out[0].dtype == np.float32
    assert seqs[0].tolist() == [[1.0, 10.0], [3.0, 30.0]] and out[0] is not seqs[0]
    with pytest.raises(ValueError, match=r"sequences\[0\] has shape \(2, 2\); expected \(time, 3\)"):
        ds.standardize(seqs, [0.0, 0.0, 0.0], [1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="mean and std must be 1-D of equal shape"):
        ds.standardize(seqs, [0.0, 0.0], [1.0])


def test_prepare_japanese_vowels_uses_training_statistics_only():
    data = ds.prepare_japanese_vowels(0.2, seed=0)
    assert (len(data.train.labels), len(data.val.labels), len(data.test.labels)) == (216, 54, 370)
    train_steps = np.concatenate(data.train.sequences)
    np.testing.assert_allclose(train_steps.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(train_steps.std(axis=0), 1, atol=1e-4)
    # validation and test were transformed with the *training* statistics, so they are not exactly standard
    assert np.abs(np.concatenate(data.test.sequences).mean(axis=0)).max() > 1e-3
    raw_test = ds.load_japanese_vowels("test")
    np.testing.assert_allclose(data.test.sequences[5], (raw_test.sequences[5] - data.mean) / data.std, rtol=1e-6)


def test_validation_comes_from_the_training_file_and_no_test_utterance_does():
    """Lesson 06's claim: validation rows are training-file recordings; the test file shares none of them."""
    train, test = ds.load_japanese_vowels("train"), ds.load_japanese_vowels("test")
    data = ds.prepare_japanese_vowels(0.2, seed=0)
    keep, held = ds.stratified_split(train.labels, 0.2, seed=0)
    mean, std = ds.fit_standardizer([train.sequences[i] for i in keep])
    for i, v in zip(held, data.val.sequences):
        np.testing.assert_array_equal(ds.standardize([train.sequences[i]], mean, std)[0], v)
    train_rows = {s.tobytes() for s in train.sequences}
    assert not any(s.tobytes() in train_rows for s in test.sequences)
    readme = resources.files("lessons_lib").joinpath("data/japanese_vowels/README.md").read_text()
    assert "by the same 9 speakers in different opportunities" in readme
