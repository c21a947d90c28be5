"""A tiny space for smoke runs, tests and benchmarks: a small breeze, seconds
per trial (use with ``--limit 300``): 1 epoch, and a second for the trials
in the better half at the end of it."""
from kfkd.search import log_uniform_or_zero

FIXED = {"net": "breeze", "max_epochs": 2, "net.convs_per_block": 1,
         "net.width": 4, "net.dense_units": 32, "update": "adam",
         "batch_size": 64, "patience": 5}

#: Successive halving over epochs (kfkd.search.fidelity): 1 epoch, then the
#: better half of each trial's rivals so far go on to 2.
RUNGS = {"min_epochs": 1, "reduction_factor": 2, "max_epochs": 2}

SURFACES = [("learning_rate", "l2"), ("net.dropout_conv", "l2"),
            ("net.depth", "net.dropout_dense")]

#: Configuration keys that suggest() samples log-uniformly (log axes in plots).
LOG_KEYS = ("learning_rate", "l2")


def suggest(trial):
    """One configuration."""
    return {
        "learning_rate": trial.suggest_float("learning_rate", 1e-4, 1e-2,
                                             log=True),
        "l2": log_uniform_or_zero(trial, "l2", 1e-6, 1e-3),
        "net.dropout_conv": trial.suggest_float("dropout_conv", 0.0, 0.2),
        "net.dropout_dense": trial.suggest_float("dropout_dense", 0.0, 0.5),
        "net.depth": trial.suggest_int("depth", 2, 3),
        "flip": trial.suggest_categorical("flip", [True, False]),
    }
