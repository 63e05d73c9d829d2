"""What padding costs in compute: padded vs packed, masked vs unmasked, bucketed vs random.

All in one process, 1 thread per framework, median of repeats. Each timing
sits next to the deterministic count it should follow: padded steps
(batch x max_len) or packed steps (sum of lengths), from ``lessons_lib.cost``.
"""

from __future__ import annotations

import numpy as np

import lessons_lib as ll
from _common import Section, median_time, ms, ratio
from lessons_lib import cost

N_FEATURES = 16
UNITS = 64
BATCH = 64
N_CLASSES = 4


def _batches_of_lengths(quick: bool) -> dict[str, np.ndarray]:
    n = 32 if quick else BATCH
    return {
        "uniform 1..200": ll.random_lengths(n, 1, 200, seed=1),
        "long-tailed 1..500": cost.long_tailed_lengths(n, seed=1),
    }


def bench_torch_packed(quick: bool, repeats: int) -> Section:
    import torch
    from torch.nn.utils.rnn import pack_padded_sequence

    torch.manual_seed(0)
    lstm = torch.nn.LSTM(N_FEATURES, UNITS, batch_first=True)
    sec = Section(
        f"PyTorch LSTM: padded vs packed (batch {'32' if quick else BATCH}, {N_FEATURES} features, {UNITS} units)",
        "Same batch, same weights. 'padded' runs `lstm(x)` over the whole padded tensor; 'packed' "
        "includes `pack_padded_sequence(..., enforce_sorted=False)`. Steps: padded = batch x max_len, "
        "packed = sum of lengths. Ratios are padded time / packed time (> 1: packing is faster).",
        ["lengths", "max_len", "padded steps", "packed steps", "step ratio", "forward padded", "forward packed",
         "forward ratio", "fwd+bwd padded", "fwd+bwd packed", "fwd+bwd ratio"],
    )
    for name, lengths in _batches_of_lengths(quick).items():
        x = torch.from_numpy(ll.pad_sequences(ll.random_ragged_batch(lengths, N_FEATURES, seed=2)))
        lengths_t = torch.as_tensor(lengths, dtype=torch.int64)

        def forward(packed: bool):
            inp = pack_padded_sequence(x, lengths_t, batch_first=True, enforce_sorted=False) if packed else x
            out, _ = lstm(inp)
            return out.data if packed else out

        def padded_fwd():
            with torch.no_grad():
                forward(False)

        def packed_fwd():
            with torch.no_grad():
                forward(True)

        def padded_train():
            lstm.zero_grad(set_to_none=True)
            forward(False).sum().backward()

        def packed_train():
            lstm.zero_grad(set_to_none=True)
            forward(True).sum().backward()

        p_steps, k_steps = cost.padded_steps(lengths), cost.packed_steps(lengths)
        t = {f.__name__: median_time(f, repeats) for f in (padded_fwd, packed_fwd, padded_train, packed_train)}
        sec.rows.append(
            [name, int(lengths.max()), p_steps, k_steps, ratio(p_steps / k_steps),
             ms(t["padded_fwd"]), ms(t["packed_fwd"]), ratio(t["padded_fwd"] / t["packed_fwd"]),
             ms(t["padded_train"]), ms(t["packed_train"]), ratio(t["padded_train"] / t["packed_train"])]
        )
        sec.data[name] = dict(t, padded_steps=p_steps, packed_steps=k_steps)
    sec.notes.append(
        "The step ratio is the work packing saves; the time ratio is what this CPU delivers. On a CPU, "
        "PyTorch runs the padded LSTM as one fused oneDNN kernel, while the packed path steps through "
        "time in smaller operations on a shrinking batch, and its backward pass is many small per-step "
        "operations. So the time ratio falls short of the step ratio, and packing can even be slower, "
        "most of all for training. On a GPU both paths use cuDNN."
    )
    return sec


