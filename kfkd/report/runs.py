"""The training runs behind the training-curve and ablation figures.

Every run is exactly a ``kfkd train`` command: its arguments are parsed
with the command's own arguments (:func:`kfkd.options.add_train_arguments`)
into a :class:`kfkd.config.TrainingConfig`.  Training imports Theano, so
:func:`train_run` imports the trainer lazily: redrawing never imports it.
"""
import argparse
import os
import shlex
import shutil

import pandas as pd

from ..config import HISTORY_COLUMNS, TrainingConfig
from ..options import add_train_arguments
from ..resume import StateError, cap_raised
from ..fileio import atomic_folder, read_json, write_json
from . import store
from ..plotting import save_figure
from .training_plots import training_curves_figure

__all__ = ["NET_TRAIN_ARGS", "ABLATION_BASE_ARGS", "ABLATIONS", "budget_args",
           "finished_run", "train_run", "parse_lane", "run_set", "run_file",
           "slug", "histories", "curves_group", "seeded_runs", "seed_spread",
           "spread_cell", "epochs_cell", "budget_note", "runs_folder",
           "write_runs", "runs_note", "records_folder", "RECORD_FILES",
           "keep_record"]


#: ``kfkd train`` arguments of each net's training curve (beyond the
#: budget's).  net1 as in Nouri (2014): Nesterov momentum, learning rate
#: 0.01, momentum 0.9, no augmentation (Adam at 2e-3 makes its 9216 x 100
#: hidden layer diverge); the others with the command's defaults (Adam
#: 2e-3, batch 32, flips, rotation 10 deg, shift 3 px, scale 5%).  net6 with
#: Lasagne's own pooling and dropout layers (``--engine stock``): with
#: kfkd's (``custom``) it stayed at the mean shape (4.23 px) for all 28
#: epochs of its 20 minutes and for 7 epochs at Nesterov 0.03, where the
#: stock layers left it at epoch 3 (3.07 px after 5 epochs); cause not found
#: (``logs/figures-full/net6-custom.log``).
NET_TRAIN_ARGS = {
    "net1": ["--update", "nesterov", "--lr", "0.01", "--momentum", "0.9",
             "--no-augment"],
    "net2": [], "net6": ["--engine", "stock"], "breeze": [], "heatmap": []}

#: The ablation baseline: breeze with dropout and batch normalisation (its
#: defaults), augmentation (the command's defaults) and small L1 and L2
#: penalties, its learning rate annealed by a cosine over the run's minutes
#: (``--lr-schedule cosine-time``), so that every run of a time budget ends
#: annealed whatever its epochs' length (the depth study's matched budget).
ABLATION_BASE_ARGS = ["--net", "breeze", "--l1", "1e-9", "--l2", "1e-6",
                      "--lr-schedule", "cosine-time"]

#: (variant, what changes, extra ``kfkd train`` arguments).
ABLATIONS = (
    ("breeze", "dropout, augmentation, L1 1e-9 + L2 1e-6", []),
    ("no dropout", "dropout 0 (conv and dense)",
     ["--param", "dropout_conv=0", "--param", "dropout_dense=0"]),
    ("no augmentation", "no flips, rotations, shifts, scaling",
     ["--no-augment"]),
    ("no L1/L2", "L1 = L2 = 0", ["--l1", "0", "--l2", "0"]),
    ("no batch norm", "no batch normalisation",
     ["--param", "batch_norm=false"]),
    ("exposure correction", "CLAHE on every face (the 2015 project's fix "
     "for over-exposed faces)", ["--exposure", "clahe"]),
)


def runs_folder(runs_root, budget, *sub):
    """Where a figure group keeps its training runs:
    ``runs_root/figures/<budget name>/<sub...>`` (``runs_root`` default:
    the repository's ``runs/``)."""
    return os.path.join(runs_root or os.path.join(store.REPO, "runs"),
                        "figures", budget.name, *sub)


def records_folder(out_dir, budget, *sub):
    """Where a figure group keeps the records of its finished runs:
    ``out_dir/runs/<budget name>/<sub...>`` (``out_dir``: the figures
    folder).  A record is a run's folder without its weights
    (:data:`RECORD_FILES`): small enough to ship with the figures, and
    enough for :func:`finished_run`, so that a fresh checkout takes the
    shipped runs as finished instead of training them again."""
    return os.path.join(out_dir, "runs", budget.name, *sub)


