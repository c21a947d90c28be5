"""The ``search`` figure group: the 3D validation-RMSE surfaces of a
stored random-search study (or of a small study run for them), and of a
longer study beside it."""
import glob
import os

import optuna
import pandas as pd

from ... import search
from ...fileio import read_json, write_json
from .. import store
from ..budget import get_budget
from ...search.plots import search_surfaces as draw_surfaces
from ...search.response import param_importances
from ...search.results import (best_summary, best_trials_markdown,
                                sampled_keys, study_command)

__all__ = ["NAME", "run", "search_surfaces"]

#: The group's name (:data:`kfkd.report.groups.GROUPS`).
NAME = "search"


def _stored_study(study_dir, min_complete=3):
    """(study, space) of the study stored in ``study_dir``, or None when
    there is none there or it has fewer than ``min_complete`` complete
    trials."""
    if not study_dir or not os.path.isfile(os.path.join(study_dir,
                                                        "journal.log")):
        return None
    storage = search.open_storage(None, study_dir)
    names = optuna.get_all_study_names(storage)
    name = os.path.basename(os.path.normpath(study_dir))
    if name not in names:            # never create a study in someone's storage
        if len(names) != 1:
            return None
        name = names[0]
    study = optuna.load_study(study_name=name, storage=storage)
    frame = search.results_frame(study)
    if not len(frame) or (frame.state == "COMPLETE").sum() < min_complete:
        return None
    attrs = study.user_attrs
    try:
        space = search.load_space(attrs.get("space", ""))
    except FileNotFoundError:       # a path from another machine
        space = search.load_space(attrs.get("space_name", name))
    return study, space


def _record(folder, found, source, study_dir, command, budget):
    """Write ``results.csv`` and ``study.json`` of a study into ``folder``
    (study, space, surfaces, log-scaled and sampled keys, best trial and
    the command that made it); [their paths]."""
    study, space = found
    frame = search.results_frame(study)
    csv_path, js = (os.path.join(folder, f) for f in ("results.csv",
                                                      "study.json"))
    store.write_csv(csv_path, frame)
    best = best_summary(study, space)      # the main job's best.json too
    write_json(js, {
        "study": study.study_name, "study_dir": store.rel(study_dir),
        "source": source, "command": command, "space": space.name,
        "surfaces": [list(p) for p in space.surfaces],
        "log_keys": sorted(search.log_scaled_keys(study)),
        "sampled_keys": sampled_keys(study, space),
        "n_trials": best["n_trials"], "n_complete": best["n_complete"],
        "best": {k: best[k] for k in ("number", "val_rmse_px", "config")},
        "budget": budget.to_dict() if source == "ran" else None})
    return [csv_path, js]


def _draw(folder, table, redraw):
    """Draw the study recorded in ``folder`` (surfaces, importances); unless
    redrawing, add the importances to its study.json and write ``table``,
    the best trials' markdown.  Returns (written, study.json's contents)."""
    csv_path, js = (os.path.join(folder, f) for f in ("results.csv",
                                                      "study.json"))
    store.need(csv_path, js)
    info = read_json(js)
    for old in glob.glob(os.path.join(folder, "surfaces_*")):
        os.unlink(old)             # surfaces of another study
    frame = pd.read_csv(csv_path)
    shares, note = param_importances(frame, info.get("sampled_keys", []),
                                     info["log_keys"])
    written = []
    if not redraw:                  # the figure's numbers, kept beside it
        info["importances"], info["importances_note"] = shares, note
        write_json(js, info)
        varied = [k for k in info.get("sampled_keys", [])
                  if k in frame and frame[k].nunique() > 1]
        written.append(store.write_text(
            table, best_trials_markdown(frame, varied) + "\n"))
    written += draw_surfaces(
        frame, [tuple(p) for p in info["surfaces"]], set(info["log_keys"]),
        os.path.join(folder, "surfaces"), importances=(shares, note))
    return written, info


def _run_study(budget, name, trials, seed, runs_dir, data_dir, verbose):
    """Run (or resume: nothing to do when it is finished) study ``name`` of
    ``budget.search_space`` in ``runs_dir/name``; ((study, space), its
    folder)."""
    space = search.load_space(budget.search_space)
    search.Driver(space, name, trials, search.default_devices(), runs_dir,
                  data_dir=data_dir, limit=budget.search_limit,
                  minutes=budget.search_minutes, seed=seed,
                  verbose=verbose).run()
    study_dir = os.path.join(runs_dir, name)
    found = _stored_study(study_dir, min_complete=1)
    if found is None:
        raise RuntimeError("the search study %s completed no trial"
                           % study_dir)
    return found, study_dir


