"""GPU truth: measure what the lessons say about cuDNN, packing and masks (issue 17).

Usage:
    python bench/gpu_check.py --device cuda                  # the real run, on a GPU machine (~5-7 min)
    python bench/gpu_check.py --device cpu --quick --out X   # tiny sizes, a check of the script (~15 s)
    python bench/gpu_check.py report --json X --md bench/GPU_RESULTS.md
    python bench/gpu_check.py report --md bench/GPU_RESULTS.md   # no JSON: the "unmeasured" page

The run writes ONE JSON file (``--out``, default bench/results/gpu_check.json), rewritten after
every section so that a run stopped by its time budget or by an outer timeout leaves partial
results. It measures:

1. ``packing``: torch LSTM forward, and forward + backward, padded against packed
   (``pack_padded_sequence(..., enforce_sorted=False)``, lengths on the CPU), for uniform and
   long-tailed lengths, batch 64 and 256, hidden 64, 256 and 1024: median, IQR and min/max of
   at least 20 timed runs after warm-up (``torch.cuda.synchronize()`` around each run on CUDA),
   the time ratio beside the step ratio (padded steps = batch x max_len, packed = sum of
   lengths) and the fraction of the ideal saving achieved; plus which aten RNN op ran.
2. ``correctness``: on the device, packed outputs at padded steps are exactly zero, ``h_n`` is
   in the original (unsorted) order, and outputs and states match a float64 CPU run to 1e-4
   with TF32 off.
3. ``keras``: Keras (pinned 3.15.1) on the torch and JAX backends, each in its own subprocess
   (``KERAS_BACKEND`` is fixed at import): a masked LSTM equals each sequence run alone (1e-4),
   masked against unmasked time, and which inner path ran (cuDNN, the backend's fallback, or
   Keras's generic loop), found by wrapping the backend functions that Keras calls.
4. ``bucketing``: one training epoch with torch, random against bucketed batches, padded and
   packed: the padded-step ratio beside the time ratio.

Self-contained on purpose: standard library + NumPy + torch in this process, Keras (+ JAX) only
in the worker subprocesses. It never imports TensorFlow or lessons_lib, because the GPU machine
has neither. The few NumPy helpers it needs are copies of lessons_lib's (a test checks that
they agree). Not part of ``make bench`` / run_all.py: it is run by hand on a GPU machine
(bench/README.md, "How to run on a GPU machine").
"""

from __future__ import annotations

import argparse
import copy
import datetime
import gc
import importlib.metadata
import importlib.util
import json
import os
import pathlib
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "results" / "gpu_check.json"
SCHEMA = 1
SECTIONS = ("correctness", "packing", "keras", "bucketing")  # the order they run in
KERAS_BACKENDS = ("torch", "jax")
KERAS_PIN = "3.15.1"
TOL = 1e-4
N_FEATURES = 32


def config(quick: bool) -> dict:
    """Sizes of every experiment: the full GPU run, or tiny ones for ``--quick``."""
    if quick:
        return {
            "repeats": 3, "warmup": 1, "budget_s": 90.0,
            "lengths": {"uniform": ("uniform", 1, 20), "long-tailed": ("long_tailed", 5.0, 60)},
            "batches": (4, 8), "hiddens": (8,),
            "correct_cases": ((6, 8), (16, 16)),  # (batch, hidden)
            "keras_cases": ((8, 8, 12),),  # (batch, hidden, max_len)
            "keras_repeats": 3,
            "epoch": {"n": 64, "batch": 16, "hidden": 8, "repeats": 2},
        }
    return {
        "repeats": 30, "warmup": 5, "budget_s": 420.0,
        "lengths": {"uniform": ("uniform", 1, 200), "long-tailed": ("long_tailed", 40.0, 500)},
        "batches": (64, 256), "hiddens": (64, 256, 1024),
        "correct_cases": ((6, 8), (64, 256), (256, 1024)),
        "keras_cases": ((64, 256, 100), (256, 1024, 100)),
        "keras_repeats": 20,
        "epoch": {"n": 4096, "batch": 64, "hidden": 256, "repeats": 5},
    }


# -- NumPy helpers: copies of lessons_lib's (synthetic.random_lengths, cost.long_tailed_lengths,
#    batching.random_batches / bucket_batches, cost.padded_steps); tests/test_gpu_check.py checks them.


def uniform_lengths(n: int, low: int, high: int, *, seed: int = 0) -> np.ndarray:
    """``n`` lengths uniform on ``[low, high]`` (as ``ll.random_lengths``)."""
    return np.random.default_rng(seed).integers(low, high + 1, size=n)


def long_tailed_lengths(n: int, *, low: int = 1, high: int = 500, median: float = 40.0, sigma: float = 0.9, seed: int = 0) -> np.ndarray:
    """``n`` log-normal lengths clipped to ``[low, high]`` (as ``ll.cost.long_tailed_lengths``)."""
    raw = np.random.default_rng(seed).lognormal(np.log(median), sigma, size=n)
    return np.clip(np.round(raw), low, high).astype(np.int64)


def make_lengths(spec: tuple, n: int, seed: int) -> np.ndarray:
    kind, a, b = spec
    if kind == "uniform":
        return uniform_lengths(n, int(a), int(b), seed=seed)
    return long_tailed_lengths(n, median=float(a), high=int(b), seed=seed)


def _split(order: np.ndarray, batch_size: int) -> list[np.ndarray]:
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def random_batches(lengths: np.ndarray, batch_size: int, *, seed: int = 0) -> list[np.ndarray]:
    """Shuffled indices cut into batches (as ``ll.random_batches``)."""
    return _split(np.random.default_rng(seed).permutation(len(lengths)), batch_size)


def bucket_batches(lengths: np.ndarray, batch_size: int, *, seed: int = 0, bucket_size_multiplier: int = 400) -> list[np.ndarray]:
    """Length-bucketed, shuffled batches (as ``ll.bucket_batches``)."""
    lengths = np.asarray(lengths)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(lengths))
    chunk = batch_size * bucket_size_multiplier
    batches: list[np.ndarray] = []
    for start in range(0, len(order), chunk):
        idx = order[start : start + chunk]
        idx = idx[np.argsort(lengths[idx], kind="stable")]
        batches.extend(_split(idx, batch_size))
    return [batches[i] for i in rng.permutation(len(batches))]


def padded_steps(lengths: np.ndarray, batches: list[np.ndarray] | None = None) -> int:
    """``sum(len(b) * max(lengths[b]))`` (as ``ll.cost.padded_steps``)."""
    lengths = np.asarray(lengths)
    if batches is None:
        batches = [np.arange(len(lengths))]
    return int(sum(len(b) * int(lengths[b].max()) for b in batches if len(b)))


def pad(lengths: np.ndarray, n_features: int, *, seed: int) -> np.ndarray:
    """A post-padded float32 batch ``(batch, max_len, n_features)`` of standard normals, zeros after each length."""
    rng = np.random.default_rng(seed)
    x = np.zeros((len(lengths), int(max(lengths)), n_features), np.float32)
    for i, n in enumerate(lengths):
        x[i, : int(n)] = rng.standard_normal((int(n), n_features))
    return x


# -- timing and bookkeeping ----------------------------------------------------------------------


class Budget:
    """A wall-clock deadline shared by all sections (``time.time()``, so subprocesses can use it)."""

    def __init__(self, seconds: float):
        self.start = time.time()
        self.deadline = self.start + seconds
        self.limit_s = seconds
        self.hit: list[str] = []  # what was skipped or cut short

    def left(self) -> float:
        return self.deadline - time.time()

    def share(self, fraction: float) -> float:
        """A section deadline: ``fraction`` of the time left, from now."""
        return time.time() + max(0.0, self.left()) * fraction