#: The files of a run's record (:func:`keep_record`): its settings, its
#: metrics (with ``stopped_by``) and its per-epoch history.
RECORD_FILES = ("model.json", "metrics.json", "history.csv")


def keep_record(model_dir, record):
    """Copy the :data:`RECORD_FILES` of the finished run in ``model_dir`` to
    the folder ``record`` as a whole (:func:`kfkd.fileio.atomic_folder`);
    ``record``."""
    with atomic_folder(record) as staging:
        for name in RECORD_FILES:
            shutil.copy2(os.path.join(model_dir, name), staging)
    return record


def budget_args(budget, minutes, max_epochs):
    """The ``kfkd train`` arguments of a run's budget: ``minutes`` and
    ``max_epochs``, the budget's patience and face limit."""
    args = ["--max-minutes", repr(float(minutes)), "--epochs",
            str(int(max_epochs)), "--patience", str(int(budget.patience))]
    if budget.limit is not None:
        args += ["--limit", str(int(budget.limit))]
    return args


def _parse_train_args(argv):
    """``kfkd train`` arguments -> argparse namespace (the command's own
    parser, :func:`kfkd.options.add_train_arguments`)."""
    parser = argparse.ArgumentParser(prog="kfkd train")
    add_train_arguments(parser)
    return parser.parse_args(argv)


def finished_run(name, argv, model_dir, n_train, n_val):
    """The row and history of a finished run of ``argv`` already in
    ``model_dir``, or None.

    A run is finished when its ``metrics.json`` records ``stopped_by``
    (written at the end of :meth:`kfkd.train.Trainer.fit`, not by the
    checkpoints on the way), its ``model.json`` was trained with the
    configuration ``argv`` gives (:class:`kfkd.config.TrainingConfig`; or
    a smaller ``--max-minutes`` that did not stop it,
    :func:`kfkd.resume.cap_raised`) and it validated on ``n_val`` faces.
    Else None: the run is trained again or goes on.  No Theano here.
    """
    paths = [os.path.join(model_dir, f) for f in (
        "metrics.json", "model.json", "history.csv")]
    try:
        metrics, spec = read_json(paths[0]), read_json(paths[1])
        history = pd.read_csv(paths[2])
        recorded = TrainingConfig.from_training(spec["training"])
        wanted = TrainingConfig.from_args(_parse_train_args(argv))
    except (ValueError, KeyError, OSError):  # no run, or not a whole one
        return None
    stopped_by = metrics.get("stopped_by")
    if stopped_by is None or int(metrics.get("n_faces", -1)) != int(n_val):
        return None
    if recorded != wanted and (stopped_by == "max_minutes" or not cap_raised(
            recorded.to_training(), wanted.to_training())):
        return None
    best = history.iloc[int(metrics["best_epoch"]) - 1]
    return {
        "name": name,
        "val_rmse_px": float(metrics["val_rmse_px"]),
        "train_loss": float(best["train_loss"]),
        "val_loss": float(best["val_loss"]),
        "best_epoch": int(metrics["best_epoch"]),
        "epochs": int(metrics["epochs"]),
        "minutes": float(history["seconds"].iloc[-1]) / 60.0,
        "stopped_by": metrics["stopped_by"],
        "n_params": int(spec["n_params"]),
        "n_train": int(n_train), "n_val": int(n_val),
        "command": "kfkd train " + shlex.join(argv),
    }, history.to_dict("records")


def train_run(name, argv, model_dir, data_dir=None, verbose=True):
    """Run ``kfkd train --out model_dir --resume ARGV`` in this process, or
    take the finished run already there (:func:`finished_run`).  An
    interrupted run of the same settings goes on where it stopped
    (:mod:`kfkd.resume`); anything else in ``model_dir`` is replaced.

    Returns
    -------
    row : dict
        name, command, validation RMSE (best epoch), train and validation
        loss at the best epoch, epochs, minutes, why it stopped, parameters,
        faces.
    history : list of dict
        Per epoch (:data:`kfkd.config.HISTORY_COLUMNS`).
    """
    argv, _, n_train, n_val = _run_argv(argv, model_dir, data_dir)
    done = finished_run(name, argv, model_dir, n_train, n_val)
    if done is not None:
        if verbose:
            print("figures: %s: finished run in %s" % (
                name, store.rel(model_dir)), flush=True)
        return done
    from ..train import Trainer  # Theano boundary: lazy
    args = _parse_train_args(argv)
    train, val = store.split(data_dir, args.limit)
    trainer = Trainer(TrainingConfig.from_args(args), verbose=verbose)
    try:  # an interrupted run of these settings goes on where it stopped
        trainer.fit(train, val, out_dir=model_dir, resume=True)
    except StateError as e:  # the state of other settings: train afresh
        if verbose:
            print("figures: %s: %s; trained afresh" % (name, e), flush=True)
        trainer.fit(train, val, out_dir=model_dir)
    # the row is read back from the folder the run just wrote: one reader
    # for a run trained here and one taken as it was
    return finished_run(name, argv, model_dir, n_train, n_val)


