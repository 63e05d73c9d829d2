"""Every Keras notebook runs top to bottom under the simulated Keras 3.16 masking regime, no assert broken.

``tools/run_under_keras316.py`` puts ``simulate_keras_316(permanent=True)`` first and
runs the notebook in a fresh kernel; outputs may differ (Keras warns on stderr, some
printed numbers depend on the regime), but no cell may raise unless it is tagged
``raises-exception``. Slow (one kernel per notebook, about 4 minutes): `make test`
leaves it out (marker ``keras316``) to stay within its time budget; `make test-keras316`
runs it, and .ci/run runs both.
"""

from __future__ import annotations

import importlib.util
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("run_under_keras316", ROOT / "tools" / "run_under_keras316.py")
tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tool)


def test_the_keras_notebooks_are_found():
    names = [p.name for p in tool.keras_notebooks()]
    assert "02_keras_masking.ipynb" in names and "04_custom_masking_layers.ipynb" in names


@pytest.mark.slow
@pytest.mark.keras316
@pytest.mark.parametrize("path", tool.keras_notebooks(), ids=lambda p: p.name)
def test_notebook_breaks_no_assert_under_keras_316(path):
    assert tool.unexpected_errors(path) == []
