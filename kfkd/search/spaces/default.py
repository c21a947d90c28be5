"""The default search space: breeze on a laptop (see kfkd.search.space).

Random search (Bergstra & Bengio 2012) over the settings the 2015 paper
explored: learning rate and update rule, L1/L2 penalties (0 allowed),
dropout, depth and width, batch size, augmentation strength, patience.
Trials are short (``--minutes-per-trial``), so the nets are kept narrow.
"""
from kfkd.search import log_uniform_or_zero

#: Settings shared by every trial.
FIXED = {"net": "breeze", "max_epochs": 200, "net.convs_per_block": 1,
         "net.dense_units": 256, "scale": 0.05}

#: Pairs of settings whose validation-RMSE surface is plotted in 3D.
SURFACES = [("learning_rate", "l2"), ("net.dropout_conv", "l2"),
            ("net.depth", "net.width")]

#: Configuration keys that suggest() samples log-uniformly (log axes in plots).
LOG_KEYS = ("learning_rate", "l1", "l2")


def suggest(trial):
    """One configuration (flat keys of kfkd.config.TrainingConfig.from_flat)."""
    update = trial.suggest_categorical("update", ["adam", "nesterov"])
    if update == "adam":
        learning_rate = trial.suggest_float("learning_rate", 3e-4, 3e-3,
                                            log=True)
    else:
        learning_rate = trial.suggest_float("learning_rate", 3e-3, 5e-2,
                                            log=True)
    return {
        "update": update,
        "learning_rate": learning_rate,
        "momentum": 0.9,
        # Penalties are sums over ~1.3M weights (sum W**2 ~ 500, sum |W| ~
        # 3e4 at initialisation) against a data loss of ~2e-3 (2 px RMSE in
        # [-1, 1] units): these ranges span "negligible" to "dominant".
        "l1": log_uniform_or_zero(trial, "l1", 1e-10, 1e-7),
        "l2": log_uniform_or_zero(trial, "l2", 1e-8, 1e-5),
        "net.dropout_conv": trial.suggest_float("dropout_conv", 0.0, 0.2),
        "net.dropout_dense": trial.suggest_float("dropout_dense", 0.0, 0.5),
        "net.depth": trial.suggest_int("depth", 3, 5),
        "net.width": trial.suggest_int("width", 8, 24, step=4),
        "batch_size": trial.suggest_categorical("batch_size", [32, 64, 128]),
        "flip": trial.suggest_categorical("flip", [True, False]),
        "rotation": trial.suggest_float("rotation", 0.0, 20.0),
        "shift": trial.suggest_float("shift", 0.0, 5.0),
        "patience": trial.suggest_int("patience", 5, 20, step=5),
    }
