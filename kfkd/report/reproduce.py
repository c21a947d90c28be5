"""Run the figure groups and keep their manifest (files written, seconds)."""
import os
import time

from ..fileio import read_json, write_json
from . import store
from .budget import BUDGETS, get_budget
from .groups import GROUPS, REGISTRY

__all__ = ["reproduce"]


def reproduce(out_dir=None, budget="quick", groups=GROUPS, redraw=False,
              data_dir=None, model=None, study_dir=None, runs_dir=None,
              verbose=True):
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
               "verbose": verbose}
    path = os.path.join(out_dir, "manifest.json")
    manifest = read_json(path) if os.path.isfile(path) else {"groups": {}}
    started = time.time()           # groups not rerun are kept above
    for group in [g for g in GROUPS if g in groups]:
        t = time.time()
        result = REGISTRY[group].run(out_dir, budget, redraw, **context)
        seconds = time.time() - t
        manifest["groups"][group] = {
            "budget": budget.name, "seconds": round(seconds, 1),
            "written": sorted({store.rel_to(p, out_dir)
                               for p in result["written"]})}
        if verbose:
            print("figures: %-12s %6.1f s, %d files" % (
                group, seconds, len(result["written"])), flush=True)
    manifest["last_call_seconds"] = round(time.time() - started, 1)
    manifest["budgets"] = {b: BUDGETS[b].to_dict() for b in sorted(
        {g["budget"] for g in manifest["groups"].values()}) if b in BUDGETS}
    if not redraw:
        write_json(path, manifest)
    return manifest
