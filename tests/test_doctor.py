"""lessons_lib.doctor: the zoo's verdicts in both Keras masking regimes, trace_mask, bad input, no side effects."""

from __future__ import annotations

import contextlib
import re

import numpy as np
import pytest

import lessons_lib as ll
from lessons_lib import doctor
from lessons_lib import doctor_zoo as zoo
from lessons_lib.keras_regime import recurrent_layers_pass_mask, simulate_keras_316

keras = pytest.importorskip("keras")
torch = pytest.importorskip("torch")

EXTRAS = (0, 2, 5)  # 2 < the amount torch_crop needs, 5 reveals it
REGIMES = {"keras315": contextlib.nullcontext, "keras316": simulate_keras_316}


@pytest.fixture(params=list(REGIMES))
def regime(request):
    """Runs the test body under the installed regime, then under the simulated Keras 3.16 one."""
    with REGIMES[request.param]():
        yield recurrent_layers_pass_mask()


def _case_fails(report) -> dict:
    return {(c["padding"], c["extra_padding"]): c["failing"] > 0 for c in report.cases()}


# --------------------------------------------------------------------------- the zoo's verdicts


@pytest.mark.parametrize("name", zoo.names("torch"))
def test_torch_zoo_verdicts(name):
    entry = zoo.ZOO[name]
    report = doctor.check_padding(entry.build(), zoo.zoo_sequences(entry.inputs), extra_padding=EXTRAS)
    expected = {(s, e): entry.expected_case_fails(s, e) for s in ("post", "pre") for e in EXTRAS}
    assert _case_fails(report) == expected, str(report)
    assert report.ok == entry.expected_ok()


@pytest.mark.parametrize("name", zoo.names("keras"))
def test_keras_zoo_verdicts_and_traces(name, regime):
    """Each Keras model is built and checked inside the regime; its verdict and trace are the expected ones."""
    entry = zoo.ZOO[name]
    model = entry.build()
    seqs = zoo.zoo_sequences(entry.inputs)
    report = doctor.check_padding(model, seqs, extra_padding=EXTRAS)
    expected = {(s, e): entry.expected_case_fails(s, e, regime) for s in ("post", "pre") for e in EXTRAS}
    assert _case_fails(report) == expected, f"passes mask: {regime}\n{report}"
    assert report.ok == entry.expected_ok(regime)
    trace = doctor.trace_mask(model, ll.pad_sequences(seqs, padding="pre"))
    want = entry.expected_lost_at(regime)
    if want is None:
        assert trace.lost_at is None, str(trace)
    else:  # keras.ops operations are auto-named: multiply, multiply_1, ...
        assert trace.lost_at is not None and re.fullmatch(rf"{want}(_\d+)?", trace.lost_at), str(trace)


def test_zoo_covers_the_issue():
    bugs = {e.name for e in zoo.ZOO.values() if e.bug and e.expected_ok()} | set(zoo.names(correct=False))
    correct = set(zoo.names(correct=True)) - bugs
    assert len(correct) >= 7 and len(set(zoo.names(correct=False))) >= 8
    for framework in ("keras", "torch"):
        assert zoo.names(framework, correct=True) and zoo.names(framework, correct=False)
    # A bug that shows on one side only, and one that needs extra padding.
    assert any(e.fails_on["post"] is None and e.fails_on["pre"] == 0 for e in zoo.ZOO.values())
    assert any((e.fails_on["pre"] or 0) > 0 for e in zoo.ZOO.values())


def test_regime_dependent_models_change_verdict():
    names = [e.name for e in zoo.ZOO.values() if e.expected_ok(True) != e.expected_ok(False)]
    assert names == ["keras_implicit_stack", "keras_implicit_mean"]


def test_masking_after_embedding_makes_a_mask_that_masks_nothing():
    seqs = zoo.zoo_sequences()
    padded = ll.pad_sequences(seqs, padding="pre")
    trace = doctor.trace_mask(zoo.build("keras_masking_after_embedding"), padded)
    row = next(r for r in trace if r["class"] == "Masking")
    assert row["mask_out"] and row["masked_steps"] == 0
    good = doctor.trace_mask(zoo.build("keras_mask_zero"), padded)
    assert good[0]["masked_steps"] == int((padded == 0).sum())


# --------------------------------------------------------------------------- trace_mask


def _conv_layers():
    return [keras.layers.Embedding(5, 2, mask_zero=True, name="embed"), keras.layers.Conv1D(2, 3, padding="same", name="conv"),
            keras.layers.LSTM(3, return_sequences=True, name="lstm"), keras.layers.Dense(1, name="head")]


