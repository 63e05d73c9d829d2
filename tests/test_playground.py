"""lessons_lib.playground (compute) and lessons_lib.widgets.playground (the app), driven from code."""

from __future__ import annotations

import html
import re

import numpy as np
import pytest

import lessons_lib as ll
from lessons_lib import playground as pg
from lessons_lib.widgets import playground as pw

ATOL = 1e-5


@pytest.fixture(scope="module", autouse=True)
def _lesson_setup():
    ll.setup_notebook(0, frameworks=("tensorflow", "torch"), quiet=True)


def test_batch_rows_are_prefixes_of_a_fixed_pool():
    a = pg.playground_batch([5, 3, 2])
    b = pg.playground_batch([6, 1, 2])
    assert [s.shape for s in a] == [(5, 2), (3, 2), (2, 2)]
    np.testing.assert_array_equal(a[0], b[0][:5])
    np.testing.assert_array_equal(a[1][:1], b[1])
    np.testing.assert_array_equal(a[2], b[2])
    assert pg.playground_batch([0])[0].shape == (0, 2)


@pytest.mark.parametrize("padding", ["post", "pre"])
@pytest.mark.parametrize(
    "framework, method",
    [("keras", "mask= argument"), ("keras", "Masking layer"), ("pytorch", "pack_padded_sequence")],
)
def test_correct_methods_match_the_reference(framework, method, padding):
    if framework == "pytorch" and padding == "pre":
        pytest.skip("packing assumes post-padding; tested below")
    r = pg.run_playground(framework, method, padding, 3, [5, 1, 4])
    assert r["error"] is None
    assert r["outputs"].shape == (3, 8, 3) and r["h"].shape == (3, 3) and r["mask"].shape == (3, 8)
    assert r["h_diff"].max() <= ATOL and r["output_diff"].max() <= ATOL
    np.testing.assert_allclose(r["h"], r["h_reference"], atol=ATOL)


@pytest.mark.parametrize("framework", ["keras", "pytorch"])
def test_popular_mistakes_differ_from_the_reference(framework):
    post = pg.run_playground(framework, "multiply outputs by mask", "post", 2, [5, 3, 2])
    pre = pg.run_playground(framework, "multiply outputs by mask", "pre", 2, [5, 3, 2])
    # Post-padding: real-step outputs are right, the final state is not.
    assert post["output_diff"].max() <= ATOL and post["h_diff"].max() > 0.01
    # Pre-padding: the real-step outputs are wrong too.
    assert pre["output_diff"].max() > 0.01 and pre["h_diff"].max() > 0.01
    # Multiplying zeroes the padded outputs, and nothing else changes.
    unmasked = pg.run_playground(framework, "no mask", "post", 2, [5, 3, 2])
    np.testing.assert_allclose(post["outputs"], unmasked["outputs"] * post["mask"][:, :, None])
    np.testing.assert_allclose(post["h"], unmasked["h"])


def test_keras_and_pytorch_agree_without_a_mask():
    k = pg.run_playground("keras", "no mask", "pre", 2, [5, 3, 2])
    t = pg.run_playground("pytorch", "no mask", "pre", 2, [5, 3, 2])
    np.testing.assert_allclose(k["outputs"], t["outputs"], atol=ATOL)


def test_without_padding_every_method_agrees():
    for framework, methods in pg.METHODS.items():
        for method in methods:
            r = pg.run_playground(framework, method, "post", 0, [4, 4, 4])
            assert r["h_diff"].max() <= ATOL, (framework, method)


def test_pad_amount_zero_with_one_length_at_the_maximum_is_still_padded():
    """09's corrected claim: pad amount 0 removes padding only when every length is the maximum."""
    for padding in ("post", "pre"):
        for framework, methods in pg.METHODS.items():
            for method in methods:
                r = pg.run_playground(framework, method, padding, 0, [pg.MAX_LENGTH] * 3)
                assert r["mask"].all() and r["h_diff"].max() <= ATOL, (padding, framework, method)
        r = pg.run_playground("keras", "no mask", padding, 0, [pg.MAX_LENGTH, 3, 2])
        assert not r["mask"].all() and r["h_diff"].max() > 0.01, padding
    assert round(float(pg.run_playground("keras", "no mask", "post", 0, [6, 3, 2])["h_diff"].max()), 4) == 0.1647


def test_masking_layer_method_is_quiet_and_right_under_the_keras_316_regime():
    import warnings

    from lessons_lib.keras_regime import simulate_keras_316

    pg._keras_layers.cache_clear()
    try:
        with simulate_keras_316(), warnings.catch_warnings():
            warnings.simplefilter("error")  # any warning fails the test
            for padding in ("post", "pre"):
                r = pg.run_playground("keras", "Masking layer", padding, 2, [5, 3, 2])
                assert r["h_diff"].max() <= ATOL and r["output_diff"].max() <= ATOL, padding
    finally:
        pg._keras_layers.cache_clear()  # layers built under the simulation must not leak out


