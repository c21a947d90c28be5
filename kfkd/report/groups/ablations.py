"""The ``ablations`` figure group: breeze with dropout, augmentation and
L1/L2 switched off in turn (Nouri's tutorial table)."""
import os

from .. import store
from ..budget import get_budget
from ..runs import (ABLATION_BASE_ARGS, ABLATIONS, budget_args, budget_note,
                    curves_group, epochs_cell, runs_folder)

__all__ = ["NAME", "run", "ablations"]

#: The group's name (:data:`kfkd.report.groups.GROUPS`).
NAME = "ablations"


def ablations(out_dir, budget="quick", redraw=False, data_dir=None,
              runs_dir=None, verbose=True):
    """breeze with dropout, augmentation and L1/L2 switched off in turn.

    The variants are :data:`ABLATIONS` on top of
    :data:`ABLATION_BASE_ARGS` and the budget's ``ablation_params``, each a
    ``kfkd train`` run.  Writes ``ablations/<variant>.history.csv``,
    ``ablations/summary.csv``, ``ablations/budget.json``, the table as
    ``ablations.csv`` and ``ablations.md`` (rows: variants; columns as
    Nouri's 2014 tutorial table: epochs, train loss, valid loss, plus the
    validation RMSE in pixels and the minutes) and the figure
    ``ablations/ablation_curves``.

    Returns
    -------
    dict
        ``written``, ``summary`` (DataFrame).
    """
    budget = get_budget(budget)
    folder = store.folder(out_dir, "ablations")
    runs = None
    if not redraw:
        runs_dir = runs_dir or runs_folder(None, budget, "ablations")
        base = list(ABLATION_BASE_ARGS)
        for p in budget.ablation_params:
            base += ["--param", p]
        base += budget_args(budget, budget.ablation_minutes,
                             budget.ablation_max_epochs)
        runs = [(name, base + extra, {"change": change})
                for name, change, extra in ABLATIONS]
    written, summary, budget_dict = curves_group(
        folder, budget, runs, runs_dir, data_dir, verbose,
        "Ablations of breeze (budget %s)", "ablation_curves")
    table = summary[["name", "change", "epochs", "best_epoch", "train_loss",
                     "val_loss", "val_rmse_px", "minutes", "command"]]
    written.append(store.write_csv(os.path.join(out_dir, "ablations.csv"),
                                   table))
    md = store.markdown_table(table, {
        "name": "variant", "change": "change", "epochs": "epochs",
        "train_loss": "train loss", "val_loss": "valid loss",
        "val_rmse_px": "validation RMSE (px)", "minutes": "minutes"}, {
        "epochs": epochs_cell, "train_loss": "%.5f", "val_loss": "%.5f",
        "val_rmse_px": "%.3f", "minutes": "%.1f"})
    params = budget_dict.get("ablation_params") or []
    note = budget_note(budget_dict, "ablation_minutes") + (
        " breeze with `%s`." % " ".join("--param " + p for p in params)
        if params else " breeze at its defaults.")
    path = os.path.join(out_dir, "ablations.md")
    store.write_text(path, md + "\n\n" + note + "\n")
    written.append(path)
    return {"written": written, "summary": summary}


def run(out_dir, budget, redraw, data_dir=None, runs_dir=None,
        verbose=True, **context):
    """The group protocol (:mod:`kfkd.report.groups`); the runs go to
    ``runs_dir/figures/<budget>/ablations``."""
    return ablations(out_dir, budget, redraw, data_dir, runs_folder(
        runs_dir, get_budget(budget), "ablations"), verbose)
