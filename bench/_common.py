"""Shared pieces of the benchmarks: quiet setup, timing, machine facts, Markdown tables.

Every benchmark runs with the frameworks pinned to ONE thread (TensorFlow
intra/inter-op, torch, and NumPy is single-threaded for these operations), so
that results compare implementations rather than thread pools, and so that a
busy shared machine disturbs them less.
"""

from __future__ import annotations

import gc
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import lessons_lib as ll

THREADS = 1


def setup() -> None:
    """Quiet TensorFlow, seed everything, pin 1 thread (call before importing TF)."""
    os.environ.update(ll.KERNEL_ENV)
    ll.setup_notebook(0, frameworks=("tensorflow", "torch"), threads=THREADS, quiet=True)


def median_time(fn: Callable[[], object], repeats: int = 5, warmup: int = 1) -> float:
    """Median wall time in seconds of ``repeats`` calls of ``fn`` after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


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
