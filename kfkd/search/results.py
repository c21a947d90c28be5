"""A study's results: the table, the best trial and the files written.

``results.csv`` (one row per trial), ``best.json`` and ``best_model/`` (THE
best trial: :func:`best_trial`, also used by the driver's progress line and
``kfkd plot-search``), the hyperparameter importances (in ``best.json``)
and the fitted validation-RMSE surfaces
(:func:`kfkd.search.plots.search_surfaces`).
"""
import os
import shutil

import numpy as np
import pandas as pd
from optuna.trial import TrialState

from ..fileio import atomic_write, write_json
from .space import study_space

__all__ = ["results_frame", "best_trial", "log_scaled_keys", "sampled_keys",
           "best_summary", "importances", "best_trials_markdown",
           "write_outputs", "study_command", "SEARCH_COMMAND"]

#: The main job's command (``kfkd search``'s options follow it).
SEARCH_COMMAND = "python experiments/grid_search.py"


def _last_value(trial):
    """The last validation RMSE a trial reported (its value when it has no
    intermediate values); None when it reported none."""
    if trial.intermediate_values:
        return trial.intermediate_values[max(trial.intermediate_values)]
    return trial.value


def results_frame(study):
    """One row per trial: number, state, parameters, RMSE, epochs, seconds.

    Columns: ``number``, ``sample_index``, ``state``, one column per
    configuration key (effective values: 0 where a penalty is off),
    ``val_rmse_px`` (complete trials only), ``last_val_rmse_px`` (the
    last validation RMSE reported, e.g. where a trial was pruned),
    ``best_epoch``, ``epochs``, ``seconds``, ``device``, ``host``, ``pid``
    (of the worker), ``error``.

    Returns
    -------
    pandas.DataFrame
        Sorted by ``number``; empty when the study has no trial.
    """
    rows = []
    for t in study.get_trials(deepcopy=False):
        row = {"number": t.number,
               "sample_index": t.user_attrs.get("sample_index"),
               "state": t.state.name}
        row.update(t.user_attrs.get("config", {}))
        row["val_rmse_px"] = (t.value if t.state == TrialState.COMPLETE
                              else None)
        row["last_val_rmse_px"] = (_last_value(t) if t.state in (
            TrialState.COMPLETE, TrialState.PRUNED) else None)
        for key in ("best_epoch", "epochs", "seconds", "device", "host",
                    "pid", "error"):
            row[key] = t.user_attrs.get(key)
        rows.append(row)
    frame = pd.DataFrame(rows)
    if len(frame):
        frame = frame.sort_values("number").reset_index(drop=True)
    return frame


def best_trial(study):
    """THE best trial of a study: the complete trial of lowest validation RMSE
    (the lowest number among equals); None when no trial completed.

    Returns
    -------
    optuna.trial.FrozenTrial or None
    """
    complete = study.get_trials(deepcopy=False,
                                states=(TrialState.COMPLETE,))
    if not complete:
        return None
    return min(complete, key=lambda t: (t.value, t.number))


def log_scaled_keys(study, space=None):
    """Configuration keys sampled log-uniformly: the space's ``LOG_KEYS``.

    Parameters
    ----------
    study : optuna.study.Study
    space : SearchSpace, optional
        Default: the space the study was made with
        (:func:`kfkd.search.space.study_space`).

    Returns
    -------
    set of str
    """
    return set((space or study_space(study)).log_keys)


def sampled_keys(study, space):
    """The configuration keys a study's trials sampled: every key of their
    ``config`` but the space's ``FIXED`` ones and what the worker adds
    (``seed``, ``max_minutes``), in first-seen order."""
    keys = {}
    for t in study.get_trials(deepcopy=False):
        for key in t.user_attrs.get("config", {}):
            keys.setdefault(key, None)
    return [k for k in keys
            if k not in space.fixed and k not in ("seed", "max_minutes")]


def study_command(study):
    """The command that makes (or resumes) ``study``: the main job with
    the options that differ from their defaults.

    Built from what the study records: its name, space, seed, number of
    trials and, for studies made since they were recorded, the face limit
    and the per-trial minutes (absent: the defaults, none).

    Returns
    -------
    str
        E.g. ``python experiments/grid_search.py --trials 100 --study long
        --seed 1``.

    Examples
    --------
    >>> import optuna
    >>> study = optuna.create_study(study_name="long")
    >>> for key, value in {"space_name": "default", "seed": 1,
    ...                    "n_trials": 100}.items():
    ...     study.set_user_attr(key, value)
    >>> study_command(study)
    'python experiments/grid_search.py --trials 100 --study long --seed 1'
    """
    attrs = study.user_attrs
    space = attrs.get("space_name", "default")
    options = [("--trials", attrs.get("n_trials"), 40),
               ("--space", space, "default"),
               ("--study", study.study_name, space),
               ("--seed", attrs.get("seed"), 0),
               ("--limit", attrs.get("limit"), None),
               ("--minutes-per-trial", attrs.get("minutes"), None)]
    return " ".join([SEARCH_COMMAND] + ["%s %s" % (flag, value)
                                        for flag, value, default in options
                                        if value is not None
                                        and value != default])


