"""The training runs behind the training-curve and ablation figures.

Every run is exactly a ``kfkd train`` command: its arguments are parsed
with the command's own arguments (:func:`kfkd.options.add_train_arguments`)
into a :class:`kfkd.config.TrainingConfig`.  Training imports Theano, so :func:`train_run` imports the trainer lazily:
redrawing from saved files never imports Theano.
"""
import argparse
import os
import shlex
import time

import pandas as pd

from ..config import HISTORY_COLUMNS, TrainingConfig
from ..options import add_train_arguments
from ..fileio import read_json, write_json
from . import store
from ..plotting import save_figure
from .training_plots import training_curves_figure

__all__ = ["NET_TRAIN_ARGS", "ABLATION_BASE_ARGS", "ABLATIONS",
           "budget_args", "train_run", "run_set", "slug", "histories",
           "curves_group", "epochs_cell", "budget_note", "runs_folder"]


#: ``kfkd train`` arguments of each net's training curve (beyond the
#: budget's).  net1 as in Nouri (2014): Nesterov momentum, learning rate
#: 0.01, momentum 0.9, no augmentation (Adam at 2e-3 makes its 9216 x 100
#: hidden layer diverge); the others with the command's defaults (Adam
#: 2e-3, batch 32, flips, rotation 10 deg, shift 3 px, scale 5%).
NET_TRAIN_ARGS = {
    "net1": ["--update", "nesterov", "--lr", "0.01", "--momentum", "0.9",
             "--no-augment"],
    "net2": [], "net6": [], "breeze": []}

#: The ablation baseline: breeze with dropout (its defaults), augmentation
#: (the command's defaults) and small L1 and L2 penalties.
ABLATION_BASE_ARGS = ["--net", "breeze", "--l1", "1e-9", "--l2", "1e-6"]

#: (variant, what changes, extra ``kfkd train`` arguments).
ABLATIONS = (
    ("breeze", "dropout, augmentation, L1 1e-9 + L2 1e-6", []),
    ("no dropout", "dropout 0 (conv and dense)",
     ["--param", "dropout_conv=0", "--param", "dropout_dense=0"]),
    ("no augmentation", "no flips, rotations, shifts, scaling",
     ["--no-augment"]),
    ("no L1/L2", "L1 = L2 = 0", ["--l1", "0", "--l2", "0"]),
)


def runs_folder(runs_root, budget, *sub):
    """Where a figure group keeps its training runs:
    ``runs_root/figures/<budget name>/<sub...>`` (``runs_root`` default:
    the repository's ``runs/``)."""
    return os.path.join(runs_root or os.path.join(store.REPO, "runs"),
                        "figures", budget.name, *sub)


def budget_args(budget, minutes, max_epochs):
    """The ``kfkd train`` arguments of a run's budget: ``minutes`` and
    ``max_epochs``, the budget's patience and face limit."""
    args = ["--max-minutes", repr(float(minutes)), "--epochs",
            str(int(max_epochs)), "--patience", str(int(budget.patience))]
    if budget.limit is not None:
        args += ["--limit", str(int(budget.limit))]
    return args


def train_run(name, argv, model_dir, data_dir=None, verbose=True):
    """Run ``kfkd train --out model_dir ARGV`` in this process.

    Returns
    -------
    row : dict
        name, command, validation RMSE (best epoch), train and validation
        loss at the best epoch, epochs, minutes, parameters, faces.
    history : list of dict
        Per epoch (:data:`kfkd.config.HISTORY_COLUMNS`).
    """
    from ..train import Trainer  # Theano boundary: lazy

    argv = ["--out", store.rel(model_dir)] + list(argv)
    if data_dir is not None:
        argv += ["--data-dir", data_dir]
    parser = argparse.ArgumentParser(prog="kfkd train")
    add_train_arguments(parser)
    args = parser.parse_args(argv)
    train, val = store.split(data_dir, args.limit)
    trainer = Trainer(TrainingConfig.from_args(args), verbose=verbose)
    started = time.time()
    model = trainer.fit(train, val, out_dir=model_dir)
    history = trainer.history_
    best = history[trainer.best_epoch_ - 1]
    import lasagne  # after kfkd.train, which imports kfkd.compat first
    return {
        "name": name,
        "val_rmse_px": float(best["val_rmse_px"]),
        "train_loss": float(best["train_loss"]),
        "val_loss": float(best["val_loss"]),
        "best_epoch": int(trainer.best_epoch_),
        "epochs": len(history),
        "minutes": float(history[-1]["seconds"]) / 60.0,
        "wall_minutes": (time.time() - started) / 60.0,
        "n_params": int(lasagne.layers.count_params(model.layer)),
        "n_train": len(train), "n_val": len(val),
        "command": "kfkd train " + " ".join(shlex.quote(a) for a in argv),
    }, history


