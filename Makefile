# Two commands for a new user: `make lab` and `make test`. Both build .venv first.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg
# Same environment as the refresh tool and the lessons' setup cell (lessons_lib.KERNEL_ENV).
export TF_CPP_MIN_LOG_LEVEL := 3
export TF_ENABLE_ONEDNN_OPTS := 0
export KERAS_BACKEND := tensorflow
export PYTHONHASHSEED := 0
export PYDEVD_DISABLE_FILE_VALIDATION := 1
export JUPYTER_PLATFORM_DIRS := 1
# PyTorch's CPU code paths pinned to AVX2 (same bits on every AVX2 machine; see KERNEL_ENV).
export ATEN_CPU_CAPABILITY := avx2
export MKL_CBWR := AVX2
export ONEDNN_MAX_CPU_ISA := AVX2

.PHONY: test-keras316 help venv lab lab-setup playground-flags student playground test test-unit test-notebooks notebooks bench clean

help:
	@echo "make lab        set up .venv (first time) and open the lessons in JupyterLab"
	@echo "make test       set up .venv (first time) and run every test (unit, strict nbval, hygiene)"
	@echo "make test-keras316  run every Keras notebook under the simulated Keras 3.16 masking regime"
	@echo "make notebooks  re-execute the notebooks and store fresh outputs (NB=notebooks/01_x.ipynb for one)"
	@echo "make bench      run the benchmarks and rewrite bench/RESULTS.md"
	@echo "make student    write the student edition (no solutions, no outputs) to student/"
	@echo "make playground serve the widget playground app (Voila) on http://127.0.0.1:8866"

# .venv is rebuilt from scratch whenever requirements.txt changes (pyproject.toml holds only
# package metadata and pytest settings; lessons_lib is installed editable).
$(STAMP): requirements.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found " + sys.version' \
		|| { echo "Set PYTHON=/path/to/python3.11"; exit 1; }
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade --quiet pip
	$(BIN)/python -m pip install -r requirements.txt
	@# Build matplotlib's font cache now: on first import it logs to stderr, which would break strict nbval.
	$(BIN)/python -c "import matplotlib.pyplot"
	touch $@

venv: $(STAMP)

# Jupyter refuses to run as root unless told; containers and cloud shells often are root.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)
# Settings live in tools/jupyter/ (the browser tests start Lab from the same files): 127.0.0.1
# only, token kept, opens 00_start_here, offline, no news prompt, egg-info hidden. The course's
# own notebooks are marked trusted (trust database in the venv, the folder the config names),
# so their stored widgets render as widgets, not as "VBox(children=..." text.
lab-setup: $(STAMP)
	JUPYTER_DATA_DIR=$(abspath $(VENV))/share/jupyter $(BIN)/jupyter trust notebooks/*.ipynb

lab: lab-setup
	$(BIN)/jupyter lab --config=tools/jupyter/jupyter_lab_config.py $(ROOT_FLAG)

# The playground app: notebooks/09_playground.ipynb as a widgets-only Voila page for a room,
# on localhost only, fully offline. Voila drops the cell tagged voila-hide (the notebook's own
# code check); the "offline" template (tools/jupyter/voila/) drops Voila's Font Awesome CDN links;
# the federated extensions the app does not use are not loaded (no @jupyter-notebook/lab-extension
# #RUNTIME-012 error; the widgets manager stays: Voila needs it); links to other lessons become text with their path (they would answer 403).
# A kernel is shut down when its page closes (Voila's own beforeunload beacon, which needs the
# _xsrf cookie that tools/jupyter/voila_config/voila.py makes the page set), and a kernel
# with no page connected is culled after PLAYGROUND_CULL_S idle seconds (a tab that crashed).
PLAYGROUND_PORT ?= 8866
PLAYGROUND_CULL_S ?= 60
PLAYGROUND_FLAGS := --Voila.ip=127.0.0.1 --TagRemovePreprocessor.remove_cell_tags=voila-hide \
	--Voila.config_file_paths=$(abspath tools/jupyter/voila_config) \
	--template=offline --VoilaConfiguration.extension_denylist=@jupyter-notebook/lab-extension \
	--VoilaConfiguration.extension_denylist=@voila-dashboards/jupyterlab-preview \
	--VoilaConfiguration.extension_denylist=jupyterlab_pygments \
	--VoilaExporter.preprocessors=lessons_lib.classroom.LessonLinksAsText \
	--MappingKernelManager.cull_idle_timeout=$(PLAYGROUND_CULL_S) \
	--MappingKernelManager.cull_interval=10 --MappingKernelManager.cull_connected=False
playground: $(STAMP)
	JUPYTER_PATH=$(abspath tools/jupyter) $(BIN)/voila notebooks/09_playground.ipynb \
		--port=$(PLAYGROUND_PORT) $(PLAYGROUND_FLAGS)

# What the browser tests start (same flags, their own port and copy of the notebook).
playground-flags:
	@echo $(PLAYGROUND_FLAGS)

# The student edition (no solution cells, no outputs) in student/ (git-ignored); see README.
student: $(STAMP)
	$(BIN)/python tools/make_student.py student

test: $(STAMP)
	$(BIN)/python -m pytest $(NBVAL) --doctest-modules lessons_lib tests notebooks -m "not keras316"

# Every Keras notebook top to bottom under the simulated Keras 3.16 masking regime (about 4 min;
# outside `make test` for its time budget; .ci/run runs both).
test-keras316: $(STAMP)
	$(BIN)/python -m pytest -m keras316 tests/test_notebooks_keras316.py

test-unit: $(STAMP)
	$(BIN)/python -m pytest --doctest-modules lessons_lib tests

test-notebooks: $(STAMP)
	$(BIN)/python -m pytest $(NBVAL) notebooks

notebooks: $(STAMP)
	$(BIN)/python tools/refresh_notebooks.py $(NB)

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