def search_surfaces(out_dir, budget="quick", redraw=False, study_dir=None,
                    runs_dir=None, data_dir=None, verbose=True):
    """The 3D validation-RMSE surfaces of the random-search studies.

    The first study is the one stored in ``study_dir`` (default: the main
    job's ``runs/default``) if it has at least 3 complete trials;
    otherwise a study of ``budget.search_trials`` trials of
    ``budget.search_space`` is run (:class:`kfkd.search.Driver`, resumable)
    into ``runs_dir/figures-<budget>/``.  Its data and figures go to
    ``search/`` and ``search.md``.  A budget with ``search_long`` adds a
    longer study of the same space, run or resumed in ``runs_dir/<name>``
    (what ``python experiments/grid_search.py --trials N --study NAME
    --seed S`` makes), drawn into ``search/long/`` and ``search_long.md``;
    a budget without one removes those left by another budget.

    Each study's folder holds ``results.csv``
    (:func:`kfkd.search.results_frame`), ``study.json`` (study, the command
    that made it, space, surfaces, log-scaled and sampled keys, best trial,
    fANOVA importances and the note saying why when there are none) and
    the figures ``surfaces_<x>_<y>`` and ``importances``
    (:func:`kfkd.search.plots.search_surfaces`); the ``.md`` file is the
    best trials' table (:func:`kfkd.search.results.best_trials_markdown`).

    Returns
    -------
    dict
        ``written``, ``study`` (the first study.json's contents),
        ``studies`` (per study drawn: its name, command, trials, complete
        trials and best RMSE in pixels).

    Raises
    ------
    FileNotFoundError
        Redrawing without the saved data.
    kfkd.errors.SearchError
        A stored longer study made with another space or seed.
    """
    budget = get_budget(budget)
    runs_dir = runs_dir or os.path.join(store.REPO, "runs")
    folder = store.folder(out_dir, "search")
    long_folder = os.path.join(folder, "long")
    written = []
    if not redraw:
        found = _stored_study(study_dir or store.DEFAULT_STUDY_DIR)
        if found is None:
            name = "figures-%s" % budget.name
            found, study_dir = _run_study(
                budget, name, budget.search_trials, 0, runs_dir, data_dir,
                verbose)
            source, command = "ran", "%s --budget %s --only search" % (
                store.COMMAND, budget.name)
        else:
            study_dir = study_dir or store.DEFAULT_STUDY_DIR
            source, command = "stored", study_command(found[0])
        written += _record(folder, found, source, study_dir, command, budget)
        if budget.search_long:
            name, trials, seed = budget.search_long
            found, long_dir = _run_study(budget, name, trials, seed,
                                         runs_dir, data_dir, verbose)
            written += _record(store.folder(folder, "long"),
                               found, "ran", long_dir,
                               study_command(found[0]), budget)
        else:                       # none of another budget's
            store.remove_stale(out_dir, (os.path.join("search", "long"),
                                         "search_long.md"))
    drawn, info = _draw(folder, os.path.join(out_dir, "search.md"), redraw)
    written += drawn
    studies = [info]
    if os.path.isfile(os.path.join(long_folder, "study.json")) and (
            redraw or budget.search_long):
        drawn, long_info = _draw(long_folder,
                                 os.path.join(out_dir, "search_long.md"),
                                 redraw)
        written += drawn
        studies.append(long_info)
    return {"written": written, "study": info,
            "studies": [{"study": i["study"], "command": i.get("command"),
                         "trials": i["n_trials"],
                         "complete": i["n_complete"],
                         "best_rmse_px": i["best"]["val_rmse_px"]}
                        for i in studies]}


def run(out_dir, budget, redraw, study_dir=None, runs_dir=None,
        data_dir=None, verbose=True, **context):
    """The group protocol (:mod:`kfkd.report.groups`)."""
    return search_surfaces(out_dir, budget, redraw, study_dir, runs_dir,
                           data_dir, verbose)