def bench_law(quick: bool, repeats: int) -> Section:
    """Time against step counts on hand-made batches: the law, isolated."""
    import keras
    import tensorflow as tf
    import torch
    from torch.nn.utils.rnn import pack_padded_sequence

    torch.manual_seed(0)
    keras.utils.set_random_seed(0)
    lstm_t = torch.nn.LSTM(N_FEATURES, UNITS, batch_first=True)
    lstm_k = keras.layers.LSTM(UNITS, return_sequences=True)
    keras_fwd = tf.function(lambda x, mask: lstm_k(x, mask=mask), reduce_retracing=True)
    b = 32 if quick else BATCH
    cases = {
        f"{b} x 100 (all full)": np.full(b, 100),
        f"{b} x 200 (all full)": np.full(b, 200),
        f"{b} x 200 (one 200, rest 10)": np.r_[200, np.full(b - 1, 10)],
        f"{2 * b} x 100 (all full)": np.full(2 * b, 100),
    }
    sec = Section(
        f"The law on hand-made batches: forward time vs step counts ({N_FEATURES} features, {UNITS} units)",
        "Forward pass only (inference). Padded steps = batch x max_len, packed steps = sum of lengths. "
        "Keras runs with a mask (post-padding). Read down each time column: padded and masked times "
        "follow the padded steps (the third row costs as much as the second), the packed time follows "
        "the packed steps plus a per-step overhead.",
        ["batch x max_len", "padded steps", "packed steps", "torch padded", "torch packed", "keras masked"],
    )
    for name, lengths in cases.items():
        x_np = ll.pad_sequences(ll.random_ragged_batch(lengths, N_FEATURES, seed=2))
        x_t, len_t = torch.from_numpy(x_np), torch.as_tensor(lengths, dtype=torch.int64)
        x_k, mask_k = tf.constant(x_np), tf.constant(ll.sequence_mask(lengths))

        def padded():
            with torch.no_grad():
                lstm_t(x_t)

        def packed():
            with torch.no_grad():
                lstm_t(pack_padded_sequence(x_t, len_t, batch_first=True, enforce_sorted=False))

        t = {
            "padded": median_time(padded, repeats),
            "packed": median_time(packed, repeats),
            "keras": median_time(lambda: keras_fwd(x_k, mask_k), repeats),
        }
        sec.rows.append(
            [name, cost.padded_steps(lengths), cost.packed_steps(lengths), ms(t["padded"]), ms(t["packed"]), ms(t["keras"])]
        )
        sec.data[name] = t
    return sec


def bench_keras_mask(quick: bool, repeats: int) -> Section:
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    layer = keras.layers.LSTM(UNITS, return_sequences=True)
    layer.build((None, None, N_FEATURES))

    def make_step(masked: bool):
        @tf.function(reduce_retracing=True)
        def step(x, mask):
            with tf.GradientTape() as tape:
                y = layer(x, mask=mask if masked else None)
                loss = tf.reduce_sum(y)
            return tape.gradient(loss, layer.trainable_variables)

        return step

    with_mask, without_mask = make_step(True), make_step(False)
    sec = Section(
        f"Keras LSTM forward + backward: with a mask vs without (batch {'32' if quick else BATCH}, "
        f"{N_FEATURES} features, {UNITS} units, tf.function)",
        "Same padded batch, same layer. The mask changes which results are kept, not how many steps "
        "run: both run batch x max_len steps. A time ratio of 1 or more is the point: the mask saves "
        "nothing, and the masked path even adds a select per step to carry the state over.",
        ["lengths", "max_len", "padded steps", "packed steps", "without mask", "with mask",
         "time ratio with/without"],
    )
    for name, lengths in _batches_of_lengths(quick).items():
        x = tf.constant(ll.pad_sequences(ll.random_ragged_batch(lengths, N_FEATURES, seed=2)))
        mask = tf.constant(ll.sequence_mask(lengths))
        t_without = median_time(lambda: without_mask(x, mask), repeats)
        t_with = median_time(lambda: with_mask(x, mask), repeats)
        sec.rows.append(
            [name, int(lengths.max()), cost.padded_steps(lengths), cost.packed_steps(lengths), ms(t_without),
             ms(t_with), ratio(t_with / t_without)]
        )
        sec.data[name] = {"without_mask_s": t_without, "with_mask_s": t_with}
    return sec


def _epoch_data(n: int):
    lengths = cost.long_tailed_lengths(n, seed=3)
    seqs = ll.random_ragged_batch(lengths, N_FEATURES, seed=4)
    labels = np.random.default_rng(5).integers(0, N_CLASSES, size=n)
    return lengths, seqs, labels


