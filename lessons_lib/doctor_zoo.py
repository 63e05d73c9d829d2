"""A zoo of small models that do, and do not, ignore their padding (for lesson 12 and the tests).

Every entry of :data:`ZOO` builds a tiny Keras model or torch module with
seeded random weights, including non-zero biases (a fresh Keras LSTM has a
zero cell bias, which can hide a padding leak), and says what
:func:`lessons_lib.doctor.check_padding` must find:

- ``bug``: "" for a correct model, else the bug in a few words;
- ``fails_on``: for each padding side, the smallest extra padding at which
  the bug shows (``None``: it never shows on that side);
- ``lost_at``: for Keras models, the layer :func:`lessons_lib.doctor.trace_mask`
  names as the first one that drops the mask (``None``: none does).

Both can depend on the Keras masking regime (``fails_on_316``,
``lost_at_316``: Keras >= 3.16, where recurrent layers stop passing masks
on; see :mod:`lessons_lib.keras_regime`). The correct Keras models pass an
explicit ``mask=`` where a mask must cross a recurrent layer, so that they are
correct in both regimes.

Token models read ids ``1 .. VOCAB - 1`` (0 is padding); feature models read
``(time, FEATURES)`` floats. :func:`zoo_sequences` makes the test batch.
Torch modules take ``(padded, lengths)``, and those that handle both padding
sides also take ``padding="post"``/``"pre"`` (the doctor passes it).
"""

from __future__ import annotations

import functools
import warnings
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ._validate import as_lengths, check_side
from .padding import pad_sequences
from .synthetic import random_ragged_batch, random_token_sequences

__all__ = [
    "CROP_STEPS",
    "EMBED",
    "FEATURES",
    "LENGTHS",
    "UNITS",
    "VOCAB",
    "WIDGET_MAX_EXTRA",
    "WIDGET_MODELS",
    "ZOO",
    "ZooModel",
    "build",
    "honest_weights",
    "names",
    "padding_differences",
    "to_post_padding",
    "torch_class",
    "zoo_sequences",
]

VOCAB, EMBED, UNITS, FEATURES = 20, 4, 8, 3
#: Lengths of the zoo's test batch: varied, with a length-1 sequence, longest 8.
LENGTHS = (5, 2, 8, 1, 4, 3, 7, 2)
#: ``torch_crop`` keeps only the first CROP_STEPS steps of its input.
CROP_STEPS = 12


def zoo_sequences(inputs: str = "tokens", lengths=LENGTHS, *, seed: int = 0) -> list[np.ndarray]:
    """The zoo's test batch: token ids (``"tokens"``) or float features (``"features"``).

    Example:
        >>> [len(s) for s in zoo_sequences()] == list(LENGTHS)
        True
        >>> zoo_sequences("features", [2])[0].shape
        (2, 3)
    """
    lengths = as_lengths(lengths)
    if inputs == "tokens":
        return random_token_sequences(lengths, VOCAB, seed=seed)
    if inputs == "features":
        return random_ragged_batch(lengths, FEATURES, seed=seed)
    raise ValueError(f"inputs must be 'tokens' or 'features', got {inputs!r}")


def honest_weights(model, seed: int) -> None:
    """Overwrite every weight of a Keras model or torch module with seeded N(0, 0.5) values.

    Non-zero biases make padding leaks visible. A torch ``nn.Embedding`` with a
    ``padding_idx`` keeps that row at zero, as torch does.

    Example:
        >>> import torch
        >>> lstm = torch.nn.LSTM(2, 3)
        >>> honest_weights(lstm, seed=1)
        >>> bool(lstm.bias_ih_l0.abs().min() > 0)
        True
    """
    rng = np.random.default_rng(seed)
    if hasattr(model, "named_parameters") and not hasattr(model, "get_weights"):
        import torch

        with torch.no_grad():
            for _, p in model.named_parameters():
                p.copy_(torch.from_numpy(rng.normal(0.0, 0.5, tuple(p.shape))).to(p.dtype))
            for m in model.modules():
                if isinstance(m, torch.nn.Embedding) and m.padding_idx is not None:
                    m.weight[m.padding_idx].zero_()
        return
    for w in model.weights:
        w.assign(rng.normal(0.0, 0.5, tuple(w.shape)).astype(w.dtype))