def stats(times: list[float], requested: int) -> dict:
    """Median, quartiles, IQR, min and max of run times in seconds."""
    if not times:
        return {"n": 0, "requested": requested}
    q1, _, q3 = statistics.quantiles(times, n=4, method="inclusive") if len(times) > 1 else (times[0],) * 3
    return {
        "n": len(times), "requested": requested, "median_s": statistics.median(times), "q1_s": q1, "q3_s": q3,
        "iqr_s": q3 - q1, "min_s": min(times), "max_s": max(times), "times_s": [round(t, 7) for t in times],
    }


def time_runs(fn: Callable[[], object], sync: Callable[[], None], repeats: int, warmup: int, deadline: float) -> dict:
    """Time ``repeats`` calls of ``fn`` after ``warmup`` calls, synchronising before and after each.

    The garbage collector is off during the timed runs (as in ``timeit``). Stops early
    (``n < requested``) when ``deadline`` (``time.time()``) has passed.
    """
    for _ in range(warmup):
        fn()
    sync()
    gc.collect()  # once (it takes ~0.2 s with torch loaded), then no collector pauses inside the runs
    was_enabled = gc.isenabled()
    gc.disable()
    times = []
    try:
        for _ in range(repeats):
            if times and time.time() > deadline:
                break
            sync()
            t0 = time.perf_counter()
            fn()
            sync()
            times.append(time.perf_counter() - t0)
    finally:
        if was_enabled:
            gc.enable()
    return stats(times, repeats)


def write_json(path: pathlib.Path, data: dict) -> None:
    """Write atomically, so a run killed mid-write still leaves the previous complete file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, default=_json_default) + "\n")
    os.replace(tmp, path)


def _json_default(obj):
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)


def _max_abs(a, b) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b))) if a.size else 0.0


def _run(cmd: list[str], timeout: float = 20.0) -> str | None:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"(failed: {exc})"
    return (done.stdout or done.stderr).strip()


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# -- the environment -----------------------------------------------------------------------------


def environment(torch, device) -> dict:
    """Device, driver and library versions; JAX and Keras read from package metadata (not imported here)."""
    env = {
        "device_kind": device.type,
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.release()} ({platform.machine()})",
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "torch_cuda": torch.version.cuda,
        "cuda_available": torch.cuda.is_available(),
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "torch_threads": torch.get_num_threads(),
        "jax": _version("jax"),
        "jaxlib": _version("jaxlib"),
        "keras": _version("keras"),
        "tensorflow_installed": importlib.util.find_spec("tensorflow") is not None,
        "nvidia_smi_query": None,
        "nvidia_smi": None,
    }
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        env.update(
            device_name=torch.cuda.get_device_name(device),
            device_memory_gib=round(props.total_memory / 2**30, 1),
            compute_capability=f"{props.major}.{props.minor}",
            tf32_defaults={"matmul": torch.backends.cuda.matmul.allow_tf32, "cudnn": torch.backends.cudnn.allow_tf32},
            cudnn_benchmark=torch.backends.cudnn.benchmark,
        )
    else:
        env["device_name"] = env["cpu"]
    if shutil.which("nvidia-smi"):
        env["nvidia_smi_query"] = _run(
            ["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"]
        )
        env["nvidia_smi"] = _run(["nvidia-smi"])
    return env


def rnn_ops(torch, fn: Callable[[], object]) -> list[str]:
    """The aten ops with 'rnn' or 'lstm' in their name that ``fn`` dispatched (torch.profiler, CPU activity)."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        fn()
    names = {e.key for e in prof.key_averages()}
    return sorted(n for n in names if "rnn" in n.lower() or "lstm" in n.lower())


# -- 2. correctness ------------------------------------------------------------------------------


def section_correctness(torch, device, cfg: dict) -> dict:
    """Packed zeros at padded steps, h_n in original order, float64 CPU match, TF32 off."""
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    saved = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    cases = []
    try:
        for batch, hidden in cfg["correct_cases"]:
            if batch == 6:
                lengths = np.array([5, 1, 7, 3, 7, 2])  # unsorted, with a tie: the order check can fail
            else:
                lengths = long_tailed_lengths(batch, median=20.0, high=120, seed=11)
            x_np = pad(lengths, N_FEATURES, seed=12)
            lens_cpu = torch.as_tensor(lengths, dtype=torch.int64)  # lengths stay on the CPU
            torch.manual_seed(0)
            lstm = torch.nn.LSTM(N_FEATURES, hidden, batch_first=True).to(device)
            ref = copy.deepcopy(lstm).to("cpu", torch.float64)
            x = torch.from_numpy(x_np).to(device)
            mask = np.arange(x_np.shape[1])[None, :] < lengths[:, None]
            with torch.no_grad():
                packed = pack_padded_sequence(x, lens_cpu, batch_first=True, enforce_sorted=False)
                out_p, (h_n, c_n) = lstm(packed)
                out, out_lens = pad_packed_sequence(out_p, batch_first=True, total_length=x_np.shape[1])
                out_pad, _ = lstm(x)  # the padded (unpacked) run of the same batch
                alone = [lstm(x[i : i + 1, : int(n)])[1] for i, n in enumerate(lengths)]
                packed64 = pack_padded_sequence(torch.from_numpy(x_np).double(), lens_cpu, batch_first=True, enforce_sorted=False)
                out64_p, (h64, c64) = ref(packed64)
                out64, _ = pad_packed_sequence(out64_p, batch_first=True, total_length=x_np.shape[1])
            out, h_n, c_n, out_pad = (t.double().cpu().numpy() for t in (out, h_n, c_n, out_pad))
            out64, h64, c64 = out64.numpy(), h64.numpy(), c64.numpy()
            last = out[np.arange(len(lengths)), lengths - 1]
            h_alone = np.concatenate([a[0][-1].double().cpu().numpy() for a in alone])
            checks = {
                "packed_zeros_at_padded_steps": {"max_abs": float(np.abs(out[~mask]).max()) if (~mask).any() else 0.0, "tol": 0.0},
                "returned_lengths_in_original_order": {"equal": bool(np.array_equal(out_lens.numpy(), lengths))},
                "h_n_equals_last_real_output": {"max_abs": _max_abs(h_n[-1], last), "tol": TOL},
                "h_n_equals_each_sequence_alone": {"max_abs": _max_abs(h_n[-1], h_alone), "tol": TOL},
                "outputs_match_float64_cpu": {"max_abs": _max_abs(out[mask], out64[mask]), "tol": TOL},
                "h_n_c_n_match_float64_cpu": {"max_abs": max(_max_abs(h_n, h64), _max_abs(c_n, c64)), "tol": TOL},
                "padded_run_matches_packed_at_real_steps": {"max_abs": _max_abs(out_pad[mask], out[mask]), "tol": TOL},
            }
            for c in checks.values():
                c["passed"] = c["equal"] if "equal" in c else bool(c["max_abs"] <= c["tol"])
            ops = {
                "padded": rnn_ops(torch, lambda: lstm(x)),
                "packed": rnn_ops(torch, lambda: lstm(pack_padded_sequence(x, lens_cpu, batch_first=True, enforce_sorted=False))),
            }
            cases.append({
                "batch": int(batch), "hidden": int(hidden), "n_features": N_FEATURES, "lengths": lengths.tolist()
                if batch <= 16 else f"long-tailed, {int(lengths.min())}..{int(lengths.max())}",
                "sorted_input": bool(np.all(np.diff(lengths) <= 0)), "checks": checks, "rnn_ops": ops,
                "cudnn_rnn_used": {k: "aten::_cudnn_rnn" in v for k, v in ops.items()},
                "passed": all(c["passed"] for c in checks.values()),
            })
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved
    return {
        "conditions": "float32 on the device against a float64 copy on the CPU, same weights (torch.manual_seed(0)); "
        "TF32 off (torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False); "
        f"pack_padded_sequence(..., enforce_sorted=False) with int64 lengths on the CPU; {N_FEATURES} features; "
        f"tolerance {TOL} (max abs difference); padded steps must be exactly 0.",
        "cases": cases,
        "passed": all(c["passed"] for c in cases),
    }


