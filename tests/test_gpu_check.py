"""bench/gpu_check.py: its quick CPU run, the JSON it writes, and its report step.

The script is meant for a GPU machine; here it runs once with ``--device cpu --quick`` in a
subprocess (as it will run there), and the tests read the JSON. Nothing here asserts a speed:
timings are only checked for their shape (medians inside their min/max, counts). The
correctness results (zeros at padded steps, original order, float64 match) are asserted, because
they hold on any device.
"""

from __future__ import annotations

import copy
import importlib.metadata
import importlib.util
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import lessons_lib as ll
from lessons_lib import cost

ROOT = pathlib.Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "bench" / "gpu_check.py"


def _load_module():
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gc_mod = _load_module()


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """One quick CPU run (about 15-25 s on 2 cores): returns (json path, parsed JSON, printed output)."""
    out = tmp_path_factory.mktemp("gpu_check") / "gpu_check.json"
    # KERAS_BACKEND=tensorflow as in the Makefile: the script must set its own backend per subprocess.
    env = dict(os.environ, KERAS_BACKEND="tensorflow")
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--device", "cpu", "--quick", "--out", str(out), "--budget-s", "200"],
        capture_output=True, text=True, timeout=300, env=env, cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out, json.loads(out.read_text()), done.stdout


def test_quick_run_writes_one_json_with_every_section(quick):
    _, data, printed = quick
    assert data["schema"] == gc_mod.SCHEMA and data["args"] == {
        "device": "cpu", "quick": True, "budget_s": 200.0, "only": list(gc_mod.SECTIONS)}
    assert set(data["sections"]) == set(gc_mod.SECTIONS)
    assert data["errors"] == {} and data["budget"]["cut_short"] == []
    env = data["environment"]
    import torch

    assert env["device_kind"] == "cpu" and env["torch"] == torch.__version__
    assert env["keras"] == importlib.metadata.version("keras")  # read without importing keras (and TensorFlow)
    assert env["jax"] == (None if importlib.util.find_spec("jax") is None else importlib.metadata.version("jax"))
    assert env["cuda_available"] is torch.cuda.is_available()
    # the GPU machine has no TensorFlow and no lessons_lib: the main process must not import them
    assert data["modules_imported"] == []
    for name in ("correctness", "packing", "keras", "bucketing"):
        assert any(line.startswith(name) for line in printed.splitlines()), printed


def test_torch_correctness_holds_on_this_device(quick):
    sec = quick[1]["sections"]["correctness"]
    assert sec["passed"] and len(sec["cases"]) == 2
    first = sec["cases"][0]
    assert first["lengths"] == [5, 1, 7, 3, 7, 2] and first["sorted_input"] is False  # so order can be wrong
    for case in sec["cases"]:
        checks = case["checks"]
        assert checks["packed_zeros_at_padded_steps"]["max_abs"] == 0.0
        assert checks["returned_lengths_in_original_order"]["equal"] is True
        for name in ("h_n_equals_last_real_output", "h_n_equals_each_sequence_alone", "outputs_match_float64_cpu",
                     "h_n_c_n_match_float64_cpu", "padded_run_matches_packed_at_real_steps"):
            assert 0.0 <= checks[name]["max_abs"] <= 1e-4, (name, checks[name])
            assert checks[name]["passed"] is True
        # on a CPU build torch runs no cuDNN; the profiler still names the aten LSTM op it ran
        assert case["cudnn_rnn_used"] == {"padded": False, "packed": False}
        assert "aten::lstm" in case["rnn_ops"]["padded"] and "aten::lstm" in case["rnn_ops"]["packed"]


def _check_stats(st, requested):
    assert st["requested"] == requested and 1 <= st["n"] <= requested and len(st["times_s"]) == st["n"]
    assert st["min_s"] <= st["q1_s"] <= st["median_s"] <= st["q3_s"] <= st["max_s"]
    assert st["iqr_s"] == pytest.approx(st["q3_s"] - st["q1_s"])


def test_packing_cases_have_counts_ratios_and_spread(quick):
    cfg = gc_mod.config(True)
    sec = quick[1]["sections"]["packing"]
    plan = {(c["lengths"], c["batch"], c["hidden"]) for c in sec["cases"]}
    assert plan == {(n, b, h) for n in cfg["lengths"] for b in cfg["batches"] for h in cfg["hiddens"]}
    for c in sec["cases"]:
        lengths = gc_mod.make_lengths(cfg["lengths"][c["lengths"]], c["batch"], seed=1)
        assert c["padded_steps"] == c["batch"] * c["max_len"] == cost.padded_steps(lengths)
        assert c["packed_steps"] == cost.packed_steps(lengths)
        assert c["step_ratio"] == pytest.approx(c["padded_steps"] / c["packed_steps"])
        for mode in ("forward", "forward_backward"):
            e = c[mode]
            _check_stats(e["padded"], cfg["repeats"])
            _check_stats(e["packed"], cfg["repeats"])
            assert e["time_ratio"] == pytest.approx(e["padded"]["median_s"] / e["packed"]["median_s"])
            ideal = 1 - c["packed_steps"] / c["padded_steps"]
            assert e["fraction_of_ideal"] == pytest.approx((1 - 1 / e["time_ratio"]) / ideal)


