"""Time to 97 %: the lectures' MNIST network (``dlbook.models.MnistCNN``) trained on the offline
MNIST subset (4,000 training / 1,000 test images, the split of chapter 14) with Adam, learning rate
0.001, batch 128 — the goal is ≥ 0.97 test accuracy within 2 minutes on a 2-core CPU.

    python bench/bench_mnist_cnn.py                    # torch.nn layers, then dlbook's im2col layers
    python bench/bench_mnist_cnn.py --epochs 10 --layers torch

Prints, per epoch, the elapsed seconds and the test accuracy, then the time at which 0.97 was first
reached, and the ratio of the from-scratch (im2col) network's epoch time to the torch.nn one's.
Opt-in (it trains for minutes): ``python bench/run.py`` skips it.
"""
from __future__ import annotations

import argparse
import sys
import time

import torch
from torch import nn


def rows():
    print("  bench_mnist_cnn: skipped (opt-in: python bench/bench_mnist_cnn.py)", file=sys.stderr)
    return []


def run(from_scratch: bool, epochs: int, goal: float = 0.97) -> tuple[list[tuple[float, float]], float | None]:
    from dlbook import data, metrics, models

    x, y = data.load_mnist_subset()
    x_train, x_test, y_train, y_test = data.train_test_split(x, y, 0.2, seed=0)
    model = models.MnistCNN(seed=0, from_scratch=from_scratch)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    g = torch.Generator().manual_seed(0)
    curve, reached, start = [], None, time.perf_counter()
    for _ in range(epochs):
        model.train()
        for idx in torch.randperm(len(x_train), generator=g).split(128):
            opt.zero_grad()
            loss_fn(model(x_train[idx]), y_train[idx]).backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            acc = metrics.accuracy(y_test, model(x_test))
        curve.append((time.perf_counter() - start, acc))
        if reached is None and acc >= goal:
            reached = curve[-1][0]
    return curve, reached


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--layers", choices=["torch", "dlbook", "both"], default="both")
    args = ap.parse_args()
    print(f"MnistCNN on the offline MNIST subset, {torch.get_num_threads()} thread(s)")
    epoch_time = {}
    for name in (["torch", "dlbook"] if args.layers == "both" else [args.layers]):
        curve, reached = run(name == "dlbook", args.epochs)
        print(f"\n{name} layers: epoch  seconds  test accuracy")
        for e, (t, acc) in enumerate(curve, 1):
            print(f"{'':>15}{e:>5}{t:>9.1f}{acc:>15.3f}")
        print(f"  ≥ 0.97 after {reached:.1f} s" if reached is not None else "  0.97 not reached")
        epoch_time[name] = curve[-1][0] / len(curve)
    if len(epoch_time) == 2:
        print(f"\nepoch time, dlbook im2col layers / torch.nn layers: {epoch_time['dlbook'] / epoch_time['torch']:.2f}")


if __name__ == "__main__":
    main()
