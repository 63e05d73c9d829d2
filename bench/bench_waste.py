"""Padding waste as a number: padding fractions under four batching schemes.

No timing here: padding fractions are exact counts, identical on every machine.
Distributions:

- long-tailed: 20,000 log-normal lengths (median 40, sigma 0.9) clipped to 1..500,
  ``ll.cost.long_tailed_lengths``;
- uniform: 20,000 lengths uniform in 1..200;
- Japanese Vowels (train + test, 640 utterances, 7..29 frames), when
  ``lessons_lib.datasets`` is available.

Bucketed batches are averaged over 5 epochs (seeds 0..4); "same batches"
counts how many batches of epoch 0 reappear, with the same members, in epoch 1,
and "pairs together again" is the share of the pairs of sequences batched
together in epoch 0 that are batched together again in epoch 1
(``ll.cost.pairs_together_again``: about (batch - 1) / (n - 1) for random
batches, 1.0 for sorted ones).
"""

from __future__ import annotations

import inspect
import pathlib

import numpy as np

import lessons_lib as ll
from _common import Section
from lessons_lib import cost

#: ll.bucket_batches' own default pool size, read from its signature so the table cannot drift.
DEFAULT_MULTIPLIER = inspect.signature(ll.bucket_batches).parameters["bucket_size_multiplier"].default

BATCH_SIZE = 32
EPOCHS = 5
MULTIPLIERS = (5, 10, 25, 50, 100, 200, 400, 800)


def distributions(n: int) -> dict[str, np.ndarray]:
    found = {
        "long-tailed (log-normal, 1..500)": cost.long_tailed_lengths(n, seed=0),
        "uniform 1..200": ll.random_lengths(n, 1, 200, seed=0),
    }
    try:
        from lessons_lib.datasets import load_japanese_vowels

        jv = np.concatenate([load_japanese_vowels(s).lengths for s in ("train", "test")])
        found["Japanese Vowels (train+test)"] = jv
    except Exception as exc:  # the data set is optional for the benchmark
        print(f"Japanese Vowels not available ({type(exc).__name__}: {exc}); synthetic only")
    return found


def bucketed(lengths: np.ndarray, multiplier: int) -> tuple[float, float, list[list[np.ndarray]]]:
    epochs = [ll.bucket_batches(lengths, BATCH_SIZE, seed=s, bucket_size_multiplier=multiplier) for s in range(EPOCHS)]
    fracs = [ll.padding_fraction(lengths, b) for b in epochs]
    return float(np.mean(fracs)), float(np.max(fracs)), epochs


