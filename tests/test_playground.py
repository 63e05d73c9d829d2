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

    pg._keras_model.cache_clear()
    pg._run_cached.cache_clear()
    try:
        with simulate_keras_316(), warnings.catch_warnings():
            warnings.simplefilter("error")  # any warning fails the test
            for padding in ("post", "pre"):
                r = pg.run_playground("keras", "Masking layer", padding, 2, [5, 3, 2])
                assert r["h_diff"].max() <= ATOL and r["output_diff"].max() <= ATOL, padding
    finally:
        pg._keras_model.cache_clear()  # layers built under the simulation must not leak out
        pg._run_cached.cache_clear()


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
        (dict(fresh_init="yes"), TypeError, "fresh_init"),
        (dict(bidirectional=1), TypeError, "bidirectional"),
        (dict(seed=-1), ValueError, "seed"),
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
    line = pg.summary_line(r)
    assert line.startswith("Result: different; final-state gap 0.") and line.endswith("(10 real); cuDNN yes")
    assert pg.summary_line(r, "different").startswith("Result: your guess 'different' is right: different;")
    assert pg.summary_line(r, "equal").startswith("Result: your guess 'equal' is wrong")
    assert pg.summary_line(r, "?").startswith("Result: hidden until you guess")
    with pytest.raises(ValueError, match="guess.*'maybe'"):
        pg.summary_line(r, "maybe")


@pytest.mark.parametrize("padding", ["post", "pre"])
def test_fresh_init_hides_the_pre_padding_trap(padding):
    fresh = pg.run_playground("keras", "no mask", padding, 50, [5, 3, 2], fresh_init=True)
    trained = pg.run_playground("keras", "no mask", padding, 50, [5, 3, 2])
    assert (pg.playground_weights(0, True)[0]["bias"] == pg.fresh_keras_bias()).all()
    if padding == "pre":  # zero bias, zero input, zero state: h stays exactly 0, so it looks right
        assert (fresh["outputs"][~fresh["mask"]] == 0).all() and fresh["h_diff"].max() <= ATOL
        assert trained["h_diff"].max() > 0.01
    else:  # post-padding drifts either way
        assert fresh["h_diff"].max() > 0.1 and trained["h_diff"].max() > 0.1


def test_gap_starts_where_the_padding_starts():
    r = pg.run_playground("keras", "no mask", "post", 50, [5, 3, 2])
    assert r["gap"].shape == r["mask"].shape == (3, 55)
    assert r["gap"][r["mask"]].max() <= ATOL  # real steps are right with post-padding
    assert (r["gap"][:, 6:] > 0.01).all()  # every row has drifted a step after its padding began
    ok = pg.run_playground("keras", "mask= argument", "pre", 50, [5, 3, 2])
    assert ok["gap"].max() <= ATOL


@pytest.mark.parametrize("framework, method", [("keras", "mask= argument"), ("pytorch", "pack_padded_sequence")])
def test_bidirectional_masked_matches_and_unmasked_differs(framework, method):
    r = pg.run_playground(framework, method, "post", 4, [5, 3, 2], bidirectional=True)
    assert r["h"].shape == (3, 6) and r["outputs"].shape == (3, 9, 6)
    assert r["h_diff"].max() <= ATOL and r["output_diff"].max() <= ATOL and r["gap"].max() <= ATOL
    bad = pg.run_playground(framework, "no mask", "post", 4, [5, 3, 2], bidirectional=True)
    assert bad["output_diff"].max() > 0.01  # the backward direction read the padding first


def test_keras_and_pytorch_agree_bidirectional_without_a_mask():
    k = pg.run_playground("keras", "no mask", "pre", 3, [5, 3, 2], bidirectional=True)
    t = pg.run_playground("pytorch", "no mask", "pre", 3, [5, 3, 2], bidirectional=True)
    np.testing.assert_allclose(k["outputs"], t["outputs"], atol=ATOL)
    np.testing.assert_allclose(k["h"], t["h"], atol=ATOL)


