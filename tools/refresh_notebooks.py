"""Re-execute notebooks top to bottom in a fresh kernel and store clean outputs.

Usage: python tools/refresh_notebooks.py [notebooks/NN_name.ipynb ...]
(no arguments: every notebook under notebooks/). ``make notebooks`` runs it.

Each notebook runs in a fresh kernel of the current Python environment, with
the notebook's folder as working directory and lessons_lib.KERNEL_ENV set
(plus CHECK_ENV: a figure with text under 10 px or wider than 800 px writes
to stderr, which is reported below), exactly as ``pytest --nbval --nbval-current-env`` runs it. Volatile data is
dropped: per-cell timing metadata, and the frames of expected tracebacks
(cells tagged ``raises-exception``), which hold machine paths; nbval does not
compare tracebacks, only the exception name and message. Widget state is
stored (static viewers render widgets from it) with model ids renumbered in
order of appearance, so that a refresh that changes nothing rewrites nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import re
import sys
import time

import nbformat
from nbclient import NotebookClient

from lessons_lib.notebook_setup import CHECK_ENV, KERNEL_ENV

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _coalesce_streams(outputs: list) -> list:
    """Merge consecutive stdout (or stderr) chunks: how text is split into messages varies by run."""
    merged: list = []
    for out in outputs:
        prev = merged[-1] if merged else None
        if out.output_type == "stream" and prev is not None and prev.output_type == "stream" and prev.name == out.name:
            prev.text += out.text
        else:
            merged.append(out)
    return merged


def _clean(nb: nbformat.NotebookNode) -> list[str]:
    problems = []
    for i, cell in enumerate(nb.cells):
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        cell.outputs = _coalesce_streams(cell.outputs)
        for out in cell.outputs:
            if out.output_type == "error":
                out.traceback = [f"{out.ename}: {out.evalue}"]
            if out.output_type == "stream" and out.name == "stderr":
                problems.append(f"cell {i} wrote to stderr: {out.text[:200]!r}")
    return problems


WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def _stable_widget_ids(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Rename widget model ids (random UUIDs) to ids numbered in order of first appearance.

    The stored widget state lets static viewers render widgets; with random ids
    every refresh would rewrite it even when nothing changed.
    """
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    if not state:
        return nb
    text = nbformat.writes(nb)
    # Walk from the widgets shown in outputs (in cell order) through the models they
    # reference; the rest (styles of hidden widgets...) by their content. Ids play no part.
    queue = [m.group(1) for m in re.finditer(r'"model_id": "([0-9a-f]{32})"', text) if m.group(1) in state]
    order: dict[str, str] = {}
    while queue:
        model = queue.pop(0)
        if model in order:
            continue
        order[model] = f"{len(order) + 1:032x}"
        refs = re.findall(r"IPY_MODEL_([0-9a-f]{32})", json.dumps(state[model], sort_keys=True))
        queue.extend(r for r in refs if r in state)
    masked = {k: re.sub(r"[0-9a-f]{32}", "?", json.dumps(v, sort_keys=True)) for k, v in state.items()}
    for model in sorted(set(state) - set(order), key=masked.__getitem__):
        order[model] = f"{len(order) + 1:032x}"
    text = re.sub(r"[0-9a-f]{32}", lambda m: order.get(m.group(0), m.group(0)), text)
    return nbformat.reads(text, as_version=4)


def refresh(path: pathlib.Path, timeout: int = 600) -> float:
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
        store_widget_state=True,
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    problems = _clean(nb)
    nb = _stable_widget_ids(nb)
    nbformat.validate(nb)
    nbformat.write(nb, path)
    for p in problems:
        print(f"  WARNING {path.name}: {p}", file=sys.stderr)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=pathlib.Path)
    args = parser.parse_args(argv)
    paths = args.paths or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    os.environ.update({**KERNEL_ENV, **CHECK_ENV})  # CHECK_ENV: warn on unreadable figures
    for path in paths:
        seconds = refresh(path.resolve())
        print(f"{path.name}: executed in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
