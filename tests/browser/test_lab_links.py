"""The playground's links to the myths of lesson 08 work in JupyterLab.

A click on a myth link in 09 opens 08 in a new tab, and the link's fragment names a heading that
08 really has (JupyterLab stores a heading's id as ``data-jupyter-id``). JupyterLab 4.6 does not
scroll a notebook opened this way to its fragment (a probe with a plain ``#Summary`` link stayed
at the top too), so the link text names the myth's number for the reader to find.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_myth_link_opens_08_and_names_a_real_heading(lab_url, page, artifacts_dir):
    page.goto(f"{lab_url}/lab/tree/09_playground.ipynb?reset")
    page.wait_for_selector(".jp-Notebook .jp-MarkdownOutput")
    # Lab rewrites a relative link to /files/08_myths_and_facts.ipynb?_xsrf=...#Myth-7:-...
    # and opens it as a document when clicked.
    link = page.locator(".jp-MarkdownOutput a[href*='08_myths_and_facts.ipynb'][href*='#Myth-7']").first
    fragment = unquote(urlsplit(link.get_attribute("href")).fragment)
    link.scroll_into_view_if_needed()
    link.click()
    page.locator(".lm-TabBar-tab.lm-mod-current", has_text="08_myths_and_facts.ipynb").wait_for()
    heading = page.locator(".jp-MarkdownOutput h2", has_text=re.compile(r"^Myth 7:")).first
    heading.wait_for(state="attached")
    assert heading.get_attribute("data-jupyter-id") == fragment
    page.screenshot(path=str(artifacts_dir / "lab_09_myth_link.png"))