def test_packing_pre_padded_data_reads_the_padding():
    r = pg.run_playground("pytorch", "pack_padded_sequence", "pre", 2, [5, 3, 2])
    assert r["error"] is None and r["h_diff"].max() > 0.01


def test_zero_lengths():
    r = pg.run_playground("pytorch", "pack_padded_sequence", "post", 1, [3, 0, 2])
    assert r["error"] == "pack_padded_sequence rejects zero lengths" and r["h"] is None
    assert r["h_reference"].shape == (3, 3) and (r["h_reference"][1] == 0).all()
    k = pg.run_playground("keras", "mask= argument", "post", 1, [3, 0, 2])
    assert k["error"] is None and k["h_diff"].max() <= ATOL
    empty = pg.run_playground("keras", "mask= argument", "post", 0, [0, 0])
    assert empty["error"].startswith("nothing to run")


def test_inputs_are_not_mutated():
    lengths = np.array([5, 3, 2])
    pg.run_playground("keras", "mask= argument", "pre", 2, lengths)
    assert lengths.tolist() == [5, 3, 2]


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        (dict(framework="jax"), ValueError, "'jax'"),
        (dict(framework="pytorch", method="Masking layer"), ValueError, "'Masking layer'"),
        (dict(padding="middle"), ValueError, "padding"),
        (dict(pad_amount=-1), ValueError, "pad_amount"),
        (dict(pad_amount=pg.MAX_PAD + 1), ValueError, "pad_amount"),
        (dict(pad_amount=1.5), TypeError, "pad_amount"),
        (dict(lengths=[1, 2, 3, 4, 5, 6]), ValueError, "1 to 5"),
        (dict(lengths=[2, pg.MAX_LENGTH + 1]), ValueError, "lengths[1]"),
        (dict(lengths=[2, -1]), ValueError, "index 1"),
    ],
)
def test_bad_input_is_named(kwargs, error, words):
    with pytest.raises(error) as info:
        pg.run_playground(**kwargs)
    assert words in str(info.value)


def test_format_diff_and_summary_line():
    assert pg.format_diff(0.0) == "< 1e-05" and pg.format_diff(0.5) == "0.5000" and pg.format_diff(np.nan) == "n/a"
    r = pg.run_playground("keras", "no mask", "post", 2, [5, 3, 2])
    line = pg.summary_line(r, "keras", "no mask", "post", 2)
    assert line.startswith("Result: keras, no mask, post-padding +2, lengths [5, 3, 2]: final state diff 0.")
    assert line.endswith("(differs from the reference)")


# The app, driven from code the way the notebook's check cell and the browser test drive it.


def _shown(app) -> str:
    return html.unescape(app.result.value)


def test_app_defaults_and_result_text():
    app = pw.make_playground()
    assert {k: c.value for k, c in app.controls.items()} == pw.DEFAULTS
    assert _shown(app) == pw.result_text(**pw.DEFAULTS)
    assert _shown(app).endswith("(matches the reference)")
    assert "reference h" in app.details.value


def test_every_control_has_a_unique_description():
    app = pw.make_playground()
    descriptions = [c.description for c in app.controls.values()]
    assert len(set(descriptions)) == len(descriptions) == 7
    assert descriptions == ["Framework", "Method", "Padding", "Pad amount", "Length 1", "Length 2", "Length 3"]
    sliders = {k: (c.min, c.max, c.continuous_update) for k, c in app.controls.items() if hasattr(c, "min")}
    assert sliders["pad_amount"] == (0, pg.MAX_PAD, False) and sliders["length_1"] == (0, pg.MAX_LENGTH, False)


def test_app_updates_live_and_framework_resets_the_method():
    app = pw.make_playground()
    app.controls["method"].value = "no mask"
    assert "no mask" in _shown(app) and "differs" in _shown(app)
    app.controls["framework"].value = "pytorch"
    assert app.controls["method"].value == "pack_padded_sequence"
    assert tuple(app.controls["method"].options) == pg.METHODS["pytorch"]
    app.controls["length_3"].value = 0
    assert _shown(app).endswith("error: pack_padded_sequence rejects zero lengths")
    assert "(not computed)" in app.details.value
    values = {k: c.value for k, c in app.controls.items()}
    assert _shown(app) == pw.result_text(**values)


def test_result_line_is_plain_text():
    app = pw.make_playground()
    assert not re.search(r"<[a-z]", app.result.value), app.result.value
    assert app.result.value.startswith("Result:")
