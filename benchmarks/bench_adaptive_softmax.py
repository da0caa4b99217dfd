"""Time AdaptiveLogSoftmaxWithLoss against a full softmax + cross entropy at a large vocabulary.

Run with ``make bench`` or ``python benchmarks/bench_adaptive_softmax.py``. It prints the machine,
then one row per output layer: the median time of a forward + backward pass over a batch of
hidden states, and its ratio to the full softmax measured in the same run. Targets are drawn
from a Zipf distribution (frequency of rank r proportional to 1/r), the usual shape of word
frequencies. The last row gives the adaptive softmax the same targets with shuffled ids, i.e.
labels not sorted by frequency. Timings vary between runs and machines; only the ratios within
one run are meant to be compared.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
import torch
from machine import cpu_model  # benchmarks/machine.py
from torch import nn

VOCABULARY = 100_000
HIDDEN = 512
BATCH = 1024  # tokens per step
CUTOFFS = [2_000, 10_000, 50_000]
REPEATS = 5


def median_seconds(step: Callable[[], None]) -> float:
    step()  # warm-up: allocations and kernel selection
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    torch.manual_seed(0)
    ranks = torch.arange(1, VOCABULARY + 1, dtype=torch.float64)
    zipf = 1 / ranks
    targets = torch.multinomial(zipf / zipf.sum(), BATCH, replacement=True)  # id = frequency rank
    shuffled_ids = torch.randperm(VOCABULARY)[targets]  # the same tokens, ids not sorted by frequency
    hidden = torch.randn(BATCH, HIDDEN, requires_grad=True)

    full = nn.Linear(HIDDEN, VOCABULARY)
    cross_entropy = nn.CrossEntropyLoss()
    adaptive = nn.AdaptiveLogSoftmaxWithLoss(HIDDEN, VOCABULARY, cutoffs=CUTOFFS, div_value=4.0)

    def full_step() -> None:
        full.zero_grad()
        cross_entropy(full(hidden), targets).backward()

    def adaptive_step(labels: torch.Tensor) -> Callable[[], None]:
        def step() -> None:
            adaptive.zero_grad()
            adaptive(hidden, labels).loss.backward()
        return step

    rows = [
        ("full softmax: Linear + CrossEntropyLoss", sum(p.numel() for p in full.parameters()), full_step),
        ("adaptive, ids sorted by frequency",
         sum(p.numel() for p in adaptive.parameters()), adaptive_step(targets)),
        ("adaptive, ids shuffled",
         sum(p.numel() for p in adaptive.parameters()), adaptive_step(shuffled_ids)),
    ]
    print(f"machine: {cpu_model()}, {os.cpu_count()} logical cores, {platform.system()}")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"vocabulary {VOCABULARY:,}, hidden size {HIDDEN}, batch {BATCH} tokens")
    print(f"adaptive: cutoffs {CUTOFFS}, div_value 4; forward + backward, median of {REPEATS}")
    print()
    print(f"{'output layer':<40} {'parameters':>11} {'ms/step':>9} {'vs full':>8}")
    baseline = None
    for name, parameters, step in rows:
        seconds = median_seconds(step)
        baseline = baseline or seconds
        print(f"{name:<40} {parameters:>11,} {seconds * 1000:>9.1f} {seconds / baseline:>7.2f}x")


if __name__ == "__main__":
    main()