def run(quick: bool = False, plot_dir: pathlib.Path | None = None) -> list[Section]:
    n = 5_000 if quick else 20_000
    dists = distributions(n)
    schemes = Section(
        f"Padding fraction under four batching schemes (batch size {BATCH_SIZE})",
        "Fraction of padded time steps in one epoch (exact counts, not timings). 'global maxlen' pads "
        "everything to the longest sequence of the data set; 'random' pads each shuffled batch to its "
        "longest item; 'bucketed' is `ll.bucket_batches` (default `bucket_size_multiplier=" + str(DEFAULT_MULTIPLIER) + "`, mean of "
        f"{EPOCHS} epochs); 'sorted' is `ll.sorted_batches`, the lower bound. 'gap' is bucketed minus "
        "sorted, in percentage points.",
        ["lengths", "n", "global maxlen", "random", "bucketed", "sorted", "gap (pp)", "same batches epoch 0 vs 1",
         "pairs together again: random / bucketed / sorted"],
    )
    for name, lengths in dists.items():
        fixed = ll.padding_fraction(lengths, maxlen=int(lengths.max()))
        rnd = np.mean([ll.padding_fraction(lengths, ll.random_batches(lengths, BATCH_SIZE, seed=s)) for s in range(EPOCHS)])
        bk_mean, _, epochs = bucketed(lengths, DEFAULT_MULTIPLIER)
        srt = ll.padding_fraction(lengths, ll.sorted_batches(lengths, BATCH_SIZE))
        same = cost.same_batches(epochs[0], epochs[1])
        together = {
            "random": cost.pairs_together_again(*(ll.random_batches(lengths, BATCH_SIZE, seed=s) for s in (0, 1))),
            "bucketed": cost.pairs_together_again(epochs[0], epochs[1]),
            "sorted": cost.pairs_together_again(*(ll.sorted_batches(lengths, BATCH_SIZE) for _ in (0, 1))),
        }
        schemes.rows.append(
            [name, len(lengths), f"{fixed:.4f}", f"{rnd:.4f}", f"{bk_mean:.4f}", f"{srt:.4f}",
             f"{100 * (bk_mean - srt):.2f}", f"{same} of {len(epochs[0])}",
             " / ".join(f"{together[k]:.3f}" for k in ("random", "bucketed", "sorted"))]
        )
        schemes.data[name] = {"global maxlen": fixed, "random": float(rnd), "bucketed": bk_mean, "sorted": srt,
                              "pairs_together_again": together}

    tail = dists["long-tailed (log-normal, 1..500)"]
    sorted_frac = ll.padding_fraction(tail, ll.sorted_batches(tail, BATCH_SIZE))
    sweep = Section(
        f"Bucketing: pool size against padding, long-tailed lengths (n={len(tail)}, batch size {BATCH_SIZE})",
        "`ll.bucket_batches` shuffles the indices, sorts each pool of `batch_size * bucket_size_multiplier` "
        "sequences by length, cuts it into batches and shuffles all batches. A bigger pool means less "
        f"padding and less randomness. Sorted lower bound: {sorted_frac:.4f}. Mean and worst of {EPOCHS} epochs.",
        ["bucket_size_multiplier", "pool size", "padding (mean)", "padding (worst)", "gap to sorted (pp)",
         "same batches epoch 0 vs 1", "pairs together again", "within 2 pp"],
    )
    smallest_ok = None
    for m in MULTIPLIERS:
        mean, worst, epochs = bucketed(tail, m)
        gap = 100 * (worst - sorted_frac)
        ok = gap <= 2.0
        if ok and smallest_ok is None:
            smallest_ok = m
        sweep.rows.append(
            [m, BATCH_SIZE * m, f"{mean:.4f}", f"{worst:.4f}", f"{gap:.2f}",
             f"{cost.same_batches(epochs[0], epochs[1])} of {len(epochs[0])}",
             f"{cost.pairs_together_again(epochs[0], epochs[1]):.3f}", "yes" if ok else "no"]
        )
        sweep.data[str(m)] = {"mean": mean, "worst": worst,
                              "pairs_together_again": cost.pairs_together_again(epochs[0], epochs[1])}
    sweep.notes.append(
        f"Smallest multiplier within 2 pp of the sorted bound (worst epoch): {smallest_ok}. "
        "Shuffling is partly kept: batch order changes every epoch and whole batches rarely repeat, but a "
        "bigger pool brings back more of the same neighbours (the 'pairs together again' column: random "
        "batches give about (batch - 1) / (n - 1), sorted ones 1.0)."
    )
    sweep.notes.append(
        "Pool sizes of other libraries: torchtext's `BucketIterator` (legacy `torchtext.data.pool`) sorts "
        "pools of 100 x batch size; fastai's `SortishSampler` sorts chunks of 50 x batch size."
    )
    if plot_dir is not None:
        _plot(schemes.data, sorted_frac, sweep, plot_dir)
        sweep.notes.append("Plot: [results/padding_waste.png](results/padding_waste.png).")
    return [schemes, sweep]


def _plot(by_name: dict, sorted_frac: float, sweep: Section, plot_dir: pathlib.Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    names = list(by_name)
    keys = ["global maxlen", "random", "bucketed", "sorted"]
    width = 0.8 / len(names)
    for j, name in enumerate(names):
        values = [100 * by_name[name][k] for k in keys]
        ax1.bar(np.arange(len(keys)) + j * width, values, width, label=name)
    ax1.set_xticks(np.arange(len(keys)) + width * (len(names) - 1) / 2, keys)
    ax1.set_ylabel("padded time steps (%)")
    ax1.set_title(f"Padding by batching scheme (batch {BATCH_SIZE})")
    ax1.legend(fontsize=8)
    ms = [int(r[0]) for r in sweep.rows]
    ax2.semilogx(ms, [100 * sweep.data[str(m)]["mean"] for m in ms], "o-", label="bucketed (mean)")
    ax2.axhline(100 * sorted_frac, color="k", ls="--", label="sorted bound")
    ax2.axhline(100 * sorted_frac + 2, color="grey", ls=":", label="bound + 2 pp")
    ax2.set_xlabel("bucket_size_multiplier")
    ax2.set_ylabel("padded time steps (%)")
    ax2.set_title("Long-tailed lengths: pool size vs padding")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    plot_dir.mkdir(parents=True, exist_ok=True)
    fig.savefig(plot_dir / "padding_waste.png", dpi=80)
    plt.close(fig)