def test_keras_torch_backend_in_its_subprocess_and_jax_skipped_when_missing(quick):
    backends = quick[1]["sections"]["keras"]["backends"]
    assert set(backends) == {"torch", "jax"}
    if importlib.util.find_spec("jax") is None:
        assert backends["jax"] == {"skipped": "jax not installed"}
    r = backends["torch"]
    assert r["subprocess"]["returncode"] == 0 and r["backend"] == "torch" and r["keras"] == "3.15.1"
    assert r["tensorflow_imported"] is False and r["lessons_lib_imported"] is False
    eq = r["masked_equals_alone"]
    assert eq["passed"] is True and max(eq["max_abs"].values()) <= 1e-4
    # with a mask, backend.lstm declines (NotImplementedError) and Keras runs its generic loop
    masked = eq["paths"]["masked batch"]
    assert masked["path"].startswith("generic Keras RNN loop") and masked["calls"]["backend.lstm"]["returned"] == 0
    # without a mask on a CPU, the torch backend's non-cuDNN fallback runs: no fused cuDNN path here
    alone = eq["paths"]["one sequence, no mask"]
    assert alone["fused"] is False and "torch _fallback_lstm" in alone["calls"]
    assert "torch _cudnn_lstm" not in alone["calls"]
    (t,) = r["timing"]
    for name in ("forward_masked", "forward_unmasked", "forward_backward_masked", "forward_backward_unmasked"):
        _check_stats(t[name], gc_mod.config(True)["keras_repeats"])
        assert t[name]["path"] == (masked["path"] if name.endswith("_masked") else alone["path"])
    assert t["forward_ratio_masked_over_unmasked"] == pytest.approx(
        t["forward_masked"]["median_s"] / t["forward_unmasked"]["median_s"])


def test_bucketing_counts_follow_lessons_lib(quick):
    sec = quick[1]["sections"]["bucketing"]
    e = gc_mod.config(True)["epoch"]
    lengths = cost.long_tailed_lengths(e["n"], seed=3)
    rand = ll.random_batches(lengths, e["batch"], seed=0)
    buck = ll.bucket_batches(lengths, e["batch"], seed=0)
    assert sec["counts"]["random"]["padded_steps"] == cost.padded_steps(lengths, rand)
    assert sec["counts"]["bucketed"]["padded_steps"] == cost.padded_steps(lengths, buck)
    assert sec["packed_steps"] == cost.packed_steps(lengths)
    assert sec["padded_step_ratio"] > 1  # bucketing pads less on long-tailed lengths
    for label in ("padded", "packed"):
        run = sec["runs"][label]
        _check_stats(run["random"], e["repeats"])
        _check_stats(run["bucketed"], e["repeats"])
        assert run["time_ratio"] == pytest.approx(run["random"]["median_s"] / run["bucketed"]["median_s"])


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_inlined_helpers_match_lessons_lib(seed):
    """The script carries copies of lessons_lib helpers (the GPU machine lacks lessons_lib): no drift."""
    lengths = cost.long_tailed_lengths(200, seed=seed)
    assert np.array_equal(gc_mod.long_tailed_lengths(200, seed=seed), lengths)
    assert np.array_equal(gc_mod.long_tailed_lengths(50, median=5.0, high=60, seed=seed),
                          cost.long_tailed_lengths(50, median=5.0, high=60, seed=seed))
    assert np.array_equal(gc_mod.uniform_lengths(30, 1, 20, seed=seed), ll.random_lengths(30, 1, 20, seed=seed))
    for bs in (1, 7, 64):
        for mine, theirs in ((gc_mod.random_batches(lengths, bs, seed=seed), ll.random_batches(lengths, bs, seed=seed)),
                             (gc_mod.bucket_batches(lengths, bs, seed=seed), ll.bucket_batches(lengths, bs, seed=seed)),
                             (gc_mod.bucket_batches(lengths, bs, seed=seed, bucket_size_multiplier=2),
                              ll.bucket_batches(lengths, bs, seed=seed, bucket_size_multiplier=2))):
            assert [b.tolist() for b in mine] == [b.tolist() for b in theirs]
        assert gc_mod.padded_steps(lengths, mine) == cost.padded_steps(lengths, mine)
    x = gc_mod.pad(np.array([3, 1]), 2, seed=seed)
    assert x.shape == (2, 3, 2) and x.dtype == np.float32 and np.all(x[1, 1:] == 0) and np.all(x[0] != 0)