# -- 1. packing ------------------------------------------------------------------------------------


def section_packing(torch, device, cfg: dict, budget: Budget, deadline: float, save: Callable[[dict], None]) -> dict:
    """Padded vs packed torch LSTM, forward and forward+backward, over lengths x batch x hidden."""
    from torch.nn.utils.rnn import pack_padded_sequence

    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    result = {
        "conditions": f"torch.nn.LSTM({N_FEATURES}, hidden, batch_first=True), float32, post-padded input already on the "
        "device; 'packed' times include pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False) "
        "with int64 lengths on the CPU; forward under torch.no_grad(); forward+backward = zero_grad, forward, "
        "output.sum().backward() (packed: output.data.sum()); "
        f"{cfg['warmup']} warm-up runs, then {cfg['repeats']} timed runs"
        + (", torch.cuda.synchronize() before and after each" if device.type == "cuda" else "")
        + "; TF32 and cudnn.benchmark at torch's defaults (see environment).",
        "cases": [],
    }
    # small cases first, so a budget cut loses the biggest, slowest ones
    plan = [(name, b, h) for h in cfg["hiddens"] for b in cfg["batches"] for name in cfg["lengths"]]
    for name, batch, hidden in plan:
        case = {"lengths": name, "batch": batch, "hidden": hidden}
        if time.time() > deadline:
            case["skipped"] = "time budget"
            budget.hit.append(f"packing {name} b{batch} h{hidden}")
            result["cases"].append(case)
            continue
        lengths = make_lengths(cfg["lengths"][name], batch, seed=1)
        x = torch.from_numpy(pad(lengths, N_FEATURES, seed=2)).to(device)
        lens = torch.as_tensor(lengths, dtype=torch.int64)
        torch.manual_seed(0)
        lstm = torch.nn.LSTM(N_FEATURES, hidden, batch_first=True).to(device)

        def run(packed: bool):
            if packed:
                out, _ = lstm(pack_padded_sequence(x, lens, batch_first=True, enforce_sorted=False))
                return out.data
            return lstm(x)[0]

        def fwd(packed):
            def f():
                with torch.no_grad():
                    run(packed)
            return f

        def train(packed):
            def f():
                lstm.zero_grad(set_to_none=True)
                run(packed).sum().backward()
            return f

        p, k = padded_steps(lengths), int(lengths.sum())
        case.update(max_len=int(lengths.max()), min_len=int(lengths.min()), padded_steps=p, packed_steps=k, step_ratio=p / k)
        for mode, make in (("forward", fwd), ("forward_backward", train)):
            t_pad = time_runs(make(False), sync, cfg["repeats"], cfg["warmup"], deadline)
            t_pack = time_runs(make(True), sync, cfg["repeats"], cfg["warmup"], deadline)
            entry = {"padded": t_pad, "packed": t_pack}
            if t_pad["n"] and t_pack["n"]:
                ratio = t_pad["median_s"] / t_pack["median_s"]
                ideal = 1 - k / p
                entry.update(time_ratio=ratio, fraction_of_ideal=((1 - 1 / ratio) / ideal) if ideal > 0 else None)
            if min(t_pad["n"], t_pack["n"]) < cfg["repeats"]:
                budget.hit.append(f"packing {name} b{batch} h{hidden} {mode}: fewer runs than asked")
            case[mode] = entry
        result["cases"].append(case)
        del lstm, x
        save(result)
    return result


# -- 4. bucketing --------------------------------------------------------------------------------


def section_bucketing(torch, device, cfg: dict, budget: Budget, deadline: float) -> dict:
    """One training epoch, random vs bucketed batches, padded and packed torch LSTM."""
    from torch.nn.utils.rnn import pack_padded_sequence

    e = cfg["epoch"]
    n, bs, hidden, n_classes = e["n"], e["batch"], e["hidden"], 4
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    lengths = long_tailed_lengths(n, seed=3)
    labels = np.random.default_rng(5).integers(0, n_classes, size=n)
    plans = {"random": random_batches(lengths, bs, seed=0), "bucketed": bucket_batches(lengths, bs, seed=0)}
    rng = np.random.default_rng(4)
    seqs = [rng.standard_normal((int(m), N_FEATURES)).astype(np.float32) for m in lengths]

    def on_device(b):
        x = np.zeros((len(b), int(lengths[b].max()), N_FEATURES), np.float32)
        for j, i in enumerate(b):
            x[j, : lengths[i]] = seqs[i]
        return (torch.from_numpy(x).to(device), torch.as_tensor(lengths[b], dtype=torch.int64),
                torch.as_tensor(labels[b]).to(device))

    ready = {k: [on_device(b) for b in v] for k, v in plans.items()}
    counts = {
        k: {"padded_steps": padded_steps(lengths, v), "sequential_steps": int(sum(lengths[b].max() for b in v)),
            "batches": len(v)}
        for k, v in plans.items()
    }
    result = {
        "conditions": f"{n} long-tailed sequences (log-normal, median 40, 1..500, seed 3), batch {bs}, "
        f"{N_FEATURES} features, hidden {hidden}, {n_classes} classes, Adam(1e-3), cross-entropy on the last real "
        "step; batches padded to their own longest item and moved to the device BEFORE timing (the time is "
        "compute, not data loading); bucketed = bucket_batches(lengths, batch, seed=0) (lessons_lib's rule); "
        f"one warm-up epoch, then {e['repeats']} timed epochs each"
        + (", torch.cuda.synchronize() around each" if device.type == "cuda" else "") + ".",
        "packed_steps": int(lengths.sum()),
        "counts": counts,
        "padded_step_ratio": counts["random"]["padded_steps"] / counts["bucketed"]["padded_steps"],
        "sequential_step_ratio": counts["random"]["sequential_steps"] / counts["bucketed"]["sequential_steps"],
        "runs": {},
    }
    for packed in (False, True):
        label = "packed" if packed else "padded"
        torch.manual_seed(0)
        lstm = torch.nn.LSTM(N_FEATURES, hidden, batch_first=True).to(device)
        head = torch.nn.Linear(hidden, n_classes).to(device)
        opt = torch.optim.Adam(list(lstm.parameters()) + list(head.parameters()), lr=1e-3)

        def epoch(batches):
            for x, lens, y in batches:
                opt.zero_grad(set_to_none=True)
                if packed:
                    _, (h, _) = lstm(pack_padded_sequence(x, lens, batch_first=True, enforce_sorted=False))
                    feat = h[-1]
                else:
                    out, _ = lstm(x)
                    feat = out[torch.arange(len(lens), device=x.device), lens.to(x.device) - 1]
                torch.nn.functional.cross_entropy(head(feat), y).backward()
                opt.step()

        run = {}
        for plan in ("random", "bucketed"):
            if time.time() > deadline:
                run[plan] = {"n": 0, "requested": e["repeats"], "skipped": "time budget"}
                budget.hit.append(f"bucketing {label} {plan}")
                continue
            run[plan] = time_runs(lambda p=plan: epoch(ready[p]), sync, e["repeats"], 1, deadline)
        if run["random"].get("n") and run["bucketed"].get("n"):
            run["time_ratio"] = run["random"]["median_s"] / run["bucketed"]["median_s"]
        result["runs"][label] = run
    return result


