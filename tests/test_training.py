"""Tests for lessons_lib.training, the lesson 06 checkers and the lesson 06 widget."""

from __future__ import annotations

import os

import numpy as np
import pytest

import lessons_lib as ll

os.environ.update(ll.KERNEL_ENV)  # before keras/tensorflow are imported

import torch  # noqa: E402

from lessons_lib import training as tr  # noqa: E402

RNG = np.random.default_rng(0)


def _toy_data(n=24, t=6, f=3, seed=0):
    """Class = sign of the first feature of the first step; post-padded with zeros."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(2, t + 1, size=n)
    seqs = [rng.normal(size=(k, f)).astype(np.float32) for k in lengths]
    labels = np.array([int(s[0, 0] > 0) for s in seqs])
    return ll.pad_sequences(seqs, padding="post", dtype="float32"), lengths, labels, seqs


# ----------------------------------------------------------------------------- small helpers


def test_epoch_batches_cover_every_index_once_per_epoch():
    batches = tr.epoch_batches(10, 4, 3, seed=1)
    assert len(batches) == 3
    for epoch in batches:
        assert [len(b) for b in epoch] == [4, 4, 2]
        assert sorted(np.concatenate(epoch).tolist()) == list(range(10))
    assert not np.array_equal(batches[0][0], batches[1][0])
    same = tr.epoch_batches(10, 4, 3, seed=1)
    assert all(np.array_equal(a, b) for e1, e2 in zip(batches, same) for a, b in zip(e1, e2))


@pytest.mark.parametrize(
    "args, error, message",
    [
        ((0, 4, 1), ValueError, "n must be >= 1, got 0"),
        ((5, 0, 1), ValueError, "batch_size must be >= 1, got 0"),
        ((5, 2, 0), ValueError, "epochs must be >= 1, got 0"),
        ((5, 2.0, 1), TypeError, "batch_size must be an int, got 2.0"),
    ],
)
def test_epoch_batches_bad_input(args, error, message):
    with pytest.raises(error, match=message):
        tr.epoch_batches(*args)


def test_accuracy_and_bad_shapes():
    assert tr.accuracy([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]], [0, 1, 1]) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match=r"probs must be \(n, classes\) and labels \(n,\), got \(2, 2\) and \(3,\)"):
        tr.accuracy([[1, 0], [0, 1]], [0, 1, 1])


def test_history_best_epoch_summary_and_lines():
    h = tr.History("m", train_loss=[1.0, 0.5, 0.2], val_loss=[0.9, 0.4, 0.6], val_accuracy=[0.5, 0.9, 0.8])
    assert h.best_epoch == 2
    assert h.summary() == "m                best epoch  2/3: train loss 0.500, val loss 0.400, val acc 0.900"
    assert h.epoch_lines(every=2).splitlines()[0].startswith("epoch  1: train loss 1.000")
    assert len(h.epoch_lines(every=2).splitlines()) == 2  # epochs 1 and 2
    with pytest.raises(ValueError, match="m: no epochs recorded"):
        _ = tr.History("m").best_epoch
    with pytest.raises(ValueError, match="every must be >= 1, got 0"):
        h.epoch_lines(every=0)


# ----------------------------------------------------------------------------- torch


def test_torch_classifier_seed_fixes_weights_and_leaves_global_rng_alone():
    state = torch.random.get_rng_state()
    a = tr.TorchLSTMClassifier(3, 2, units=4, seed=7)
    b = tr.TorchLSTMClassifier(3, 2, units=4, seed=7)
    c = tr.TorchLSTMClassifier(3, 2, units=4, seed=8)
    assert torch.equal(torch.random.get_rng_state(), state)
    for (na, pa), (_, pb), (_, pc) in zip(a.named_parameters(), b.named_parameters(), c.named_parameters()):
        assert torch.equal(pa, pb), na
    assert not torch.equal(a.lstm.weight_ih_l0, c.lstm.weight_ih_l0)


def test_torch_packed_output_ignores_padding_and_unpacked_does_not():
    x, lengths, _, seqs = _toy_data()
    model = tr.TorchLSTMClassifier(3, 2, units=5, seed=0)
    longer = ll.pad_sequences(seqs, maxlen=x.shape[1] + 7, dtype="float32")
    x_before = x.copy()
    p = tr.predict_proba_torch(model, x, lengths)
    assert p.shape == (len(x), 2) and np.allclose(p.sum(axis=1), 1)
    assert ll.compare(p, tr.predict_proba_torch(model, longer, lengths), atol=1e-6)
    # packed = running each sequence alone, without any padding
    alone = np.stack([tr.predict_proba_torch(model, s[None])[0] for s in seqs])
    assert ll.compare(p, alone, atol=1e-6)
    assert not ll.compare(tr.predict_proba_torch(model, x), tr.predict_proba_torch(model, longer), atol=1e-4)
    assert np.array_equal(x, x_before)


def test_fit_torch_learns_toy_task_deterministically_and_keeps_best_epoch():
    x, lengths, y, _ = _toy_data(n=64)
    xv, lv, yv, _ = _toy_data(n=32, seed=1)
    runs = []
    for _ in range(2):
        model = tr.TorchLSTMClassifier(3, 2, units=8, seed=0)
        h = tr.fit_torch(model, x, y, xv, yv, epochs=12, lengths=lengths, lengths_val=lv, batch_size=16,
                         learning_rate=0.05, name="toy")
        runs.append((h, tr.predict_proba_torch(model, xv, lv)))
    (h, p), (h2, p2) = runs
    assert h.val_loss == h2.val_loss and np.array_equal(p, p2)
    assert len(h.train_loss) == 12 and h.train_loss[-1] < h.train_loss[0]
    # the kept weights are those of the best validation epoch
    assert tr._nll(p, yv) == pytest.approx(min(h.val_loss), rel=1e-6)
    assert tr.accuracy(p, yv) >= 0.8


def test_fit_torch_bad_input():
    x, lengths, y, _ = _toy_data()
    model = tr.TorchLSTMClassifier(3, 2, units=4)
    with pytest.raises(ValueError, match="pass both lengths and lengths_val"):
        tr.fit_torch(model, x, y, x, y, epochs=1, lengths=lengths)
    with pytest.raises(ValueError, match=r"labels for x must have shape \(24,\), got \(23,\)"):
        tr.fit_torch(model, x, y[:-1], x, y, epochs=1)
    with pytest.raises(ValueError, match=r"x_val must be \(batch, time, features\), got shape \(24, 6\)"):
        tr.fit_torch(model, x, y, x[..., 0], y, epochs=1)
    with pytest.raises(ValueError, match=r"lengths must have shape \(24,\), got \(3,\)"):
        tr.fit_torch(model, x, y, x, y, epochs=1, lengths=[1, 2, 3], lengths_val=lengths)


def test_probabilities_with_padding():
    model = tr.TorchLSTMClassifier(3, 4, units=5, seed=1)
    seq = RNG.normal(size=(5, 3)).astype(np.float32)
    p0 = tr.probabilities_with_padding(model, seq, 0, packed=True)
    assert p0.shape == (4,)
    assert ll.compare(p0, tr.probabilities_with_padding(model, seq, 20, packed=True), atol=1e-6)
    assert ll.compare(p0, tr.probabilities_with_padding(model, seq, 0, padding="pre"), atol=1e-6)
    assert not ll.compare(p0, tr.probabilities_with_padding(model, seq, 20, padding="post"), atol=1e-4)
    with pytest.raises(ValueError, match="packed=True needs padding='post'"):
        tr.probabilities_with_padding(model, seq, 1, padding="pre", packed=True)
    with pytest.raises(ValueError, match="padding must be 'pre' or 'post', got 'both'"):
        tr.probabilities_with_padding(model, seq, 1, padding="both")
    with pytest.raises(ValueError, match="extra_padding must be >= 0, got -1"):
        tr.probabilities_with_padding(model, seq, -1)
    with pytest.raises(ValueError, match=r"sequence must be a non-empty \(time, features\) array, got shape \(0, 3\)"):
        tr.probabilities_with_padding(model, seq[:0], 1)


# ----------------------------------------------------------------------------- keras


@pytest.fixture(scope="module")
def keras():
    ll.setup_notebook(0, frameworks=("tensorflow",), quiet=True)
    import keras

    return keras


def test_build_keras_classifier_layers_and_seeded_weights(keras):
    masked = tr.build_keras_classifier(3, 2, units=4, masked=True, seed=3)
    unmasked = tr.build_keras_classifier(3, 2, units=4, masked=False, seed=3)
    assert [l.name for l in masked.layers] == ["frames", "masking", "lstm", "classes"]
    assert [l.name for l in unmasked.layers] == ["frames", "lstm", "classes"]
    for a, b in zip(masked.get_weights(), unmasked.get_weights()):
        assert np.array_equal(a, b)  # same seed -> same initial weights, whatever was built before
    with pytest.raises(ValueError, match="n_classes must be >= 2, got 1"):
        tr.build_keras_classifier(3, 1)


def test_keras_masked_output_ignores_padding(keras):
    x, lengths, _, seqs = _toy_data()
    model = tr.build_keras_classifier(3, 2, units=4, masked=True, seed=0)
    longer_pre = ll.pad_sequences(seqs, maxlen=x.shape[1] + 5, padding="pre", dtype="float32")
    p = tr.predict_proba_keras(model, x)
    assert p.shape == (len(x), 2)
    assert ll.compare(p, tr.predict_proba_keras(model, longer_pre), atol=1e-5)


@pytest.mark.slow
def test_fit_keras_deterministic_and_keeps_best_epoch(keras):
    x, _, y, _ = _toy_data(n=48)
    xv, _, yv, _ = _toy_data(n=24, seed=1)
    results = []
    for _ in range(2):
        model = tr.build_keras_classifier(3, 2, units=6, masked=True, seed=0, learning_rate=0.05)
        h = tr.fit_keras(model, x, y, xv, yv, epochs=6, batch_size=16, name="toy")
        results.append((h, tr.predict_proba_keras(model, xv)))
    (h, p), (h2, p2) = results
    assert h.val_loss == h2.val_loss and np.array_equal(p, p2)
    assert tr._nll(p, yv) == pytest.approx(min(h.val_loss), rel=1e-5)
    with pytest.raises(ValueError, match=r"labels for x_val must have shape \(24,\), got \(2,\)"):
        tr.fit_keras(model, x, y, xv, yv[:2], epochs=1)


# ----------------------------------------------------------------------------- checkers


def test_exercise_checkers_accept_right_and_explain_wrong(capsys):
    from lessons_lib import datasets as ds
    from lessons_lib.checks import lesson06 as check

    lengths = ds.load_japanese_vowels("test").lengths
    right = 1 - lengths.sum() / (370 * 29)
    assert bool(check.exercise_1(right)) is True
    assert bool(check.exercise_1(1 - right)) is False and "real" in capsys.readouterr().out.splitlines()[-1]
    assert bool(check.exercise_1(None) is False and check.exercise_1([0.1, 0.2])) is False
    assert bool(check.exercise_1("abc")) is False

    ref = np.full((370, 9), 1 / 9)
    pre = np.ones((370, 45, 12))
    post = pre.copy()
    post[:, -1] = 0
    assert bool(check.exercise_2(pre, ref + 1e-7, ref)) is True
    assert bool(check.exercise_2(post, ref, ref)) is False and "padding='pre'" in capsys.readouterr().out
    assert bool(check.exercise_2(pre, ref + 0.1, ref)) is False
    assert bool(check.exercise_2(pre[:, :29], ref, ref)) is False
    assert bool(check.exercise_2(None, None, ref)) is False

    train = ds.load_japanese_vowels("train")
    keep, _ = ds.stratified_split(train.labels, 0.2, seed=0)
    seqs = [train.sequences[i] for i in keep]
    padded = ll.pad_sequences(seqs)
    mask = ll.sequence_mask([len(s) for s in seqs], padded.shape[1])
    capsys.readouterr()
    assert bool(check.exercise_3(padded[mask].mean(axis=0))) is True
    assert bool(check.exercise_3(padded.reshape(-1, 12).mean(axis=0))) is False
    assert "padding zeros" in capsys.readouterr().out
    assert bool(check.exercise_3(np.concatenate(train.sequences).mean(axis=0))) is False
    assert "validation" in capsys.readouterr().out
    assert bool(check.exercise_3(np.mean([s.mean(axis=0) for s in seqs], axis=0))) is False
    assert "short utterances" in capsys.readouterr().out
    assert bool(check.exercise_3(np.zeros(11))) is False


# ----------------------------------------------------------------------------- widget


@pytest.mark.slow
def test_widget_result_text_and_controls():
    from lessons_lib.widgets import lesson06 as w06

    models, test = w06.default_models()
    line = w06.result_text(3, 10, "post")
    assert line.startswith("Result: speaker 1, ")
    assert " steps + 10 zeros | packed: " in line and "| unmasked post: " in line and line.count("p(true) 0.") == 2
    # the packed model's part does not depend on the padding
    assert line.split("|")[1] == w06.result_text(3, 60, "pre").split("|")[1]
    widget = w06.make_widget(models, test)
    utterance, extra, which, shown, table = widget.children
    assert [c.description for c in (utterance, extra, which)] == ["utterance", "extra padding", "unmasked model"]
    assert (utterance.max, extra.max, list(which.options)) == (369, w06.MAX_EXTRA_PADDING, ["pre", "post"])
    assert [c.value for c in (utterance, extra, which)] == list(w06.INITIAL.values())  # the lesson resets to these
    assert shown.value == w06.result_text(**w06.INITIAL, models=models, test=test)
    utterance.value, extra.value, which.value = 3, 10, "post"
    assert shown.value == line
    assert "<table>" in table.value and "test utterance 3:" in table.value
    with pytest.raises(ValueError, match="unmasked must be 'pre' or 'post', got 'side'"):
        w06.result_text(0, 0, "side")
    with pytest.raises(ValueError, match=r"utterance must be an int in 0\.\.369, got 370"):
        w06.result_text(370, 0, "pre")


# ----------------------------------------------------------------------------- seeds


def test_seed_stats_and_table():
    s = tr.seed_stats({0: 0.9, 1: 0.8, 2: 1.0})
    assert s["seeds"] == [0, 1, 2] and s["mean"] == pytest.approx(0.9) and s["std"] == pytest.approx(0.1)
    assert (s["min"], s["max"]) == (0.8, 1.0)
    table = tr.seed_table({"a": {0: 0.9, 1: 0.8}, "b": {0: 0.5, 1: 0.7}}, title="acc")
    lines = table.splitlines()
    assert lines[0] == "acc over seeds [0, 1] (std: sample standard deviation)"
    assert lines[3].split() == ["b", "0.6000", "0.1414", "0.5000", "0.7000"]
    assert tr.binomial_standard_error(0.96, 370) == pytest.approx(0.0102, abs=1e-4)
    assert len(tr.SEEDS) >= 5 and tr.RECIPE["seed"] in tr.SEEDS


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: tr.seed_stats({0: 0.9}), ValueError, "at least 2 seeds"),
        (lambda: tr.seed_stats([0.9, 0.8]), ValueError, "at least 2 seeds"),
        (lambda: tr.seed_stats({0: 0.9, 1: "x"}), TypeError, r"by_seed\[1\] must be a finite number, got 'x'"),
        (lambda: tr.seed_stats({0: 0.9, 1: float("nan")}), TypeError, r"by_seed\[1\] must be a finite number"),
        (lambda: tr.seed_stats({0: 0.9, 1: None}), TypeError, r"by_seed\[1\] must be a finite number, got None"),
        (lambda: tr.seed_table({}), ValueError, "results must be a non-empty mapping"),
        (lambda: tr.seed_table({"a": {0: 1.0, 1: 0.5}, "b": {0: 1.0, 2: 0.5}}), ValueError,
         r"results\['b'\] has seeds \[0, 2\], expected \[0, 1\]"),
        (lambda: tr.binomial_standard_error(1.5, 10), ValueError, "p must be a number in"),
        (lambda: tr.binomial_standard_error(0.5, 0), ValueError, "n must be >= 1, got 0"),
    ],
)
def test_seed_helpers_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.slow
def test_restart_keras_trains_exactly_like_a_new_model(keras):
    """The lesson trains seeds 1-4 on restarted models; that must equal building new ones."""
    x, _, y, _ = _toy_data(n=40)
    xv, _, yv, _ = _toy_data(n=16, seed=1)
    args = dict(epochs=3, batch_size=16)
    new = tr.build_keras_classifier(3, 2, units=5, masked=True, seed=1, learning_rate=0.05)
    h_new = tr.fit_keras(new, x, y, xv, yv, seed=1, **args)
    reused = tr.build_keras_classifier(3, 2, units=5, masked=True, seed=0, learning_rate=0.05)
    tr.fit_keras(reused, x, y, xv, yv, seed=0, **args)  # trained: weights and Adam moments have moved
    tr.restart_keras(reused, tr.build_keras_classifier(3, 2, units=5, masked=True, seed=1, learning_rate=0.05))
    assert int(reused.optimizer.iterations.numpy()) == 0
    h_reused = tr.fit_keras(reused, x, y, xv, yv, seed=1, **args)
    assert h_reused.val_loss == pytest.approx(h_new.val_loss, abs=1e-6)
    for a, b in zip(reused.get_weights(), new.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)
    with pytest.raises(ValueError, match="different weight shapes"):
        tr.restart_keras(reused, tr.build_keras_classifier(3, 2, units=4, seed=1))


def test_predict_proba_keras_chunks_agree_with_predict(keras):
    x, _, _, _ = _toy_data(n=10)
    model = tr.build_keras_classifier(3, 2, units=4, seed=0)
    whole = tr.predict_proba_keras(model, x)
    np.testing.assert_allclose(tr.predict_proba_keras(model, x, batch_size=3), whole, atol=1e-6)
    np.testing.assert_allclose(model.predict(x, verbose=0), whole, atol=1e-6)
    assert whole.dtype == np.float64 and whole.shape == (10, 2)


# ----------------------------------------------------------------------------- lesson 06 code = library code


def _lesson06_cell(marker: str) -> str:
    import json
    import pathlib

    path = pathlib.Path(__file__).resolve().parents[1] / "notebooks" / "06_training_on_real_sequences.ipynb"
    cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    found = [c for c in cells if marker in "".join(c["source"])]
    assert len(found) == 1, f"expected one cell of lesson 06 defining {marker!r}, found {len(found)}"
    return "".join(found[0]["source"])


def test_lesson06_torch_class_is_the_library_class():
    """The lesson writes its model in plain torch; tr.TorchLSTMClassifier (used by the widget) must not drift."""
    ns = {"nn": torch.nn, "torch": torch}
    exec(_lesson06_cell("class TorchLSTMClassifier"), ns)
    x, lengths, _, _ = _toy_data(f=12)
    xt, lt = torch.as_tensor(x), torch.as_tensor(lengths)
    for seed in (0, 3):
        lesson = ns["TorchLSTMClassifier"](12, 9, tr.RECIPE["units"], seed=seed)
        library = tr.TorchLSTMClassifier(12, 9, units=tr.RECIPE["units"], seed=seed)
        assert lesson.state_dict().keys() == library.state_dict().keys()
        for k, v in lesson.state_dict().items():
            assert torch.equal(v, library.state_dict()[k]), k
        with torch.no_grad():
            for lt_ in (lt, None):
                assert torch.equal(lesson(xt, lt_), library(xt, lt_))


def test_lesson06_keras_builder_is_the_library_builder(keras):
    ns = {"keras": keras, "tr": tr}
    exec(_lesson06_cell("def keras_classifier"), ns)
    x, _, _, _ = _toy_data(n=6, f=12)
    for masked in (True, False):
        lesson = ns["keras_classifier"](masked=masked, seed=2)
        library = tr.build_keras_classifier(12, 9, units=tr.RECIPE["units"], masked=masked, seed=2,
                                            learning_rate=tr.RECIPE["learning_rate"])
        assert [l.name for l in lesson.layers] == [l.name for l in library.layers]
        assert [type(l).__name__ for l in lesson.layers] == [type(l).__name__ for l in library.layers]
        for a, b in zip(lesson.get_weights(), library.get_weights()):
            np.testing.assert_array_equal(a, b)
        assert float(lesson.optimizer.learning_rate) == float(library.optimizer.learning_rate)
        assert lesson.loss == library.loss
        np.testing.assert_array_equal(tr.predict_proba_keras(lesson, x), tr.predict_proba_keras(library, x))
