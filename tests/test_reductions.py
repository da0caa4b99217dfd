"""Tests of ``lossbook.reductions``: counts, sum-then-divide, and the all-reduce over ranks.

The two-process test starts two workers with the ``fork`` start method (nothing to re-import,
so it costs well under a second), joins them over the ``gloo`` backend on 127.0.0.1 only, and
is bounded by a timeout. The workers meet through a file in the test's temporary directory
(``init_method="file://..."``): no port is chosen in advance, so no other process can take it
between the choice and the bind.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import timedelta

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from lossbook import count_items, sum_then_divide, token_loss

# ---------------------------------------------------------------------------- count_items


def test_count_items_counts_non_ignored_targets() -> None:
    target = torch.tensor([[0, 1, -100], [2, -100, -100]])
    assert count_items(target).item() == 3
    assert count_items(target).dtype == torch.int64
    assert count_items(target).dim() == 0


def test_count_items_adds_up_micro_batches_of_different_shapes() -> None:
    batches = [torch.tensor([1, -100]), torch.tensor([[0, 0, 0], [-100, 2, 1]])]
    assert count_items(batches).item() == 6
    assert count_items(tuple(batches)).item() == 6


def test_count_items_custom_ignore_index_and_all_ignored() -> None:
    target = torch.tensor([0, 1, 1, 2])
    assert count_items(target, ignore_index=1).item() == 2
    assert count_items(torch.full((3, 4), -100)).item() == 0


def test_count_items_with_weight_is_the_denominator_of_weighted_mean() -> None:
    torch.manual_seed(0)
    logits = torch.randn(7, 3)
    target = torch.tensor([0, 2, -100, 1, 1, -100, 2])
    weight = torch.tensor([0.2, 1.5, 3.0])
    n_items = count_items(target, weight=weight)
    assert n_items.item() == pytest.approx(0.2 + 3.0 + 1.5 + 1.5 + 3.0)
    expected = F.cross_entropy(logits, target, weight=weight)
    torch.testing.assert_close(token_loss(logits, target, n_items, weight=weight), expected)


def test_count_items_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="integer class indices"):
        count_items(torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="integer class indices"):
        count_items([torch.tensor([1]), torch.tensor([True])])
    with pytest.raises(ValueError, match="at least one tensor"):
        count_items([])
    with pytest.raises(TypeError, match="targets must be a tensor"):
        count_items(3)
    with pytest.raises(TypeError, match=r"targets\[1\]"):
        count_items([torch.tensor([1]), [2, 3]])
    with pytest.raises(ValueError, match="ignore_index must be an int"):
        count_items(torch.tensor([1]), ignore_index=0.5)
    with pytest.raises(ValueError, match="weight must be a 1-D floating-point"):
        count_items(torch.tensor([1]), weight=torch.ones(2, 2))
    with pytest.raises(ValueError, match="outside"):
        count_items(torch.tensor([0, 3]), weight=torch.ones(3))


# ------------------------------------------------------------------------- sum_then_divide


def test_sum_then_divide_values() -> None:
    assert sum_then_divide(torch.tensor(6.0), 4).item() == 1.5
    assert sum_then_divide(torch.tensor(6.0), 2.5).item() == pytest.approx(2.4)
    assert sum_then_divide(torch.tensor(6.0), torch.tensor(3)).item() == 2.0
    torch.testing.assert_close(sum_then_divide(torch.tensor([2.0, 4.0]), 2), torch.tensor([1.0, 2.0]))


@pytest.mark.parametrize("n_items", [0, -1, 0.0, torch.tensor(0), torch.tensor(-2.0)])
def test_sum_then_divide_rejects_non_positive_counts(n_items) -> None:
    with pytest.raises(ValueError, match="n_items must be positive"):
        sum_then_divide(torch.tensor(1.0), n_items)


@pytest.mark.parametrize("n_items", [True, "3", None, torch.tensor([1, 2])])
def test_sum_then_divide_rejects_bad_counts(n_items) -> None:
    with pytest.raises(ValueError, match="n_items must be"):
        sum_then_divide(torch.tensor(1.0), n_items)


def test_sum_then_divide_rejects_integer_sums() -> None:
    with pytest.raises(ValueError, match="loss_sum must be a floating-point tensor"):
        sum_then_divide(torch.tensor(6), 2)
    with pytest.raises(ValueError, match="loss_sum must be a floating-point tensor"):
        sum_then_divide(6.0, 2)


# ------------------------------------------------------------------------------ token_loss


def test_token_loss_with_its_own_count_is_cross_entropy_mean_for_sequences() -> None:
    torch.manual_seed(1)
    logits = torch.randn(3, 5, 6)  # (N, C, T)
    target = torch.randint(5, (3, 6))
    target[0, 2:] = -100
    target[2, 5:] = -100
    torch.testing.assert_close(
        token_loss(logits, target, count_items(target)), F.cross_entropy(logits, target)
    )


def test_token_loss_rejects_bad_arguments() -> None:
    logits = torch.zeros(2, 3)
    with pytest.raises(ValueError, match="integer class indices"):
        token_loss(logits, torch.tensor([0.0, 1.0]), 2)
    with pytest.raises(ValueError, match="n_items must be positive"):
        token_loss(logits, torch.tensor([0, 1]), 0)
    with pytest.raises(ValueError, match="ignore_index must be an int"):
        token_loss(logits, torch.tensor([0, 1]), 2, ignore_index=None)


@settings(max_examples=15, deadline=None)
@given(
    lengths=st.lists(st.integers(0, 6), min_size=2, max_size=6),
    split=st.integers(1, 5),
    seed=st.integers(0, 2**16),
)
def test_accumulated_token_losses_give_the_full_batch_gradient(lengths, split, seed) -> None:
    """Whatever the lengths and the split into micro-batches, sum-then-divide is exact."""
    if sum(lengths) == 0:
        lengths = [*lengths[:-1], 1]
    split = min(split, len(lengths) - 1)
    generator = torch.Generator().manual_seed(seed)
    features = torch.randn(len(lengths), 6, 3, generator=generator)
    target = torch.randint(4, (len(lengths), 6), generator=generator)
    for row, length in enumerate(lengths):
        target[row, length:] = -100
    weight_matrix = torch.randn(3, 4, generator=generator, requires_grad=True)

    F.cross_entropy((features @ weight_matrix).flatten(0, 1), target.flatten()).backward()
    full_grad, weight_matrix.grad = weight_matrix.grad.clone(), None

    parts = [(features[:split], target[:split]), (features[split:], target[split:])]
    n_items = count_items([t for _, t in parts])
    total = sum(token_loss((x @ weight_matrix).flatten(0, 1), t.flatten(), n_items) for x, t in parts)
    total.backward()
    torch.testing.assert_close(weight_matrix.grad, full_grad, rtol=0, atol=1e-6)


# ------------------------------------------------------------- all-reduce over two processes

WORLD_SIZE = 2
RANK_TARGETS = {
    0: [torch.tensor([0, 1, -100]), torch.tensor([[2, -100], [1, 1]])],  # 2 + 3 items
    1: [torch.tensor([-100, -100, 2, 0, 0, 1, 2])],                       # 5 items
}
WEIGHT = torch.tensor([0.5, 1.0, 2.0])


def _worker(rank: int, rendezvous_file: str, results) -> None:
    torch.set_num_threads(1)
    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo0" if sys.platform == "darwin" else "lo")
    dist.init_process_group(
        "gloo", init_method=f"file://{rendezvous_file}", rank=rank, world_size=WORLD_SIZE,
        timeout=timedelta(seconds=30),
    )
    try:
        counted = count_items(RANK_TARGETS[rank])
        weighted = count_items(RANK_TARGETS[rank], weight=WEIGHT)
        results.put((rank, counted.item(), str(counted.dtype), weighted.item()))
        dist.barrier()  # neither rank tears gloo down while the other still talks
    finally:
        dist.destroy_process_group()


@pytest.mark.skipif("fork" not in mp.get_all_start_methods(), reason="needs the fork start method")
@pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(), reason="needs gloo")
def test_count_items_all_reduces_over_two_gloo_processes(tmp_path) -> None:
    assert not dist.is_initialized()
    rendezvous_file = tmp_path / "rendezvous"  # a fresh name: FileStore creates it
    assert not rendezvous_file.exists()
    results = mp.get_context("fork").SimpleQueue()
    context = mp.start_processes(
        _worker, args=(str(rendezvous_file), results), nprocs=WORLD_SIZE, join=False,
        start_method="fork",
    )
    deadline = time.monotonic() + 60
    while not context.join(timeout=0.5):
        if time.monotonic() > deadline:
            for process in context.processes:
                process.kill()
            pytest.fail("the two gloo workers did not finish within 60 s")
    rows = sorted(results.get() for _ in range(WORLD_SIZE))

    local = [count_items(RANK_TARGETS[r]).item() for r in range(WORLD_SIZE)]
    local_weighted = [count_items(RANK_TARGETS[r], weight=WEIGHT).item() for r in range(WORLD_SIZE)]
    assert local == [5, 5]  # without torch.distributed initialised: the local count only
    assert local_weighted == [0.5 + 1.0 + 2.0 + 1.0 + 1.0, 2.0 + 0.5 + 0.5 + 1.0 + 2.0]
    assert [row[0] for row in rows] == [0, 1]
    for _, counted, dtype, weighted in rows:
        assert counted == sum(local) == 10
        assert dtype == "torch.int64"
        assert weighted == pytest.approx(sum(local_weighted))
