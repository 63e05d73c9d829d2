"""One call that makes a notebook quiet, seeded and reproducible.

Nothing happens on import: :func:`setup_notebook` does the work when a
notebook's setup cell calls it.
"""

from __future__ import annotations

import contextlib
import io
import os
import platform
import random
import sys
from collections.abc import Iterable

import numpy as np

__all__ = [
    "CHECK_ENV",
    "KERNEL_ENV",
    "XMODES",
    "check_figures",
    "set_exception_mode",
    "setup_notebook",
    "versions",
]

#: Environment for every kernel that runs a lesson: the refresh tool, nbval
#: (through the root conftest.py), ``make lab`` and :func:`setup_notebook`.
KERNEL_ENV = {
    # TF 2.21 logs oneDNN notices from C++ even at level 3 unless oneDNN opts are off.
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "KERAS_BACKEND": "tensorflow",
    "PYTHONHASHSEED": "0",
    # debugpy warns on stderr about frozen modules when the kernel starts.
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    "JUPYTER_PLATFORM_DIRS": "1",
    # PyTorch's CPU kernels pick their code path by the CPU's vector instructions: its own
    # (ATen) kernels, MKL (matmul) and oneDNN each differ in the last bits between AVX2 and
    # AVX-512 machines, and between Intel and AMD for MKL. One bit grows, over a training run,
    # into a different 4th decimal (lesson 06). Pinning all three to AVX2 makes the stored
    # numbers the same on every x86-64 machine with AVX2 (any from 2013 on).
    "ATEN_CPU_CAPABILITY": "avx2",
    "MKL_CBWR": "AVX2",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
}

#: Set (besides KERNEL_ENV) by the runs that store or compare outputs -- ``make test``, the
#: refresh tool, nbval through the root conftest.py -- not by ``make lab``: with it,
#: :func:`setup_notebook` warns on stderr about every unreadable figure (:func:`check_figures`).
CHECK_ENV = {"LESSONS_CHECK_FIGURES": "1"}

_FRAMEWORKS = ("tensorflow", "torch")
#: IPython's exception reporting modes (``%xmode``).
XMODES = ("Plain", "Context", "Verbose", "Minimal", "Docs", "Doctest")


def versions(frameworks: Iterable[str] = _FRAMEWORKS) -> dict[str, str]:
    """Versions of Python and the libraries the lessons rely on.

    Only Python's major.minor is reported, so that stored outputs do not
    depend on the patch release.
    """
    found = {"python": platform.python_version().rsplit(".", 1)[0], "numpy": np.__version__}
    if "tensorflow" in frameworks:
        import keras
        import tensorflow as tf

        found["tensorflow"] = tf.__version__
        found["keras"] = keras.__version__
    if "torch" in frameworks:
        import torch

        found["torch"] = torch.__version__.split("+")[0]
    return found