# -- 3. Keras, one subprocess per backend --------------------------------------------------------


def section_keras(device_kind: str, quick: bool, budget: Budget, deadline: float) -> dict:
    result = {
        "conditions": "keras.layers.LSTM(hidden, return_sequences=True), float32, post-padded batch, an explicit "
        "boolean mask= (or none); each backend in its own subprocess (KERAS_BACKEND is read at import); torch "
        "backend: eager calls, torch.cuda.synchronize() around each run on CUDA; JAX backend: jax.jit of "
        "layer.stateless_call, block_until_ready() on the result. The path is read by wrapping "
        "keras.src.backend.lstm (the fused-path hook that LSTM.inner_loop tries first), and for torch "
        "keras.src.backend.torch.rnn._cudnn_lstm / _fallback_lstm, for JAX jax.experimental.rnn.lstm. "
        "Correctness runs with TF32 off (torch) or jax_default_matmul_precision='highest' (JAX); timings use "
        "the frameworks' defaults.",
        "backends": {},
    }
    for i, backend in enumerate(KERAS_BACKENDS):
        missing = [m for m in ("keras", backend) if importlib.util.find_spec(m) is None]
        if missing:
            result["backends"][backend] = {"skipped": f"{missing[0]} not installed"}
            continue
        left = deadline - time.time()
        if left < 15:
            result["backends"][backend] = {"skipped": "time budget"}
            budget.hit.append(f"keras {backend}")
            continue
        mine = time.time() + left / (len(KERAS_BACKENDS) - i) - 5  # an equal share of what is left
        result["backends"][backend] = _keras_subprocess(backend, device_kind, quick, mine)
    return result


def _keras_subprocess(backend: str, device_kind: str, quick: bool, deadline: float) -> dict:
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3", XLA_PYTHON_CLIENT_PREALLOCATE="false")
    if backend == "torch":
        env["KERAS_TORCH_DEVICE"] = "cuda" if device_kind == "cuda" else "cpu"
    if backend == "jax" and device_kind == "cpu":
        env["JAX_PLATFORMS"] = "cpu"
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / "keras.json"
        cmd = [sys.executable, str(pathlib.Path(__file__).resolve()), "_keras-worker", "--backend", backend,
               "--device", device_kind, "--out", str(out), "--deadline", f"{deadline:.1f}"] + (["--quick"] if quick else [])
        timeout = max(10.0, deadline - time.time() + 30)
        t0 = time.time()
        try:
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
            rc, tail = done.returncode, (done.stdout + done.stderr)[-2000:]
        except subprocess.TimeoutExpired as exc:
            rc, tail = "timeout", str(exc.stdout or "")[-1000:] + str(exc.stderr or "")[-1000:]
        data = json.loads(out.read_text()) if out.exists() else {}
    data["subprocess"] = {"returncode": rc, "seconds": round(time.time() - t0, 1)}
    if rc != 0:
        data["subprocess"]["output_tail"] = tail
    return data


def inner_path(calls: dict) -> str:
    """Name the inner LSTM path from the wrapped functions' call records (``{name: {calls, returned, raised}}``).

    Example:
        >>> inner_path({"backend.lstm": {"calls": 1, "returned": 0, "raised": ["NotImplementedError: "]}})
        'generic Keras RNN loop (backend.lstm raised NotImplementedError)'
    """
    if calls.get("torch _cudnn_lstm", {}).get("returned") or calls.get("jax.experimental.rnn.lstm", {}).get("returned"):
        return "cudnn"
    if calls.get("torch _fallback_lstm", {}).get("returned"):
        return "backend fallback (torch _fallback_lstm: one input matmul, then a Python loop over steps)"
    if calls.get("backend.lstm", {}).get("calls") and not calls["backend.lstm"]["returned"]:
        return "generic Keras RNN loop (backend.lstm raised NotImplementedError)"
    return "unknown"


