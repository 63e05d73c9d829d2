"""``make lab``'s first minute, in headless Chromium: the start page, no news prompt, stored widgets.

The server starts from the same files ``make lab`` uses (tools/jupyter/jupyter_lab_config.py,
with its lab_settings/overrides.json), after the same ``jupyter trust`` step, over a temporary
copy of notebooks/. Only what a test must change is changed on the command line: a free port,
a known token (the token stays on), no browser, the temporary root and trust folder.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from conftest import _ROOT_FLAG, ROOT, _free_port, _server_env, _start, _stop

pytestmark = [pytest.mark.browser]

LAB_CONFIG = ROOT / "tools" / "jupyter" / "jupyter_lab_config.py"


@pytest.fixture(scope="module")
def make_lab(jupyter_home):
    """(base URL, token) of a JupyterLab started as ``make lab`` starts it."""
    home = jupyter_home
    trust_dir = home / "trust"
    (home / "lessons_lib.egg-info").mkdir(exist_ok=True)  # what `pip install -e .` leaves in a clone
    env = _server_env(home) | {"JUPYTER_DATA_DIR": str(trust_dir)}
    notebooks = sorted(str(p) for p in (home / "notebooks").glob("*.ipynb"))
    # Same command as the Makefile's lab-setup target, into the temporary trust folder.
    subprocess.run([os.path.join(os.path.dirname(sys.executable), "jupyter"), "trust", *notebooks],
                   env=env, check=True, capture_output=True)
    port, token = _free_port(), secrets.token_hex(16)
    cmd = [
        sys.executable, "-m", "jupyterlab", f"--config={LAB_CONFIG}", *_ROOT_FLAG,
        "--no-browser", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={home}",
        f"--NotebookNotary.data_dir={trust_dir}",
    ]
    proc = _start(cmd, home, "make_lab", f"/api/status?token={token}", port)
    yield f"http://127.0.0.1:{port}", token
    _stop(proc)


def test_makefile_uses_the_tested_settings():
    """No browser needed: the lab target runs Lab with this config and trusts into its TRUST_DIR."""
    make = (ROOT / "Makefile").read_text()
    assert "jupyter lab --config=tools/jupyter/jupyter_lab_config.py" in make
    assert "JUPYTER_DATA_DIR=$(abspath $(VENV))/share/jupyter $(BIN)/jupyter trust notebooks/*.ipynb" in make
    config = LAB_CONFIG.read_text()
    assert 'TRUST_DIR = str(pathlib.Path(sys.prefix) / "share" / "jupyter")' in config
    assert 'c.ServerApp.ip = "127.0.0.1"' in config and "token" not in config.split('"""')[-1]


def test_token_is_required(make_lab):
    url, _ = make_lab
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(f"{url}/api/contents", timeout=10)
    assert err.value.code == 403


def test_start_page_opens_without_news_prompt(make_lab, page, artifacts_dir):
    url, token = make_lab
    page.goto(f"{url}/?token={token}")
    tab = page.locator(".lm-TabBar-tab.lm-mod-current", has_text="00_start_here.ipynb")
    tab.wait_for(timeout=120_000)
    page.locator(".jp-Notebook .jp-RenderedHTMLCommon h1").first.wait_for()
    assert "/lab/tree/notebooks/00_start_here.ipynb" in page.url
    page.wait_for_timeout(3000)  # the news prompt would show as a toast within a second or two
    page.screenshot(path=str(artifacts_dir / "lab_start_page.png"))
    assert page.get_by_text(re.compile("Jupyter news", re.I)).count() == 0, "the news prompt is shown"
    assert page.get_by_text(re.compile("notified about official", re.I)).count() == 0


def test_file_browser_hides_egg_info(make_lab):
    url, token = make_lab
    with urllib.request.urlopen(f"{url}/api/contents?token={token}", timeout=10) as resp:
        names = {item["name"] for item in json.load(resp)["content"]}
    assert "notebooks" in names
    assert "lessons_lib.egg-info" not in names


def test_stored_widget_renders_before_anything_runs(make_lab, page, artifacts_dir):
    """01's widget shows as a widget in its creation state (pad 3, post, no mask), with no cell run."""
    url, token = make_lab
    page.goto(f"{url}/lab/tree/notebooks/01_mask_matrices.ipynb?token={token}")
    slider = page.locator(".widget-slider", has=page.locator("label.widget-label", has_text="pad amount"))
    slider.first.wait_for(state="attached", timeout=120_000)
    slider.first.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "lab_stored_widget_01.png"))
    assert page.get_by_text(re.compile(r"VBox\(children=")).count() == 0, "widget shown as text"
    assert slider.first.locator(".widget-readout").text_content().strip() == "3"
    active = page.locator(".widget-toggle-buttons button.mod-active").first.text_content().strip()
    assert active == "post"
    # Nothing ran: every code cell's prompt is still the stored one, none shows "[*]".
    assert page.locator(".jp-InputPrompt", has_text="[*]").count() == 0


def test_untrusted_copy_shows_text_so_the_check_above_can_fail(make_lab, page, jupyter_home):
    """The same notebook with one metadata change is not trusted: Lab shows the widget as text."""
    nb = json.loads((jupyter_home / "notebooks" / "01_mask_matrices.ipynb").read_text())
    nb["metadata"]["untrusted_copy"] = True
    (jupyter_home / "notebooks" / "untrusted_01.ipynb").write_text(json.dumps(nb))
    url, token = make_lab
    page.goto(f"{url}/lab/tree/notebooks/untrusted_01.ipynb?token={token}")
    page.get_by_text(re.compile(r"VBox\(children=")).first.wait_for(state="attached", timeout=120_000)
