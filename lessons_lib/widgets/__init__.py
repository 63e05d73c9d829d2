"""Widget factories, one module per lesson (``lesson01`` ...).

Each factory is a thin wrapper around a pure function elsewhere in lessons_lib:
tests drive it by setting ``.value`` on its controls and reading the result.
Modules here import ipywidgets, so nothing imports them implicitly.
"""
