"""Which Keras masking regime is installed, and a faithful simulation of the next one.

Keras 3.15 and earlier: a recurrent layer (``RNN`` and so ``LSTM``/``GRU``,
``Bidirectional``, ``TimeDistributed``) passes its input's mask on to its
output, so a stacked LSTM, a ``Dense`` after ``return_sequences=True`` and the
loss all see the mask.

Keras 3.16 (keras-team/keras PR #23235, commit a8b52ca) sets
``supports_masking = False`` on those three classes. The layer still *uses*
the mask it receives (its own outputs and states are unchanged), but its
output carries no mask, and Keras warns that the layer "will therefore
destroy the mask information".

:func:`keras_mask_regime` tells the two apart by behaviour, not by version
string, so it stays right whatever release made the change.
:func:`simulate_keras_316` flips exactly that one flag in the running process,
which is how the tests check every lesson under both regimes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = ["PROPAGATES", "STOPS", "keras_mask_regime", "recurrent_layers_pass_mask", "simulate_keras_316"]

#: Regime names, as printed by the setup cell.
PROPAGATES = "recurrent layers pass the mask on (Keras <= 3.15)"
STOPS = "recurrent layers do not pass the mask on (Keras >= 3.16)"

_PATCHED = "_lessons_lib_simulated_316"


def recurrent_layers_pass_mask() -> bool:
    """Does the installed Keras carry a mask through a recurrent layer's output?

    Probed symbolically: ``Input -> Embedding(mask_zero=True) -> LSTM(return_sequences=True)``,
    then look for a mask on the LSTM's output tensor. Takes a few milliseconds.

    Example:
        >>> recurrent_layers_pass_mask() in (True, False)
        True
    """
    import warnings

    import keras

    inputs = keras.Input((3,), dtype="int32")
    embedded = keras.layers.Embedding(4, 2, mask_zero=True)(inputs)
    with warnings.catch_warnings():
        # Under the 3.16 regime the probe itself triggers the "destroy the mask" warning.
        warnings.simplefilter("ignore")
        outputs = keras.layers.LSTM(2, return_sequences=True)(embedded)
    return getattr(outputs, "_keras_mask", None) is not None


def keras_mask_regime() -> str:
    """The masking regime of the installed Keras: :data:`PROPAGATES` or :data:`STOPS`.

    Example:
        >>> keras_mask_regime() in (PROPAGATES, STOPS)
        True
    """
    return PROPAGATES if recurrent_layers_pass_mask() else STOPS


def _layer_classes() -> tuple[type, ...]:
    import keras

    return (keras.layers.RNN, keras.layers.Bidirectional, keras.layers.TimeDistributed)


_always_false = property(lambda self: False, lambda self, value: None, doc="False: simulated Keras 3.16 regime")


def _patch() -> list[tuple[type, object]]:
    saved = []
    for cls in _layer_classes():
        if _PATCHED in cls.__dict__:
            continue
        # Keras assigns self.supports_masking = True in __init__, so a plain class attribute
        # would be overwritten per instance: a property that ignores assignment is what
        # turns the flag off, exactly as the upstream change does in __init__.
        saved.append((cls, cls.__dict__.get("supports_masking", _MISSING)))
        cls.supports_masking = _always_false
        setattr(cls, _PATCHED, True)
    return saved


def _unpatch(saved: list[tuple[type, object]]) -> None:
    for cls, old in saved:
        if old is _MISSING:
            del cls.supports_masking
        else:
            cls.supports_masking = old
        delattr(cls, _PATCHED)


_MISSING = object()


@contextlib.contextmanager
def _simulated() -> Iterator[None]:
    saved = _patch()
    try:
        yield
    finally:
        _unpatch(saved)


def simulate_keras_316(*, permanent: bool = False):
    """Make the installed Keras behave like 3.16: recurrent layers stop passing masks on.

    Sets ``supports_masking = False`` on ``keras.layers.RNN``, ``Bidirectional``
    and ``TimeDistributed`` (and so on ``LSTM``, ``GRU`` and every subclass),
    which is the whole of the upstream change. Layers built inside the ``with``
    block, and called inside it, behave as under 3.16.

    Use it as a context manager (``with simulate_keras_316(): ...``), or with
    ``permanent=True`` for the rest of the process (how the tests run a whole
    notebook under the 3.16 regime).

    Example:
        >>> with simulate_keras_316():
        ...     keras_mask_regime() == STOPS
        True
        >>> keras_mask_regime() == PROPAGATES  # back to the installed behaviour
        True
    """
    if permanent:
        _patch()
        return None
    return _simulated()
