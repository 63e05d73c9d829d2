"""Every exercise checker answers junk with "Not yet: ..." and never raises.

The checkers are discovered, not listed: every public function named
``exercise_N`` (or marked by :func:`lessons_lib.checks._common.checker`) in every
``lessons_lib.checks.lessonNN`` module. Each is called with each junk value in
each positional parameter, the other parameters filled with the same junk and,
where a checker takes context (a model, the batch it was asked about), also
with valid context, so that the junk reaches the answer check itself. A case
that only reaches the ``checker`` decorator's safety net ("could not be checked")
fails too: each checker must give its own reason.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import warnings

import numpy as np
import pytest

import lessons_lib.checks as checks_pkg
from lessons_lib.checks._common import UNCHECKABLE

JUNK = {
    "None": None,
    "str": "my answer",
    "int": 7,
    "float": 2.5,
    "wrong-shape": np.zeros((2, 3, 5)),
    "empty-list": [],
    "set": {1, 2},
    "dict": {"a": 1},
    "object": object(),
}


def _checker_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(checks_pkg.__path__) if re.fullmatch(r"lesson\d\d", m.name))


def _is_checker(name: str, obj) -> bool:
    if name.startswith("_") or not inspect.isfunction(obj):
        return False
    return bool(getattr(obj, "is_checker", False) or re.fullmatch(r"exercise_\d+", name))


def _checkers() -> list[tuple[str, str, object]]:
    found = []
    for mod_name in _checker_modules():
        module = importlib.import_module(f"lessons_lib.checks.{mod_name}")
        for name, obj in inspect.getmembers(module, inspect.isfunction):
            if obj.__module__ == module.__name__ and _is_checker(name, obj):
                found.append((mod_name, name, obj))
    return found


def _positional(fn) -> list[str]:
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [p.name for p in inspect.signature(fn).parameters.values() if p.kind in kinds]


# ------------------------------------------------------------------ valid context for checkers that take some


def _lesson03_ex2():
    import torch

    from lessons_lib.checks import lesson03

    torch.manual_seed(0)
    lstm = torch.nn.LSTM(2, 3, batch_first=True, bidirectional=True)
    lengths = torch.tensor([4, 2])
    x = torch.randn(2, 4, 2)
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    with torch.no_grad():
        out, (h_n, _) = lstm(packed)
    output, _ = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=True)
    assert lesson03  # imported for the side effect of failing early if torch is missing
    return {"output": output, "h_n": h_n, "lengths": lengths}


def _lesson03_ex3():
    import torch

    torch.manual_seed(0)
    return {"pred": torch.randn(2, 4, 1), "target": torch.randn(2, 4, 1), "lengths": torch.tensor([4, 2])}


def _lesson05_ex1():
    import torch

    torch.manual_seed(5)
    return {"torch_lstm": torch.nn.LSTM(2, 3)}


def _lesson05_ex2():
    import lessons_lib as ll

    lengths = np.array([3, 1])
    x_post = ll.pad_sequences(ll.random_ragged_batch(lengths, 2, seed=0), dtype="float32")
    bi = {"forward": ll.random_lstm_weights(2, 3, seed=1), "backward": ll.random_lstm_weights(2, 3, seed=2)}
    return {"x_post": x_post, "lengths": lengths, "bi_weights": bi}


def _lesson10_ex3():
    from lessons_lib.checks import lesson10

    return {"model": lesson10.exercise_3_model()}


#: (module, checker) -> factory of valid values for the checker's context parameters.
CONTEXT = {
    ("lesson03", "exercise_2"): _lesson03_ex2,
    ("lesson03", "exercise_3"): _lesson03_ex3,
    ("lesson05", "exercise_1"): _lesson05_ex1,
    ("lesson05", "exercise_2"): _lesson05_ex2,
    ("lesson10", "exercise_3"): _lesson10_ex3,
}
_context_cache: dict = {}


def _context(mod_name: str, fn_name: str) -> dict:
    key = (mod_name, fn_name)
    if key not in _context_cache:
        _context_cache[key] = CONTEXT[key]() if key in CONTEXT else {}
    return _context_cache[key]


def _cases():
    cases = []
    for mod_name, fn_name, fn in _checkers():
        params = _positional(fn)
        fills = ["junk"] + (["context"] if (mod_name, fn_name) in CONTEXT and len(params) > 1 else [])
        for param in params:
            for fill in fills:
                for junk_name in JUNK:
                    case_id = f"{mod_name}.{fn_name}[{param}={junk_name},others={fill}]"
                    cases.append(pytest.param(mod_name, fn_name, param, junk_name, fill, id=case_id))
    return cases


def test_every_lesson_module_has_checkers():
    found = {m for m, _, _ in _checkers()}
    assert found == set(_checker_modules()) and {"lesson01", "lesson05"} <= found


@pytest.mark.parametrize(("mod_name", "fn_name", "param", "junk_name", "fill"), _cases())
def test_checker_answers_junk_with_not_yet(mod_name, fn_name, param, junk_name, fill, capsys):
    fn = getattr(importlib.import_module(f"lessons_lib.checks.{mod_name}"), fn_name)
    context = _context(mod_name, fn_name) if fill == "context" else {}
    args = [JUNK[junk_name] if p == param else context.get(p, JUNK[junk_name]) for p in _positional(fn)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a framework may warn about junk; only the verdict matters here
        result = fn(*args)
    printed = capsys.readouterr().out
    assert not result, f"{mod_name}.{fn_name} accepted junk {junk_name!r}: {printed!r}"
    assert printed.startswith("Not yet:"), f"{mod_name}.{fn_name} printed {printed!r}"
    # The checker decorator's safety net turns a crash into "Not yet: this answer could not be
    # checked (...)": the learner sees no traceback, but no reason either. Each checker says why.
    assert not printed.startswith(f"Not yet: {UNCHECKABLE}"), f"{mod_name}.{fn_name} crashed: {printed!r}"
