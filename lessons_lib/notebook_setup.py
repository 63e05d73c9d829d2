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

__all__ = ["KERNEL_ENV", "XMODES", "set_exception_mode", "setup_notebook", "versions"]

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
}

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
