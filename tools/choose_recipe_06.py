"""How lesson 06's training recipe was chosen: validation loss over seeds, and time ratios.

Usage: python tools/choose_recipe_06.py [--seeds 0 1 2 3 4] [--quick]

For every candidate recipe (units, epochs, batch size, learning rate) this
trains the six models of lesson 06 (Keras masked / pre / post, torch packed /
pre / post) on seeds 0-4 and prints, per recipe, the validation loss of the
kept epoch averaged over seeds (the choice is made on that, never on the test
set) and the median training time relative to recipe A (the old recipe). For
each seed and model the recipes run back to back, in a rotating order, so a
shared machine's load affects them alike; only the ratios are meaningful.
It also compares two ways of training Keras over seeds: a new model per seed
with ``model.predict`` for validation (the old lesson code), and one traced
model restarted per seed with ``predict_on_batch`` (``training.restart_keras``).
Takes several minutes; not part of ``make test``.
"""

from __future__ import annotations

import argparse
import os
import time

import lessons_lib as ll

os.environ.update(ll.KERNEL_ENV)

RECIPES = {
    "A": {"units": 32, "epochs": 30, "batch_size": 32, "learning_rate": 0.01},  # the old lesson recipe
    "B": {"units": 32, "epochs": 30, "batch_size": 64, "learning_rate": 0.02},
    "C": {"units": 16, "epochs": 30, "batch_size": 64, "learning_rate": 0.02},
    "D": {"units": 32, "epochs": 20, "batch_size": 64, "learning_rate": 0.02},
}
NAMES = ("keras masked", "torch packed", "keras pre", "torch pre", "keras post", "torch post")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--quick", action="store_true", help="2 epochs, seeds 0-1: checks that the script runs")
    args = parser.parse_args(argv)
    ll.setup_notebook(0, frameworks=("tensorflow", "torch"), quiet=True)
    import numpy as np

    from lessons_lib import datasets as ds
    from lessons_lib import training as tr

    recipes = {k: dict(v, epochs=2) for k, v in RECIPES.items()} if args.quick else RECIPES
    seeds = [0, 1] if args.quick else args.seeds
    data = ds.prepare_japanese_vowels(0.2, seed=0)
    X = {(part, side): ll.pad_sequences(split.sequences, padding=side, dtype="float32")
         for part, split in (("train", data.train), ("val", data.val)) for side in ("pre", "post")}
    traced: dict = {}
    rows: dict = {}

    def train(recipe: str, name: str, seed: int) -> tuple[float, float]:
        r = recipes[recipe]
        side = "pre" if name.endswith("pre") else "post"
        xs = (X["train", side], data.train.labels, X["val", side], data.val.labels)
        fit = dict(epochs=r["epochs"], batch_size=r["batch_size"], seed=seed)
        start = time.perf_counter()
        if name.startswith("keras"):
            fresh = tr.build_keras_classifier(12, 9, units=r["units"], masked=name == "keras masked", seed=seed,
                                              learning_rate=r["learning_rate"])
            model = traced.setdefault((recipe, name), fresh)
            if model is not fresh:
                tr.restart_keras(model, fresh)
            h = tr.fit_keras(model, *xs, **fit)
        else:
            model = tr.TorchLSTMClassifier(12, 9, units=r["units"], seed=seed)
            lengths = {"lengths": data.train.lengths, "lengths_val": data.val.lengths} if name == "torch packed" else {}
            h = tr.fit_torch(model, *xs, learning_rate=r["learning_rate"], **lengths, **fit)
        return time.perf_counter() - start, min(h.val_loss)

    order = list(recipes)
    for i, seed in enumerate(seeds):
        for name in NAMES:
            for recipe in order[i % len(order):] + order[: i % len(order)]:
                rows[recipe, name, seed] = train(recipe, name, seed)
        print(f"seed {seed} done (load {os.getloadavg()[0]:.1f})", flush=True)

    timed = seeds[1:]  # seed 0 includes each Keras model's first trace
    print(f"\nkept-epoch validation loss, mean over seeds {seeds}; time: median ratio to recipe A over seeds {timed}")
    print(f"{'recipe':<44}" + "".join(f"{n:>14}" for n in NAMES) + f"{'all six':>10}{'time/A':>8}")
    for recipe, r in recipes.items():
        losses = [np.mean([rows[recipe, n, s][1] for s in seeds]) for n in NAMES]
        ratio = np.median([rows[recipe, n, s][0] / rows["A", n, s][0] for n in NAMES for s in timed])
        label = f"{recipe}: " + ", ".join(f"{k} {v}" for k, v in r.items())
        print(f"{label:<44}" + "".join(f"{v:>14.3f}" for v in losses) + f"{np.mean(losses):>10.3f}{ratio:>8.2f}")

    print("\nKeras over seeds, recipe B, keras masked: new model + predict() vs restarted model + predict_on_batch()")
    r = recipes["B"]
    xs = (X["train", "post"], data.train.labels, X["val", "post"], data.val.labels)
    ratios = []
    for seed in timed:
        start = time.perf_counter()
        model = tr.build_keras_classifier(12, 9, units=r["units"], seed=seed, learning_rate=r["learning_rate"])
        for batches in tr.epoch_batches(len(xs[0]), r["batch_size"], r["epochs"], seed=seed):
            for b in batches:
                model.train_on_batch(xs[0][b], xs[1][b])
            model.predict(xs[2], verbose=0)
        old = time.perf_counter() - start
        new, _ = train("B", "keras masked", seed)
        ratios.append(new / old)
        print(f"seed {seed}: old {old:.2f} s, new {new:.2f} s, ratio {new / old:.2f}", flush=True)
    print(f"median new/old: {np.median(ratios):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