def test_steps_computed_and_cudnn_flag():
    keras_post = pg.run_playground("keras", "mask= argument", "post", 50, [5, 3, 2])
    assert keras_post["steps"] == 3 * 55 and keras_post["real_steps"] == 10 and keras_post["cudnn_ok"] is True
    assert pg.run_playground("keras", "mask= argument", "pre", 50, [5, 3, 2])["cudnn_ok"] is False
    assert pg.run_playground("keras", "mask= argument", "post", 1, [5, 0, 2])["cudnn_ok"] is False
    assert pg.run_playground("keras", "no mask", "pre", 1, [5, 3, 2])["cudnn_ok"] is True
    packed = pg.run_playground("pytorch", "pack_padded_sequence", "post", 50, [5, 3, 2], bidirectional=True)
    assert packed["steps"] == 2 * 10 and packed["cudnn_ok"] is None
    assert pg.run_playground("pytorch", "no mask", "post", 50, [5, 3, 2])["steps"] == 3 * 55


def test_results_are_read_only_and_cached():
    a = pg.run_playground("keras", "no mask", "post", 3, [4, 2, 1])
    b = pg.run_playground("keras", "no mask", "post", 3, [4, 2, 1])
    assert a is not b and a["outputs"] is b["outputs"]
    with pytest.raises(ValueError):
        a["outputs"][0, 0, 0] = 1.0


def test_svg_pictures_are_small_fixed_size_and_readable():
    sizes = set()
    for pad, bi in [(0, False), (50, True)]:
        r = pg.run_playground("keras", "no mask", "pre", pad, [5, 3, 2], bidirectional=bi)
        for svg in (pg.gap_svg(r), pg.batch_svg(r)):
            assert svg.startswith("<svg") and svg.endswith("</svg>") and len(svg) < 60_000
            sizes.add(re.search(r'width="(\d+)" height="(\d+)"', svg).groups())
            assert all(int(f) >= 12 for f in re.findall(r'font-size="(\d+)"', svg))
        assert pg.gap_svg(r).count("<polyline") == 3
        assert pg.batch_svg(r).count('fill="url(#pad)"') == int((~r["mask"]).sum())
    assert len(sizes) == 2  # the same two sizes whatever the pad amount and direction
    failed = pg.run_playground("pytorch", "pack_padded_sequence", "post", 1, [3, 0, 2])
    assert "not computed" in pg.gap_svg(failed) and "<polyline" not in pg.gap_svg(failed)


def test_09_links_each_myth_to_an_existing_heading_of_08():
    """JupyterLab's heading id is the heading's text with spaces as '-' (createHeaderId)."""
    import json
    import pathlib
    import urllib.parse

    nbs = pathlib.Path(__file__).resolve().parents[1] / "notebooks"
    heading_ids = {line.lstrip("# ").replace("`", "").replace(" ", "-")
                   for cell in json.loads((nbs / "08_myths_and_facts.ipynb").read_text())["cells"]
                   if cell["cell_type"] == "markdown" for line in "".join(cell["source"]).splitlines()
                   if line.startswith("#")}
    md = "".join("".join(c["source"]) for c in json.loads((nbs / "09_playground.ipynb").read_text())["cells"]
                 if c["cell_type"] == "markdown")
    anchors = re.findall(r"\]\(08_myths_and_facts\.ipynb#([^)]+)\)", md)
    numbers = {int(re.match(r"Myth-(\d+)", urllib.parse.unquote(a)).group(1)) for a in anchors}
    assert numbers == set(pw.MYTHS)
    for a in anchors:
        assert urllib.parse.unquote(a) in heading_ids, a


# The app, driven from code the way the notebook's check cell and the browser test drive it.


def _shown(app) -> str:
    return html.unescape(app.result.value)


def test_app_defaults_and_result_text():
    app = pw.make_playground()
    assert {k: c.value for k, c in app.controls.items()} == pw.DEFAULTS
    assert _shown(app) == pw.result_text(**pw.DEFAULTS)
    assert _shown(app).startswith("Result: equal;")
    assert app.details.value.count("<svg") == 2 and "Steps computed" in app.details.value


