"""Run the figure groups and keep their manifest (files written, seconds)."""
import os
import time

from ..fileio import read_json, write_json
from . import store
from .budget import BUDGETS, get_budget
from .groups import GROUPS, REGISTRY

__all__ = ["reproduce", "COMMAND"]

#: The command that remakes every group (``--budget NAME`` for another
#: budget, ``--only GROUP`` for one group).
COMMAND = store.COMMAND


def _provenance(group, budget, result):
    """A group's manifest fields beyond its files: the budget, the seeds of
    its runs, the minutes of training behind it (the sum over its runs'
    ``summary`` rows), the command that remakes it and, for the search
    group, each study drawn with the command that made it."""
    command = "%s --budget %s --only %s" % (COMMAND, budget.name, group)
    if budget.name in BUDGETS and budget.seeds != BUDGETS[budget.name].seeds:
        command += " --seeds %d" % budget.seeds
    entry = {"budget": budget.name, "command": command}
    if result.get("studies"):  # the search studies and their own commands
        entry["studies"] = result["studies"]
    summary = result.get("summary")
    if summary is not None and "minutes" in summary:
        entry["training_minutes"] = round(float(summary["minutes"].sum()), 1)
        entry["runs"] = int(len(summary))
        entry["seeds"] = (int(summary["seed"].nunique())
                          if "seed" in summary else 1)
        entry["runs_planned"] = int(result.get("runs_planned")
                                    or len(summary))
    return entry


def reproduce(out_dir=None, budget="quick", groups=GROUPS, redraw=False,
              data_dir=None, model=None, study_dir=None, runs_dir=None,
              verbose=True, lane=None, partial=False):
    """Run the figure groups; write ``manifest.json`` (files, seconds).

    Parameters
    ----------
    out_dir : str, optional
        Default: the repository's ``figures/``.
    budget : str or Budget
    groups : sequence of str
        Names in :data:`kfkd.report.groups.GROUPS`.
    redraw : bool
        Draw from the saved data only (no data, model or training needed).
    data_dir, model, study_dir, runs_dir
        See the group modules (``runs_dir``: where training runs and a
        fallback study are kept; default ``runs/``).
    verbose : bool
        Progress bars and one line per group.
    lane : (int, int), optional
        ``(K, N)``: train only the K-th share of the unfinished runs
        (:func:`kfkd.report.runs.run_set`); a group still waiting for
        other lanes' runs writes nothing and keeps its manifest entry.
    partial : bool
        Train nothing: draw the groups with training runs from their
        finished runs (``runs_planned`` in the manifest says how many the
        budget has).

    Returns
    -------
    dict
        The manifest: per group its budget, seconds and written files (groups
        not rerun are kept from an earlier manifest), the settings of the
        budgets used and the seconds of this call.

    Raises
    ------
    ValueError
        An unknown group or budget.
    """
    budget = get_budget(budget)
    out_dir = out_dir or os.path.join(store.REPO, "figures")
    unknown = set(groups) - set(GROUPS)
    if unknown:
        raise ValueError("unknown figure group(s) %s; known: %s" % (
            ", ".join(sorted(unknown)), ", ".join(GROUPS)))
    if model is not None and not redraw:
        model = store.load_model(model)
    context = {"data_dir": data_dir, "model": model, "study_dir": study_dir,
               "runs_dir": runs_dir or os.path.join(store.REPO, "runs"),
               "verbose": verbose, "lane": lane, "partial": partial}
    path = os.path.join(out_dir, "manifest.json")
    manifest = read_json(path) if os.path.isfile(path) else {"groups": {}}
    started, done = time.time(), {}  # groups not rerun are kept above
    for group in [g for g in GROUPS if g in groups]:
        t = time.time()
        result = REGISTRY[group].run(out_dir, budget, redraw, **context)
        seconds = time.time() - t
        if not result["written"]:
            continue  # waiting for other lanes' runs
        entry = manifest["groups"].get(group, {}) if redraw else {}
        entry.update({"seconds": round(seconds, 1),
                      "written": sorted({store.rel_to(p, out_dir)
                                         for p in result["written"]})})
        if not redraw:
            entry.update(_provenance(group, budget, result))
        manifest["groups"][group] = done[group] = entry
        if verbose:
            print("figures: %-12s %6.1f s, %d files" % (
                group, seconds, len(result["written"])), flush=True)
    if not redraw and os.path.isfile(path):
        # another call (a lane, a group run by hand) may have written the
        # manifest meanwhile: keep its entries for the groups not run here
        on_disk = read_json(path)
        manifest = dict(on_disk, groups=dict(on_disk["groups"], **done))
    manifest["last_call_seconds"] = round(time.time() - started, 1)
    manifest["command"] = COMMAND
    manifest["budgets"] = {b: BUDGETS[b].to_dict() for b in sorted(
        {g["budget"] for g in manifest["groups"].values()}) if b in BUDGETS}
    if not redraw:
        write_json(path, manifest)
    return manifest
