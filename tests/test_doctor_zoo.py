"""lessons_lib.doctor_zoo helpers, lesson 12's widget and its checkers (which never raise)."""

from __future__ import annotations

import html

import numpy as np
import pytest

from lessons_lib import doctor_zoo as zoo

torch = pytest.importorskip("torch")
keras = pytest.importorskip("keras")


def test_sequences_are_seeded_and_shaped():
    a, b = zoo.zoo_sequences(), zoo.zoo_sequences()
    assert [len(s) for s in a] == list(zoo.LENGTHS) and all(np.array_equal(x, y) for x, y in zip(a, b))
    assert all(s.min() >= 1 and s.max() < zoo.VOCAB for s in a)
    assert {s.shape[1] for s in zoo.zoo_sequences("features")} == {zoo.FEATURES}
    with pytest.raises(ValueError, match="inputs"):
        zoo.zoo_sequences("images")


def test_builds_are_fresh_and_deterministic():
    m1, m2 = zoo.build("keras_mask_zero"), zoo.build("keras_mask_zero")
    assert m1 is not m2 and all(np.array_equal(a, b) for a, b in zip(m1.get_weights(), m2.get_weights()))
    bias = m1.get_layer("lstm").get_weights()[2]
    assert np.abs(bias).min() > 0  # non-zero biases, cell candidate included
    t = zoo.build("torch_packed")
    assert float(t.embed.weight[0].detach().abs().max()) == 0.0 and float(t.lstm.bias_ih_l0.detach().abs().min()) > 0
    with pytest.raises(ValueError, match="no zoo model"):
        zoo.build("nope")


def test_builds_leave_torch_rng_alone():
    torch.manual_seed(3)
    expected = torch.rand(1)
    torch.manual_seed(3)
    zoo.build("torch_packed")
    assert torch.equal(torch.rand(1), expected)


def test_to_post_padding():
    x = torch.tensor([[[0.0], [0.0], [1.0]], [[2.0], [3.0], [4.0]]])
    out = zoo.to_post_padding(x, torch.tensor([1, 3]), "pre")
    assert out[:, :, 0].tolist() == [[1.0, 0.0, 0.0], [2.0, 3.0, 4.0]]
    assert zoo.to_post_padding(x, torch.tensor([1, 3]), "post") is x
    with pytest.raises(ValueError, match="padding"):
        zoo.to_post_padding(x, torch.tensor([1, 3]), "left")


def test_names_and_expectations():
    assert set(zoo.names()) == set(zoo.ZOO)
    assert zoo.names("torch", correct=False) == [n for n in zoo.names("torch") if not zoo.ZOO[n].expected_ok()]
    assert "keras_implicit_stack" in zoo.names(correct=True) and "keras_implicit_stack" in zoo.names(
        correct=False, recurrent_layers_pass_mask=False)
    crop = zoo.ZOO["torch_crop"]
    assert not crop.expected_case_fails("pre", 4) and crop.expected_case_fails("pre", 5)
    assert not crop.expected_case_fails("post", 50)
    with pytest.raises(ValueError, match="framework"):
        zoo.names("jax")


# --------------------------------------------------------------------------- widget


def test_widget_result_text():
    from lessons_lib.widgets import lesson12 as w12

    assert w12.result_text("torch_crop", "pre", 4) == "Result: torch_crop, pre +4: invariant, 0 of 8 differ (all < 1e-05)"
    text = w12.result_text("torch_crop", "pre", 5)
    assert text.startswith("Result: torch_crop, pre +5: NOT invariant, 8 of 8 differ (max ")
    bars = w12.bars_text("keras_max_pool", "post", 3).splitlines()
    assert len(bars) == 8 and all(line.endswith("< 1e-05") and "#" not in line for line in bars)
    assert any("#" in line for line in w12.bars_text("keras_max_pool", "pre", 0).splitlines())
    with pytest.raises(ValueError, match="model must be"):
        w12.result_text("keras_explicit_mask")