def _torch_epoch_runner(seqs, lengths, labels, packed: bool):
    import torch
    from torch.nn.utils.rnn import pack_padded_sequence

    torch.manual_seed(0)
    lstm = torch.nn.LSTM(N_FEATURES, UNITS, batch_first=True)
    head = torch.nn.Linear(UNITS, N_CLASSES)
    params = list(lstm.parameters()) + list(head.parameters())
    opt = torch.optim.Adam(params, lr=1e-3)

    def epoch(batches):
        for b in batches:
            x = torch.from_numpy(ll.pad_sequences([seqs[i] for i in b]))
            lens = torch.as_tensor(lengths[b], dtype=torch.int64)
            y = torch.as_tensor(labels[b])
            opt.zero_grad(set_to_none=True)
            if packed:
                _, (h, _) = lstm(pack_padded_sequence(x, lens, batch_first=True, enforce_sorted=False))
                feat = h[-1]
            else:
                out, _ = lstm(x)
                feat = out[torch.arange(len(b)), lens - 1]  # last real step (post-padding)
            torch.nn.functional.cross_entropy(head(feat), y).backward()
            opt.step()

    return epoch


def _keras_epoch_runner(seqs, lengths, labels):
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    lstm = keras.layers.LSTM(UNITS)
    head = keras.layers.Dense(N_CLASSES)
    lstm.build((None, None, N_FEATURES))
    head.build((None, UNITS))
    variables = lstm.trainable_variables + head.trainable_variables
    opt = keras.optimizers.Adam(1e-3)
    opt.build(variables)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @tf.function(
        input_signature=[
            tf.TensorSpec([None, None, N_FEATURES], tf.float32),
            tf.TensorSpec([None], tf.int32),
            tf.TensorSpec([None], tf.int32),
        ]
    )
    def train_step(x, lens, y):
        mask = tf.sequence_mask(lens, tf.shape(x)[1])
        with tf.GradientTape() as tape:
            loss = loss_fn(y, head(lstm(x, mask=mask)))
        grads = tape.gradient(loss, variables)
        opt.apply_gradients(zip(grads, variables))
        return loss

    def epoch(batches):
        for b in batches:
            x = ll.pad_sequences([seqs[i] for i in b])
            train_step(x, lengths[b].astype(np.int32), labels[b].astype(np.int32))

    return epoch


def bench_epoch(quick: bool, repeats: int) -> Section:
    n = 128 if quick else 512
    batch_size = 32
    lengths, seqs, labels = _epoch_data(n)
    plans = {
        "random": ll.random_batches(lengths, batch_size, seed=0),
        "bucketed": ll.bucket_batches(lengths, batch_size, seed=0),
    }
    runners = {
        "PyTorch, padded": _torch_epoch_runner(seqs, lengths, labels, packed=False),
        "PyTorch, packed": _torch_epoch_runner(seqs, lengths, labels, packed=True),
        "Keras, masked": _keras_epoch_runner(seqs, lengths, labels),
    }
    p_rand, p_buck = (cost.padded_steps(lengths, plans[k]) for k in ("random", "bucketed"))
    sec = Section(
        f"One training epoch, random vs bucketed batches ({n} long-tailed sequences, batch {batch_size}, "
        f"{N_FEATURES} features, {UNITS} units, Adam)",
        f"Per-batch padding to the batch's longest item. Padded steps per epoch: random {p_rand}, "
        f"bucketed {p_buck} (ratio {p_rand / p_buck:.2f}); packed steps {cost.packed_steps(lengths)} either way. "
        "Bucketed = `ll.bucket_batches(lengths, 32, seed=0)`.",
        ["framework", "random", "bucketed", "time ratio random/bucketed", "padded-step ratio"],
    )
    for name, epoch in runners.items():
        epoch(plans["bucketed"][:2])  # warm up (tf.function tracing, allocator) outside the timing
        t_rand = median_time(lambda: epoch(plans["random"]), repeats, warmup=0)
        t_buck = median_time(lambda: epoch(plans["bucketed"]), repeats, warmup=0)
        sec.rows.append([name, ms(t_rand), ms(t_buck), ratio(t_rand / t_buck), ratio(p_rand / p_buck)])
        sec.data[name] = {"random_s": t_rand, "bucketed_s": t_buck}
    sec.notes.append(
        "Training changes the weights between repeats; the work per epoch does not depend on the weights."
    )
    return sec


def run(quick: bool = False) -> list[Section]:
    repeats = 3 if quick else 5
    return [
        bench_law(quick, repeats),
        bench_torch_packed(quick, repeats),
        bench_keras_mask(quick, repeats),
        bench_epoch(quick, 3),
    ]