def keras_worker(backend: str, device_kind: str, quick: bool, out: pathlib.Path, deadline: float) -> int:
    """Runs inside a subprocess with KERAS_BACKEND set: correctness, path probe, masked vs unmasked time."""
    # The GPU machine has no TensorFlow; make this one behave the same: keras.utils.set_random_seed
    # would otherwise import TensorFlow (to seed it) even on the torch and JAX backends.
    sys.modules["tensorflow"] = None
    import keras
    from keras.src import backend as kb

    res: dict = {"keras": keras.__version__, "backend": keras.backend.backend()}
    save = lambda: write_json(out, res)  # noqa: E731
    calls: dict = {}

    def wrap(module, name, key):
        original = getattr(module, name)

        def wrapper(*args, **kwargs):
            rec = calls.setdefault(key, {"calls": 0, "returned": 0, "raised": []})
            rec["calls"] += 1
            try:
                value = original(*args, **kwargs)
            except Exception as exc:
                rec["raised"].append(f"{type(exc).__name__}: {exc}"[:200])
                raise
            rec["returned"] += 1
            return value

        setattr(module, name, wrapper)

    wrap(kb, "lstm", "backend.lstm")  # LSTM.inner_loop looks it up at call time
    if backend == "torch":
        import torch
        import importlib

        trnn = importlib.import_module("keras.src.backend.torch.rnn")  # the package's `rnn` attribute is a function

        wrap(trnn, "_cudnn_lstm", "torch _cudnn_lstm")
        wrap(trnn, "_fallback_lstm", "torch _fallback_lstm")
        cuda = torch.cuda.is_available() and device_kind == "cuda"
        sync = torch.cuda.synchronize if cuda else (lambda: None)
        res["torch"] = torch.__version__
        res["keras_torch_device"] = str(kb.get_device()) if hasattr(kb, "get_device") else os.environ.get("KERAS_TORCH_DEVICE")
        if device_kind == "cpu":
            torch.set_num_threads(1)
    else:
        import importlib

        import jax

        jrnn = importlib.import_module("jax.experimental.rnn")

        wrap(jrnn, "lstm", "jax.experimental.rnn.lstm")
        res.update(jax=jax.__version__, jax_default_backend=jax.default_backend(), jax_devices=[str(d) for d in jax.devices()])
        sync = lambda: None  # noqa: E731  (each timed call blocks on its result)
    res["tensorflow_imported"] = sys.modules.get("tensorflow") is not None
    save()

    def probe(fn) -> dict:
        calls.clear()
        fn()
        snap = json.loads(json.dumps(calls))
        return {"path": inner_path(snap), "fused": inner_path(snap) == "cudnn", "calls": snap}

    cfg = config(quick)
    # -- correctness: masked batch == each sequence alone -------------------------------------
    lengths = np.array([5, 1, 7, 3, 7, 2])
    x_np = pad(lengths, N_FEATURES, seed=12)
    mask_np = np.arange(x_np.shape[1])[None, :] < lengths[:, None]
    keras.utils.set_random_seed(0)
    hidden_c = 16
    layer_c = keras.layers.LSTM(hidden_c, return_sequences=True, return_state=True)
    np_ = keras.ops.convert_to_numpy

    def correctness():
        out, h, c = (np_(t) for t in layer_c(x_np, mask=mask_np))
        alone = [[np_(t) for t in layer_c(x_np[i : i + 1, : int(n)])] for i, n in enumerate(lengths)]
        return {
            "outputs_at_real_steps": max(_max_abs(out[i, :n], a[0][0]) for i, (n, a) in enumerate(zip(lengths, alone))),
            "h": max(_max_abs(h[i], a[1][0]) for i, a in enumerate(alone)),
            "c": max(_max_abs(c[i], a[2][0]) for i, a in enumerate(alone)),
        }

    try:
        if backend == "torch":
            saved = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
            torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
            try:
                diffs = correctness()
            finally:
                torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved
        else:
            with jax.default_matmul_precision("highest"):
                diffs = correctness()
        res["masked_equals_alone"] = {
            "lengths": lengths.tolist(), "hidden": hidden_c, "max_abs": diffs, "tol": TOL,
            "passed": all(v <= TOL for v in diffs.values()),
            "paths": {"masked batch": probe(lambda: layer_c(x_np, mask=mask_np)),
                      "one sequence, no mask": probe(lambda: layer_c(x_np[:1, :5]))},
        }
    except Exception as exc:  # record, keep going: the timings may still work
        res["masked_equals_alone"] = {"error": f"{type(exc).__name__}: {exc}"[:500]}
    save()

    # -- timing: masked vs unmasked, forward and forward+backward ------------------------------
    res["timing"] = []
    for batch, hidden, max_len in cfg["keras_cases"]:
        entry = {"batch": batch, "hidden": hidden, "max_len": max_len, "n_features": N_FEATURES}
        if time.time() > deadline:
            entry["skipped"] = "time budget"
            res["timing"].append(entry)
            continue
        lens = uniform_lengths(batch, 1, max_len, seed=7)
        lens[0] = max_len
        x = pad(lens, N_FEATURES, seed=8)
        m = np.arange(max_len)[None, :] < lens[:, None]
        entry.update(lengths=f"uniform 1..{max_len}", padded_steps=batch * max_len, packed_steps=int(lens.sum()))
        keras.utils.set_random_seed(0)
        layer = keras.layers.LSTM(hidden, return_sequences=True)
        layer.build((None, None, N_FEATURES))
        try:
            fns = _keras_timed_fns(backend, layer, x, m)
            for name, fn in fns.items():
                calls.clear()
                entry[name] = time_runs(fn, sync, cfg["keras_repeats"], cfg["warmup"], deadline)
                snap = json.loads(json.dumps(calls))  # paths seen during warm-up (and JIT tracing) and the runs
                entry[name]["path"] = inner_path(snap)
                entry[name]["calls"] = snap
            for mode in ("forward", "forward_backward"):
                a, b = entry[f"{mode}_masked"], entry[f"{mode}_unmasked"]
                if a["n"] and b["n"]:
                    entry[f"{mode}_ratio_masked_over_unmasked"] = a["median_s"] / b["median_s"]
        except Exception as exc:
            entry["error"] = f"{type(exc).__name__}: {exc}"[:500]
        res["timing"].append(entry)
        save()
    res["tensorflow_imported"] = sys.modules.get("tensorflow") is not None
    res["lessons_lib_imported"] = "lessons_lib" in sys.modules
    save()
    return 0


def _keras_timed_fns(backend: str, layer, x_np: np.ndarray, m_np: np.ndarray) -> dict:
    import keras

    if backend == "torch":
        import torch

        x, m = keras.ops.convert_to_tensor(x_np), keras.ops.convert_to_tensor(m_np)
        weights = [v.value for v in layer.trainable_variables]

        def fwd(mask):
            def f():
                with torch.no_grad():
                    layer(x, mask=mask)
            return f

        def train(mask):
            def f():
                for w in weights:
                    w.grad = None
                layer(x, mask=mask).sum().backward()
            return f

        return {"forward_masked": fwd(m), "forward_unmasked": fwd(None),
                "forward_backward_masked": train(m), "forward_backward_unmasked": train(None)}

    import jax
    import jax.numpy as jnp

    x, m = jnp.asarray(x_np), jnp.asarray(m_np)
    tv = [v.value for v in layer.trainable_variables]
    ntv = [v.value for v in layer.non_trainable_variables]

    def apply(tv, x, mask):
        return layer.stateless_call(tv, ntv, x, mask=mask)[0]

    fwd_m = jax.jit(lambda tv, x, mask: apply(tv, x, mask))
    fwd_u = jax.jit(lambda tv, x: apply(tv, x, None))
    grad_m = jax.jit(jax.grad(lambda tv, x, mask: jnp.sum(apply(tv, x, mask))))
    grad_u = jax.jit(jax.grad(lambda tv, x: jnp.sum(apply(tv, x, None))))
    return {
        "forward_masked": lambda: jax.block_until_ready(fwd_m(tv, x, m)),
        "forward_unmasked": lambda: jax.block_until_ready(fwd_u(tv, x)),
        "forward_backward_masked": lambda: jax.block_until_ready(grad_m(tv, x, m)),
        "forward_backward_unmasked": lambda: jax.block_until_ready(grad_u(tv, x)),
    }


# -- the run ---------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    import torch

    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    if args.device == "cuda" and not torch.cuda.is_available():
        print("gpu_check: --device cuda asked for, but torch.cuda.is_available() is False", file=sys.stderr)
        return 2
    device = torch.device(args.device)
    cfg = config(args.quick)
    budget = Budget(args.budget_s if args.budget_s is not None else cfg["budget_s"])
    if device.type == "cpu":
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    started = datetime.datetime.now(datetime.timezone.utc)
    data: dict = {
        "schema": SCHEMA, "script": "bench/gpu_check.py", "started_utc": f"{started:%Y-%m-%d %H:%M:%S}",
        "args": {"device": args.device, "quick": args.quick, "budget_s": budget.limit_s, "only": only},
        "environment": environment(torch, device), "sections": {}, "errors": {}, "budget": {},
    }
    out = pathlib.Path(args.out)

    def save(name: str | None = None, value: dict | None = None) -> None:
        if name is not None:
            data["sections"][name] = value
        data["wall_s"] = round(time.time() - budget.start, 1)
        data["budget"] = {"limit_s": budget.limit_s, "cut_short": list(budget.hit)}
        write_json(out, data)

    save()
    shares = {"correctness": None, "packing": 0.45, "keras": 0.65, "bucketing": 1.0}  # of the time left then
    for name in SECTIONS:
        if name not in only:
            continue
        t0 = time.time()
        try:
            if name == "correctness":
                value = section_correctness(torch, device, cfg)
            elif name == "packing":
                value = section_packing(torch, device, cfg, budget, budget.share(shares[name]), lambda v: save("packing", v))
            elif name == "bucketing":
                value = section_bucketing(torch, device, cfg, budget, budget.share(shares[name]))
            else:
                if device.type == "cuda":
                    torch.cuda.empty_cache()
                value = section_keras(device.type, args.quick, budget, budget.share(shares[name]))
            value["seconds"] = round(time.time() - t0, 1)
            save(name, value)
        except Exception as exc:  # one broken section must not lose the others
            import traceback

            data["errors"][name] = traceback.format_exc()[-3000:]
            print(f"gpu_check: section {name} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            save()
        print(summary_line(name, data["sections"].get(name)), flush=True)
    data["finished_utc"] = f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M:%S}"
    data["modules_imported"] = sorted(m for m in ("tensorflow", "lessons_lib", "keras", "jax") if m in sys.modules)
    save()
    env = data["environment"]
    print(f"gpu_check: {env['device_kind']} ({env['device_name']}), torch {env['torch']}, "
          f"{'quick' if args.quick else 'full'} run, {data['wall_s']} s of a {budget.limit_s:.0f} s budget; "
          f"cut short: {budget.hit or 'nothing'}; wrote {out}")
    return 1 if data["errors"] else 0