# --------------------------------------------------------------------------- Keras builders


def _k():
    import keras

    return keras, keras.layers


def _tokens():
    keras, _ = _k()
    return keras.Input((None,), dtype="int64", name="tokens")


def _keras_sequential(name: str, *stack) -> object:
    keras, _ = _k()
    return keras.Sequential([_tokens(), *stack], name=name)


def _keras_mask_zero():
    _, layers = _k()
    return _keras_sequential(
        "keras_mask_zero", layers.Embedding(VOCAB, EMBED, mask_zero=True, name="embedding"), layers.LSTM(UNITS, name="lstm")
    )


def _keras_masking_layer():
    keras, layers = _k()
    return keras.Sequential(
        [keras.Input((None, FEATURES), name="features"), layers.Masking(0.0, name="masking"), layers.LSTM(UNITS, name="lstm")],
        name="keras_masking_layer",
    )


def _keras_explicit_mask():
    keras, layers = _k()
    tokens = _tokens()
    mask = keras.ops.not_equal(tokens, 0)
    x = layers.Embedding(VOCAB, EMBED, name="embedding")(tokens)
    x = layers.LSTM(UNITS, return_sequences=True, name="lstm_a")(x, mask=mask)
    return keras.Model(tokens, layers.LSTM(UNITS, name="lstm_b")(x, mask=mask), name="keras_explicit_mask")


def _keras_masked_mean():
    keras, layers = _k()
    tokens = _tokens()
    mask = keras.ops.not_equal(tokens, 0)
    x = layers.Embedding(VOCAB, EMBED, name="embedding")(tokens)
    x = layers.LSTM(UNITS, return_sequences=True, name="lstm")(x, mask=mask)
    return keras.Model(tokens, layers.GlobalAveragePooling1D(name="mean")(x, mask=mask), name="keras_masked_mean")


def _keras_bidirectional():
    _, layers = _k()
    return _keras_sequential(
        "keras_bidirectional",
        layers.Embedding(VOCAB, EMBED, mask_zero=True, name="embedding"),
        layers.Bidirectional(layers.LSTM(UNITS), name="bidirectional"),
    )


def _keras_per_step():
    _, layers = _k()
    return _keras_sequential(
        "keras_per_step",
        layers.Embedding(VOCAB, EMBED, mask_zero=True, name="embedding"),
        layers.LSTM(UNITS, return_sequences=True, name="lstm"),
        layers.Dense(2, name="dense"),
    )


def _keras_implicit_stack():
    _, layers = _k()
    return _keras_sequential(
        "keras_implicit_stack",
        layers.Embedding(VOCAB, EMBED, mask_zero=True, name="embedding"),
        layers.LSTM(UNITS, return_sequences=True, name="lstm_a"),
        layers.LSTM(UNITS, name="lstm_b"),
    )


def _keras_implicit_mean():
    _, layers = _k()
    return _keras_sequential(
        "keras_implicit_mean",
        layers.Embedding(VOCAB, EMBED, mask_zero=True, name="embedding"),
        layers.LSTM(UNITS, return_sequences=True, name="lstm"),
        layers.GlobalAveragePooling1D(name="mean"),
    )


def _keras_masking_after_embedding():
    _, layers = _k()
    return _keras_sequential(
        "keras_masking_after_embedding",
        layers.Embedding(VOCAB, EMBED, name="embedding"),
        layers.Masking(0.0, name="masking"),
        layers.LSTM(UNITS, name="lstm"),
    )


def _keras_conv1d_same():
    _, layers = _k()
    return _keras_sequential(
        "keras_conv1d_same",
        layers.Embedding(VOCAB, EMBED, mask_zero=True, name="embedding"),
        layers.Conv1D(EMBED, 3, padding="same", name="conv1d"),
        layers.LSTM(UNITS, name="lstm"),
    )


def _keras_conv1d_same_masked():
    keras, layers = _k()
    tokens = _tokens()
    mask = keras.ops.not_equal(tokens, 0)
    x = layers.Embedding(VOCAB, EMBED, name="embedding")(tokens)
    x = layers.Conv1D(EMBED, 3, padding="same", name="conv1d")(x)
    return keras.Model(tokens, layers.LSTM(UNITS, name="lstm")(x, mask=mask), name="keras_conv1d_same_masked")


