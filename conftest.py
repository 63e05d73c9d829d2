"""Root pytest configuration: every kernel nbval starts gets the lessons' environment
(and the figure check: lessons_lib.notebook_setup.CHECK_ENV)."""

import os

from lessons_lib.notebook_setup import CHECK_ENV, KERNEL_ENV

os.environ.update({**KERNEL_ENV, **CHECK_ENV})