def test_every_control_has_a_unique_description():
    app = pw.make_playground()
    descriptions = [c.description for c in app.controls.values()]
    assert len(set(descriptions)) == len(descriptions) == 11
    assert descriptions == ["Framework", "Method", "Padding", "Pad amount", "Length 1", "Length 2", "Length 3",
                            "Fresh Keras init (zero candidate bias)", "Bidirectional", "Guess first",
                            "Your guess"]
    sliders = {k: (c.min, c.max, c.continuous_update) for k, c in app.controls.items() if hasattr(c, "min")}
    assert sliders["pad_amount"] == (0, 50, False) and sliders["length_1"] == (0, pg.MAX_LENGTH, False)
    for key, widget in app.controls.items():  # the module docstring documents every control
        assert f"``{widget.description}``" in pw.__doc__ and f"``{key}``" in pw.__doc__, key


def _values(app):
    return {k: c.value for k, c in app.controls.items()}


def test_app_updates_live_and_framework_resets_the_method():
    app = pw.make_playground()
    app.controls["method"].value = "no mask"
    assert _shown(app).startswith("Result: different;")
    app.controls["framework"].value = "pytorch"
    assert app.controls["method"].value == "pack_padded_sequence"
    assert tuple(app.controls["method"].options) == pg.METHODS["pytorch"]
    app.controls["length_3"].value = 0
    assert _shown(app) == "Result: error: pack_padded_sequence rejects zero lengths"
    assert "Not computed" in app.details.value and "11: enforce_sorted" in app.details.value
    assert _shown(app) == pw.result_text(**_values(app))


@pytest.mark.parametrize("key, value", [("pad_amount", 50), ("fresh_init", True), ("bidirectional", True),
                                        ("padding", "pre"), ("length_1", 6)])
def test_every_setting_changes_the_line_as_result_text_says(key, value):
    app = pw.make_playground()
    app.controls["method"].value = "no mask"
    before = _shown(app)
    app.controls[key].value = value
    assert _shown(app) == pw.result_text(**_values(app)) != before


def test_guess_mode_hides_then_reveals_and_resets_on_each_new_setting():
    app = pw.make_playground()
    app.controls["method"].value = "no mask"
    app.controls["guess_mode"].value = True
    assert _shown(app).startswith("Result: hidden until you guess") and "<svg" not in app.details.value
    app.controls["guess"].value = "different"
    assert _shown(app).startswith("Result: your guess 'different' is right") and "<svg" in app.details.value
    app.controls["pad_amount"].value = 7  # a new setting: guess again
    assert app.controls["guess"].value == "?" and _shown(app).startswith("Result: hidden")
    app.controls["guess"].value = "equal"
    assert "is wrong" in _shown(app) and _shown(app) == pw.result_text(**_values(app))
    app.controls["guess_mode"].value = False
    assert app.controls["guess"].value == "?" and _shown(app) == pw.result_text(**_values(app))
    with pytest.raises(ValueError, match="guess"):
        pw.result_text(guess="yes")


def test_result_line_is_plain_text_and_fits():
    app = pw.make_playground()
    assert not re.search(r"<[a-z]", app.result.value), app.result.value
    assert app.result.value.startswith("Result:")
    longest = max(len(pw.result_text(method=m, padding=p, pad_amount=50, length_2=0, bidirectional=True,
                                     guess_mode=g, guess=q))
                  for m in pg.METHODS["keras"] for p in ("post", "pre") for g, q in
                  [(False, "?"), (True, "equal"), (True, "different")])
    assert longest <= 99


def test_myths_for_each_setting():
    assert pw.myths_for("keras", "multiply outputs by mask", "pre", False) == [1, 6, 7]
    assert pw.myths_for("keras", "Masking layer", "post", True) == [3, 6, 7, 12]
    assert pw.myths_for("pytorch", "pack_padded_sequence", "post", False, "rejects zero lengths") == [7, 10, 11]