def setup_notebook(
    seed: int = 0,
    *,
    frameworks: Iterable[str] = (),
    threads: int = 1,
    precision: int = 4,
    quiet: bool = False,
    xmode: str | None = "Minimal",
) -> None:
    """Prepare a lesson: quiet logs, seeds, determinism, print precision.

    What it does, in order:

    1. sets :data:`KERNEL_ENV` (quiet TensorFlow C++ logs, Keras on TensorFlow)
       *before* any framework is imported;
    2. seeds Python's ``random`` and NumPy's global generator with ``seed``
       (lessons still pass explicit ``np.random.default_rng(seed)`` objects);
    3. for "tensorflow": ``keras.utils.set_random_seed``, op determinism,
       ``threads`` intra- and inter-op threads;
    4. for "torch": ``torch.manual_seed``, deterministic algorithms,
       ``torch.set_num_threads(threads)``;
    5. ``np.set_printoptions(precision=precision, suppress=True)``;
    6. prints one line of versions and the device (unless ``quiet``) and, with
       "tensorflow", a second line naming the Keras masking regime
       (:func:`lessons_lib.keras_regime.keras_mask_regime`: do recurrent
       layers pass their mask on?), because several Keras results depend on it;
    7. inside IPython or Jupyter, switches exception reporting to ``xmode``
       (IPython's ``%xmode``; default "Minimal": an error shows one line,
       ``ValueError: ...``, instead of a page of frames, which is what a class
       needs to read the lessons' error demos on a projector). The notice
       "Exception reporting mode: ..." that ``%xmode`` prints is swallowed.
       ``xmode=None`` leaves the mode alone; ``xmode="Context"`` gives back
       IPython's full tracebacks (so does ``%xmode Context`` in any cell).
       Outside IPython this step does nothing.
    8. with ``LESSONS_CHECK_FIGURES=1`` in the environment (:data:`CHECK_ENV`),
       inside IPython, calls :func:`check_figures`: every figure shown from
       then on is checked, and each problem is written to stderr, which a
       strict nbval run reports as a changed output.

    It returns nothing, so a setup cell shows just that one line; call
    :func:`versions` for the numbers. The TensorFlow variables must be in the
    environment before TensorFlow is imported, which is why this must be the
    first cell of a lesson.

    Example:
        >>> setup_notebook(0)
        python 3.11 | numpy 2.4.6 | device CPU
    """
    frameworks = tuple(frameworks)
    unknown = [f for f in frameworks if f not in _FRAMEWORKS]
    if unknown:
        raise ValueError(f"frameworks may contain {_FRAMEWORKS}, got unknown {unknown!r}")
    if xmode is not None and (not isinstance(xmode, str) or xmode.capitalize() not in XMODES):
        raise ValueError(f"xmode must be None or one of {XMODES}, got {xmode!r}")
    if "tensorflow" in frameworks and "tensorflow" in sys.modules and "TF_ENABLE_ONEDNN_OPTS" not in os.environ:
        raise RuntimeError("call setup_notebook() before importing tensorflow, so its logs can be silenced")
    for key, val in KERNEL_ENV.items():
        os.environ.setdefault(key, val)

    random.seed(seed)
    np.random.seed(seed)
    np.set_printoptions(precision=precision, suppress=True)
    device = "CPU"
    if "tensorflow" in frameworks:
        import keras
        import tensorflow as tf

        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:
            pass  # already initialised by an earlier call in this kernel
        keras.utils.set_random_seed(seed)
        tf.config.experimental.enable_op_determinism()
        if tf.config.list_physical_devices("GPU"):
            device = "GPU"
    if "torch" in frameworks:
        import torch

        torch.manual_seed(seed)
        torch.use_deterministic_algorithms(True)
        torch.set_num_threads(threads)
        if torch.cuda.is_available():
            device = "GPU"
    info = versions(frameworks)
    info["device"] = device
    if not quiet:
        print(" | ".join(f"{k} {v}" for k, v in info.items()))
        if "tensorflow" in frameworks:
            from .keras_regime import keras_mask_regime

            print(f"Keras mask regime: {keras_mask_regime()}")
    if xmode is not None:
        set_exception_mode(xmode)
    if os.environ.get("LESSONS_CHECK_FIGURES") == "1":
        check_figures()


def check_figures() -> bool:
    """Check every matplotlib figure this IPython kernel shows as PNG; say whether the check is on.

    The inline backend turns a figure into PNG through IPython's ``image/png``
    formatter (whether ``plt.show()`` or the end of the cell shows it, before
    it is closed). This wraps that formatter: after the PNG is made, each
    problem :func:`lessons_lib.plots.figure_problems` finds (text under 10 px at
    100%, an image over 800 px wide) is written to stderr as
    ``figure check: ...``. The image itself is unchanged. Calling it again does
    nothing more. Outside IPython (or without matplotlib's inline backend) it
    does nothing and returns False.

    Example (outside IPython nothing happens):
        >>> check_figures()
        False
    """
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        return False
    import matplotlib

    try:  # auto_select=False (matplotlib >= 3.10): do not pick a backend just to ask
        backend = matplotlib.get_backend(auto_select=False)
    except TypeError:
        backend = matplotlib.get_backend()
    if "inline" not in str(backend):
        return False
    # Importing the backend activates it (once per kernel): it registers its PNG formatter,
    # which must exist before it can be wrapped.
    import matplotlib_inline.backend_inline  # noqa: F401
    from matplotlib.figure import Figure

    formatter = shell.display_formatter.formatters["image/png"]
    try:
        make_png = formatter.lookup_by_type(Figure)
    except KeyError:
        return False
    if getattr(make_png, "checks_figures", False):
        return True

    def checked_png(fig):
        png = make_png(fig)
        try:
            from .plots import figure_problems, png_size

            problems = figure_problems(fig, width_px=png_size(png)[0]) if png else []
        except Exception as err:  # a broken check must not hide the figure
            problems = [f"could not check the figure: {type(err).__name__}: {err}"]
        for problem in problems:
            print(f"figure check: {problem}", file=sys.stderr)
        return png

    checked_png.checks_figures = True
    formatter.for_type(Figure, checked_png)
    return True


def set_exception_mode(xmode: str = "Minimal") -> bool:
    """Run IPython's ``%xmode xmode`` quietly, if this runs inside IPython; say whether it did.

    Example (outside IPython nothing happens):
        >>> set_exception_mode("Minimal")
        False
    """
    if not isinstance(xmode, str) or xmode.capitalize() not in XMODES:
        raise ValueError(f"xmode must be one of {XMODES}, got {xmode!r}")
    ipython = sys.modules.get("IPython")  # never import IPython just to find out it is not running
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        return False
    with contextlib.redirect_stdout(io.StringIO()):  # %xmode prints "Exception reporting mode: ..."
        shell.run_line_magic("xmode", xmode.capitalize())
    return True
