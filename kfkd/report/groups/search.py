"""The ``search`` figure group: the 3D validation-RMSE surfaces of a
stored random-search study (or of a small study run for them)."""
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
from ...search.results import best_trials_markdown, sampled_keys

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


def _keep_numbers(out_dir, js, info, frame, importances):
    """Add the importances to study.json (``js``, already listed as
    written) and write ``search.md``, the best trials' table; [its path]."""
    info["importances"], info["importances_note"] = importances
    write_json(js, info)
    varied = [k for k in info.get("sampled_keys", [])
              if k in frame and frame[k].nunique() > 1]
    return [store.write_text(os.path.join(out_dir, "search.md"),
                                 best_trials_markdown(frame, varied) + "\n")]


def search_surfaces(out_dir, budget="quick", redraw=False, study_dir=None,
                    runs_dir=None, data_dir=None, verbose=True):
    """The 3D validation-RMSE surfaces of a random-search study.

    The study is the one stored in ``study_dir`` (default: the main job's
    ``runs/default``) if it has at least 3 complete trials; otherwise a
    study of ``budget.search_trials`` trials of ``budget.search_space`` is
    run (:class:`kfkd.search.Driver`, resumable) into
    ``runs_dir/figures-<budget>/``.  Writes ``search/results.csv``
    (:func:`kfkd.search.results_frame`), ``search/study.json`` (study,
    space, surfaces, log-scaled and sampled keys, best trial, fANOVA
    importances and the note saying why when there are none) and the
    figures ``search/surfaces_<x>_<y>`` and ``search/importances``, and
    ``search.md``, the best trials' table
    (:func:`kfkd.search.results.best_trials_markdown`)
    (:func:`kfkd.search.plots.search_surfaces`).

    Returns
    -------
    dict
        ``written``, ``study`` (study.json's contents).
    """
    budget = get_budget(budget)
    folder = store.folder(out_dir, "search")
    csv_path, js = (os.path.join(folder, f) for f in ("results.csv",
                                                      "study.json"))
    written = []
    if not redraw:
        found = _stored_study(study_dir or store.DEFAULT_STUDY_DIR)
        source = "stored"
        if found is None:
            source = "ran"
            runs_dir = runs_dir or os.path.join(store.REPO, "runs")
            name = "figures-%s" % budget.name
            space = search.load_space(budget.search_space)
            search.Driver(space, name, budget.search_trials,
                          search.default_devices(), runs_dir,
                          data_dir=data_dir, limit=budget.search_limit,
                          minutes=budget.search_minutes, seed=0,
                          verbose=verbose).run()
            study_dir = os.path.join(runs_dir, name)
            found = _stored_study(study_dir, min_complete=1)
            if found is None:
                raise RuntimeError("the search study %s completed no trial"
                                   % study_dir)
        else:
            study_dir = study_dir or store.DEFAULT_STUDY_DIR
        study, space = found
        frame = search.results_frame(study)
        written.append(store.write_csv(csv_path, frame))
        done = frame[frame.state == "COMPLETE"]
        best = done.loc[done.val_rmse_px.idxmin()]
        write_json(js, {
            "study": study.study_name, "study_dir": store.rel(study_dir),
            "source": source, "space": space.name,
            "surfaces": [list(p) for p in space.surfaces],
            "log_keys": sorted(search.log_scaled_keys(study)),
            "sampled_keys": sampled_keys(study, space),
            "n_trials": int(len(frame)), "n_complete": int(len(done)),
            "best": {"number": int(best.number),
                     "val_rmse_px": float(best.val_rmse_px),
                     "config": study.trials[int(best.number)].user_attrs.get(
                         "config")},
            "budget": budget.to_dict() if source == "ran" else None})
        written.append(js)
    store.need(csv_path, js)
    info = read_json(js)
    for old in glob.glob(os.path.join(folder, "surfaces_*")):
        os.unlink(old)             # surfaces of another study
    frame = pd.read_csv(csv_path)
    shares, note = param_importances(frame, info.get("sampled_keys", []),
                                     info["log_keys"])
    if not redraw:                  # the figure's numbers, kept beside it
        written += _keep_numbers(out_dir, js, info, frame, (shares, note))
    written += draw_surfaces(
        frame, [tuple(p) for p in info["surfaces"]], set(info["log_keys"]),
        os.path.join(folder, "surfaces"), importances=(shares, note))
    return {"written": written, "study": info}


def run(out_dir, budget, redraw, study_dir=None, runs_dir=None,
        data_dir=None, verbose=True, **context):
    """The group protocol (:mod:`kfkd.report.groups`)."""
    return search_surfaces(out_dir, budget, redraw, study_dir, runs_dir,
                           data_dir, verbose)
