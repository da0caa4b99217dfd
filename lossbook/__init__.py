"""lossbook: the code behind the lossbook site on PyTorch loss functions.

Modules:
    reference: cross entropy, log loss, entropy and KL divergence written out by hand.
    plots: the book's figures (needs the ``plot`` extra).
"""

__version__ = "0.1.0"
