"""The default search space: breeze on a laptop (see kfkd.search.space).

Random search (Bergstra & Bengio 2012) over the settings the 2015 paper
explored: learning rate, L1/L2 penalties (0 allowed), dropout, depth and
width, batch size, augmentation strength; successive halving over epochs
(``RUNGS``, kfkd.search.fidelity) stops the poor trials early.  The nets
are narrow (a breeze epoch over the ~2500 training faces is ~7
CPU-seconds at width 8) so that ``make search`` fits a 2-core laptop.

Every region should train within the first rung.  The update rule is Adam
(Kingma & Ba 2015), which scales its steps per parameter, from 7e-4; depth
is 3-4 and conv dropout at most 0.1 per block (0.4 in the 4th), penalties
at most ~10% of the data loss: a first default run with depth 5, conv
dropout up to 0.2 (0.5 in blocks 4-5), Adam from 5e-4 and penalties up to
the data loss had its first two trials stuck at 4.26 and 4.31 px for 3
epochs.  Nesterov
momentum is left out: on breeze (width 8, depth 4) at learning rate 0.01 it
scored 4.26, 4.24, 4.22 px after epochs 1-3 (the mean shape: 4.27 px;
Adam at 1e-3: 3.32 px after one epoch), and at 0.1-0.48, or with small
random output weights instead of zeros, it stayed above 4.18 px; at 1.0 it
diverged.  The loss is a mean over ~30 coordinates in the [-1, 1] scale
(~2e-3 at 2 px), so plain SGD moves the convolutions far too slowly for a
3-epoch rung (Nouri's nets trained for hundreds of epochs).  A space file
with ``"update": "nesterov"`` in ``FIXED`` still searches it.
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
        "learning_rate": trial.suggest_float("learning_rate", 7e-4, 5e-3,
                                             log=True),
        # Penalties are sums over ~0.3M weights (sum W**2 ~ 150, sum |W| ~
        # 6e3 at initialisation) against a data loss of ~2e-3 (2 px RMSE in
        # [-1, 1] units): up to ~10% of it, so that no trial is held at the
        # mean shape by its penalty.
        "l1": log_uniform_or_zero(trial, "l1", 1e-10, 1e-8),
        "l2": log_uniform_or_zero(trial, "l2", 1e-8, 1e-6),
        # block b drops min(0.5, dropout_conv * (b + 1)): at most 0.4 here
        "net.dropout_conv": trial.suggest_float("dropout_conv", 0.0, 0.1),
        "net.dropout_dense": trial.suggest_float("dropout_dense", 0.0, 0.5),
        "net.depth": trial.suggest_int("depth", 3, 4),
        "net.width": trial.suggest_int("width", 4, 8, step=4),
        "batch_size": trial.suggest_categorical("batch_size", [32, 64, 128]),
        "flip": trial.suggest_categorical("flip", [True, False]),
        "rotation": trial.suggest_float("rotation", 0.0, 15.0),
        "shift": trial.suggest_float("shift", 0.0, 4.0),
    }
