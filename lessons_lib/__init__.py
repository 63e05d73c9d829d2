"""Helpers for the course on feeding variable-length sequences to LSTMs.

Import it as ``import lessons_lib as ll``. This top level imports only NumPy
code; modules that need a framework are imported explicitly, for example
``from lessons_lib import keras_masking``, so that ``ll.setup_notebook()``
can quiet TensorFlow before it is first imported.
"""

from . import padding_effects, plots  # noqa: F401  (ll.plots.plot_mask, ll.padding_effects...)
from .batching import bucket_batches, padding_fraction, random_batches, sorted_batches
from .compare import Comparison, compare
from .masks import lengths_from_mask, mask_from_padded, sequence_mask
from .notebook_setup import KERNEL_ENV, setup_notebook, versions
from .padding import pad_sequences, unpad_sequences
from .reference_lstm import lstm_forward, random_lstm_weights
from .synthetic import random_lengths, random_ragged_batch, random_token_sequences

__all__ = [
    "KERNEL_ENV",
    "Comparison",
    "bucket_batches",
    "compare",
    "lengths_from_mask",
    "lstm_forward",
    "mask_from_padded",
    "pad_sequences",
    "padding_fraction",
    "random_batches",
    "random_lengths",
    "random_lstm_weights",
    "random_ragged_batch",
    "random_token_sequences",
    "sequence_mask",
    "setup_notebook",
    "sorted_batches",
    "unpad_sequences",
    "versions",
]