def parse_lane(text):
    """``'K/N'`` (``--lane``) -> ``(K, N)``, 0 <= K < N; ValueError else.

    Examples
    --------
    >>> parse_lane("1/2")
    (1, 2)
    """
    try:
        k, n = (int(v) for v in str(text).split("/"))
    except ValueError:
        raise ValueError("lane %r is not K/N (e.g. 0/2)" % (text,))
    if not 0 <= k < n:
        raise ValueError("lane %r: K must be 0 to N-1" % (text,))
    return k, n


def run_set(folder, runs, runs_dir, data_dir, verbose, lane=None,
            records=None, partial=False):
    """Train ``runs`` [(name, argv, extra row fields, run folder)], save
    their histories and ``summary.csv`` in ``folder``.

    Finished runs are taken as they are (:func:`train_run`), from
    ``runs_dir/<run>`` or from their record ``records/<run>``, so a set
    that was interrupted resumes at its first unfinished run, on this
    machine or on a fresh checkout that has the records.  A run trained or
    taken here is recorded in ``records`` (:func:`keep_record`).  With
    ``lane`` ``(K, N)`` only the unfinished runs ``i`` with ``i % N == K``
    are trained (N processes share the set: ``reproduce_figures.py --lane
    K/N``) and, unless all are finished, nothing is written.  With
    ``partial`` nothing is trained: the finished runs are written (if
    there is one) and the others counted as missing.

    Returns
    -------
    written : list of str
        The histories, ``summary.csv`` and the record files of the runs.
    missing : int
        Runs not finished (left to other lanes, or to a later call).
    """
    done, missing, kept = [], 0, []
    for i, (name, argv, extra, run) in enumerate(runs):
        args = _run_argv(argv, os.path.join(runs_dir, run), data_dir)
        record = os.path.join(records, run) if records else None
        result = finished_run(name, *args)
        if result is None and record is not None:
            result = finished_run(name, args[0], record, *args[2:])
        elif result is not None and record is not None:
            keep_record(args[1], record)
        if result is None:
            if partial or (lane is not None and i % lane[1] != lane[0]):
                missing += 1
                continue
            result = train_run(name, argv, args[1], data_dir, verbose)
            if record is not None:
                keep_record(args[1], record)
        result[0].update(extra, run=run)
        done.append(result)
        if record is not None:
            kept += [os.path.join(record, f) for f in RECORD_FILES]
    if (missing and not partial) or not done:
        return [], missing
    written, rows = list(kept), []
    for row, history in done:
        rows.append(row)
        path = os.path.join(folder, "%s.history.csv" % run_file(row["run"]))
        written.append(store.write_csv(path, pd.DataFrame(
            history, columns=list(HISTORY_COLUMNS))))
    written.append(store.write_csv(os.path.join(folder, "summary.csv"),
                                   pd.DataFrame(rows)))
    return written, missing


def _run_argv(argv, model_dir, data_dir):
    """-> (the run's whole ``kfkd train`` argv, model_dir, training faces,
    validation faces): the arguments of :func:`finished_run` after the
    name."""
    argv = ["--out", store.rel(model_dir)] + list(argv)
    if data_dir is not None:
        argv += ["--data-dir", data_dir]
    train, val = store.split(data_dir, _parse_train_args(argv).limit)
    return argv, model_dir, len(train), len(val)


def run_file(run):
    """A run folder's name as a file stem (``breeze/seed0`` ->
    ``breeze.seed0``)."""
    return run.replace("/", ".")


def slug(name):
    """``name`` as a file name: runs of non-alphanumerics become ``_``."""
    return "".join(c if c.isalnum() else "_" for c in name).strip("_")