def _keras_lambda():
    _, layers = _k()
    return _keras_sequential(
        "keras_lambda",
        layers.Embedding(VOCAB, EMBED, mask_zero=True, name="embedding"),
        layers.Lambda(lambda x: 2.0 * x, name="double"),
        layers.LSTM(UNITS, name="lstm"),
    )


def _keras_ops():
    keras, layers = _k()
    tokens = _tokens()
    x = layers.Embedding(VOCAB, EMBED, mask_zero=True, name="embedding")(tokens)
    x = keras.ops.multiply(x, 2.0)  # an op, not a layer: its output carries no mask, and nothing warns
    return keras.Model(tokens, layers.LSTM(UNITS, name="lstm")(x), name="keras_ops")


def _keras_max_pool():
    _, layers = _k()
    return _keras_sequential(
        "keras_max_pool",
        layers.Embedding(VOCAB, EMBED, mask_zero=True, name="embedding"),
        layers.LSTM(UNITS, return_sequences=True, name="lstm"),
        layers.GlobalMaxPooling1D(name="max_pool"),
    )


def _keras_constant_mask():
    keras, layers = _k()
    seqs = zoo_sequences("tokens")
    constant = pad_sequences(seqs) != 0  # the mask of ONE batch, baked into the model
    tokens = _tokens()
    x = layers.Embedding(VOCAB, EMBED, name="embedding")(tokens)
    return keras.Model(tokens, layers.LSTM(UNITS, name="lstm")(x, mask=constant), name="keras_constant_mask")


def _keras_unmasked_bidirectional():
    _, layers = _k()
    return _keras_sequential(
        "keras_unmasked_bidirectional",
        layers.Embedding(VOCAB, EMBED, name="embedding"),
        layers.Bidirectional(layers.LSTM(UNITS), name="bidirectional"),
    )


def _keras_per_step_no_mask():
    _, layers = _k()
    return _keras_sequential(
        "keras_per_step_no_mask",
        layers.Embedding(VOCAB, EMBED, name="embedding"),
        layers.LSTM(UNITS, return_sequences=True, name="lstm"),
        layers.Dense(2, name="dense"),
    )


# --------------------------------------------------------------------------- torch modules


def to_post_padding(padded, lengths, padding: str = "post"):
    """A pre-padded torch batch moved to post-padding (each row rolled left); post is returned as is.

    Example:
        >>> import torch
        >>> to_post_padding(torch.tensor([[0, 0, 7, 8], [0, 5, 6, 9]]), torch.tensor([2, 3]), "pre").tolist()
        [[7, 8, 0, 0], [5, 6, 9, 0]]
    """
    import torch

    check_side("padding", padding)
    if padding == "post":
        return padded
    steps = padded.shape[1]
    shift = (steps - lengths).to(padded.device)  # padded steps in front of each row
    index = (torch.arange(steps, device=padded.device)[None, :] + shift[:, None]) % steps
    if padded.dim() == 3:
        index = index[..., None].expand(-1, -1, padded.shape[2])
    return padded.gather(1, index)