def run_set(folder, runs, runs_dir, data_dir, verbose):
    """Train ``runs`` [(name, argv, extra row fields)], save their
    histories and ``summary.csv`` in ``folder``."""
    rows, written = [], []
    for name, argv, extra in runs:
        model_dir = os.path.join(runs_dir, slug(name))
        row, history = train_run(name, argv, model_dir, data_dir, verbose)
        row.update(extra)
        rows.append(row)
        path = os.path.join(folder, "%s.history.csv" % slug(name))
        written.append(store.write_csv(path, pd.DataFrame(
            history, columns=list(HISTORY_COLUMNS))))
    written.append(store.write_csv(os.path.join(folder, "summary.csv"),
                              pd.DataFrame(rows)))
    return written


def slug(name):
    """``name`` as a file name: runs of non-alphanumerics become ``_``."""
    return "".join(c if c.isalnum() else "_" for c in name).strip("_")


def histories(folder):
    """``folder/summary.csv`` and {run name: its saved history} (DataFrames).
    """
    summary = pd.read_csv(os.path.join(folder, "summary.csv"))
    out = {}
    for name in summary.name:
        path = os.path.join(folder, "%s.history.csv" % slug(name))
        store.need(path)
        out[name] = pd.read_csv(path)
    return summary, out


def curves_group(folder, budget, runs, runs_dir, data_dir, verbose, title,
                  figure):
    """Train ``runs`` (:func:`run_set`; ``None``: redraw only), record the
    budget in ``folder/budget.json``, then draw the loss curves of the saved
    histories as ``folder/<figure>`` (``title % budget name``).

    Returns
    -------
    written : list of str
    summary : DataFrame
        ``folder/summary.csv``.
    budget_dict : dict
        ``folder/budget.json``: the budget of the saved runs.

    Raises
    ------
    FileNotFoundError
        Redrawing without the saved files.
    """
    written = []
    if runs is not None:
        written += run_set(folder, runs, runs_dir, data_dir, verbose)
        write_json(os.path.join(folder, "budget.json"), budget.to_dict())
        written.append(os.path.join(folder, "budget.json"))
    store.need(os.path.join(folder, "summary.csv"),
          os.path.join(folder, "budget.json"))
    summary, saved = histories(folder)
    budget_dict = read_json(os.path.join(folder, "budget.json"))
    written += save_figure(training_curves_figure(
        saved, title % budget_dict["name"]),
        os.path.join(folder, figure))
    return written, summary, budget_dict


def epochs_cell(row):
    """A table cell: ``epochs (best best_epoch)``."""
    return "%d (best %d)" % (row["epochs"], row["best_epoch"])


def budget_note(budget_dict, minutes_key):
    """One sentence on a saved budget: faces, split and minutes per run."""
    limit = budget_dict.get("limit")
    faces = ("all of training.csv" if limit in (None, "") else
             "the first %d faces of training.csv" % int(limit))
    return ("Budget `%s`: %s (80/20 train/validation split), %.4g min per "
            "run (`kfkd train --max-minutes`)."
            % (budget_dict["name"], faces, budget_dict[minutes_key]))


