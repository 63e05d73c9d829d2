"""Lesson 11's checkers: right answers pass, plausible wrong ones get a specific hint, junk never raises."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lessons_lib import export as ex
from lessons_lib.checks import lesson11 as check

JUNK = [None, "answer", 3, 2.5, [1, 2], {1, 2}, {"a": 1}, np.zeros(3), object(), torch.zeros(2)]


def _message(capsys) -> str:
    return capsys.readouterr().out


@pytest.mark.parametrize("junk", JUNK, ids=lambda j: type(j).__name__)
@pytest.mark.parametrize("exercise", [check.exercise_1, check.exercise_2, check.exercise_3])
def test_junk_gets_not_yet_and_never_raises(exercise, junk, capsys):
    result = exercise(junk)
    assert not result
    assert _message(capsys).startswith("Not yet: ")


# --- exercise 1 ---------------------------------------------------------------------------------


def test_exercise_1_accepts_the_gather_and_equivalent_spellings(capsys):
    assert check.exercise_1(lambda out, lengths: out[torch.arange(out.shape[0]), lengths - 1])
    assert check.exercise_1(
        lambda out, lengths: out.gather(1, (lengths - 1)[:, None, None].expand(-1, 1, out.shape[2]))[:, 0]
    )
    assert _message(capsys).startswith("Correct: ")


@pytest.mark.parametrize(
    ("fn", "hint"),
    [
        (lambda out, lengths: out[:, -1], "last *padded* step"),
        (lambda out, lengths: out[torch.arange(out.shape[0]), lengths], "lengths - 1"),
        (lambda out, lengths: out[:, lengths - 1], "pair rows with lengths"),
        (lambda out, lengths: out[:, 0], "step 0"),
        (lambda out, lengths: out.sum(1), "not the outputs at step lengths - 1"),
        (lambda out, lengths: out[torch.arange(out.shape[0]), lengths - 1].numpy(), "torch tensor"),
        (lambda out: out, "TypeError"),
        (lambda out, lengths: 1 / 0, "ZeroDivisionError"),
    ],
)
def test_exercise_1_wrong_answers_get_specific_hints(fn, hint, capsys):
    assert not check.exercise_1(fn)
    message = _message(capsys)
    assert message.startswith("Not yet: ") and hint in message, message


def test_exercise_1_does_not_let_the_learner_change_the_data(capsys):
    def vandal(out, lengths):
        out.zero_()
        lengths.fill_(1)
        return out[:, 0]

    assert not check.exercise_1(vandal)
    assert check.exercise_1(lambda out, lengths: out[torch.arange(out.shape[0]), lengths - 1])


# --- exercise 2 ---------------------------------------------------------------------------------


def test_exercise_2_accepts_dims_and_names(capsys):
    batch, time = torch.export.Dim("batch"), torch.export.Dim("time")
    assert check.exercise_2({"x": {0: batch, 1: time}, "lengths": {0: batch}})
    assert check.exercise_2({"x": {0: "b", 1: "t"}, "lengths": {0: "b"}})
    assert _message(capsys).count("Correct: ") == 2


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        ({"x": {0: "b", 1: "t", 2: "f"}, "lengths": {0: "b"}}, "features"),
        ({"x": {0: "b"}, "lengths": {0: "b"}}, "time axis"),
        ({"x": {1: "t"}, "lengths": {}}, "batch size changes"),
        ({"x": {0: "b", 1: "t"}, "lengths": {0: "n"}}, "same Dim"),
        ({"x": {0: "b", 1: "b"}, "lengths": {0: "b"}}, "always equal"),
        ({"x": {0: "b", 1: "t"}}, "no entry for ['lengths']"),
        ({"x": {0: "b", 1: "t"}, "lengths": {0: "b"}, "h0": {}}, "no argument(s) ['h0']"),
        ({"x": {"0": "b"}, "lengths": {0: "b"}}, "axes are ints"),
        ({"x": {0: 3, 1: "t"}, "lengths": {0: "b"}}, "torch.export.Dim"),
        ({"x": [0, 1], "lengths": {0: "b"}}, "must be a dict"),
        ({"x": {0: "b", 1: "t", 3: "z"}, "lengths": {0: "b"}}, "axes 0, 1, 2"),
    ],
)
def test_exercise_2_wrong_answers_get_specific_hints(answer, hint, capsys):
    assert not check.exercise_2(answer)
    message = _message(capsys)
    assert message.startswith("Not yet: ") and hint in message, message


# --- exercise 3 ---------------------------------------------------------------------------------


def test_exercise_3_right_and_wrong_sets(capsys):
    assert check.exercise_3({"gather_with_index"})
    assert _message(capsys).startswith("Correct: ")
    for answer, hint in [
        ({"gather_with_index", "last_column"}, "last padded step"),
        ({"python_loop"}, "lengths.tolist()"),
        (set(), "Tensor.gather"),
        (["gather_with_index", "nope"], "unknown name"),
        ({1}, "names (strings)"),
    ]:
        assert not check.exercise_3(answer)
        message = _message(capsys)
        assert message.startswith("Not yet: ") and hint in message, message


def test_exercise_3_truth_is_what_torch_does():
    """Re-measure the hard-coded answer: export each candidate with dynamic dims and serve another batch."""
    torch.manual_seed(0)
    packed = ex.PackedBiLSTM(3, 4, 2).eval()
    padded = ex.copy_packed_weights(packed, ex.PaddedBiLSTM(3, 4, 2)).eval()
    x_a, lengths_a = ex.post_padded_batch([6, 3, 5, 2], 3, seed=0)
    x_b, lengths_b = ex.post_padded_batch([9, 1, 4, 7, 2], 3, seed=1)
    batch, time = torch.export.Dim("batch"), torch.export.Dim("time")
    dynamic_shapes = {"x": {0: batch, 1: time}, "lengths": {0: batch}}
    measured = {}
    for name, cls in check.EXPORT_CANDIDATES.items():
        model = cls(3, 4, 2).eval()
        model.load_state_dict(padded.state_dict())
        try:
            with ex.quiet(), ex.lstm_while_loop_export():
                program = torch.export.export(model, (x_a, lengths_a), dynamic_shapes=dynamic_shapes)
        except Exception:
            measured[name] = "export fails"
            continue
        with torch.no_grad():
            right = torch.allclose(program.module()(x_b, lengths_b), packed(x_b, lengths_b), atol=1e-5)
        measured[name] = "exports, right numbers" if right else "exports, wrong numbers"
    assert measured == check._TRUTH