@pytest.mark.parametrize("how", ["sequential", "functional", "unbuilt_sequential"])
def test_trace_mask_in_call_order(how):
    padded = np.array([[1, 2, 3, 0], [4, 0, 0, 0]])
    with pytest.warns(UserWarning, match="destroy the mask") if how != "unbuilt_sequential" else contextlib.nullcontext():
        if how == "sequential":
            model = keras.Sequential([keras.Input((None,), dtype="int64"), *_conv_layers()])
        elif how == "functional":
            inputs = keras.Input((None,), dtype="int64")
            x = inputs
            for layer in _conv_layers():
                x = layer(x)
            model = keras.Model(inputs, x)
        else:
            model = keras.Sequential(_conv_layers())
    trace = doctor.trace_mask(model, padded)
    assert [r["layer"] for r in trace] == ["embed", "conv", "lstm", "head"]
    assert [(r["mask_in"], r["mask_out"], r["warned"]) for r in trace] == [
        (False, True, False), (True, False, True), (False, False, False), (False, False, False)]
    assert trace.lost_at == "conv" and "<- mask lost" in str(trace) and "mask lost at: conv" in str(trace)


def test_trace_mask_sees_explicit_mask_arguments():
    model = zoo.build("keras_explicit_mask")
    trace = doctor.trace_mask(model, ll.pad_sequences(zoo.zoo_sequences()))
    rows = {r["layer"]: r for r in trace}
    assert rows["lstm_a"]["mask_in"] and rows["lstm_b"]["mask_in"]
    assert not any(r["class"] == "NotEqual" for r in trace)  # mask computations are not listed


def test_trace_mask_under_316_names_the_lstm():
    with simulate_keras_316():
        model = zoo.build("keras_implicit_stack")
        trace = doctor.trace_mask(model, ll.pad_sequences(zoo.zoo_sequences()))
    rows = {r["layer"]: r for r in trace}
    assert trace.lost_at == "lstm_a" and rows["lstm_a"]["warned"] and not rows["lstm_b"]["mask_in"]


def test_trace_mask_bad_input():
    with pytest.raises(TypeError, match="Keras model"):
        doctor.trace_mask(lambda x: x, np.zeros((1, 3)))
    model = zoo.build("keras_mask_zero")
    with pytest.raises(TypeError, match="numbers"):
        doctor.trace_mask(model, np.array([["a", "b"]]))
    with pytest.raises(ValueError, match="2-D"):
        doctor.trace_mask(model, np.zeros(3))
    a, b = keras.Input((None,), dtype="int64"), keras.Input((None,), dtype="int64")
    two = keras.Model([a, b], keras.layers.Add()([a, b]))
    with pytest.raises(ValueError, match="one-input"):
        doctor.trace_mask(two, np.zeros((1, 3)))


def test_trace_does_not_change_the_input():
    padded = ll.pad_sequences(zoo.zoo_sequences())
    before = padded.copy()
    doctor.trace_mask(zoo.build("keras_mask_zero"), padded)
    assert np.array_equal(padded, before)


# --------------------------------------------------------------------------- check_padding: calling conventions


def masked_mean(padded, lengths, padding):
    mask = ll.sequence_mask(lengths, padded.shape[1], padding=padding)
    return (padded * mask[..., None]).sum(axis=1) / lengths[:, None]


def test_callable_with_and_without_padding_argument():
    seqs = zoo.zoo_sequences("features")
    assert doctor.check_padding(masked_mean, seqs).ok
    post_only = doctor.check_padding(lambda p, n: masked_mean(p, n, "post"), seqs)
    fails = _case_fails(post_only)
    assert not fails[("post", 0)] and not fails[("post", 5)] and fails[("pre", 0)] and fails[("pre", 5)]


def test_per_step_detection_and_forcing():
    seqs = zoo.zoo_sequences("features")
    report = doctor.check_padding(lambda p, n: np.cumsum(p, axis=1), seqs, padding="post")
    assert report.per_step == [True] and report.ok
    pooled = doctor.check_padding(masked_mean, seqs)
    assert pooled.per_step == [False]
    with pytest.raises(ValueError, match="per_step=True"):
        doctor.check_padding(masked_mean, seqs, per_step=True)
    with pytest.raises(ValueError, match="shape"):
        doctor.check_padding(lambda p, n: np.cumsum(p, axis=1), seqs, per_step=False)


def test_several_outputs_are_all_compared():
    seqs = zoo.zoo_sequences("features")
    report = doctor.check_padding(lambda p, n, padding: {"mean": masked_mean(p, n, padding), "all": p.mean(axis=1)},
                                  seqs)
    assert not report.ok and report.per_step == [False, False]
    tup = doctor.check_padding(lambda p, n, padding: (masked_mean(p, n, padding), np.cumsum(p, axis=1)), seqs,
                               padding="post")
    assert tup.ok and tup.per_step == [False, True]


