"""The lessons' kernel environment: the Makefile exports it, and it pins PyTorch's CPU code paths."""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

import pytest

from lessons_lib.notebook_setup import KERNEL_ENV

ROOT = pathlib.Path(__file__).resolve().parents[1]
PINS = ("ATEN_CPU_CAPABILITY", "MKL_CBWR", "ONEDNN_MAX_CPU_ISA")


def test_makefile_exports_exactly_the_kernel_env():
    exported = dict(re.findall(r"^export (\w+) := (\S+)$", (ROOT / "Makefile").read_text(), re.M))
    assert exported == KERNEL_ENV


def _has_avx2() -> bool:
    try:
        return " avx2" in pathlib.Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


@pytest.mark.skipif(not _has_avx2(), reason="the pin is to AVX2, and this CPU has no AVX2 (or no /proc/cpuinfo)")
def test_kernel_env_pins_torch_to_avx2_and_the_code_path_changes_the_bits():
    """torch reports the pinned capability, repeatably; another code path (ATen's scalar
    kernels, oneDNN limited to SSE4.1) ends a short training run with other bits, so what the pin
    chooses matters. On a CPU without AVX-512 the pinned run equals the unpinned one (AVX2 is
    what torch picks there anyway): the stored outputs made on such a machine are the pinned ones."""
    script = (
        "import torch, hashlib\n"
        "torch.manual_seed(0); torch.set_num_threads(1)\n"
        "lstm = torch.nn.LSTM(12, 64, batch_first=True)\n"
        "opt = torch.optim.Adam(lstm.parameters(), 1e-2)\n"
        "x = torch.randn(32, 20, 12)\n"
        "for _ in range(20):\n"
        "    loss = lstm(x)[0].pow(2).mean(); opt.zero_grad(); loss.backward(); opt.step()\n"
        "w = lstm.weight_hh_l0.detach().numpy().tobytes()\n"
        "print(torch.backends.cpu.get_cpu_capability(), hashlib.sha256(w).hexdigest())\n"
    )
    base = {k: v for k, v in os.environ.items() if k not in PINS}

    def run(**pins):
        env = {**base, **{k: v for k, v in KERNEL_ENV.items() if k not in PINS}, **pins}
        out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                             timeout=300, check=True).stdout.split()
        return out[0], out[1]

    pinned = run(**{k: KERNEL_ENV[k] for k in PINS})
    assert pinned[0] == "AVX2"
    assert run(**{k: KERNEL_ENV[k] for k in PINS}) == pinned  # repeatable
    assert run(ATEN_CPU_CAPABILITY="default")[1] != pinned[1]
    assert run(ONEDNN_MAX_CPU_ISA="SSE41")[1] != pinned[1]
    if " avx512f" not in pathlib.Path("/proc/cpuinfo").read_text():
        assert run() == pinned
