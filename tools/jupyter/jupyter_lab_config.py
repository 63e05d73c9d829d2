"""Settings for ``make lab`` (and the browser test that checks them): ``jupyter lab --config=THIS``.

- listens on 127.0.0.1 only and keeps Jupyter's token (nothing here turns it off);
- serves the repository root and opens notebooks/00_start_here.ipynb, not the Launcher;
- offline and quiet: no news feed, no update check, no extension manager querying PyPI, and
  no "Jupyter news?" prompt (lab_settings/overrides.json, next to this file, answers it "Never");
- keeps the trust database of the course's notebooks in the venv
  (``make lab`` runs ``jupyter trust`` with the same folder), so their stored widget
  state renders as widgets, not as "VBox(children=..." text;
- hides build leftovers (lessons_lib.egg-info) from the file browser.
"""

import pathlib
import sys

c = get_config()  # noqa: F821 (traitlets provides get_config in config files)

ROOT = pathlib.Path(__file__).resolve().parents[2]
#: where ``make lab`` keeps the notebook trust database (nbsignatures.db, notebook_secret)
TRUST_DIR = str(pathlib.Path(sys.prefix) / "share" / "jupyter")

c.ServerApp.ip = "127.0.0.1"
c.ServerApp.root_dir = str(ROOT)
c.LabApp.default_url = "/lab/tree/notebooks/00_start_here.ipynb"
c.NotebookNotary.data_dir = TRUST_DIR
c.ContentsManager.hide_globs = [
    "__pycache__", "*.pyc", "*.pyo", ".DS_Store", "*~", "*.so", "*.dylib",  # Jupyter's defaults
    "*.egg-info", ".pytest_cache", ".hypothesis", ".ipynb_checkpoints",
]
c.LabApp.app_settings_dir = str(pathlib.Path(__file__).resolve().parent / "lab_settings")
c.LabApp.news_url = None
c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"
c.LabApp.extension_manager = "readonly"