def test_report_on_a_cpu_run_says_unmeasured_and_shows_no_numbers(quick, tmp_path):
    path, data, _ = quick
    md = tmp_path / "GPU_RESULTS.md"
    done = subprocess.run([sys.executable, str(SCRIPT), "report", "--json", str(path), "--md", str(md)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "GPU claims unmeasured" in done.stdout
    text = md.read_text()
    assert text.startswith("# GPU results\n\n**Not measured yet.**") and "unmeasured" in text
    assert "on **cpu**" in text and "not GPU numbers" in text
    assert " ms" not in text and "ms (IQR" not in text and "## 1." not in text  # no CPU timing shown as a GPU result
    assert "TensorFlow is too big to carry" in text and "stays as read from source" in text
    assert str(tmp_path) not in text and "/tmp" not in text


def test_committed_gpu_results_is_the_report_steps_unmeasured_page():
    """bench/GPU_RESULTS.md is what `gpu_check.py report` writes with no GPU results (no hand edits)."""
    assert (ROOT / "bench" / "GPU_RESULTS.md").read_text() == gc_mod.report(None, None)


def test_report_layout_for_a_cuda_run(quick):
    """The measured page, rendered from the quick JSON relabelled as CUDA: exercises the code, claims nothing."""
    data = copy.deepcopy(quick[1])
    data["environment"].update(device_kind="cuda", device_name="Test GPU", nvidia_smi_query="Test GPU, 1.2.3, 1 MiB")
    assert gc_mod.gpu_measured(data) and not gc_mod.gpu_measured(quick[1]) and not gc_mod.gpu_measured(None)
    text = gc_mod.report(data, "bench/results/gpu_check.json")
    assert "Not measured yet" not in text and "Measured on **Test GPU**" in text and "Test GPU, 1.2.3, 1 MiB" in text
    for heading in ("## Headline", "## 1. torch", "## 2. torch correctness", "## 3. Keras", "## 4. Bucketing"):
        assert heading in text
    assert "Keras 3.15.1, torch backend: masked / unmasked time" in text
    assert text.count("| yes |") == sum(len(c["checks"]) for c in data["sections"]["correctness"]["cases"])
    # a missing or failed section is said to be missing, not silently dropped
    del data["sections"]["bucketing"]
    assert "## 4. Bucketing against random batches, one epoch\n\nNot measured" in gc_mod.report(data, None)


def test_help_and_bad_arguments(capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        gc_mod.main(["--help"])
    assert exc.value.code == 0 and "report" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        gc_mod.main(["--only", "packing,bogus", "--out", str(tmp_path / "x.json")])
    assert exc.value.code == 2 and "unknown section(s) ['bogus']" in capsys.readouterr().err
    assert gc_mod.main(["report", "--json", str(tmp_path / "missing.json"), "--md", str(tmp_path / "x.md")]) == 2
    import torch

    if not torch.cuda.is_available():
        assert gc_mod.main(["--device", "cuda", "--out", str(tmp_path / "x.json")]) == 2
        assert "torch.cuda.is_available() is False" in capsys.readouterr().err
        assert not (tmp_path / "x.json").exists()


def test_inner_path_names_each_route_keras_can_take():
    """The records the wrappers write on a GPU (not seen here) name the right path."""
    ok = lambda: {"calls": 1, "returned": 1, "raised": []}  # noqa: E731
    declined = {"calls": 1, "returned": 0, "raised": ["NotImplementedError: "]}
    assert gc_mod.inner_path({"backend.lstm": ok(), "torch _cudnn_lstm": ok()}) == "cudnn"
    assert gc_mod.inner_path({"backend.lstm": ok(), "jax.experimental.rnn.lstm": ok()}) == "cudnn"
    # torch: cuDNN raised inside backend.lstm, which then ran its fallback
    cudnn_failed = {"calls": 1, "returned": 0, "raised": ["RuntimeError: x"]}
    assert gc_mod.inner_path({"backend.lstm": ok(), "torch _cudnn_lstm": cudnn_failed,
                              "torch _fallback_lstm": ok()}).startswith("backend fallback")
    # JAX: cuDNN failed, Keras turned it into NotImplementedError and ran its generic loop
    assert gc_mod.inner_path({"backend.lstm": declined, "jax.experimental.rnn.lstm": cudnn_failed}).startswith("generic")
    assert gc_mod.inner_path({"backend.lstm": declined}).startswith("generic")
    assert gc_mod.inner_path({}) == "unknown"