def summary_line(name: str, sec: dict | None) -> str:
    """One printed line per section: its headline numbers."""
    if sec is None:
        return f"{name}: failed (see errors in the JSON)"
    if name == "correctness":
        worst = max(c["checks"]["outputs_match_float64_cpu"]["max_abs"] for c in sec["cases"])
        zeros = max(c["checks"]["packed_zeros_at_padded_steps"]["max_abs"] for c in sec["cases"])
        n_ok = sum(c["passed"] for c in sec["cases"])
        cudnn = all(all(c["cudnn_rnn_used"].values()) for c in sec["cases"])
        return (f"correctness: {n_ok}/{len(sec['cases'])} cases passed; max |packed - float64 CPU| {worst:.1e}; "
                f"padded steps max |out| {zeros}; aten::_cudnn_rnn for padded and packed: {cudnn}")
    if name == "packing":
        parts = []
        for c in sec["cases"]:
            if "forward" in c and "time_ratio" in c["forward"] and "time_ratio" in c.get("forward_backward", {}):
                parts.append(f"{c['lengths']} b{c['batch']} h{c['hidden']}: steps {c['step_ratio']:.2f}x, "
                             f"fwd {c['forward']['time_ratio']:.2f}x, fwd+bwd {c['forward_backward']['time_ratio']:.2f}x")
        return "packing (padded/packed; time ratio beside step ratio):\n  " + "\n  ".join(parts or ["no case measured"])
    if name == "bucketing":
        r = sec["runs"]
        txt = ", ".join(f"{k} {v['time_ratio']:.2f}x" for k, v in r.items() if "time_ratio" in v)
        return (f"bucketing: padded-step ratio random/bucketed {sec['padded_step_ratio']:.2f}x, "
                f"sequential-step ratio {sec['sequential_step_ratio']:.2f}x; epoch time ratio: {txt or 'not measured'}")
    lines = []
    for b, r in sec["backends"].items():
        if "skipped" in r:
            lines.append(f"keras {b}: skipped: {r['skipped']}")
            continue
        eq = r.get("masked_equals_alone", {})
        eqs = f"masked == alone max diff {max(eq['max_abs'].values()):.1e}" if "max_abs" in eq else f"masked == alone: {eq.get('error', 'not run')}"
        paths = eq.get("paths", {})
        fused = paths.get("one sequence, no mask", {}).get("path", "?")
        ratios = [f"b{t['batch']} h{t['hidden']} fwd {t['forward_ratio_masked_over_unmasked']:.2f}x"
                  for t in r.get("timing", []) if "forward_ratio_masked_over_unmasked" in t]
        lines.append(f"keras {b} (Keras {r.get('keras')}): {eqs}; without a mask: {fused}; "
                     f"masked/unmasked time: {', '.join(ratios) or 'not measured'}"
                     + (f"; subprocess rc {r['subprocess']['returncode']}" if r.get("subprocess", {}).get("returncode") else ""))
    return "\n".join(lines)


# -- the report --------------------------------------------------------------------------------------


TF_NOTE = (
    "TensorFlow is too big to carry to the GPU machine, so the TensorFlow-backend cuDNN rule (Keras uses "
    "cuDNN only for a strictly right-padded mask with no fully masked row, `keras/src/backend/tensorflow/rnn.py` "
    "in Keras 3.15.1) stays as read from source: it is not measured here."
)

PLAN = [
    "**torch packing on cuDNN**: `nn.LSTM` forward, and forward + backward, on a padded batch against "
    "`pack_padded_sequence(..., enforce_sorted=False)` (lengths on the CPU), for uniform (1..200) and long-tailed "
    "(log-normal, median 40, 1..500) lengths, batch 64 and 256, hidden 64, 256 and 1024: median, IQR and min/max of "
    "30 timed runs after 5 warm-up runs, `torch.cuda.synchronize()` around each; the time ratio beside the step "
    "ratio (padded steps = batch x max_len, packed steps = sum of lengths) and the fraction of the ideal saving; "
    "which aten RNN op ran (`aten::_cudnn_rnn` or not) for padded and packed input.",
    "**torch correctness on the GPU**, TF32 off: packed outputs at padded steps are exactly zero; `h_n` is in the "
    "original (unsorted) order; outputs and states match a float64 CPU run to 1e-4.",
    "**Keras 3.15.1 on the JAX and torch backends**: a masked LSTM equals each sequence run alone (1e-4); forward "
    "and forward + backward time with a mask against without one; which inner path runs without a mask and with one "
    "(cuDNN, the backend's fallback, or Keras's generic loop), read by wrapping the backend functions Keras calls.",
    "**Bucketing against random batches**: one training epoch with torch (4096 long-tailed sequences, batch 64, "
    "hidden 256), padded and packed: the padded-step ratio beside the time ratio.",
]


CHECK_LABELS = {
    "packed_zeros_at_padded_steps": "packed outputs at padded steps are zero (pad_packed_sequence)",
    "returned_lengths_in_original_order": "pad_packed_sequence returns the lengths in the original order",
    "h_n_equals_last_real_output": "h_n[-1][i] equals output i at its last real step (original order)",
    "h_n_equals_each_sequence_alone": "h_n[-1][i] equals sequence i run alone",
    "outputs_match_float64_cpu": "outputs at real steps match float64 on the CPU",
    "h_n_c_n_match_float64_cpu": "h_n and c_n match float64 on the CPU",
    "padded_run_matches_packed_at_real_steps": "the padded (unpacked) run matches packed at real steps",
}


def headline(data: dict) -> list[str]:
    """The few numbers a closing note quotes, each with its conditions."""
    secs, out = data["sections"], ["## Headline", ""]
    sec = secs.get("packing")
    for mode, word in (("forward", "forward"), ("forward_backward", "forward + backward")):
        cases = [c for c in (sec or {}).get("cases", []) if c.get(mode, {}).get("time_ratio") is not None]
        if not cases:
            continue
        fr = [c[mode]["fraction_of_ideal"] for c in cases if c[mode].get("fraction_of_ideal") is not None]
        big = max(cases, key=lambda c: (c["hidden"], c["batch"]))
        best = [c for c in cases if (c["hidden"], c["batch"]) == (big["hidden"], big["batch"])]
        out.append(
            f"- torch packing, {word}: time ratio padded/packed {min(c[mode]['time_ratio'] for c in cases):.2f}x to "
            f"{max(c[mode]['time_ratio'] for c in cases):.2f}x over {len(cases)} cases, against step ratios "
            f"{min(c['step_ratio'] for c in cases):.2f}x to {max(c['step_ratio'] for c in cases):.2f}x; median fraction "
            f"of the ideal saving {statistics.median(fr):.0%}. At batch {big['batch']}, hidden {big['hidden']}: "
            + "; ".join(f"{c['lengths']} lengths {c[mode]['time_ratio']:.2f}x for a step ratio of {c['step_ratio']:.2f}x"
                        for c in best) + "."
        )
    sec = secs.get("correctness")
    if sec:
        out.append(f"- torch correctness (TF32 off, tolerance {TOL}): {'all checks passed' if sec['passed'] else 'SOME CHECKS FAILED'}; "
                   f"cuDNN (aten::_cudnn_rnn) ran for padded and packed input: "
                   f"{all(all(c['cudnn_rnn_used'].values()) for c in sec['cases'])}.")
    for b, r in (secs.get("keras") or {}).get("backends", {}).items():
        if "skipped" in r:
            out.append(f"- Keras, {b} backend: skipped ({r['skipped']}).")
            continue
        ratios = [f"batch {t['batch']} hidden {t['hidden']} max_len {t['max_len']}: forward "
                  f"{_x(t.get('forward_ratio_masked_over_unmasked'))}, forward + backward "
                  f"{_x(t.get('forward_backward_ratio_masked_over_unmasked'))}" for t in r.get("timing", []) if "forward_masked" in t]
        paths = r.get("masked_equals_alone", {}).get("paths", {})
        out.append(f"- Keras {r.get('keras')}, {b} backend: masked / unmasked time {'; '.join(ratios) or 'not measured'}. "
                   f"Path without a mask: {paths.get('one sequence, no mask', {}).get('path', '?')}; with a mask: "
                   f"{paths.get('masked batch', {}).get('path', '?')}; masked batch equals each sequence alone: "
                   f"{r.get('masked_equals_alone', {}).get('passed', 'not run')}.")
    sec = secs.get("bucketing")
    if sec:
        txt = ", ".join(f"{k} {v['time_ratio']:.2f}x" for k, v in sec["runs"].items() if "time_ratio" in v)
        out.append(f"- Bucketing, one epoch: padded-step ratio random/bucketed {sec['padded_step_ratio']:.2f}x; "
                   f"time ratio {txt or 'not measured'}.")
    return out + [""]


