"""Run every benchmark and rewrite bench/RESULTS.md (``make bench``).

Usage: python bench/run_all.py [--quick] [--only ops,waste,compute,tfdata,doctor,compile] [--output PATH]

``--quick`` uses small sizes (a smoke test of the scripts); quick and partial
(``--only``) runs print their tables and write a file only when given
``--output``. The committed RESULTS.md comes from a full run, which also
writes the raw numbers to bench/results/results.json and the padding plot to
bench/results/padding_waste.png. Every run that is not ``--quick`` (full or
``--only``) writes each experiment's raw numbers to bench/results/NAME.json,
which is what lessons read (07 and 08 read results/compute.json, so
refresh them after re-running compute). A full run takes about 4 to 6
minutes on a quiet 2-core machine.
"""

from __future__ import annotations

import argparse
import datetime
import json
import pathlib
import sys
import time

import _common

HERE = pathlib.Path(__file__).resolve().parent
EXPERIMENTS = ("ops", "waste", "compute", "tfdata", "doctor", "compile")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for checking the scripts")
    parser.add_argument("--only", default=",".join(EXPERIMENTS), help="comma-separated subset of " + ", ".join(EXPERIMENTS))
    parser.add_argument("--output", type=pathlib.Path, default=None, help="default: bench/RESULTS.md for a full run")
    args = parser.parse_args(argv)
    chosen = [e.strip() for e in args.only.split(",") if e.strip()]
    unknown = [e for e in chosen if e not in EXPERIMENTS]
    if unknown:
        parser.error(f"unknown experiment(s) {unknown}; choose from {EXPERIMENTS}")

    _common.setup()  # before any benchmark module imports TensorFlow
    import lessons_lib as ll

    started = datetime.datetime.now(datetime.timezone.utc)
    load_before = _common.load_average()
    sections, durations = [], {}
    for name in chosen:
        t0 = time.perf_counter()
        module = __import__(f"bench_{name}")
        if name == "waste":
            found = module.run(quick=args.quick, plot_dir=None if args.quick else HERE / "results")
        else:
            found = module.run(quick=args.quick)
        durations[name] = time.perf_counter() - t0
        for sec in found:
            sec.experiment = name
        print(f"{name}: {durations[name]:.1f} s", flush=True)
        for sec in found:
            print(sec.markdown(), flush=True)
        sections += found

    versions = ll.versions(("tensorflow", "torch"))
    if not args.quick:
        # One file per experiment, also for --only runs, so that a lesson can read the
        # recorded numbers of its own experiment and re-running one experiment updates only it.
        (HERE / "results").mkdir(exist_ok=True)
        for name in chosen:
            mine = [s for s in sections if s.experiment == name]
            (HERE / "results" / f"{name}.json").write_text(
                json.dumps(
                    {"date": f"{started:%Y-%m-%d %H:%M}", "machine": _common.machine(), "versions": versions,
                     "seconds": round(durations[name], 1), "sections": {s.title: s.data for s in mine}},
                    indent=1,
                    default=float,
                )
                + "\n"
            )
    header = [
        "# Benchmark results",
        "",
        "Written by `make bench` (`bench/run_all.py`"
        + (" --quick: SMALL SIZES, not the reference figures" if args.quick else "")
        + "). Do not edit by hand.",
        "",
        f"- Machine: {_common.machine()}",
        f"- Date: {started:%Y-%m-%d %H:%M} UTC; load average before the run: {load_before}, after: {_common.load_average()}",
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()),
        f"- Device: CPU only (no GPU; see GPU_RESULTS.md). Threads: {_common.THREADS} per framework (TensorFlow "
        "intra/inter-op, torch), except the torch thread-count table (1 and 2 threads, named per row). "
        "Times: median [min-max] of repeated runs; each table names its repeats.",
        "- Run time per experiment: " + ", ".join(f"{k} {v:.0f} s" for k, v in durations.items()),
        "- Timings move with the machine and its load; padded/packed step counts and padding fractions do not. "
        "Lesson 07 (`notebooks/07_performance.ipynb`) explains each table.",
        "",
    ]
    text = "\n".join(header) + "\n" + "\n".join(s.markdown() for s in sections)
    full_run = not args.quick and chosen == list(EXPERIMENTS)
    output = args.output or (HERE / "RESULTS.md" if full_run else None)
    if output is None:
        print("partial or quick run: RESULTS.md left alone (pass --output to write the tables)")
        return 0
    output.write_text(text)
    if full_run:  # quick and partial runs only check the scripts; keep the reference raw numbers
        raw = {s.title: s.data for s in sections}
        (HERE / "results").mkdir(exist_ok=True)
        (HERE / "results" / "results.json").write_text(
            json.dumps(
                {"date": f"{started:%Y-%m-%d %H:%M}", "machine": _common.machine(), "versions": versions, "sections": raw},
                indent=1,
                default=float,
            )
        )
    print(f"wrote {output.relative_to(HERE.parent) if output.is_relative_to(HERE.parent) else output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