def test_torch_module_is_left_as_it_was():
    model = zoo.build("torch_packed")
    model.train()
    model.embed.eval()  # mixed flags must come back exactly
    flags = [m.training for m in model.modules()]
    state = {k: v.clone() for k, v in model.state_dict().items()}
    seqs = zoo.zoo_sequences()
    before = [s.copy() for s in seqs]
    assert doctor.check_padding(model, seqs).ok
    assert [m.training for m in model.modules()] == flags
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())
    assert all(np.array_equal(a, b) for a, b in zip(seqs, before))


def test_torch_dropout_is_off_during_the_check():
    class Noisy(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.drop = torch.nn.Dropout(0.5)

        def forward(self, padded, lengths, padding="post"):
            mask = torch.from_numpy(ll.sequence_mask(lengths.numpy(), padded.shape[1], padding=padding))
            return self.drop((padded * mask[..., None]).sum(1))

    model = Noisy()
    assert doctor.check_padding(model, zoo.zoo_sequences("features")).ok and model.training


def test_keras_weights_unchanged_and_lengths_are_int64():
    model = zoo.build("keras_mask_zero")
    weights = [w.copy() for w in model.get_weights()]
    doctor.check_padding(model, zoo.zoo_sequences())
    assert all(np.array_equal(a, b) for a, b in zip(weights, model.get_weights()))
    seen = []

    class Spy(torch.nn.Module):
        def forward(self, padded, lengths):
            seen.append((padded.dtype, lengths.dtype, lengths.device.type))
            return padded.float().sum(1, keepdim=True) * 0

    doctor.check_padding(Spy(), zoo.zoo_sequences())
    assert set(seen) == {(torch.int64, torch.int64, "cpu")}


def test_callable_gets_copies():
    seqs = zoo.zoo_sequences("features")

    def vandal(padded, lengths):
        out = masked_mean(padded, lengths, "post")
        padded[:] = 99.0
        lengths[:] = 0
        return out

    before = [s.copy() for s in seqs]
    doctor.check_padding(vandal, seqs, padding="post")
    assert all(np.array_equal(a, b) for a, b in zip(seqs, before))


def test_model_errors_are_findings_unless_every_call_fails():
    seqs = zoo.zoo_sequences("features")

    def picky(padded, lengths):
        if padded.shape[1] > 8:
            raise RuntimeError("too long")
        return masked_mean(padded, lengths, "post")

    report = doctor.check_padding(picky, seqs, padding="post")
    errors = {r["extra_padding"]: r["error"] for r in report.rows}
    assert errors[0] is None and "RuntimeError: too long" in errors[5]
    assert not report.ok and report.max_diff == np.inf and "the model failed" in str(report)

    def always(padded, lengths):
        raise RuntimeError("broken model")

    with pytest.raises(RuntimeError, match="broken model"):
        doctor.check_padding(always, seqs)


def test_nan_outputs():
    seqs = zoo.zoo_sequences("features")
    same_nan = doctor.check_padding(lambda p, n: np.full((len(p), 2), np.nan), seqs)
    assert same_nan.ok
    nan_when_padded = doctor.check_padding(lambda p, n: np.where(n[:, None] < p.shape[1], np.nan, 1.0) * np.ones((1, 2)), seqs)
    assert not nan_when_padded.ok and nan_when_padded.max_diff == np.inf


def test_report_text_and_helpers():
    seqs = zoo.zoo_sequences()
    report = doctor.check_padding(zoo.build("torch_pack_pre_padded"), seqs)
    text = str(report)
    assert text.splitlines()[0].split() == ["padding", "extra", "max", "diff", "failing"]
    assert text.endswith("\n" + report.verdict()) and report.verdict().startswith("NOT invariant in 2 of 4 cases")
    assert report.worst["padding"] == "pre" and report.worst["max_diff"] == report.max_diff
    assert report.diffs("post", 0).max() <= 1e-5 and report.diffs("pre", 0).max() > 1e-3
    assert len(report.rows) == 32 and {"padding", "extra_padding", "sequence", "max_diff", "ok"} <= set(report.rows[0])
    with pytest.raises(ValueError, match="no case"):
        report.diffs("pre", 3)
    assert "ok=False" in repr(report)
    ok = doctor.check_padding(zoo.build("torch_packed"), seqs)
    assert str(ok).splitlines()[-1] == "OK: padding-invariant within atol 1e-05 in all 4 cases (8 sequences each)"
    assert "< 1e-05" in str(ok)


def test_warnings_are_recorded_not_shown(recwarn):
    report = doctor.check_padding(zoo.build("keras_lambda"), zoo.zoo_sequences())
    assert any("destroy the mask" in w for w in report.warnings)
    assert "warning: Layer 'double'" in str(report)
    assert not [w for w in recwarn if "destroy the mask" in str(w.message)]


def test_two_layer_models_are_fast_enough_to_test_here():
    """Not a timing test: the doctor calls the model once per case plus once per sequence."""
    calls = []

    def counting(padded, lengths):
        calls.append(padded.shape)
        return masked_mean(padded, lengths, "post")

    doctor.check_padding(counting, zoo.zoo_sequences("features", range(1, 17)))
    assert len(calls) == 16 + 4


# --------------------------------------------------------------------------- bad input


def test_bad_model():
    with pytest.raises(TypeError, match="model must be"):
        doctor.check_padding("not a model", zoo.zoo_sequences())
    with pytest.raises(TypeError, match="model must be"):
        doctor.check_padding(None, zoo.zoo_sequences())


@pytest.mark.parametrize(
    ("sequences", "error", "match"),
    [
        ([], ValueError, "empty"),
        ("abc", TypeError, "list"),
        (5, TypeError, "list"),
        ([np.array([1, 2]), np.array([], dtype=int)], ValueError, r"sequences\[1\] has length 0"),
        ([np.zeros((2, 3)), np.zeros((4, 2))], ValueError, r"sequences\[1\] has shape \(4, 2\)"),
        ([np.zeros((2, 3)), np.zeros(4)], ValueError, r"sequences\[1\]"),
        ([[1, 2], ["a", "b"]], TypeError, r"sequences\[1\] holds non-numeric"),
        ([[1, 2], None], TypeError, r"sequences\[1\]"),
        ([[1, 2], "ab"], TypeError, r"sequences\[1\]"),
        ([[1, 2], [object()]], TypeError, r"sequences\[1\]"),
        ([[1, 2], [[1, 2], [3]]], ValueError, r"sequences\[1\]"),
        ([np.zeros((1, 2, 3))], ValueError, r"sequences\[0\] must be 1-D"),
        ([[True, False]], TypeError, r"sequences\[0\]"),
    ],
)
def test_bad_sequences(sequences, error, match):
    with pytest.raises(error, match=match):
        doctor.check_padding(masked_mean, sequences)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"padding": "middle"}, ValueError, "padding"),
        ({"padding": ("post", "left")}, ValueError, r"padding\[1\]"),
        ({"padding": ()}, ValueError, "empty"),
        ({"extra_padding": -1}, ValueError, "extra_padding"),
        ({"extra_padding": 1.5}, TypeError, "extra_padding"),
        ({"extra_padding": (0, "5")}, TypeError, r"extra_padding\[1\]"),
        ({"per_step": "yes"}, TypeError, "per_step"),
        ({"atol": -1}, ValueError, "atol"),
        ({"atol": "tiny"}, TypeError, "atol"),
        ({"value": "pad"}, TypeError, "value"),
    ],
)
def test_bad_options(kwargs, error, match):
    with pytest.raises(error, match=match):
        doctor.check_padding(masked_mean, zoo.zoo_sequences("features"), **kwargs)