def test_widget_drives_and_is_quick():
    import time

    from lessons_lib.widgets import lesson12 as w12

    widget = w12.make_widget()
    c = widget.controls
    assert html.unescape(widget.result.value) == w12.result_text()
    times = []
    for model, side, extra in [("torch_last_output", "pre", 3), ("keras_per_step_no_mask", "post", 8)]:
        t0 = time.perf_counter()
        c["model"].value, c["padding"].value, c["extra_padding"].value = model, side, extra
        times.append(time.perf_counter() - t0)
        assert html.unescape(widget.result.value) == w12.result_text(model, side, extra)
        assert widget.bars.value.startswith("<pre>seq 0")
    print("update times (s):", [round(t, 4) for t in times])  # reported, never asserted


# --------------------------------------------------------------------------- checkers

JUNK = [None, "", 3, 2.5, [], {}, set(), np.zeros((2, 2)), object(), b"x", ("pre",), ("pre", 2, 3)]


@pytest.mark.parametrize("junk", JUNK, ids=lambda j: type(j).__name__)
@pytest.mark.parametrize("exercise", ["exercise_1", "exercise_2", "exercise_3"])
def test_checkers_never_raise_on_junk(exercise, junk, capsys):
    from lessons_lib.checks import lesson12 as check

    result = getattr(check, exercise)(junk)
    assert not result and capsys.readouterr().out.startswith("Not yet: ")


def test_exercise_1(capsys):
    from lessons_lib import doctor
    from lessons_lib.checks import lesson12 as check

    trace = doctor.trace_mask(check.exercise_1_model(), np.array([[1, 2, 3, 0], [4, 0, 0, 0]]))
    assert trace.lost_at == check.EXERCISE_1_LOST_AT
    assert check.exercise_1("standardize")
    assert not check.exercise_1("encoder") and "already has no mask" in capsys.readouterr().out
    assert not check.exercise_1("lstm") and "no layer named" in capsys.readouterr().out


def test_exercise_2(capsys):
    from keras import layers

    from lessons_lib.checks import lesson12 as check

    def build(mask_zero, masking):
        stack = [keras.Input((None,), dtype="int64"), layers.Embedding(20, 4, mask_zero=mask_zero)]
        stack += [layers.Masking(0.0)] if masking else []
        model = keras.Sequential([*stack, layers.LSTM(8)])
        zoo.honest_weights(model, seed=1)
        return model

    assert not check.exercise_2(build(False, True)) and "Masking(0) after an Embedding" in capsys.readouterr().out
    assert check.exercise_2(build(True, False))
    assert not check.exercise_2(build) and "not the function" in capsys.readouterr().out
    no_lstm = keras.Sequential([keras.Input((None,), dtype="int64"), layers.Embedding(20, 4, mask_zero=True),
                                layers.GlobalAveragePooling1D()])
    assert not check.exercise_2(no_lstm) and "keep the LSTM" in capsys.readouterr().out
    constant = keras.Sequential([keras.Input((None,), dtype="int64"), layers.Embedding(20, 4, mask_zero=True),
                                 layers.LSTM(8), layers.Lambda(lambda x: 0.0 * x)])
    assert not check.exercise_2(constant) and "same output" in capsys.readouterr().out
    assert not check.exercise_2(zoo.build("torch_packed")) and "Keras model" in capsys.readouterr().out


def test_exercise_3(capsys):
    from lessons_lib.checks import lesson12 as check

    assert not check.exercise_3(("post", 40)) and "only cuts padding" in capsys.readouterr().out
    assert not check.exercise_3(("pre", 2)) and "add more" in capsys.readouterr().out
    assert check.exercise_3(("pre", 5)) and check.exercise_3({"padding": "pre", "extra_padding": 9})
    assert not check.exercise_3(("pre", -1)) and not check.exercise_3(("middle", 5))
    assert not check.exercise_3(("pre", True))