def histories(folder):
    """``folder/summary.csv`` and {run name: its saved history} (DataFrames;
    of a variant run with several seeds, the first seed's)."""
    summary = pd.read_csv(os.path.join(folder, "summary.csv"))
    out = {}
    for _, row in summary.iterrows():
        if row["name"] in out:
            continue  # the first seed's curve stands for its variant
        run = row["run"] if "run" in summary else slug(row["name"])
        path = os.path.join(folder, "%s.history.csv" % run_file(run))
        store.need(path)
        out[row["name"]] = pd.read_csv(path)
    return summary, out


def curves_group(folder, budget, runs, runs_dir, data_dir, verbose, title,
                  figure, lane=None, records=None, partial=False):
    """Train ``runs`` (:func:`run_set`; ``None``: redraw only), record the
    budget in ``folder/budget.json``, then draw the loss curves of the saved
    histories as ``folder/<figure>`` (``title % budget name``).

    With ``lane`` (:func:`run_set`) and runs left to other lanes, returns
    ``([], None, None)`` without writing or drawing anything; so does
    ``partial`` without a finished run.

    Returns
    -------
    written : list of str
    summary : DataFrame
        ``folder/summary.csv``.
    budget_dict : dict
        ``folder/budget.json``: the budget of the saved runs, with
        ``runs_planned`` (the runs of the budget; more than the rows of
        ``summary`` when drawn with ``partial``).

    Raises
    ------
    FileNotFoundError
        Redrawing without the saved files.
    """
    written = []
    if runs is not None:
        done = write_runs(folder, budget, runs, runs_dir, data_dir, verbose,
                          lane, records, partial)
        if not done:
            return [], None, None
        written += done
    store.need(os.path.join(folder, "summary.csv"),
               os.path.join(folder, "budget.json"))
    summary, saved = histories(folder)
    budget_dict = read_json(os.path.join(folder, "budget.json"))
    written += save_figure(training_curves_figure(
        saved, title % budget_dict["name"]),
        os.path.join(folder, figure))
    return written, summary, budget_dict


def write_runs(folder, budget, runs, runs_dir, data_dir, verbose, lane=None,
               records=None, partial=False):
    """:func:`run_set`, then ``folder/budget.json`` (the budget and
    ``runs_planned``); the files written, none (and a line saying why) while
    runs are left to other lanes or, with ``partial``, none is finished."""
    done, missing = run_set(folder, runs, runs_dir, data_dir, verbose, lane,
                            records, partial)
    group = os.path.basename(folder)
    if not done:
        if verbose:
            print("figures: %s: %d runs %s" % (group, missing, (
                "unfinished; none to draw yet" if partial else
                "left to other lanes; drawn when they are finished")),
                flush=True)
        return []
    if missing and verbose:
        print("figures: %s: drawn from %d of %d runs (%d not finished)" % (
            group, len(runs) - missing, len(runs), missing), flush=True)
    path = os.path.join(folder, "budget.json")
    write_json(path, dict(budget.to_dict(), runs_planned=len(runs)))
    return done + [path]


def runs_note(summary, budget_dict):
    """A sentence on runs not finished when a group was drawn (``''`` when
    all of ``runs_planned`` are in ``summary``)."""
    planned = int(budget_dict.get("runs_planned") or len(summary))
    if planned <= len(summary):
        return ""
    return (" **Drawn from %d of the budget's %d runs**: the other %d are "
            "not finished (`--draw-finished`; they resume with `python "
            "experiments/reproduce_figures.py --budget %s`)."
            % (len(summary), planned, planned - len(summary),
               budget_dict["name"]))


def epochs_cell(row):
    """A table cell: ``epochs (best best_epoch)``."""
    return "%d (best %d)" % (row["epochs"], row["best_epoch"])


def budget_note(budget_dict, minutes_key):
    """One sentence on a saved budget: faces, split, minutes per run and the
    early-stopping patience."""
    limit = budget_dict.get("limit")
    faces = ("all of training.csv" if limit in (None, "") else
             "the first %d faces of training.csv" % int(limit))
    stop = ("" if budget_dict.get("patience") is None else
            ", early stopping after %d epochs without a better validation "
            "loss (`--patience`)" % int(budget_dict["patience"]))
    return ("Budget `%s`: %s (the grouped 80/20 train/validation split: "
            "whole groups of likely the same person), %.4g min per "
            "run at most (`kfkd train --max-minutes`)%s."
            % (budget_dict["name"], faces, budget_dict[minutes_key], stop))


