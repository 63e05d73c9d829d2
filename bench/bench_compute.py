"""What padding costs in compute: padded vs packed, masked vs unmasked, bucketed vs random.

All in one process, on the CPU, 1 thread per framework (except the torch
thread-count table: 1 and 2 threads), median [min-max] of repeats. Each timing
sits next to the deterministic counts it should follow: padded steps
(batch x max_len), packed steps (sum of lengths) and sequential steps
(max_len per batch, the chain no implementation can shorten), from
``lessons_lib.cost``.
"""

from __future__ import annotations

import numpy as np

import _common
import lessons_lib as ll
from _common import Section, ratio
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


THREAD_COUNTS = (1, 2)
UNIT_SIZES = (64, 256)


def bench_torch_packed(quick: bool, repeats: int) -> Section:
    """Padded vs packed torch LSTM over thread counts x layer sizes x length distributions."""
    import torch
    from torch.nn.utils.rnn import pack_padded_sequence

    batch = 32 if quick else BATCH
    sec = Section(
        f"PyTorch LSTM on a CPU: padded vs packed, by thread count and layer size (batch {batch}, {N_FEATURES} features)",
        "Same batch, same weights. 'padded' runs `lstm(x)` over the whole padded tensor; 'packed' "
        "includes `pack_padded_sequence(..., enforce_sorted=False)`. Steps: padded = batch x max_len, "
        "packed = sum of lengths; both run max_len sequential steps. Times: median [min-max] of "
        f"{repeats} repeats, padded and packed interleaved repeat by repeat; ratios are padded time / "
        "packed time per repeat (> 1: packing is faster), median [min-max]. Only torch's thread count "
        "changes between rows (`torch.set_num_threads`); the machine's cores are in the header.",
        ["threads", "units", "lengths", "max_len", "padded steps", "packed steps", "step ratio",
         "forward padded", "forward packed", "forward ratio", "fwd+bwd padded", "fwd+bwd packed", "fwd+bwd ratio"],
    )
    inputs = {}
    for name, lengths in _batches_of_lengths(quick).items():
        x = torch.from_numpy(ll.pad_sequences(ll.random_ragged_batch(lengths, N_FEATURES, seed=2)))
        inputs[name] = (lengths, x, torch.as_tensor(lengths, dtype=torch.int64))
    for threads in THREAD_COUNTS:
        for units in UNIT_SIZES:
            torch.manual_seed(0)
            lstm = torch.nn.LSTM(N_FEATURES, units, batch_first=True)
            for name, (lengths, x, lengths_t) in inputs.items():

                def forward(packed: bool, x=x, lengths_t=lengths_t):
                    inp = pack_padded_sequence(x, lengths_t, batch_first=True, enforce_sorted=False) if packed else x
                    out, _ = lstm(inp)
                    return out.data if packed else out

                def train(packed: bool):
                    lstm.zero_grad(set_to_none=True)
                    forward(packed).sum().backward()

                def infer(packed: bool):
                    with torch.no_grad():
                        forward(packed)

                with _common.torch_threads(threads):
                    fwd = _common.paired_timings({"padded": lambda: infer(False), "packed": lambda: infer(True)}, repeats)
                    trn = _common.paired_timings({"padded": lambda: train(False), "packed": lambda: train(True)}, repeats)
                p_steps, k_steps = cost.padded_steps(lengths), cost.packed_steps(lengths)
                fwd_ratio, trn_ratio = fwd["padded"] / fwd["packed"], trn["padded"] / trn["packed"]
                sec.rows.append(
                    [threads, units, name, int(lengths.max()), p_steps, k_steps, ratio(p_steps / k_steps),
                     fwd["padded"].ms(), fwd["packed"].ms(), fwd_ratio.ratio(),
                     trn["padded"].ms(), trn["packed"].ms(), trn_ratio.ratio()]
                )
                sec.data[f"{threads} threads, {units} units, {name}"] = {
                    "threads": threads, "units": units, "lengths": name, "batch": batch,
                    "padded_steps": p_steps, "packed_steps": k_steps, "max_len": int(lengths.max()),
                    "forward_padded_s": fwd["padded"].json(), "forward_packed_s": fwd["packed"].json(),
                    "forward_ratio": fwd_ratio.json(),
                    "train_padded_s": trn["padded"].json(), "train_packed_s": trn["packed"].json(),
                    "train_ratio": trn_ratio.json(),
                }
    by = {(d["threads"], d["units"], d["lengths"]): d["train_ratio"]["median"] for d in sec.data.values()}
    for name in inputs:
        lines = ", ".join(
            f"{t} thread{'s' if t > 1 else ''} & {u} units {by[(t, u, name)]:.2f}" for t in THREAD_COUNTS for u in UNIT_SIZES
        )
        sec.notes.append(f"Forward+backward padded/packed time ratio (median), {name}, batch {batch}: {lines}.")
    sec.notes.append(
        "The step ratio is the work packing saves; the time ratio is what this CPU delivers, under these "
        "conditions only (CPU, thread count, layer size, batch and lengths of the row). On a CPU, PyTorch "
        "runs the padded LSTM as one fused oneDNN kernel, while the packed path steps through time in "
        "smaller operations on a shrinking batch, and its backward pass is many small per-step operations. "
        "A second thread speeds up the big fused kernel more than the many small packed steps, so the "
        "ratio moves with the thread count as well as with the layer size. Nothing here was measured on a "
        "GPU (see [GPU_RESULTS.md](GPU_RESULTS.md)); there torch sends both padded and packed input to "
        "cuDNN (read from the torch source, not measured)."
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
        f"The law on hand-made batches: forward time vs step counts (CPU, 1 thread, {N_FEATURES} features, {UNITS} units)",
        "Forward pass only (inference), median [min-max] of "
        f"{repeats} repeats. Padded steps = batch x max_len (the work of a padded or masked LSTM), packed "
        "steps = sum of lengths (the work of a packed one), sequential steps = max_len (the chain of "
        "dependent steps every implementation runs, padded or packed). Keras runs with a mask (post-padding).",
        ["batch x max_len", "padded steps", "packed steps", "sequential steps", "torch padded", "torch packed",
         "keras masked"],
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

        t = _common.paired_timings(
            {"padded": padded, "packed": packed, "keras": lambda: keras_fwd(x_k, mask_k)}, repeats
        )
        sec.rows.append(
            [name, cost.padded_steps(lengths), cost.packed_steps(lengths), cost.sequential_steps(lengths),
             t["padded"].ms(), t["packed"].ms(), t["keras"].ms()]
        )
        sec.data[name] = {k: v.json() for k, v in t.items()} | {
            "padded_steps": cost.padded_steps(lengths), "packed_steps": cost.packed_steps(lengths),
            "sequential_steps": cost.sequential_steps(lengths),
        }
    full, sparse = sec.data[f"{b} x 100 (all full)"], sec.data[f"{b} x 200 (one 200, rest 10)"]
    sec.notes.append(
        "Padded and masked times follow the padded steps: the third row costs about as much as the second. "
        f"Packed time is work plus latency: '{b} x 200 (one 200, rest 10)' does {full['packed_steps'] / sparse['packed_steps']:.1f}x "
        f"less work than '{b} x 100 (all full)' ({sparse['packed_steps']} vs {full['packed_steps']} packed steps) but runs "
        f"a chain twice as long ({sparse['sequential_steps']} vs {full['sequential_steps']} sequential steps), and took "
        f"{sparse['packed']['median'] * 1e3:.1f} ms against {full['packed']['median'] * 1e3:.1f} ms. "
        "Packing cuts the work, not the chain of max_len sequential steps; bucketing cuts both "
        "(see the epoch table: sequential steps per epoch)."
    )
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
        f"Keras LSTM forward + backward on a CPU (TensorFlow backend, 1 thread): with a mask vs without "
        f"(batch {'32' if quick else BATCH}, {N_FEATURES} features, {UNITS} units, tf.function)",
        "Same padded batch, same layer, median [min-max] of "
        f"{repeats} repeats, interleaved; the ratio is taken per repeat. On a CPU Keras runs its generic "
        "loop: the mask changes which results are kept, not how many steps run, so both run batch x max_len "
        "steps. A time ratio of 1 or more is the point: the mask saves nothing there, and the masked path "
        "even adds a select per step to carry the state over. On a GPU with cuDNN, Keras turns a "
        "right-padded mask into `sequence_lengths` for `CudnnRNNV3` (`keras/src/backend/tensorflow/rnn.py`, "
        "`_cudnn_lstm`); whether cuDNN then skips the padded work is not measured here "
        "([GPU_RESULTS.md](GPU_RESULTS.md)).",
        ["lengths", "max_len", "padded steps", "packed steps", "without mask", "with mask",
         "time ratio with/without"],
    )
    for name, lengths in _batches_of_lengths(quick).items():
        x = tf.constant(ll.pad_sequences(ll.random_ragged_batch(lengths, N_FEATURES, seed=2)))
        mask = tf.constant(ll.sequence_mask(lengths))
        t = _common.paired_timings({"without": lambda: without_mask(x, mask), "with": lambda: with_mask(x, mask)}, repeats)
        sec.rows.append(
            [name, int(lengths.max()), cost.padded_steps(lengths), cost.packed_steps(lengths), t["without"].ms(),
             t["with"].ms(), (t["with"] / t["without"]).ratio()]
        )
        sec.data[name] = {"without_mask_s": t["without"].json(), "with_mask_s": t["with"].json(),
                          "ratio_with_without": (t["with"] / t["without"]).json()}
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
    s_rand, s_buck = (cost.sequential_steps(lengths, plans[k]) for k in ("random", "bucketed"))
    sec = Section(
        f"One training epoch on a CPU (1 thread), random vs bucketed batches ({n} long-tailed sequences, "
        f"batch {batch_size}, {N_FEATURES} features, {UNITS} units, Adam)",
        f"Per-batch padding to the batch's longest item. Padded steps per epoch (the work of a padded or "
        f"masked LSTM): random {p_rand}, bucketed {p_buck} (ratio {p_rand / p_buck:.2f}); packed steps "
        f"(the work of a packed LSTM) {cost.packed_steps(lengths)} either way; sequential steps per epoch "
        f"(sum of each batch's max_len, the chain every implementation runs): random {s_rand}, bucketed "
        f"{s_buck} (ratio {s_rand / s_buck:.2f}). Bucketed = `ll.bucket_batches(lengths, 32, seed=0)`. "
        f"Median [min-max] of {repeats} epochs, random and bucketed interleaved.",
        ["framework", "random", "bucketed", "time ratio random/bucketed", "padded-step ratio",
         "sequential-step ratio"],
    )
    for name, epoch in runners.items():
        epoch(plans["bucketed"][:2])  # warm up (tf.function tracing, allocator) outside the timing
        t = _common.paired_timings(
            {"random": lambda: epoch(plans["random"]), "bucketed": lambda: epoch(plans["bucketed"])}, repeats, warmup=0
        )
        sec.rows.append([name, t["random"].ms(), t["bucketed"].ms(), (t["random"] / t["bucketed"]).ratio(),
                         ratio(p_rand / p_buck), ratio(s_rand / s_buck)])
        sec.data[name] = {"random_s": t["random"].json(), "bucketed_s": t["bucketed"].json(),
                          "ratio_random_bucketed": (t["random"] / t["bucketed"]).json()}
    sec.notes.append(
        "Training changes the weights between repeats; the work per epoch does not depend on the weights."
    )
    sec.notes.append(
        "Packing does the same work under both plans, so whatever bucketing saves a packed LSTM comes from "
        "the shorter chains of sequential steps (the latency term), not from fewer steps of work."
    )
    return sec


def run(quick: bool = False) -> list[Section]:
    repeats = 3 if quick else 9
    return [
        bench_law(quick, 3 if quick else 11),
        bench_torch_packed(quick, 3 if quick else 7),
        bench_keras_mask(quick, repeats),
        bench_epoch(quick, 3 if quick else 5),
    ]