def _torch_classes() -> dict[str, type]:
    """The zoo's torch modules (defined on first use, so importing this module needs no torch)."""
    import torch
    from torch import nn
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    class PackedLSTM(nn.Module):
        """Correct: packs (enforce_sorted=False) and returns the last layer's h_n (both directions if bidirectional)."""

        def __init__(self, bidirectional: bool = False, num_layers: int = 1):
            super().__init__()
            self.embed = nn.Embedding(VOCAB, EMBED, padding_idx=0)
            self.lstm = nn.LSTM(EMBED, UNITS, num_layers=num_layers, batch_first=True, bidirectional=bidirectional)

        def encode(self, padded, lengths):
            packed = pack_padded_sequence(self.embed(padded), lengths, batch_first=True, enforce_sorted=False)
            return self.lstm(packed)

        def final_state(self, h_n):
            # h_n: (layers * directions, batch, units), already in the batch's original order.
            return torch.cat([h_n[-2], h_n[-1]], dim=1) if self.lstm.bidirectional else h_n[-1]

        def forward(self, padded, lengths, padding="post"):
            _, (h_n, _) = self.encode(to_post_padding(padded, lengths, padding), lengths)
            return self.final_state(h_n)

    class PackedMeanPool(PackedLSTM):
        """Correct: mean of the LSTM outputs over real steps only."""

        def forward(self, padded, lengths, padding="post"):
            packed_out, _ = self.encode(to_post_padding(padded, lengths, padding), lengths)
            out, _ = pad_packed_sequence(packed_out, batch_first=True, total_length=padded.shape[1])
            return out.sum(dim=1) / lengths[:, None].to(out.dtype)

    class PackedMaxPool(PackedLSTM):
        """Broken: max over time of pad_packed_sequence's output, whose padded steps are 0."""

        def forward(self, padded, lengths, padding="post"):
            packed_out, _ = self.encode(to_post_padding(padded, lengths, padding), lengths)
            out, _ = pad_packed_sequence(packed_out, batch_first=True, total_length=padded.shape[1])
            return out.max(dim=1).values

    class PackAsIfPostPadded(PackedLSTM):
        """Broken: packs whatever it gets as if it were post-padded (no ``padding`` argument)."""

        def forward(self, padded, lengths):
            _, (h_n, _) = self.encode(padded, lengths)
            return self.final_state(h_n)

    class LastOutput(nn.Module):
        """Broken: runs the LSTM over the padded batch and takes output[:, -1]."""

        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(VOCAB, EMBED, padding_idx=0)
            self.lstm = nn.LSTM(EMBED, UNITS, batch_first=True)

        def forward(self, padded, lengths):
            out, _ = self.lstm(self.embed(padded))
            return out[:, -1]

    class UnpackedBidirectional(nn.Module):
        """Broken: a bidirectional LSTM over the padded batch, no packing; returns both h_n."""

        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(VOCAB, EMBED, padding_idx=0)
            self.lstm = nn.LSTM(EMBED, UNITS, batch_first=True, bidirectional=True)

        def forward(self, padded, lengths):
            _, (h_n, _) = self.lstm(self.embed(padded))
            return torch.cat([h_n[-2], h_n[-1]], dim=1)

    class CropToTraining(PackedLSTM):
        """Broken: keeps the first CROP_STEPS steps ("longer than training never happens")."""

        def forward(self, padded, lengths, padding="post"):
            padded, lengths = padded[:, :CROP_STEPS], lengths.clamp(max=CROP_STEPS)
            return super().forward(padded, lengths, padding)

    return {c.__name__: c for c in (PackedLSTM, PackedMeanPool, PackedMaxPool, PackAsIfPostPadded, LastOutput,
                                     UnpackedBidirectional, CropToTraining)}


_TORCH_CLASSES: dict[str, type] = {}


def torch_class(name: str) -> type:
    """One of the zoo's torch module classes by name (``"PackedLSTM"``, ``"LastOutput"``...)."""
    if not _TORCH_CLASSES:
        _TORCH_CLASSES.update(_torch_classes())
    if name not in _TORCH_CLASSES:
        raise ValueError(f"no zoo torch class {name!r}; choose from {sorted(_TORCH_CLASSES)}")
    return _TORCH_CLASSES[name]


def _torch(cls_name: str, **kwargs) -> Callable[[], object]:
    def build():
        import torch

        with torch.random.fork_rng():  # building draws from torch's RNG; leave the caller's stream alone
            return torch_class(cls_name)(**kwargs)

    return build


# --------------------------------------------------------------------------- the zoo

_SAME = object()
NEVER = {"post": None, "pre": None}
ALWAYS = {"post": 0, "pre": 0}
PRE_ONLY = {"post": None, "pre": 0}