def _ms(s: float | None) -> str:
    if s is None:
        return "n/a"
    return f"{s * 1e3:.3f} ms" if s < 1e-2 else f"{s * 1e3:.2f} ms" if s < 1 else f"{s:.3f} s"


def _spread(st: dict) -> str:
    if not st or not st.get("n"):
        return "not measured"
    return (f"{_ms(st['median_s'])} (IQR {_ms(st['iqr_s'])}, {_ms(st['min_s'])}-{_ms(st['max_s'])}, "
            f"n={st['n']}{'' if st['n'] >= st.get('requested', 0) else ' CUT SHORT'})")


def _x(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.2f}x"


def gpu_measured(data: dict | None) -> bool:
    """True when ``data`` comes from a CUDA run with at least one measured section."""
    return bool(data and data.get("environment", {}).get("device_kind") == "cuda" and data.get("sections"))


def report(data: dict | None, json_name: str | None) -> str:
    """The Markdown page: measured tables for a CUDA run, the 'not measured yet' page otherwise."""
    lines = ["# GPU results", ""]
    if not gpu_measured(data):
        lines += [
            "**Not measured yet.** No GPU measurement has been recorded: every GPU statement in the lessons is read "
            "from the library sources (Keras 3.15.1 `keras/src/backend/{tensorflow,torch,jax}/rnn.py`, torch's "
            "`torch/nn/modules/rnn.py`), not measured. Treat them as unmeasured.",
            "",
        ]
        if data:
            env = data.get("environment", {})
            lines += [
                f"The run given to this report step was on **{env.get('device_kind', '?')}** ({env.get('device_name', '?')}), "
                f"{'a --quick check' if data.get('args', {}).get('quick') else 'a full run'} on "
                f"{data.get('started_utc', '?')} UTC: it checks the script, and its numbers are not GPU numbers, so "
                "this page does not show them.",
                "",
            ]
        lines += ["`bench/gpu_check.py --device cuda` will measure, on an NVIDIA GPU:", ""]
        lines += [f"{i}. {p}" for i, p in enumerate(PLAN, 1)]
        lines += ["", TF_NOTE, "", "How to run it: bench/README.md, \"How to run on a GPU machine\"."]
        return "\n".join(lines) + "\n"

    env, secs = data["environment"], data["sections"]
    lines += [
        f"Measured on **{env.get('device_name')}** on {data.get('started_utc')} UTC by `bench/gpu_check.py --device cuda`"
        + (f" (raw numbers: `{json_name}`)" if json_name else "") + ".",
        "",
        "| what | value |", "|---|---|",
        f"| device | {env.get('device_name')}, {env.get('device_memory_gib')} GiB, compute capability {env.get('compute_capability')} |",
        f"| nvidia-smi: name, driver, memory | {(env.get('nvidia_smi_query') or 'nvidia-smi not found').strip().splitlines()[0]} |",
        f"| CUDA (torch.version.cuda), cuDNN | {env.get('torch_cuda')}, {env.get('cudnn')} |",
        f"| torch | {env.get('torch')} (TF32 defaults: {env.get('tf32_defaults')}, cudnn.benchmark {env.get('cudnn_benchmark')}) |",
        f"| JAX, jaxlib | {env.get('jax') or 'not installed'}, {env.get('jaxlib') or 'not installed'} |",
        f"| Keras | {env.get('keras') or 'not installed'}"
        + (f" (NOT the pinned {KERAS_PIN})" if env.get("keras") and env.get("keras") != KERAS_PIN else "") + " |",
        f"| NumPy, Python | {env.get('numpy')}, {env.get('python')} ({env.get('platform')}) |",
        f"| CPU | {env.get('cpu')}, {env.get('cpu_count')} logical cores |",
        f"| run | {data.get('wall_s')} s of a {data.get('budget', {}).get('limit_s')} s budget; cut short: "
        f"{', '.join(data.get('budget', {}).get('cut_short', [])) or 'nothing'} |",
        "",
    ]
    lines += headline(data)
    if data.get("errors"):
        lines += ["Sections that failed: " + ", ".join(data["errors"]) + " (tracebacks in the JSON).", ""]

    sec = secs.get("packing")
    lines += ["## 1. torch: padded against packed on cuDNN", ""]
    if sec:
        lines += [sec["conditions"], "",
                  "Time ratio = padded median / packed median (> 1: packing is faster). Fraction of ideal = "
                  "(1 - packed time / padded time) / (1 - packed steps / padded steps): 1 means the time saving "
                  "equals the step saving, 0 no saving, < 0 packing is slower.", ""]
        for mode, title in (("forward", "Forward (inference)"), ("forward_backward", "Forward + backward (training)")):
            lines += [f"**{title}**", "", "| lengths | batch | hidden | max_len | step ratio | padded | packed | time ratio | fraction of ideal |",
                      "|---|---|---|---|---|---|---|---|---|"]
            for c in sec["cases"]:
                if "skipped" in c:
                    lines.append(f"| {c['lengths']} | {c['batch']} | {c['hidden']} | | | skipped ({c['skipped']}) | | | |")
                    continue
                e = c.get(mode, {})
                fr = e.get("fraction_of_ideal")
                lines.append(f"| {c['lengths']} | {c['batch']} | {c['hidden']} | {c['max_len']} | {_x(c['step_ratio'])} | "
                             f"{_spread(e.get('padded'))} | {_spread(e.get('packed'))} | {_x(e.get('time_ratio'))} | "
                             f"{'n/a' if fr is None else f'{fr:.0%}'} |")
            lines.append("")
    else:
        lines += ["Not measured (section missing or failed).", ""]

    sec = secs.get("correctness")
    lines += ["## 2. torch correctness on the GPU", ""]
    if sec:
        lines += [sec["conditions"], "", "| batch, hidden | check | max abs diff (tol) | passed |", "|---|---|---|---|"]
        for c in sec["cases"]:
            for k, v in c["checks"].items():
                val = f"equal: {v['equal']}" if "equal" in v else f"{v['max_abs']:.2e} ({v['tol']:g})"
                lines.append(f"| {c['batch']}, {c['hidden']} | {CHECK_LABELS.get(k, k)} | {val} | {'yes' if v['passed'] else '**NO**'} |")
        lines += ["", "aten RNN ops dispatched: " + "; ".join(
            f"batch {c['batch']} hidden {c['hidden']}: padded {c['rnn_ops']['padded']}, packed {c['rnn_ops']['packed']}"
            for c in sec["cases"]) + ".", ""]
    else:
        lines += ["Not measured (section missing or failed).", ""]

    sec = secs.get("keras")
    lines += ["## 3. Keras on the JAX and torch backends", ""]
    if sec:
        lines += [sec["conditions"], ""]
        for b, r in sec["backends"].items():
            lines.append(f"### The {b} backend" + (f" (Keras {r['keras']})" if r.get("keras") else ""))
            lines.append("")
            if "skipped" in r:
                lines += [f"Skipped: {r['skipped']}.", ""]
                continue
            extra = (f"JAX {r.get('jax')}, default backend {r.get('jax_default_backend')}, devices {r.get('jax_devices')}"
                     if b == "jax" else f"torch {r.get('torch')}, Keras torch device {r.get('keras_torch_device')}")
            lines += [extra + ".", ""]
            eq = r.get("masked_equals_alone", {})
            if "max_abs" in eq:
                lines.append(f"- Masked batch (lengths {eq['lengths']}, hidden {eq['hidden']}) against each sequence alone: "
                             f"max abs diff {', '.join(f'{k} {v:.1e}' for k, v in eq['max_abs'].items())} (tol {eq['tol']}): "
                             f"{'passed' if eq['passed'] else '**FAILED**'}.")
                for k, p in eq.get("paths", {}).items():
                    lines.append(f"- Path, {k}: {p['path']}.")
            else:
                lines.append(f"- Masked batch against each sequence alone: {eq.get('error', 'not run')}.")
            lines.append("")
            lines += ["| batch, hidden, max_len | mode | unmasked | masked | masked / unmasked | path unmasked | path masked |",
                      "|---|---|---|---|---|---|---|"]
            for t in r.get("timing", []):
                head = f"{t['batch']}, {t['hidden']}, {t['max_len']}"
                if "skipped" in t or "error" in t:
                    lines.append(f"| {head} | | {t.get('skipped') or t.get('error')} | | | | |")
                    continue
                for mode in ("forward", "forward_backward"):
                    u, m = t.get(f"{mode}_unmasked", {}), t.get(f"{mode}_masked", {})
                    lines.append(f"| {head} | {mode.replace('_', ' + ')} | {_spread(u)} | {_spread(m)} | "
                                 f"{_x(t.get(f'{mode}_ratio_masked_over_unmasked'))} | {u.get('path', '?')} | {m.get('path', '?')} |")
            sp = r.get("subprocess", {})
            if sp.get("returncode"):
                lines += ["", f"The subprocess ended with {sp['returncode']}: ```{sp.get('output_tail', '')[-400:]}```"]
            lines.append("")
    else:
        lines += ["Not measured (section missing or failed).", ""]
    lines += [TF_NOTE, ""]

    sec = secs.get("bucketing")
    lines += ["## 4. Bucketing against random batches, one epoch", ""]
    if sec:
        c = sec["counts"]
        lines += [sec["conditions"], "",
                  f"Padded steps per epoch: random {c['random']['padded_steps']}, bucketed {c['bucketed']['padded_steps']} "
                  f"(ratio {_x(sec['padded_step_ratio'])}); sequential steps (sum of the batches' max_len): random "
                  f"{c['random']['sequential_steps']}, bucketed {c['bucketed']['sequential_steps']} (ratio "
                  f"{_x(sec['sequential_step_ratio'])}); packed steps {sec['packed_steps']} either way.", "",
                  "| LSTM input | random | bucketed | time ratio random / bucketed | padded-step ratio |", "|---|---|---|---|---|"]
        for k, v in sec["runs"].items():
            lines.append(f"| {k} | {_spread(v.get('random'))} | {_spread(v.get('bucketed'))} | {_x(v.get('time_ratio'))} | "
                         f"{_x(sec['padded_step_ratio'])} |")
        lines.append("")
    else:
        lines += ["Not measured (section missing or failed).", ""]
    return "\n".join(lines).rstrip() + "\n"