def importances(study, space, frame=None):
    """fANOVA importances of the sampled settings for validation RMSE.

    See :func:`kfkd.search.response.param_importances`.

    Returns
    -------
    (dict or None, str or None)
        ``{key: share}`` and a note saying why there are none.
    """
    from .response import param_importances
    frame = results_frame(study) if frame is None else frame
    if not len(frame):
        return None, "no trial yet"
    return param_importances(frame, sampled_keys(study, space),
                             space.log_keys)


def _copy_tree_atomic(src, dst):
    tmp = dst + ".tmp-%d" % os.getpid()
    if os.path.exists(tmp):
        shutil.rmtree(tmp)
    shutil.copytree(src, tmp)
    old = dst + ".old-%d" % os.getpid()
    if os.path.exists(dst):
        os.replace(dst, old)
    os.replace(tmp, dst)
    if os.path.exists(old):
        shutil.rmtree(old)


def best_summary(study, space):
    """``best.json``'s contents without the model and the importances: the
    best trial's number, RMSE (px), epoch, seconds and configuration; {}
    when none completed."""
    best = best_trial(study)
    if best is None:
        return {}
    trials = study.get_trials(deepcopy=False)
    return {
        "study": study.study_name,
        "space": space.name,
        "number": best.number,
        "val_rmse_px": float(best.value),
        "best_epoch": best.user_attrs.get("best_epoch"),
        "seconds": best.user_attrs.get("seconds"),
        "config": best.user_attrs.get("config"),
        "n_complete": sum(t.state == TrialState.COMPLETE for t in trials),
        "n_trials": len(trials),
        "model": None,
    }


def _cell(value):
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (float, np.floating)):
        if value == 0:
            return "0"
        if abs(value) < 1e-2:
            return "%.1e" % value
        return ("%d" % value) if float(value).is_integer() else "%.2f" % value
    return str(value)


def best_trials_markdown(frame, keys, n=8):
    """The ``n`` best trials as a Markdown table (the README's).

    Trials are ranked by their best validation RMSE so far (a pruned
    trial's is its value at its last rung, ``last_val_rmse_px``), so the
    table shows where the pruned trials stood beside the completed ones.

    Parameters
    ----------
    frame : pandas.DataFrame
        :func:`results_frame` (or ``results.csv`` read back).
    keys : list of str
        Configuration columns to show (e.g. :func:`sampled_keys`).
    n : int

    Returns
    -------
    str
        A header, a rule and ``min(n, trials with a value)`` rows: trial,
        fate, the keys, validation RMSE (pixels, 3 decimals), epochs.

    Examples
    --------
    >>> frame = pd.DataFrame({"number": [0, 1], "state": ["COMPLETE", "PRUNED"],
    ...                       "lr": [1e-3, 2e-3], "last_val_rmse_px": [2.1, 2.5],
    ...                       "epochs": [12, 3]})
    >>> print(best_trials_markdown(frame, ["lr"]))
    | trial | fate | lr | val RMSE (px) | epochs |
    |---|---|---|---|---|
    | 0 | complete | 1.0e-03 | 2.100 | 12 |
    | 1 | pruned | 2.0e-03 | 2.500 | 3 |
    """
    keys = [k for k in keys if k in frame.columns]
    ranked = frame[frame.last_val_rmse_px.notna()].sort_values(
        ["last_val_rmse_px", "number"]).head(n)
    head = ["trial", "fate"] + [k.replace("net.", "") for k in keys] + [
        "val RMSE (px)", "epochs"]
    lines = ["| %s |" % " | ".join(head), "|%s" % ("---|" * len(head))]
    for _, row in ranked.iterrows():
        fate = "failed" if row.state == "FAIL" else row.state.lower()
        cells = ([str(int(row.number)), fate]
                 + [_cell(row[k]) for k in keys]
                 + ["%.3f" % row.last_val_rmse_px, str(int(row.epochs))])
        lines.append("| %s |" % " | ".join(cells))
    return "\n".join(lines)


def write_outputs(study, space, study_dir, plot=True):
    """results.csv, best.json, best_model/, the surfaces and the importances
    of a study.

    Returns
    -------
    dict
        The best trial's summary (:func:`best_summary` with ``model``, the
        copied ``best_model`` folder, ``importances`` ({key: share} or
        None) and ``importances_note``); empty if no trial completed.
    """
    # only here, so that a worker (which imports this package) never loads
    # matplotlib: measured +1.1 s and +40 MB per worker otherwise
    from . import plots

    frame = results_frame(study)
    with atomic_write(os.path.join(study_dir, "results.csv"), newline="") as f:
        frame.to_csv(f, index=False)
    best = best_summary(study, space)
    if not best:
        return {}
    source = study.trials[best["number"]].user_attrs.get("model_dir")
    if source and os.path.isdir(source):
        target = os.path.join(study_dir, "best_model")
        _copy_tree_atomic(source, target)
        best["model"] = os.path.abspath(target)
    shares, note = importances(study, space, frame)
    best["importances"], best["importances_note"] = shares, note
    write_json(os.path.join(study_dir, "best.json"), best)
    if plot:
        plots.search_surfaces(frame, space.surfaces, space.log_keys,
                              os.path.join(study_dir, "surfaces"),
                              importances=(shares, note))
    return best