@dataclass(frozen=True)
class ZooModel:
    """One zoo entry: how to build it and what the doctor must say about it."""

    name: str
    framework: str  # "keras" or "torch"
    inputs: str  # "tokens" or "features"
    builder: Callable[[], object] = field(repr=False)
    bug: str = ""
    fails_on: dict = field(default_factory=lambda: dict(NEVER))
    lost_at: str | None = None
    fails_on_316: object = _SAME
    lost_at_316: object = _SAME

    def build(self):
        """A fresh model with this entry's seeded weights."""
        with warnings.catch_warnings():
            # A broken Keras model warns while its graph is built; the doctor and trace_mask report it.
            warnings.simplefilter("ignore")
            model = self.builder()
        honest_weights(model, seed=zlib.crc32(self.name.encode()))
        return model

    def expected_fails_on(self, recurrent_layers_pass_mask: bool = True) -> dict:
        """Side -> smallest failing extra padding (or None), in the given Keras masking regime."""
        if not recurrent_layers_pass_mask and self.fails_on_316 is not _SAME:
            return dict(self.fails_on_316)
        return dict(self.fails_on)

    def expected_ok(self, recurrent_layers_pass_mask: bool = True) -> bool:
        """Should the doctor pass this model (with both sides and extra padding (0, 5))?"""
        return all(v is None for v in self.expected_fails_on(recurrent_layers_pass_mask).values())

    def expected_case_fails(self, padding: str, extra_padding: int, recurrent_layers_pass_mask: bool = True) -> bool:
        """Should the case (padding side, extra padding) fail?"""
        first = self.expected_fails_on(recurrent_layers_pass_mask)[padding]
        return first is not None and extra_padding >= first

    def expected_lost_at(self, recurrent_layers_pass_mask: bool = True) -> str | None:
        """The layer trace_mask should name (Keras models), in the given regime."""
        if not recurrent_layers_pass_mask and self.lost_at_316 is not _SAME:
            return self.lost_at_316
        return self.lost_at


def _entries() -> list[ZooModel]:
    stops = dict(ALWAYS)  # what an implicit-mask model does once recurrent layers stop passing masks on
    return [
        # Correct, in both Keras masking regimes.
        ZooModel("keras_mask_zero", "keras", "tokens", _keras_mask_zero),
        ZooModel("keras_masking_layer", "keras", "features", _keras_masking_layer),
        ZooModel("keras_explicit_mask", "keras", "tokens", _keras_explicit_mask, lost_at_316="lstm_a"),
        ZooModel("keras_masked_mean", "keras", "tokens", _keras_masked_mean, lost_at_316="lstm"),
        ZooModel("keras_bidirectional", "keras", "tokens", _keras_bidirectional),
        ZooModel("keras_per_step", "keras", "tokens", _keras_per_step, lost_at_316="lstm"),
        ZooModel("torch_packed", "torch", "tokens", _torch("PackedLSTM")),
        ZooModel("torch_packed_bidirectional", "torch", "tokens", _torch("PackedLSTM", bidirectional=True)),
        ZooModel("torch_masked_mean", "torch", "tokens", _torch("PackedMeanPool")),
        # Correct while recurrent layers pass their mask on (Keras <= 3.15) only.
        ZooModel("keras_implicit_stack", "keras", "tokens", _keras_implicit_stack,
                 bug="LSTM 2 needs LSTM 1 to pass the mask on",
                 fails_on_316=stops, lost_at_316="lstm_a"),
        ZooModel("keras_implicit_mean", "keras", "tokens", _keras_implicit_mean,
                 bug="the pooling needs the LSTM to pass the mask on",
                 fails_on_316=stops, lost_at_316="lstm"),
        # Broken.
        ZooModel("keras_masking_after_embedding", "keras", "tokens", _keras_masking_after_embedding,
                 bug="Masking(0) after Embedding masks nothing", fails_on=dict(ALWAYS)),
        ZooModel("keras_conv1d_same", "keras", "tokens", _keras_conv1d_same,
                 bug="Conv1D drops the mask", fails_on=dict(ALWAYS), lost_at="conv1d"),
        ZooModel("keras_conv1d_same_masked", "keras", "tokens", _keras_conv1d_same_masked,
                 bug="Conv1D(padding='same') mixes padding in", fails_on=dict(ALWAYS)),
        ZooModel("keras_lambda", "keras", "tokens", _keras_lambda,
                 bug="a Lambda layer drops the mask", fails_on=dict(ALWAYS), lost_at="double"),
        ZooModel("keras_ops", "keras", "tokens", _keras_ops,
                 bug="a keras.ops step drops the mask silently", fails_on=dict(ALWAYS), lost_at="multiply"),
        ZooModel("keras_max_pool", "keras", "tokens", _keras_max_pool,
                 bug="GlobalMaxPooling1D ignores the mask", fails_on=dict(PRE_ONLY), lost_at="max_pool",
                 lost_at_316="lstm"),
        ZooModel("keras_constant_mask", "keras", "tokens", _keras_constant_mask,
                 bug="a constant mask= fits one batch only", fails_on=dict(ALWAYS)),
        ZooModel("keras_unmasked_bidirectional", "keras", "tokens", _keras_unmasked_bidirectional,
                 bug="Bidirectional without a mask", fails_on=dict(ALWAYS)),
        ZooModel("keras_per_step_no_mask", "keras", "tokens", _keras_per_step_no_mask,
                 bug="per-step outputs without a mask", fails_on=dict(PRE_ONLY)),
        ZooModel("torch_last_output", "torch", "tokens", _torch("LastOutput"),
                 bug="output[:, -1] of an unpacked LSTM", fails_on=dict(ALWAYS)),
        ZooModel("torch_pack_pre_padded", "torch", "tokens", _torch("PackAsIfPostPadded"),
                 bug="packs a pre-padded batch as if post-padded", fails_on=dict(PRE_ONLY)),
        ZooModel("torch_max_pool", "torch", "tokens", _torch("PackedMaxPool"),
                 bug="max pooling over padded (zero) outputs", fails_on=dict(ALWAYS)),
        ZooModel("torch_unpacked_bidirectional", "torch", "tokens", _torch("UnpackedBidirectional"),
                 bug="bidirectional LSTM without packing", fails_on=dict(ALWAYS)),
        ZooModel("torch_crop", "torch", "tokens", _torch("CropToTraining"),
                 bug=f"crops its input to the first {CROP_STEPS} steps",
                 fails_on={"post": None, "pre": CROP_STEPS - max(LENGTHS) + 1}),
    ]