def run_report(args: argparse.Namespace) -> int:
    data = None
    if args.json:
        path = pathlib.Path(args.json)
        if not path.exists():
            print(f"gpu_check report: --json {path} does not exist", file=sys.stderr)
            return 2
        data = json.loads(path.read_text())
    name = pathlib.Path(args.json).name if args.json else None
    text = report(data, f"bench/results/{name}" if name else None)
    md = pathlib.Path(args.md)
    md.parent.mkdir(parents=True, exist_ok=True)
    md.write_text(text)
    print(f"gpu_check report: wrote {md} ({'GPU results' if gpu_measured(data) else 'GPU claims unmeasured'})")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = ("run", "report", "_keras-worker")
    if not argv or (argv[0] not in commands and argv[0] not in ("-h", "--help")):
        argv.insert(0, "run")  # `gpu_check.py --device cpu --quick` means `gpu_check.py run ...`
    parser = argparse.ArgumentParser(
        prog="gpu_check.py", description=__doc__.split("\n\nSelf-contained")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Without a command, 'run' is meant: `gpu_check.py --device cuda` = `gpu_check.py run --device cuda`. "
        "`gpu_check.py run --help` lists the run options.",
    )
    sub = parser.add_subparsers(dest="command", metavar="{run,report}")
    p_run = sub.add_parser("run", help="measure and write the JSON (the default command)")
    p_run.add_argument("--device", choices=("cpu", "cuda", "auto"), default="auto", help="default: cuda if available")
    p_run.add_argument("--quick", action="store_true", help="tiny sizes and few repeats: a check of the script (~15 s on CPU)")
    p_run.add_argument("--out", default=str(DEFAULT_OUT), help="the JSON file to write (default: bench/results/gpu_check.json)")
    p_run.add_argument("--budget-s", type=float, default=None, help="wall-clock budget; default 420 s (full) or 90 s (quick)")
    p_run.add_argument("--only", default=",".join(SECTIONS), help="comma-separated subset of " + ", ".join(SECTIONS))
    p_run.add_argument("--threads", type=int, default=1, help="torch CPU threads when --device cpu (default 1)")
    p_rep = sub.add_parser("report", help="write the Markdown page from a JSON (or the 'unmeasured' page without one)")
    p_rep.add_argument("--json", default=None, help="results JSON from a run; omitted: no results")
    p_rep.add_argument("--md", default=str(HERE / "GPU_RESULTS.md"), help="default: bench/GPU_RESULTS.md")
    p_w = sub.add_parser("_keras-worker")  # internal: one Keras backend, in its own subprocess
    p_w.add_argument("--backend", choices=KERAS_BACKENDS, required=True)
    p_w.add_argument("--device", choices=("cpu", "cuda"), required=True)
    p_w.add_argument("--out", required=True)
    p_w.add_argument("--deadline", type=float, required=True)
    p_w.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "report":
        return run_report(args)
    if args.command == "_keras-worker":
        return keras_worker(args.backend, args.device, args.quick, pathlib.Path(args.out), args.deadline)
    unknown = [s for s in args.only.split(",") if s.strip() and s.strip() not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {unknown}; choose from {SECTIONS}")
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