def seeded_runs(variants, base, seeds):
    """The runs of ``variants`` [(name, extra row fields, extra ``kfkd
    train`` arguments[, run folder stem])] on top of ``base`` arguments,
    each with seeds ``0 .. seeds - 1`` (``--seed``), variant by variant
    within a seed (so the first seed of every variant is done before any
    second seed).

    Returns
    -------
    list of (name, argv, extra, run folder)
        For :func:`run_set`; the run folder is ``<stem>/seed<k>``, the stem
        ``slug(name)`` unless given (two groups share a run by naming the
        same stem and arguments).
    """
    return [(v[0], list(base) + list(v[2]) + ["--seed", str(seed)],
             dict(v[1], seed=seed), "%s/seed%d" % (
                 v[3] if len(v) > 3 else slug(v[0]), seed))
            for seed in range(int(seeds)) for v in variants]


def seed_spread(summary, baseline=None, key="val_rmse_px"):
    """Mean and spread over seeds of each variant of ``summary``.

    Parameters
    ----------
    summary : DataFrame
        One row per run, with ``name`` and ``key`` (e.g. validation RMSE in
        pixels); variants keep their first-appearance order.
    baseline : str, optional
        A variant name: adds the difference of each variant's mean from its
        mean and whether it exceeds the noise.
    key : str

    Returns
    -------
    DataFrame
        Per variant ``n`` (seeds), ``mean``, ``sd`` (sample standard
        deviation, ddof 1; 0 with one seed), ``min``, ``max``,
        ``minutes`` (mean), and with ``baseline``: ``diff`` (mean minus the
        baseline's) and ``noise`` (twice the standard error of that
        difference, ``2 * sqrt(sd**2 / n + sd_b**2 / n_b)``) and
        ``verdict``: 'baseline', 'one seed: not judged' (a single seed on
        either side: no spread to judge by), 'within noise' (``|diff| <=
        noise``), 'better' or 'worse'.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"name": ["a", "a", "b", "b"],
    ...                   "val_rmse_px": [1.0, 1.2, 2.0, 2.2],
    ...                   "minutes": [15.0] * 4})
    >>> seed_spread(s, "a")[["name", "mean", "verdict"]].values.tolist()
    [['a', 1.1, 'baseline'], ['b', 2.1, 'worse']]
    """
    rows = []
    for name in pd.unique(summary["name"]):
        v = summary.loc[summary["name"] == name, key].astype(float)
        rows.append({"name": name, "n": len(v), "mean": v.mean(),
                     "sd": v.std(ddof=1) if len(v) > 1 else 0.0,
                     "min": v.min(), "max": v.max(),
                     "minutes": float(summary.loc[summary["name"] == name,
                                                  "minutes"].mean())})
    out = pd.DataFrame(rows)
    if baseline is None:
        return out
    b = out.loc[out["name"] == baseline].iloc[0]
    out["diff"] = out["mean"] - b["mean"]
    out["noise"] = 2 * ((out["sd"] ** 2 / out["n"]
                         + b["sd"] ** 2 / b["n"]) ** 0.5)
    out["verdict"] = [
        "baseline" if r["name"] == baseline else
        "one seed: not judged" if r["n"] < 2 or b["n"] < 2 else
        "within noise" if abs(r["diff"]) <= r["noise"] else
        ("better" if r["diff"] < 0 else "worse")
        for _, r in out.iterrows()]
    return out


def spread_cell(row, digits=3, seeds=True):
    """A table cell: ``mean ± sd (n seeds)`` in pixels to ``digits``
    decimals (``seeds``: with the count), or the value of a single seed.

    Examples
    --------
    >>> spread_cell({"n": 3, "mean": 1.6512, "sd": 0.0123})
    '1.651 ± 0.012 (3 seeds)'
    >>> spread_cell({"n": 3, "mean": 1.6512, "sd": 0.0123}, 2, seeds=False)
    '1.65 ± 0.01'
    """
    if int(row["n"]) < 2:
        return "%.*f" % (digits, row["mean"])
    return "%.*f ± %.*f%s" % (digits, row["mean"], digits, row["sd"], (
        " (%d seeds)" % row["n"]) if seeds else "")
