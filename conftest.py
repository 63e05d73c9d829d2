"""Root pytest configuration: every kernel nbval starts gets the lessons' environment."""

import os

from lessons_lib.notebook_setup import KERNEL_ENV

os.environ.update(KERNEL_ENV)
