"""Voila settings for ``make playground`` that the command line cannot carry (a callable).

Voila 0.5.13 shuts a kernel down when its tab closes by a ``beforeunload`` beacon that sends
the ``_xsrf`` cookie, but its page never sets that cookie, so the server answers
"403: '_xsrf' argument missing" and the kernel stays. The hook sets the cookie (XSRF checks
stay on).
"""

from lessons_lib.classroom import set_xsrf_cookie

c = get_config()  # noqa: F821 (traitlets provides get_config in config files)
c.VoilaConfiguration.prelaunch_hook = set_xsrf_cookie
