"""How many network outputs each target gets under each loss. No Keras import: the model
registry (``lenspipe.learning.variants``), which the Snakemake driver reads, needs it too."""


def outputs_per_target(loss: str) -> int:
    """Output units per target: 1 (the value) for MSE, 2 (mean and log-variance) for the
    losses with a variance (``lenspipe.learning.losses``)."""
    return 1 if loss == "mse" else 2
