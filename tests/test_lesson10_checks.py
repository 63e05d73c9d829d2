"""Lesson 10 checkers: right answers pass, junk and plausible mistakes get a specific "Not yet"."""

from __future__ import annotations

import numpy as np
import pytest

from lessons_lib.checks import lesson10 as check

JUNK = [None, "answer", 3, 2.5, {1, 2}, {"a": 1}, [1, 2, 3], np.zeros((2, 2)), object()]


def _run(fn, *args, capsys):
    result = fn(*args)
    return bool(result), capsys.readouterr().out


@pytest.mark.parametrize("junk", JUNK, ids=repr)
def test_exercise_1_junk(junk, capsys):
    ok, out = _run(check.exercise_1, junk, capsys=capsys)
    assert not ok and out.startswith("Not yet:")


def test_exercise_1_right_and_hints(capsys):
    torch = pytest.importorskip("torch")
    mask = check.exercise_1_data()
    assert _run(check.exercise_1, ~mask, capsys=capsys)[0]
    assert _run(check.exercise_1, ~torch.from_numpy(mask), capsys=capsys)[0]
    assert _run(check.exercise_1, (~mask).tolist(), capsys=capsys)[0]
    ok, out = _run(check.exercise_1, mask, capsys=capsys)
    assert not ok and "True = IGNORE" in out
    ok, out = _run(check.exercise_1, (~mask).astype(np.float32), capsys=capsys)
    assert not ok and "ADDED" in out
    ok, out = _run(check.exercise_1, (~mask).T, capsys=capsys)
    assert not ok and "transposed" in out
    wrong = ~mask
    wrong[0, 0] = True
    ok, out = _run(check.exercise_1, wrong, capsys=capsys)
    assert not ok and "(0, 0)" in out


@pytest.mark.parametrize("junk", JUNK + [True, float("nan"), float("inf")], ids=repr)
def test_exercise_2_junk(junk, capsys):
    ok, out = _run(check.exercise_2, junk, capsys=capsys)
    assert not ok and out.startswith("Not yet:")


def test_exercise_2_right_and_hints(capsys):
    data = check.exercise_2_data()
    losses, masks = data["losses"], data["masks"]
    right = sum(l[m].sum() for l, m in zip(losses, masks)) / sum(m.sum() for m in masks)
    assert _run(check.exercise_2, right, capsys=capsys)[0]
    assert _run(check.exercise_2, np.float32(right), capsys=capsys)[0]  # float32 rounding is within 1e-6
    assert _run(check.exercise_2, np.array([right]), capsys=capsys)[0]
    cases = {
        np.mean([l[m].mean() for l, m in zip(losses, masks)]): "per-batch means",
        np.mean([r[mr].mean() for l, m in zip(losses, masks) for r, mr in zip(l, m)]): "sequence mean",
        np.mean(np.concatenate([l.ravel() for l in losses])): "padded steps",
        sum(l[m].sum() for l, m in zip(losses, masks)): "divide by the number",
        np.average([l[m].mean() for l, m in zip(losses, masks)], weights=[2, 3]): "evaluate",
    }
    for value, words in cases.items():
        ok, out = _run(check.exercise_2, value, capsys=capsys)
        assert not ok and words in out, (value, out)
    # the data is not changed by checking
    again = check.exercise_2_data()
    assert all(np.array_equal(a, b) for a, b in zip(again["losses"], losses))


@pytest.fixture(scope="module")
def ex3_model():
    pytest.importorskip("keras")
    return check.exercise_3_model()


@pytest.mark.parametrize("junk", JUNK, ids=repr)
def test_exercise_3_junk(junk, ex3_model, capsys):
    ok, out = _run(check.exercise_3, junk, ex3_model, capsys=capsys)
    assert not ok and out.startswith("Not yet:")


@pytest.mark.parametrize("bad_model", [None, "model", 3, {}, set()], ids=repr)
def test_exercise_3_junk_model(bad_model, capsys):
    ok, out = _run(check.exercise_3, "smooth", bad_model, capsys=capsys)
    assert not ok and "exercise_3_model" in out


def test_exercise_3_right_and_hints(ex3_model, capsys):
    assert check.first_layer_dropping_mask(ex3_model) == "smooth"
    assert _run(check.exercise_3, "smooth", ex3_model, capsys=capsys)[0]
    assert _run(check.exercise_3, ex3_model.get_layer("smooth"), ex3_model, capsys=capsys)[0]
    for name, words in {"masking": "makes the mask", "project": "passes the mask on", "norm": "passes the mask on",
                        "lstm": "already gone", "head": "already gone", "features": "Input layer",
                        "conv": "not a layer"}.items():
        ok, out = _run(check.exercise_3, name, ex3_model, capsys=capsys)
        assert not ok and words in out, (name, out)


def test_exercise_3_same_answer_under_simulated_keras_316(capsys):
    pytest.importorskip("keras")
    from lessons_lib.keras_regime import simulate_keras_316

    with simulate_keras_316():
        model = check.exercise_3_model()
        assert check.first_layer_dropping_mask(model) == "smooth"
        assert _run(check.exercise_3, "smooth", model, capsys=capsys)[0]
