"""Load test: 20 playground sessions against one ``make playground`` server, 5 at once (loopback).

One Voila started as ``make playground`` starts it (conftest.start_playground: same flags,
same environment, a free 127.0.0.1 port). Four waves of five headless-Chromium pages: each
page must render the app and answer a control change (Pad amount +1 changes the Result line).
Waves 1-3 close their tabs as a browser does (``beforeunload`` runs: Voila shuts the kernel
down at once); wave 4 drops its tabs without ``beforeunload`` (a crashed tab, a lost network),
which only the idle cull (``PLAYGROUND_CULL_S``, 60 s) frees.

Measured by sampling the server's process tree every 0.5 s (psutil): peak resident memory of
server + kernels, peak RSS of one kernel, kernels alive while a wave is open, kernels left 5 s
after the tabs close, and the seconds until no kernel is left. The figures go to
test-artifacts/playground_load.json; with LESSONS_RECORD_LOAD=1 they also replace the
recorded bench/results/playground_load.json (bench/README.md explains them), so an ordinary
test run leaves the repository unchanged. Bounded: 20 sessions,
at most about 10 minutes; asserts only behaviour (pages answer, kernels freed), never speed.
"""

from __future__ import annotations

import json
import os
import pathlib
import platform
import re
import threading
import time

import psutil
import pytest
from browser_ui import result_locator
from conftest import ROOT, _stop, start_playground

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WAVES, AT_ONCE = 4, 5
LOAD_TIMEOUT_MS = 420_000  # five kernels importing TensorFlow and PyTorch at once on 2 cores
RESULT = ROOT / "bench" / "results" / "playground_load.json"


class Sampler(threading.Thread):
    """Peak RSS of a process tree, and its live kernel processes, every ``every`` seconds."""

    def __init__(self, pid: int, every: float = 0.5):
        super().__init__(daemon=True)
        self.root, self.every = psutil.Process(pid), every
        self.peak_total = self.peak_kernel = 0
        self.stop = threading.Event()

    def kernels(self) -> list[psutil.Process]:
        out = []
        for p in self.root.children(recursive=True):
            try:
                if "ipykernel" in " ".join(p.cmdline()):
                    out.append(p)
            except psutil.Error:
                pass
        return out

    def run(self):
        while not self.stop.is_set():
            total = 0
            for p in [self.root, *self.root.children(recursive=True)]:
                try:
                    rss = p.memory_info().rss
                except psutil.Error:
                    continue
                total += rss
                if p is not self.root and rss > self.peak_kernel:
                    self.peak_kernel = rss
            self.peak_total = max(self.peak_total, total)
            time.sleep(self.every)


def _open_session(chromium, url):
    context = chromium.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(LOAD_TIMEOUT_MS)
    page.goto(url, timeout=LOAD_TIMEOUT_MS, wait_until="commit")
    return context, page


def _answer_a_change(page) -> float:
    """Pad amount +1 through the UI; seconds until the Result line changes."""
    line = result_locator(page)
    line.wait_for(timeout=LOAD_TIMEOUT_MS)
    before = line.text_content()
    slider = page.locator(".widget-slider", has=page.locator("label.widget-label", has_text=re.compile(r"^\s*Pad amount\s*$")))
    handle = slider.first.locator(".noUi-handle")
    handle.focus()
    start = time.perf_counter()
    handle.press("ArrowRight")
    page.wait_for_function("([el, old]) => el.textContent !== old", arg=[line.element_handle(), before],
                           timeout=60_000)
    return time.perf_counter() - start


def _wait_kernels(sampler: Sampler, count: int, timeout: float) -> float | None:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if len(sampler.kernels()) == count:
            return time.monotonic() - start
        time.sleep(0.5)
    return None


def test_twenty_sessions_five_at_once(jupyter_home, chromium):
    proc, url = start_playground(jupyter_home, name="voila_load")
    sampler = Sampler(proc.pid)
    sampler.start()
    waves, started = [], time.monotonic()
    try:
        for wave in range(WAVES):
            sessions = [_open_session(chromium, url) for _ in range(AT_ONCE)]
            answers = [_answer_a_change(page) for _, page in sessions]
            alive = len(sampler.kernels())
            abrupt = wave == WAVES - 1
            for context, page in sessions:
                if not abrupt:
                    page.close(run_before_unload=True)
                context.close()
            time.sleep(5)
            left = len(sampler.kernels())
            waves.append({"wave": wave + 1, "sessions": AT_ONCE, "kernels_alive_while_open": alive,
                          "kernels_left_5s_after_close": left, "closed_with_beforeunload": not abrupt,
                          "seconds_to_answer_a_change": [round(a, 3) for a in answers]})
            if not abrupt:
                _wait_kernels(sampler, 0, 30)  # the next wave starts from zero
        culled_after = _wait_kernels(sampler, 0, 120)
    finally:
        sampler.stop.set()
        sampler.join()
        _stop(proc)
    gib = 2**30
    per_kernel = sampler.peak_kernel / gib
    server_reserve = 2.0  # GiB for the OS, the Voila server and slack
    figures = {
        "what": "20 make-playground sessions from loopback, 5 at once (tests/browser/test_playground_load.py)",
        "machine": {"cpus": psutil.cpu_count(), "memory_gib": round(psutil.virtual_memory().total / gib, 1),
                    "python": platform.python_version()},
        "peak_rss_server_plus_kernels_gib": round(sampler.peak_total / gib, 2),
        "peak_rss_one_kernel_gib": round(per_kernel, 3),
        "waves": waves,
        "seconds_until_no_kernel_after_abrupt_close": None if culled_after is None else round(culled_after, 1),
        "cull_idle_timeout_s": 60,
        "students_per_24_gib": int((24 - server_reserve) // per_kernel) if per_kernel else None,
        "students_per_24_gib_rule": "floor((24 GiB - 2 GiB for OS and server) / peak RSS of one kernel)",
        "total_seconds": round(time.monotonic() - started, 1),
    }
    outputs = [ROOT / "test-artifacts" / RESULT.name]
    if os.environ.get("LESSONS_RECORD_LOAD") == "1":  # only on purpose: tests leave the repo unchanged
        outputs.append(RESULT)
    for out in outputs:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    for w in waves:
        assert w["kernels_alive_while_open"] == AT_ONCE, f"wave {w['wave']}: {w}"
    for w in waves[:-1]:
        assert w["kernels_left_5s_after_close"] == 0, f"wave {w['wave']}: kernels outlive their tabs: {w}"
    assert culled_after is not None, "kernels of dropped tabs were never culled"
