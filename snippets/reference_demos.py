"""The three identities of the classification losses, each on a small example."""
import torch
from torch import nn
import torch.nn.functional as F

# Binary: BCELoss on sigmoid outputs equals BCEWithLogitsLoss on the logits.
y_pred = torch.tensor([5.0, 3, 10, -5, -3, -10])
y_true = torch.tensor([1.0, 1, 1, 0, 0, 0])
print(nn.BCELoss()(torch.sigmoid(y_pred), y_true))
print(nn.BCEWithLogitsLoss()(y_pred, y_true))

# Multi-class: CrossEntropyLoss on logits equals LogSoftmax followed by NLLLoss ...
y_pred = torch.tensor([[10.0, 0.0, -10.0], [8.0, 8.0, 8.0]])
y_true = torch.tensor([0, 2])
print(nn.CrossEntropyLoss()(y_pred, y_true))
print(nn.NLLLoss()(nn.LogSoftmax(dim=1)(y_pred), y_true))

# ... and equals KLDivLoss against one-hot labels
# (log-probabilities as input, probabilities as target).
one_hot = F.one_hot(y_true, num_classes=3).float()
print(nn.KLDivLoss(reduction="batchmean")(F.log_softmax(y_pred, dim=1), one_hot))
