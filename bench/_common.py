"""Shared pieces of the benchmarks: quiet setup, timing, machine facts, Markdown tables.

Every benchmark runs with the frameworks pinned to ONE thread (TensorFlow
intra/inter-op, torch, and NumPy is single-threaded for these operations), so
that results compare implementations rather than thread pools, and so that a
busy shared machine disturbs them less. The one exception is the thread-count
table of ``bench_compute.py``, which sets torch's thread count itself
(:func:`torch_threads`) and names it in every row.

Every timing is reported with its spread: :func:`timing` returns a
:class:`Timing` (median, min, max, quartiles of the repeats), and
:func:`paired_timings` interleaves several candidates repeat by repeat, so
that a ratio is taken per repeat (both sides under the same load) and its
spread can be reported too.
"""

from __future__ import annotations

import contextlib
import gc
import os
import platform
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import lessons_lib as ll

THREADS = 1


def setup() -> None:
    """Quiet TensorFlow, seed everything, pin 1 thread (call before importing TF)."""
    os.environ.update(ll.KERNEL_ENV)
    ll.setup_notebook(0, frameworks=("tensorflow", "torch"), threads=THREADS, quiet=True)


@dataclass(frozen=True)
class Timing:
    """Repeated measurements (seconds, or a unitless ratio): median and spread."""

    samples: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def min(self) -> float:
        return min(self.samples)

    @property
    def max(self) -> float:
        return max(self.samples)

    @property
    def iqr(self) -> tuple[float, float]:
        """(first quartile, third quartile); equal to (min, max) below 4 samples."""
        if len(self.samples) < 4:
            return self.min, self.max
        q = statistics.quantiles(self.samples, n=4, method="inclusive")
        return q[0], q[2]

    def ms(self) -> str:
        """``"8.2 ms [7.9-8.6]"``: median, then [min-max] of the repeats, in milliseconds."""
        return f"{self.median * 1e3:.1f} ms [{self.min * 1e3:.1f}-{self.max * 1e3:.1f}]"

    def ratio(self) -> str:
        """``"0.93x [0.88-0.97]"``: median ratio, then [min-max]."""
        return f"{self.median:.2f}x [{self.min:.2f}-{self.max:.2f}]"

    def json(self) -> dict:
        q1, q3 = self.iqr
        return {"median": self.median, "min": self.min, "max": self.max, "q1": q1, "q3": q3, "n": len(self.samples)}

    def __truediv__(self, other: "Timing") -> "Timing":
        """Per-repeat ratio of two paired timings (same number of repeats)."""
        if len(self.samples) != len(other.samples):
            raise ValueError(f"paired ratio needs equal repeats, got {len(self.samples)} and {len(other.samples)}")
        return Timing(tuple(a / b for a, b in zip(self.samples, other.samples)))


def _once(fn: Callable[[], object]) -> float:
    gc.collect()
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def timing(fn: Callable[[], object], repeats: int = 7, warmup: int = 1) -> Timing:
    """``repeats`` wall times (seconds) of ``fn`` after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    return Timing(tuple(_once(fn) for _ in range(repeats)))


def paired_timings(fns: dict[str, Callable[[], object]], repeats: int = 7, warmup: int = 1) -> dict[str, Timing]:
    """Time several candidates interleaved (A B C, A B C, ...), so a per-repeat ratio compares like with like."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            samples[name].append(_once(fn))
    return {name: Timing(tuple(v)) for name, v in samples.items()}


def median_time(fn: Callable[[], object], repeats: int = 5, warmup: int = 1) -> float:
    """Median wall time in seconds of ``repeats`` calls of ``fn`` after ``warmup`` calls.

    Kept for scripts that only need the median; prefer :func:`timing`, which keeps the spread.
    """
    return timing(fn, repeats, warmup).median


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block with torch using ``n`` intra-op threads, then restore the old count."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> str:
    """One line naming the machine: CPU model, cores, memory, OS, Python."""
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
        mem = f", {kb / 2**20:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"{cpu_model()}, {os.cpu_count()} logical cores{mem}, "
        f"{platform.system()} {platform.release()} ({platform.machine()}), Python {platform.python_version()}"
    )


def load_average() -> str:
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


@dataclass
class Section:
    """One experiment's results: a title, a note, a table, optional footnotes."""

    title: str
    intro: str
    header: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    data: dict = field(default_factory=dict)  # raw numbers for results/*.json

    def markdown(self) -> str:
        lines = [f"## {self.title}", "", self.intro, ""]
        lines.append("| " + " | ".join(self.header) + " |")
        lines.append("|" + "|".join("---" for _ in self.header) + "|")
        lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in self.rows]
        if self.notes:
            lines.append("")
            lines += [f"- {n}" for n in self.notes]
        return "\n".join(lines) + "\n"


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms"


def ratio(x: float) -> str:
    return f"{x:.2f}x"