def test_integer_padding_value_for_token_ids():
    with pytest.raises(ValueError, match="integer"):
        doctor.check_padding(lambda p, n: p[:, :1], zoo.zoo_sequences(), value=0.5)


def test_output_with_the_wrong_batch_size():
    with pytest.raises(ValueError, match=r"shape \(1, 3\)"):
        doctor.check_padding(lambda p, n: p[:1].sum(axis=1), zoo.zoo_sequences("features"))

    class HN(torch.nn.Module):  # returns h_n as it comes: (layers, batch, units)
        def __init__(self):
            super().__init__()
            self.lstm = torch.nn.LSTM(3, 4, batch_first=True)

        def forward(self, padded, lengths):
            return self.lstm(padded)[1][0]

    with pytest.raises(ValueError, match=r"shape \(1, 8, 4\).*h_n\[-1\]"):
        doctor.check_padding(HN(), zoo.zoo_sequences("features"))


def test_bad_output_types():
    seqs = zoo.zoo_sequences("features")
    with pytest.raises(TypeError, match="expected numbers"):
        doctor.check_padding(lambda p, n: np.array(["x"] * len(p)), seqs)

    def packed(padded, lengths):
        return torch.nn.utils.rnn.pack_padded_sequence(torch.from_numpy(padded), torch.from_numpy(lengths),
                                                       batch_first=True, enforce_sorted=False)

    with pytest.raises(TypeError, match="PackedSequence"):
        doctor.check_padding(packed, seqs)


def test_bad_input_changes_nothing():
    seqs = [np.array([1, 2, 3]), np.array([4])]
    before = [s.copy() for s in seqs]
    with pytest.raises(ValueError):
        doctor.check_padding(masked_mean, seqs, padding="side")
    assert all(np.array_equal(a, b) for a, b in zip(seqs, before))
