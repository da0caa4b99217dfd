"""Train AdaptiveLogSoftmaxWithLoss twice on the same tokens: ids by frequency, then
shuffled.

Tokens follow a Zipf distribution (the token of frequency rank r has probability
proportional to 1/r). Each token has a fixed random feature vector; the model sees it
with noise and must name the token. Same seeds, same data and the same number of steps
for both runs: only the mapping from tokens to ids differs.
"""

# --8<-- [start:data]
import torch
from torch import nn

VOCABULARY, HIDDEN, BATCH, STEPS = 2000, 32, 128, 150
CUTOFFS = [50, 500]

torch.manual_seed(0)
rank = torch.arange(1, VOCABULARY + 1, dtype=torch.float)
frequency = (1 / rank) / (1 / rank).sum()  # frequency[r]: probability of rank r
features = torch.randn(VOCABULARY, HIDDEN)  # a fixed feature vector per token
sorted_ids = torch.arange(VOCABULARY)  # id = frequency rank: the most frequent is 0
shuffled_ids = torch.randperm(VOCABULARY)  # the same tokens under arbitrary ids


def batch(size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Token ranks drawn by frequency, and their features with noise."""
    ranks = torch.multinomial(frequency, size, replacement=True, generator=generator)
    return ranks, features[ranks] + 0.5 * torch.randn(size, HIDDEN, generator=generator)
# --8<-- [end:data]


# --8<-- [start:train]
def train(ids: torch.Tensor) -> float:
    """Train a fresh model with labels ``ids[rank]``; return its loss on new tokens."""
    torch.manual_seed(2)
    model = nn.AdaptiveLogSoftmaxWithLoss(HIDDEN, VOCABULARY, cutoffs=CUTOFFS,
                                          div_value=4.0)
    data = torch.Generator().manual_seed(1)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(STEPS):
        ranks, hidden = batch(BATCH, data)
        optimizer.zero_grad()
        model(hidden, ids[ranks]).loss.backward()
        optimizer.step()
    ranks, hidden = batch(4096, data)
    with torch.no_grad():
        return model(hidden, ids[ranks]).loss.item()


for name, ids in (("sorted", sorted_ids), ("shuffled", shuffled_ids)):
    in_head = frequency[ids < CUTOFFS[0]].sum()
    print(f"ids {name:>8}: {in_head:.0%} of tokens are in the head")

for name, ids in (("sorted", sorted_ids), ("shuffled", shuffled_ids)):
    print(f"ids {name:>8}: test loss {train(ids):.2f}")
# --8<-- [end:train]
