"""The ``ablations`` figure group: breeze with dropout, augmentation, L1/L2
and batch normalisation switched off in turn and exposure correction
switched on (Nouri's tutorial table), each variant from the budget's seeds.
"""
import os

from .. import store
from ..budget import get_budget
from ..runs import (ABLATION_BASE_ARGS, ABLATIONS, budget_args, budget_note,
                    curves_group, records_folder, runs_folder, runs_note,
                    seed_spread, seeded_runs, spread_cell)

__all__ = ["NAME", "run", "ablations", "base_args", "spread_markdown"]

#: The group's name (:data:`kfkd.report.groups.GROUPS`).
NAME = "ablations"


def base_args(budget):
    """The ``kfkd train`` arguments every ablation (and depth-study) run
    shares: :data:`ABLATION_BASE_ARGS`, the budget's ``ablation_params``
    and its minutes, epochs, patience and faces."""
    base = list(ABLATION_BASE_ARGS)
    for p in budget.ablation_params:
        base += ["--param", p]
    return base + budget_args(budget, budget.ablation_minutes,
                              budget.ablation_max_epochs)


def spread_markdown(spread, label, first_column):
    """The Markdown table of :func:`kfkd.report.runs.seed_spread` with a
    baseline: ``first_column`` (its header ``label``), validation RMSE as
    mean ± sd, the difference from the baseline against twice its standard
    error, the verdict and the minutes per run."""
    def diff(row):
        if row["verdict"] == "baseline":
            return ""
        if int(row["n"]) < 2:
            return "%+.3f" % row["diff"]
        return "%+.3f (noise ±%.3f)" % (row["diff"], row["noise"])
    return store.markdown_table(spread, {
        first_column: label, "rmse": "validation RMSE (px)",
        "range": "min-max (px)", "diff": "vs baseline", "verdict": "verdict",
        "minutes": "minutes per run"}, {
        "rmse": spread_cell, "range": lambda r: "%.3f-%.3f" % (
            r["min"], r["max"]), "diff": diff, "minutes": "%.1f"})


def ablations(out_dir, budget="quick", redraw=False, data_dir=None,
              runs_dir=None, verbose=True, lane=None, partial=False):
    """breeze with one change each (:data:`ABLATIONS`), each from
    ``budget.seeds`` seeds.

    Every run is a ``kfkd train`` run of :func:`base_args` plus the
    variant's arguments and ``--seed``, kept in
    ``runs_dir/<variant>/seed<k>``.  Writes
    ``ablations/<variant>.seed<k>.history.csv``, ``ablations/summary.csv``
    (one row per run), ``ablations/spread.csv`` (per variant: seeds, mean,
    sd, min, max of the validation RMSE in pixels, the difference from the
    baseline and whether it exceeds twice its standard error:
    :func:`kfkd.report.runs.seed_spread`), ``ablations/budget.json``, the
    tables ``ablations.csv`` and ``ablations.md`` and the figure
    ``ablations/ablation_curves`` (the first seed's curves).

    Returns
    -------
    dict
        ``written``, ``summary`` (DataFrame; None while other ``lane`` s
        have runs to finish).
    """
    budget = get_budget(budget)
    folder = store.folder(out_dir, "ablations")
    runs = None
    if not redraw:
        runs_dir = runs_dir or runs_folder(None, budget, "ablations")
        runs = seeded_runs([(name, {"change": change}, extra)
                            for name, change, extra in ABLATIONS],
                           base_args(budget), budget.seeds)
    written, summary, budget_dict = curves_group(
        folder, budget, runs, runs_dir, data_dir, verbose,
        "Ablations of breeze (budget %s; first seed)", "ablation_curves",
        lane, records_folder(out_dir, budget, "ablations"), partial)
    if summary is None:
        return {"written": [], "summary": None}
    base = ABLATIONS[0][0]
    spread = seed_spread(summary, base if base in set(summary["name"])
                         else None)
    spread["change"] = [summary.loc[summary["name"] == n, "change"].iloc[0]
                        for n in spread["name"]]
    written.append(store.write_csv(os.path.join(folder, "spread.csv"),
                                   spread))
    table = spread.merge(summary.groupby("name", sort=False)[
        ["epochs", "train_loss", "val_loss"]].mean().reset_index(),
        on="name")
    written.append(store.write_csv(os.path.join(out_dir, "ablations.csv"),
                                   table))
    md = spread_markdown(table, "variant", "name")
    params = budget_dict.get("ablation_params") or []
    note = budget_note(budget_dict, "ablation_minutes") + (
        " breeze with `%s`." % " ".join("--param " + p for p in params)
        if params else " breeze at its defaults.") + (
        " Seeds per variant: %d (a single-seed cell is one run); a "
        "difference within twice its standard error is called within "
        "noise." % int(budget_dict.get("seeds", 1))
        + runs_note(summary, budget_dict))
    changes = "\n".join("- **%s**: %s" % (r["name"], r["change"])
                        for _, r in table.iterrows())
    path = os.path.join(out_dir, "ablations.md")
    store.write_text(path, md + "\n\n" + note + "\n\n" + changes + "\n")
    written.append(path)
    return {"written": written, "summary": summary,
            "runs_planned": budget_dict.get("runs_planned")}


def run(out_dir, budget, redraw, data_dir=None, runs_dir=None,
        verbose=True, lane=None, partial=False, **context):
    """The group protocol (:mod:`kfkd.report.groups`); the runs go to
    ``runs_dir/figures/<budget>/ablations``."""
    return ablations(out_dir, budget, redraw, data_dir, runs_folder(
        runs_dir, get_budget(budget), "ablations"), verbose, lane, partial)
