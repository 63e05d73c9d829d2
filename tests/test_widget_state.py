"""Widgets must render without a kernel (nbviewer, GitHub): their state is stored in the notebook.

The refresh tool runs nbclient with ``store_widget_state=True``, which writes
``metadata.widgets["application/vnd.jupyter.widget-state+json"]``. A static
viewer draws a widget view from that state, so every model a view displays,
and every model those models reference (children, layouts, styles), must be
in it.
"""

from __future__ import annotations

import json
import pathlib
import re

import pytest

NOTEBOOKS = sorted((pathlib.Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
VIEW_MIME = "application/vnd.jupyter.widget-view+json"
STATE_MIME = "application/vnd.jupyter.widget-state+json"
REFERENCE = re.compile(r"IPY_MODEL_([0-9a-f]{32})")


def displayed_model_ids(nb: dict) -> list[str]:
    """Model ids of every widget view in the notebook's stored outputs."""
    ids = []
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            view = out.get("data", {}).get(VIEW_MIME)
            if view is not None:
                ids.append(view["model_id"])
    return ids


def missing_models(nb: dict) -> list[str]:
    """Displayed or referenced model ids that have no stored state."""
    shown = displayed_model_ids(nb)
    if not shown:
        return []
    state = nb.get("metadata", {}).get("widgets", {}).get(STATE_MIME, {}).get("state", {})
    missing = [m for m in shown if m not in state]
    # Follow references (children, layout, style) from everything displayed.
    todo, seen = [m for m in shown if m in state], set()
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.add(model)
        for ref in REFERENCE.findall(json.dumps(state[model].get("state", {}))):
            if ref not in state:
                missing.append(ref)
            else:
                todo.append(ref)
    return sorted(set(missing))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_displayed_widgets_have_stored_state(path):
    nb = json.loads(path.read_text())
    missing = missing_models(nb)
    assert not missing, (
        f"{path.name}: widget models without stored state {missing[:5]} "
        "(re-run tools/refresh_notebooks.py, which stores widget state)"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_widget_state_is_well_formed(path):
    nb = json.loads(path.read_text())
    if not displayed_model_ids(nb):
        pytest.skip(f"{path.name} displays no widget")
    stored = nb["metadata"]["widgets"][STATE_MIME]
    assert stored.get("version_major") == 2, f"{path.name}: widget state version {stored.get('version_major')}"
    for model_id, entry in stored["state"].items():
        assert {"model_name", "model_module", "state"} <= set(entry), f"{path.name}: model {model_id} is incomplete"


def test_check_catches_missing_state():
    """The check itself: a displayed view without state, and a dangling child reference, are reported."""
    a, b, c = "a" * 32, "b" * 32, "c" * 32
    nb = {
        "cells": [{"cell_type": "code", "outputs": [{"data": {VIEW_MIME: {"model_id": a}}},
                                                   {"data": {VIEW_MIME: {"model_id": c}}}]}],
        "metadata": {"widgets": {STATE_MIME: {"state": {
            a: {"model_name": "VBoxModel", "model_module": "@jupyter-widgets/controls",
                "state": {"children": [f"IPY_MODEL_{b}"]}},
        }}}},
    }
    assert missing_models(nb) == sorted([b, c])
    nb["cells"][0]["outputs"].pop()
    nb["metadata"]["widgets"][STATE_MIME]["state"][b] = {"model_name": "HTMLModel", "model_module": "x", "state": {}}
    assert missing_models(nb) == []
