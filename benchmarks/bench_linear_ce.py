"""Peak memory of LinearCrossEntropyLoss against Linear + CrossEntropyLoss at a realistic size.

Run with ``make bench`` or ``python benchmarks/bench_linear_ce.py``. One forward + backward pass
of a language model's output layer and loss: 8192 tokens, hidden size 1024, vocabulary 32768.

What is measured: each output layer runs in a fresh child process (the same script, called with
``--variant``), so that one variant's freed memory cannot hide in the allocator for the next.
The child creates the hidden states, the targets and the layer, records its peak resident set
size so far (``ru_maxrss``: the most physical memory the process ever held), runs the step,
and records the peak again. The difference is the extra memory the step needed at its worst
moment, whatever allocated it: logits, their log-softmax, their gradient, the chunk buffers,
the weight's gradient. That is the number that decides whether a batch fits in RAM. It is
measured at page granularity by the kernel, not by PyTorch's own accounting, so it also counts
allocator overhead; the size of the logits tensor, computed exactly, is printed next to it.

Rows: the unfused baseline; ``LinearCrossEntropyLoss`` with its default ``options=None``
(the reference path: it computes the same full logits); and the chunked path, opted into with
``options=LinearCrossEntropyOptions()`` (the chunk size picked by the default
``chunking_method``) and with ``chunking_method="aspect_ratio:8"`` (chunks 4 times smaller).
The loss of each row is printed too: the four must agree. Times are one step each, for
orientation only: memory is what this benchmark is about.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time

import torch
from machine import cpu_model  # benchmarks/machine.py
from torch import nn
from torch.nn import LinearCrossEntropyOptions

TOKENS, HIDDEN, VOCABULARY = 8192, 1024, 32768
FLOAT_BYTES = 4  # float32
VARIANTS = {
    "Linear + CrossEntropyLoss": None,
    "LinearCrossEntropyLoss, options=None": None,
    "chunked, options=LinearCrossEntropyOptions()": LinearCrossEntropyOptions(),
    'chunked, chunking_method="aspect_ratio:8"': LinearCrossEntropyOptions(
        chunking_method="aspect_ratio:8"
    ),
}


def peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def chunk_rows(options: LinearCrossEntropyOptions | None) -> int:
    """Rows of logits per chunk, by the formula in LinearCrossEntropyOptions' docstring."""
    if options is None:
        return TOKENS
    method = options.chunking_method
    if method == "auto":
        method = "aspect_ratio:2"  # what "auto" resolves to for float32 on the CPU
    factor = int(method.partition(":")[2] or 1)
    target = -(-TOKENS // -(-VOCABULARY // HIDDEN))
    return min((1 << (target - 1).bit_length()) // factor, TOKENS)


def run_variant(name: str) -> dict[str, float]:
    """One forward + backward of the named output layer; runs in a child process."""
    torch.manual_seed(0)
    hidden = torch.randn(TOKENS, HIDDEN, requires_grad=True)
    targets = torch.randint(0, VOCABULARY, (TOKENS,))
    torch.manual_seed(1)  # the same weight for every variant
    if name == "Linear + CrossEntropyLoss":
        projection = nn.Linear(HIDDEN, VOCABULARY, bias=False)
        criterion = nn.CrossEntropyLoss()

        def step() -> torch.Tensor:
            return criterion(projection(hidden), targets)

    else:
        fused = nn.LinearCrossEntropyLoss(HIDDEN, VOCABULARY, options=VARIANTS[name])

        def step() -> torch.Tensor:
            return fused(hidden, targets)

    before = peak_rss_bytes()
    start = time.perf_counter()
    loss = step()
    loss.backward()
    seconds = time.perf_counter() - start
    return {"before": before, "peak": peak_rss_bytes(), "seconds": seconds, "loss": loss.item()}


def main() -> None:
    logits_bytes = TOKENS * VOCABULARY * FLOAT_BYTES
    print(f"machine: {cpu_model()}, {os.cpu_count()} logical cores, {platform.system()}")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"{TOKENS} tokens, hidden size {HIDDEN}, vocabulary {VOCABULARY}, float32;")
    print(f"full logits: {logits_bytes / 2**20:,.0f} MiB; one forward + backward per process")
    print()
    print(f"{'output layer':<45} {'rows':>5} {'step MiB':>9} {'loss':>7} {'s':>6}")
    for name, options in VARIANTS.items():
        child = subprocess.run(
            [sys.executable, __file__, "--variant", name],
            capture_output=True, text=True, check=True,
        )
        result = json.loads(child.stdout)
        extra = (result["peak"] - result["before"]) / 2**20
        print(f"{name:<45} {chunk_rows(options):>5} {extra:>9,.0f} "
              f"{result['loss']:>7.4f} {result['seconds']:>6.1f}")
    print()
    print("rows: logits rows computed at once; step MiB: peak RSS during the step minus")
    print("peak RSS before it (the extra memory the step needed at its worst moment)")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--variant":
        print(json.dumps(run_variant(sys.argv[2])))
    else:
        main()
