"""Widget factories, one module per lesson (``lesson01`` ...).

Each factory is a thin wrapper around a pure function elsewhere in lessons_lib:
tests drive it by setting ``.value`` on its controls and reading the result.
Modules here import ipywidgets, so nothing imports them implicitly.

Shared layout, so every lesson's controls look alike (the playground can use it too):

- :data:`DESCRIPTION_WIDTH`: the width of every control's description label, so
  slider tracks, dropdowns and buttons start at the same x;
- :data:`CONTROL_WIDTH`: the width of every control row;
- :func:`control_options`: ``style=`` and ``layout=`` keywords with those two, for
  ``IntSlider``, ``Dropdown``, ``ToggleButtons`` and ``Checkbox``;
- :func:`toggle_buttons`: a ``ToggleButtons`` whose label sits on the buttons' row.
  ipywidgets 8 renders ``ToggleButtons`` as a plain block: its view does not add
  the ``jupyter-widgets widget-inline-hbox`` classes that sliders and dropdowns
  get, so its ``<label>`` is an inline element followed by a block ``<div>`` of
  buttons, which starts a new line. This adds the two classes (the row becomes a
  flex row, the label right-aligned at :data:`DESCRIPTION_WIDTH`, like every
  other label) and gives the buttons :data:`TOGGLE_BUTTON_WIDTH`, so that two or
  three of them fit on the row beside the label.

This module itself does not import ipywidgets.
"""

from __future__ import annotations

__all__ = ["CONTROL_WIDTH", "DESCRIPTION_WIDTH", "TOGGLE_BUTTON_WIDTH", "control_options", "toggle_buttons"]

#: Width of every description label (fits "unmasked model", the longest lesson description).
DESCRIPTION_WIDTH = "120px"
#: Width of every control row: label, then the slider track (about 200 px) and its readout.
CONTROL_WIDTH = "420px"
#: Width of each ToggleButtons button (the ipywidgets default, 148 px, wraps a second button).
TOGGLE_BUTTON_WIDTH = "96px"


def control_options() -> dict:
    """Fresh ``style=`` and ``layout=`` keywords for one control (each control gets its own objects).

    Example:
        >>> control_options()
        {'style': {'description_width': '120px'}, 'layout': {'width': '420px'}}
    """
    return {"style": {"description_width": DESCRIPTION_WIDTH}, "layout": {"width": CONTROL_WIDTH}}


def toggle_buttons(**kwargs):
    """``ipywidgets.ToggleButtons(**kwargs, **control_options())`` with its label inline (see above).

    Example:
        >>> t = toggle_buttons(options=["post", "pre"], description="padding")
        >>> t.value, t._dom_classes, t.style.button_width
        ('post', ('jupyter-widgets', 'widget-inline-hbox'), '96px')
    """
    import ipywidgets as widgets

    options = control_options()
    options["style"]["button_width"] = TOGGLE_BUTTON_WIDTH
    control = widgets.ToggleButtons(**options, **kwargs)
    control.add_class("jupyter-widgets")
    control.add_class("widget-inline-hbox")
    return control
