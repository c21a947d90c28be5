"""The ``training`` figure group: loss curves and the results table of
each net of the budget, each a ``kfkd train`` run."""
import os

from .. import store
from ..budget import get_budget
from ..runs import (NET_TRAIN_ARGS, budget_args, budget_note, curves_group,
                    epochs_cell, records_folder, runs_folder, runs_note)

__all__ = ["NAME", "run", "training_curves"]

#: The group's name (:data:`kfkd.report.groups.GROUPS`).
NAME = "training"

#: ``stopped_by`` of a run (:meth:`kfkd.train.Trainer.fit`) as a table cell.
_STOPPED = {"patience": "early stopping", "max_minutes": "the minutes",
            "max_epochs": "the epochs"}


def training_curves(out_dir, budget="quick", redraw=False, data_dir=None,
                    runs_dir=None, verbose=True, lane=None, partial=False):
    """Train/validation loss per epoch of each net of ``budget.nets``.

    Each net is trained by ``kfkd train --net NAME`` with the command's
    defaults (:data:`NET_TRAIN_ARGS`) under the budget; the models go to
    ``runs_dir/<net>``.  Writes ``training/<net>.history.csv``,
    ``training/summary.csv`` (one row per net: validation RMSE, losses,
    epochs, minutes, parameters, the command), ``training/budget.json``,
    ``training.md`` (the table, Markdown) and the figure
    ``training/training_curves``.

    Returns
    -------
    dict
        ``written``, ``summary`` (DataFrame).
    """
    budget = get_budget(budget)
    folder = store.folder(out_dir, "training")
    runs = None
    if not redraw:
        runs_dir = runs_dir or runs_folder(None, budget)
        runs = [(net, ["--net", net] + NET_TRAIN_ARGS.get(net, []) +
                 budget_args(budget, budget.net_minutes,
                              budget.net_max_epochs), {}, net)
                for net in budget.nets]
    written, summary, budget_dict = curves_group(
        folder, budget, runs, runs_dir, data_dir, verbose,
        "Training curves: train and validation loss per epoch (budget %s)",
        "training_curves", lane, records_folder(out_dir, budget, "training"),
        partial)
    if summary is None:
        return {"written": [], "summary": None}
    table = store.markdown_table(summary, {
        "name": "net", "n_params": "parameters", "epochs": "epochs",
        "train_loss": "train loss", "val_loss": "valid loss",
        "val_rmse_px": "validation RMSE (px)", "minutes": "minutes",
        "stopped_by": "stopped by"}, {
        "n_params": lambda r: format(int(r["n_params"]), ","),
        "epochs": epochs_cell, "train_loss": "%.5f", "val_loss": "%.5f",
        "val_rmse_px": "%.3f", "minutes": "%.1f",
        "stopped_by": lambda r: _STOPPED.get(r.get("stopped_by"), "-")})
    md = os.path.join(out_dir, "training.md")
    store.write_text(md, table + "\n\n"
                     + budget_note(budget_dict, "net_minutes")
                     + runs_note(summary, budget_dict) + "\n")
    written.append(md)
    return {"written": written, "summary": summary,
            "runs_planned": budget_dict.get("runs_planned")}


def run(out_dir, budget, redraw, data_dir=None, runs_dir=None,
        verbose=True, lane=None, partial=False, **context):
    """The group protocol (:mod:`kfkd.report.groups`); the runs go to
    ``runs_dir/figures/<budget>``."""
    return training_curves(out_dir, budget, redraw, data_dir, runs_folder(
        runs_dir, get_budget(budget)), verbose, lane, partial)
