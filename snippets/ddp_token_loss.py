"""Token cross entropy under DDP: per-rank means versus the global count.

Two CPU processes (gloo backend, loopback only) make one training step on a
batch of padded sequences: rank 0 holds the two short ones, rank 1 the two
long ones. DDP averages the gradients over the ranks; the result is compared
with the gradient of one process on the whole batch. The processes meet
through a file in a fresh temporary directory (no port to choose).
"""

# --8<-- [start:setup]
import os
import sys
import tempfile
import time
from datetime import timedelta

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel
import torch._dynamo  # DDP imports it: do it once here, not in every worker

from lossbook import count_items, token_loss

WORLD_SIZE = 2
LENGTHS = [2, 3, 7, 8]  # tokens per sequence; the rest of each row is padding


def make_batch():
    """Features (4, 8, 4) and targets (4, 8), -100 marking the padding."""
    torch.manual_seed(0)
    features = torch.randn(4, 8, 4)
    targets = torch.randint(5, (4, 8))
    for row, length in enumerate(LENGTHS):
        targets[row, length:] = -100
    return features, targets


def make_model():
    torch.manual_seed(1)  # the same initial weights in every process
    return nn.Linear(4, 5)


def flat_grad(model):
    return torch.cat([p.grad.flatten() for p in model.parameters()])
# --8<-- [end:setup]


# --8<-- [start:worker]
def worker(rank, rendezvous_file, results):
    torch.set_num_threads(1)
    loopback = "lo0" if sys.platform == "darwin" else "lo"
    os.environ.setdefault("GLOO_SOCKET_IFNAME", loopback)
    dist.init_process_group(
        "gloo", init_method=f"file://{rendezvous_file}", rank=rank,
        world_size=WORLD_SIZE, timeout=timedelta(seconds=30),
    )
    features, targets = make_batch()
    mine = slice(2 * rank, 2 * rank + 2)  # rank 0: lengths 2, 3; rank 1: 7, 8
    features, targets = features[mine], targets[mine].flatten()
    model = DistributedDataParallel(make_model())

    # Wrong: each rank averages over its own tokens, DDP averages the means.
    per_rank_mean = F.cross_entropy(model(features).flatten(0, 1), targets)
    per_rank_mean.backward()
    wrong_grad = flat_grad(model)
    model.zero_grad()

    # Right: the rank's sum over the count of all ranks, times the world
    # size, because DDP divides the summed gradients by the world size.
    n_items = count_items(targets)  # all-reduced: the same on every rank
    logits = model(features).flatten(0, 1)
    global_count = token_loss(logits, targets, n_items) * WORLD_SIZE
    global_count.backward()
    right_grad = flat_grad(model)

    tokens = int((targets != -100).sum())
    results.put((rank, tokens, per_rank_mean.item(), global_count.item(),
                 wrong_grad.tolist(), right_grad.tolist()))
    del model  # DDP holds the process group: free it before destroying that
    dist.barrier()
    dist.destroy_process_group()
# --8<-- [end:worker]


# --8<-- [start:launch]
def run_workers(timeout=60.0):
    """Fork WORLD_SIZE workers; give up after `timeout` seconds."""
    results = mp.get_context("fork").SimpleQueue()
    with tempfile.TemporaryDirectory() as folder:
        rendezvous_file = os.path.join(folder, "rendezvous")  # must not exist yet
        context = mp.start_processes(
            worker, args=(rendezvous_file, results), nprocs=WORLD_SIZE,
            join=False, start_method="fork",
        )
        deadline = time.monotonic() + timeout
        while not context.join(timeout=1.0):
            if time.monotonic() > deadline:
                for process in context.processes:
                    process.kill()
                raise TimeoutError(f"workers still running after {timeout} s")
    return sorted(results.get() for _ in range(WORLD_SIZE))
# --8<-- [end:launch]


# --8<-- [start:main]
def full_batch():
    """One process, the whole batch, the mean over its non-padding tokens."""
    features, targets = make_batch()
    model = make_model()
    loss = F.cross_entropy(model(features).flatten(0, 1), targets.flatten())
    loss.backward()
    return loss.item(), int(count_items(targets)), flat_grad(model)


def main():
    full_loss, full_tokens, full_grad = full_batch()
    rows = run_workers()
    print(f"{'':24}{'per-rank mean':>14}{'global count':>14}")
    for rank, tokens, mean_loss, global_loss, _, _ in rows:
        label = f"rank {rank} ({tokens:2d} tokens)"
        print(f"{label:24}{mean_loss:14.4f}{global_loss:14.4f}")
    mean_of_means = sum(row[2] for row in rows) / WORLD_SIZE
    mean_of_global = sum(row[3] for row in rows) / WORLD_SIZE
    print(f"{'mean over ranks':24}{mean_of_means:14.4f}{mean_of_global:14.4f}")
    wrong = max((torch.tensor(row[4]) - full_grad).abs().max() for row in rows)
    right = max((torch.tensor(row[5]) - full_grad).abs().max() for row in rows)
    right_text = "below 1e-6" if right < 1e-6 else f"{right:.1e}"
    print(f"{'max |grad - full batch|':24}{wrong:14.4f}{right_text:>14}")
    print(f"one process, whole batch: {full_tokens} tokens, loss {full_loss:.4f}")


# Forked workers import nothing again, so no `if __name__ == "__main__":`
# guard is needed (with the spawn start method it would be).
main()
# --8<-- [end:main]
