"""Fixtures for the real-browser tests: one JupyterLab, one Voila, one Chromium per session.

The servers run on free loopback ports without a token, only for the length of
the test session, over a temporary COPY of notebooks/ (so running cells in the
browser can never save over the stored outputs), with temporary Jupyter
config, runtime, settings and workspace folders. Their environment includes
``lessons_lib.KERNEL_ENV``. Chromium is Debian's ``/usr/bin/chromium`` driven
by the Python ``playwright`` package; no browser is ever downloaded.

Every test here needs a fixture that skips with a clear reason when Chromium
or playwright is missing, so ``make test`` reports them as skipped.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import pytest

from lessons_lib.notebook_setup import KERNEL_ENV

ROOT = pathlib.Path(__file__).resolve().parents[2]
CHROMIUM = pathlib.Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# CI runs as root, and Jupyter refuses to start as root without this flag.
_ROOT_FLAG = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
SERVER_START_TIMEOUT = 90  # seconds; the machine is small and shared


def _missing_reason() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} not found (Debian package 'chromium'; .ci/run installs it with apt-get)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package 'playwright' is not installed (see requirements.txt)"
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url: str, proc: subprocess.Popen, log: pathlib.Path, timeout: float = SERVER_START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}; log:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise RuntimeError(f"server did not answer {url} within {timeout} s; log:\n{log.read_text()[-3000:]}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)  # the server and the kernels it started (own process group)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Say at the end of the run, visibly, why the browser tests were skipped and how to fix it."""
    reason = _missing_reason()
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if "tests/browser/" in r.nodeid]
    if reason and skipped:
        terminalreporter.section("browser tests skipped", sep="=", yellow=True, bold=True)
        terminalreporter.line(f"{len(skipped)} browser tests were skipped: {reason}.", yellow=True)
        terminalreporter.line("To run them: sudo apt-get install chromium   (Debian/Ubuntu), then make test", yellow=True)
        terminalreporter.line("(the tests use /usr/bin/chromium; no browser is ever downloaded).", yellow=True)


@pytest.fixture(scope="session")
def browser_requirements():
    """Skip (with the reason) when Chromium or playwright is missing."""
    reason = _missing_reason()
    if reason:
        pytest.skip(f"browser test skipped: {reason}")


@pytest.fixture(scope="session")
def jupyter_home(browser_requirements):
    """A temporary home for the servers: a copy of notebooks/ and private Jupyter folders."""
    home = pathlib.Path(tempfile.mkdtemp(prefix="lessons-browser-"))
    shutil.copytree(ROOT / "notebooks", home / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    settings = home / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    # No "get Jupyter news?" toast over the notebook, no update check (the machine is offline).
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    yield home
    shutil.rmtree(home, ignore_errors=True)


def _server_env(home: pathlib.Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(KERNEL_ENV)
    env.update(
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        JUPYTER_DATA_DIR=str(home / "data"),  # kernels and lab extensions still come from the venv
        JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
        IPYTHONDIR=str(home / "ipython"),
        MPLCONFIGDIR=env.get("MPLCONFIGDIR", str(home / "matplotlib")),
    )
    return env


def _start(cmd: list[str], home: pathlib.Path, name: str, ready_path: str, port: int,
           extra_env: dict[str, str] | None = None):
    log = home / f"{name}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=home / "notebooks", env=_server_env(home) | (extra_env or {}), stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
    try:
        _wait_for(f"http://127.0.0.1:{port}{ready_path}", proc, log)
    except Exception:
        _stop(proc)
        raise
    return proc


@pytest.fixture(scope="session")
def lab_url(jupyter_home):
    """Base URL of a tokenless JupyterLab on a free loopback port (one per session)."""
    port = _free_port()
    cmd = [
        sys.executable, "-m", "jupyterlab", "--no-browser",
        "--IdentityProvider.token=", "--ServerApp.password=", "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={jupyter_home / 'notebooks'}",
        # Offline: no news feed, no update check, no extension manager querying PyPI.
        "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
        *_ROOT_FLAG,
    ]
    proc = _start(cmd, jupyter_home, "jupyterlab", "/api/status", port)
    yield f"http://127.0.0.1:{port}"
    _stop(proc)


def playground_flags() -> list[str]:
    """The Voila flags of ``make playground`` (``make playground-flags`` prints them)."""
    out = subprocess.run(["make", "-s", "--no-print-directory", "playground-flags"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    return out.split()


#: what ``make playground`` sets in Voila's environment (its "offline" template lives there)
PLAYGROUND_ENV = {"JUPYTER_PATH": str(ROOT / "tools" / "jupyter")}


def start_playground(home: pathlib.Path, name: str = "voila"):
    """(process, base URL) of Voila started as ``make playground`` starts it, on a free port."""
    port = _free_port()
    cmd = [
        sys.executable, "-m", "voila", "09_playground.ipynb", "--no-browser",
        f"--port={port}", "--Voila.port_retries=0", *playground_flags(),
    ]
    # A static file answers as soon as the server is up (the app page itself would run the notebook).
    proc = _start(cmd, home, name, "/voila/static/voila.js", port, extra_env=PLAYGROUND_ENV)
    return proc, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def voila_url(jupyter_home):
    """URL of the Voila playground app on a free loopback port (one per session).

    Same flags and environment as ``make playground``, plus a free port (Voila asks for no token).
    """
    proc, url = start_playground(jupyter_home)
    yield url
    _stop(proc)


@pytest.fixture(scope="session")
def chromium(browser_requirements):
    """One headless Debian Chromium for the whole session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1280, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    yield pg
    context.close()


@pytest.fixture(scope="session")
def artifacts_dir():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
