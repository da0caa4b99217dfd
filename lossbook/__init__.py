"""lossbook: the code behind the lossbook site on PyTorch loss functions.

Modules:
    reference: cross entropy, log loss, entropy and KL divergence written out by hand.
    plots: the book's figures (needs the ``plot`` extra).
    stable: binary cross entropy on logits in its overflow-free form, written out by hand.
    penalties: L1 and L2 penalties, and optimizer parameter groups for weight decay.
    data: synthetic data sets (the two rings of the worked example).
    training: ``fit``, a small training loop with early stopping (needs the ``train`` extra).
    functional: focal loss (binary, from probabilities, softmax) and symmetric cross entropy.
    modules: ``FocalLoss``, ``SoftmaxFocalLoss`` and ``SCELoss``, the ``nn.Module`` forms.
    reductions: ``count_items``, ``token_loss``, ``sum_then_divide``: token losses averaged over
        a whole step (gradient accumulation, data parallel).

Argument checks live in ``lossbook._validation``; ``set_value_checks`` chooses when the values
inside tensors (labels, class indices) are checked.
"""

__version__ = "0.1.0"

from lossbook.data import make_rings  # noqa: E402
from lossbook.penalties import l1_penalty, l2_penalty, param_groups  # noqa: E402
from lossbook.training import fit  # noqa: E402
from lossbook.functional import focal_loss, focal_loss_from_probs, sce_loss, softmax_focal_loss  # noqa: E402
from lossbook.modules import FocalLoss, SCELoss, SoftmaxFocalLoss  # noqa: E402
from lossbook.reductions import count_items, sum_then_divide, token_loss  # noqa: E402
from lossbook._validation import set_value_checks  # noqa: E402
