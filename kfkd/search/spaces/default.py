"""The default search space: breeze on a laptop (see kfkd.search.space).

Random search (Bergstra & Bengio 2012) over the settings the 2015 paper
explored: learning rate, L1/L2 penalties (0 allowed), dropout, depth and
width, batch size, augmentation strength; successive halving over epochs
(``RUNGS``, kfkd.search.fidelity) stops the poor trials early.  The nets
are narrow (a breeze epoch over the ~2500 training faces is ~7
CPU-seconds at width 8) so that ``make search`` fits a 2-core laptop.

Every region trains within the first rung: the update rule is Adam
(Kingma & Ba 2015), which scales its steps per parameter.  Nesterov
momentum is left out: measured on breeze (width 8, depth 4), it stayed at
the mean shape (4.2-4.6 px after 2-3 epochs) at learning rates 0.01, 0.1,
0.26, 0.48 and with output weights starting at zero, 0.1 or 1.0 x Glorot,
and diverged at 1.0 -- the loss is a mean over ~30 coordinates in the
[-1, 1] scale (~2e-3 at 2 px), so plain SGD moves the convolutions far
too slowly for a 3-epoch rung (Nouri's nets trained for hundreds of
epochs).  ``kfkd search --space PATH`` with ``update: nesterov`` in
``FIXED`` still searches it.
"""
from kfkd.search import log_uniform_or_zero

#: Settings shared by every trial.
FIXED = {"net": "breeze", "net.convs_per_block": 1, "net.dense_units": 128,
         "update": "adam", "momentum": 0.9, "scale": 0.05, "patience": 10}

#: Successive halving over epochs: every trial trains 3 epochs; the better
#: half of those at a rung go on, to 6, then 12 epochs (the full budget).
RUNGS = {"min_epochs": 3, "reduction_factor": 2, "max_epochs": 12}

#: Pairs of settings whose validation-RMSE surface is plotted in 3D.
SURFACES = [("learning_rate", "l2"), ("net.dropout_conv", "l2"),
            ("net.depth", "net.width")]

#: Configuration keys that suggest() samples log-uniformly (log axes in plots).
LOG_KEYS = ("learning_rate", "l1", "l2")


def suggest(trial):
    """One configuration (flat keys of kfkd.config.TrainingConfig.from_flat)."""
    return {
        "learning_rate": trial.suggest_float("learning_rate", 5e-4, 5e-3,
                                             log=True),
        # Penalties are sums over ~0.3M weights (sum W**2 ~ 100, sum |W| ~
        # 5e3 at initialisation) against a data loss of ~2e-3 (2 px RMSE in
        # [-1, 1] units): these ranges span "negligible" to "dominant".
        "l1": log_uniform_or_zero(trial, "l1", 1e-10, 1e-7),
        "l2": log_uniform_or_zero(trial, "l2", 1e-8, 1e-5),
        "net.dropout_conv": trial.suggest_float("dropout_conv", 0.0, 0.2),
        "net.dropout_dense": trial.suggest_float("dropout_dense", 0.0, 0.5),
        "net.depth": trial.suggest_int("depth", 3, 5),
        "net.width": trial.suggest_int("width", 4, 8, step=4),
        "batch_size": trial.suggest_categorical("batch_size", [32, 64, 128]),
        "flip": trial.suggest_categorical("flip", [True, False]),
        "rotation": trial.suggest_float("rotation", 0.0, 20.0),
        "shift": trial.suggest_float("shift", 0.0, 5.0),
    }
