"""The ``depth`` figure group: validation RMSE against the number of conv
blocks of breeze at a matched budget (the 2015 paper's depth study)."""
import os

import pandas as pd

from .. import store
from ..budget import get_budget
from ...plotting import save_figure
from ..runs import (ABLATIONS, budget_note, records_folder, runs_folder,
                    runs_note, seed_spread, seeded_runs, slug, write_runs)
from ..training_plots import depth_figure
from ...fileio import read_json
from .ablations import base_args, spread_markdown

__all__ = ["NAME", "run", "depth_study", "BREEZE_DEPTH"]

#: The group's name (:data:`kfkd.report.groups.GROUPS`).
NAME = "depth"

#: breeze's default conv blocks (:func:`kfkd.nets.breeze`; a test checks
#: it, so that redrawing need not import the nets and Theano).
BREEZE_DEPTH = 4


def _base_depth(ablation_params):
    """The depth of the ablations' baseline: a ``depth=`` of the budget's
    ``ablation_params``, else breeze's default."""
    for p in ablation_params:
        if p.startswith("depth="):
            return int(p.split("=", 1)[1])
    return BREEZE_DEPTH


def depth_runs(budget):
    """The depth study's runs (:func:`kfkd.report.runs.seeded_runs`): the
    ablations' baseline arguments with ``--param depth=D`` for each
    ``budget.depths``; the baseline's own depth is the ablations' baseline
    run itself (same arguments, same folder), trained once for both."""
    base = _base_depth(budget.ablation_params)
    variants = [("depth %d" % d, {"depth": d}, [], slug(ABLATIONS[0][0]))
                if d == base else
                ("depth %d" % d, {"depth": d}, ["--param", "depth=%d" % d])
                for d in budget.depths]
    return seeded_runs(variants, base_args(budget), budget.seeds)


def depth_study(out_dir, budget="quick", redraw=False, data_dir=None,
                runs_dir=None, verbose=True, lane=None, partial=False):
    """Validation RMSE of breeze against its conv blocks (``depth``),
    each depth from ``budget.seeds`` seeds at the same minutes.

    The runs (:func:`depth_runs`) live beside the ablations' in
    ``runs_dir`` (``runs/figures/<budget>/ablations``).  Writes
    ``depth/summary.csv`` (one row per run), ``depth/spread.csv`` (per
    depth: seeds, mean, sd, min, max, difference from the baseline depth
    and its noise: :func:`kfkd.report.runs.seed_spread`),
    ``depth/<depth>.seed<k>.history.csv``, ``depth/budget.json``,
    ``depth.md`` and the figure ``depth/depth_study``.

    Returns
    -------
    dict
        ``written``, ``summary`` (None while other lanes have runs to
        finish).
    """
    budget = get_budget(budget)
    folder = store.folder(out_dir, "depth")
    written = []
    if not redraw:
        runs_dir = runs_dir or runs_folder(None, budget, "ablations")
        written = write_runs(folder, budget, depth_runs(budget), runs_dir,
                             data_dir, verbose, lane, records_folder(
                                 out_dir, budget, "ablations"), partial)
        if not written:
            return {"written": [], "summary": None}
    summary_path = os.path.join(folder, "summary.csv")
    store.need(summary_path, os.path.join(folder, "budget.json"))
    summary = pd.read_csv(summary_path)
    budget_dict = read_json(os.path.join(folder, "budget.json"))
    base = "depth %d" % _base_depth(budget_dict.get("ablation_params")
                                    or ())
    spread = seed_spread(summary, base if base in set(summary["name"])
                         else None)
    spread["depth"] = [int(n.split()[1]) for n in spread["name"]]
    spread["n_params"] = [int(summary.loc[summary["name"] == n,
                                          "n_params"].iloc[0])
                          for n in spread["name"]]
    written.append(store.write_csv(os.path.join(folder, "spread.csv"),
                                   spread))
    written += save_figure(depth_figure(summary, spread, budget_dict),
                           os.path.join(folder, "depth_study"))
    md = spread_markdown(spread, "conv blocks", "depth") if (
        "verdict" in spread) else store.markdown_table(
        spread, {"depth": "conv blocks", "mean": "validation RMSE (px)"},
        {"mean": "%.3f"})
    note = (budget_note(budget_dict, "ablation_minutes")
            + " breeze with the ablations' baseline settings and `--param "
              "depth=D`. Seeds per depth: %d (a single-seed cell is one "
              "run)." % int(budget_dict.get("seeds", 1))
            + runs_note(summary, budget_dict))
    path = os.path.join(out_dir, "depth.md")
    store.write_text(path, md + "\n\n" + note + "\n")
    written.append(path)
    return {"written": written, "summary": summary,
            "runs_planned": budget_dict.get("runs_planned")}


def run(out_dir, budget, redraw, data_dir=None, runs_dir=None,
        verbose=True, lane=None, partial=False, **context):
    """The group protocol (:mod:`kfkd.report.groups`); the runs are the
    ablations' (``runs_dir/figures/<budget>/ablations``)."""
    return depth_study(out_dir, budget, redraw, data_dir, runs_folder(
        runs_dir, get_budget(budget), "ablations"), verbose, lane, partial)