#: name -> :class:`ZooModel`, correct models first.
ZOO: dict[str, ZooModel] = {e.name: e for e in _entries()}


def build(name: str):
    """Build the zoo model ``name`` (a fresh one each call).

    Example:
        >>> type(build("torch_packed")).__name__
        'PackedLSTM'
    """
    if name not in ZOO:
        raise ValueError(f"no zoo model {name!r}; choose from {sorted(ZOO)}")
    return ZOO[name].build()


def names(framework: str | None = None, *, correct: bool | None = None, recurrent_layers_pass_mask: bool = True) -> list[str]:
    """Zoo names, optionally only one framework's, or only the correct (or broken) ones.

    Example:
        >>> names("torch", correct=True)
        ['torch_packed', 'torch_packed_bidirectional', 'torch_masked_mean']
    """
    if framework not in (None, "keras", "torch"):
        raise ValueError(f"framework must be None, 'keras' or 'torch', got {framework!r}")
    return [
        e.name
        for e in ZOO.values()
        if (framework is None or e.framework == framework)
        and (correct is None or e.expected_ok(recurrent_layers_pass_mask) == correct)
    ]


# --------------------------------------------------------------------------- lesson 12's widget

#: The zoo models lesson 12's widget offers, and its largest extra padding.
WIDGET_MODELS = (
    "keras_mask_zero",
    "keras_masking_after_embedding",
    "keras_max_pool",
    "keras_per_step_no_mask",
    "torch_packed",
    "torch_last_output",
    "torch_pack_pre_padded",
    "torch_crop",
)
WIDGET_MAX_EXTRA = 8


@functools.lru_cache(maxsize=None)
def padding_differences(name: str, max_extra: int = WIDGET_MAX_EXTRA):
    """The doctor's report on zoo model ``name`` for both sides and every extra padding 0..max_extra (cached).

    Example:
        >>> report = padding_differences("torch_crop")
        >>> bool(report.diffs("pre", 5).max() > 1e-3), bool(report.diffs("pre", 4).max() < 1e-5)
        (True, True)
    """
    from .doctor import check_padding

    entry = ZOO.get(name)
    if entry is None:
        raise ValueError(f"no zoo model {name!r}; choose from {sorted(ZOO)}")
    return check_padding(entry.build(), zoo_sequences(entry.inputs), extra_padding=range(max_extra + 1))
