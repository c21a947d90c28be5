"""The published systems on this problem, side by side: one table from their
``kfkd train`` run folders.

:data:`SYSTEMS` lists each system rebuilt here (its net in
:data:`kfkd.nets.NETS`), its architecture in one line, the ``kfkd train``
arguments of its published recipe and its published figure.
:func:`comparison_rows` reads a folder of runs, one model folder per
system named after it (``kfkd train --out RUNS/NAME``), and
:func:`markdown_table` formats them for the README
(``experiments/compare_systems.py``).  Only JSON is read; nothing here
imports Theano.

Sources: Nouri (2014), "Using convolutional neural nets to detect facial
keypoints" (net1, net2, net6; a training loss below 0.0005, its scale not
stated); a capstone's VGG16-inspired net (2.1 px RMSE on a 30% hold-out
split); a report's Keras net ("about 2 px" validation RMSE).
"""
import argparse
import csv
import io
import os
import re
import sys

from .errors import UsageError
from .fileio import atomic_write, read_json
from .report.runs import NET_TRAIN_ARGS

__all__ = ["SYSTEMS", "commands", "comparison_rows", "markdown_table",
           "cpu_seconds", "write_figure_data", "CSV_COLUMNS", "main"]

#: name -> (architecture in one line, ``kfkd train`` arguments of its
#: recipe beyond the shared budget, published figure).
SYSTEMS = {
    "breeze": ("4 x (3x3 conv 16-128, BN, pool, dropout), dense 256 (the "
               "2015 project's, kfkd's default)", [], "-"),
    "net1": ("dense 100 (Nouri's tutorial)", NET_TRAIN_ARGS["net1"],
             "train loss < 0.0005, scale not stated"),
    "net2": ("3 x (conv 32/64/128, pool), 2 x dense 500 (Nouri)", [],
             "train loss < 0.0005, scale not stated"),
    "net6": ("net2 + dropout .1/.2/.3/.5, 2 x dense 1000 (Nouri)", [],
             "train loss < 0.0005, scale not stated"),
    "vgglite": ("5 x (3x3 conv 64-512, BN, pool), dropout .2 x 3, global "
                "avg pool (a capstone)", ["--schedule", "vgglite"],
                "2.1 px (30% random hold-out, complete faces)"),
    "leakybn": ("6 x 2 x (3x3 conv 32-512, LeakyReLU, BN), pool / 2 blocks, "
                "dense 512 (a report)",
                ["--batch-size", "256", "--lr", "1e-3"],
                "about 2 px validation"),
}

def commands(runs, minutes, names=None, missing="masked"):
    """The shell commands that train each system into ``runs/NAME`` at a
    budget of ``minutes`` (wall clock, ``--max-minutes``) with the
    ``missing`` strategy, under ``nice`` and ``/usr/bin/time -v`` (its CPU
    report in ``runs/NAME.log``, read by :func:`comparison_rows`)."""
    lines = []
    for name in names or SYSTEMS:
        folder = os.path.join(runs, name)
        argv = (["--net", name] + SYSTEMS[name][1] + [
            "--missing", missing, "--max-minutes", repr(float(minutes)),
            "--epochs", "300", "--quiet", "--out", folder])
        lines.append("nice -n 10 /usr/bin/time -v kfkd train %s > %s.log "
                     "2>&1" % (" ".join(argv), folder))
    return lines


_TIME_KEYS = ("User time (seconds)", "System time (seconds)")


def cpu_seconds(log_path):
    """User + system CPU seconds that ``/usr/bin/time -v`` wrote into
    ``log_path``, or None if it holds no such lines (or does not exist)."""
    try:
        with open(log_path) as f:
            text = f.read()
    except OSError:
        return None
    found = [re.search(r"%s: ([0-9.]+)" % re.escape(k), text)
             for k in _TIME_KEYS]
    return sum(float(m.group(1)) for m in found) if all(found) else None


def comparison_rows(runs, names=None):
    """One dict per run folder ``runs/NAME`` of :data:`SYSTEMS` (or
    ``names``) that holds a model.

    Parameters
    ----------
    runs : str
        A folder of ``kfkd train --out`` model folders named after the
        systems; ``runs/NAME.log`` (the run's log with ``/usr/bin/time
        -v``'s report) gives the CPU time if present.
    names : list of str, optional
        Row names, any model folders under ``runs`` (default: the systems
        present).

    Returns
    -------
    list of dict
        Keys ``system``, ``architecture``, ``parameters``, ``missing``,
        ``epochs``, ``best_epoch``, ``train_minutes`` (wall, without
        compiling), ``cpu_minutes`` (whole command, or None),
        ``val_rmse_px`` (grouped split's validation faces when the run
        used it), ``split`` (its method and ``--limit``), ``published``.

    Raises
    ------
    UsageError
        ``runs`` is not a folder, or a named run has no model.json or
        metrics.json.
    """
    if not os.path.isdir(runs):
        raise UsageError("%s: no such folder of runs" % runs)
    if names is None:
        names = [n for n in SYSTEMS
                 if os.path.isfile(os.path.join(runs, n, "model.json"))]
    return [_row(runs, name) for name in names]


def _row(runs, name):
    folder = os.path.join(runs, name)
    try:
        model = read_json(os.path.join(folder, "model.json"))
        metrics = read_json(os.path.join(folder, "metrics.json"))
    except (OSError, ValueError) as e:
        raise UsageError("%s: not a model folder (%s)" % (folder, e))
    training = model.get("training", {})
    architecture, _, published = SYSTEMS.get(name, ("-", [], "-"))
    cpu = cpu_seconds(folder + ".log")
    return {
        "system": name, "architecture": architecture,
        "parameters": model.get("n_params"),
        "missing": training.get("missing", "masked"),
        "epochs": metrics.get("epochs"), "best_epoch": metrics.get("best_epoch"),
        "train_minutes": metrics.get("seconds", 0.0) / 60.0,
        "cpu_minutes": None if cpu is None else cpu / 60.0,
        "val_rmse_px": metrics.get("val_rmse_px"),
        "split": _split_text(training.get("split") or {}),
        "published": published,
    }


def _split_text(split):
    """``grouped split`` or ``grouped split, first 100 faces``
    (``--limit``)."""
    text = "%s split" % split.get("method")
    return text + (", first %d faces" % split["limit"]
                   if split.get("limit") else "")


def markdown_table(rows):
    """The rows of :func:`comparison_rows` as a Markdown table (str)."""
    lines = ["| system | architecture | parameters | missing labels | epochs "
             "(best) | train min (wall) | CPU min | validation RMSE (px) "
             "| published figure |", "|" + "---|" * 9]
    for r in rows:
        cpu = "-" if r["cpu_minutes"] is None else "%.1f" % r["cpu_minutes"]
        lines.append("| %s | %s | %s | %s | %s (%s) | %.1f | %s | **%.2f** "
                     "(%s) | %s |" % (
                         r["system"], r["architecture"],
                         "{:,}".format(r["parameters"]), r["missing"],
                         r["epochs"], r["best_epoch"], r["train_minutes"],
                         cpu, r["val_rmse_px"], r["split"], r["published"]))
    return "\n".join(lines)


#: Columns of ``systems/systems.csv`` (:func:`write_figure_data`).
CSV_COLUMNS = ("system", "architecture", "parameters", "missing", "epochs",
               "best_epoch", "train_minutes", "cpu_minutes", "val_rmse_px",
               "split", "published", "runs")


def write_figure_data(rows, figures_dir, runs):
    """Keep the comparison beside the figures: ``systems.md`` (the README's
    table, :func:`markdown_table`) and ``systems/systems.csv`` (the rows,
    :data:`CSV_COLUMNS`, ``runs`` naming each row's folder of runs), each
    written atomically; the poster's panel reads the CSV.

    Parameters
    ----------
    rows : list of dict
        :func:`comparison_rows` (of one or more folders of runs).
    figures_dir : str
        e.g. ``figures``.
    runs : list of str
        The folder of runs of each row.

    Returns
    -------
    list of str
        The two paths written.
    """
    if len(runs) != len(rows):
        raise ValueError("one folder of runs per row")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row, folder in zip(rows, runs):
        writer.writerow(dict(row, runs=folder))
    paths = [os.path.join(figures_dir, "systems.md"),
             os.path.join(figures_dir, "systems", "systems.csv")]
    os.makedirs(os.path.dirname(paths[1]), exist_ok=True)
    for path, text in zip(paths, (markdown_table(rows) + "\n",
                                  buffer.getvalue())):
        with atomic_write(path) as f:
            f.write(text)
    return paths


def main(argv=None):
    """``experiments/compare_systems.py``: print the comparison table of the
    run folders (or, with ``--commands``, the commands that make them);
    ``--figures DIR`` also keeps it (:func:`write_figure_data`).  Returns
    the exit status (2 for bad input, one line naming it)."""
    p = argparse.ArgumentParser(description="The published systems side by "
                                "side: the README's comparison table.")
    p.add_argument("runs", nargs="+", help="folders of runs, one per system")
    p.add_argument("--names", help="comma-separated runs (default: all)")
    p.add_argument("--commands", action="store_true")
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--missing", default="masked")
    p.add_argument("--figures", metavar="DIR",
                   help="also write DIR/systems.md and DIR/systems/systems.csv")
    args = p.parse_args(argv)
    names = args.names and args.names.split(",")
    try:
        if args.commands:
            print("\n".join(commands(args.runs[0], args.minutes, names,
                                     args.missing)))
            return 0
        per_folder = [comparison_rows(r, names) for r in args.runs]
        rows = sum(per_folder, [])
        print(markdown_table(rows))
        if args.figures:
            folders = [r for r, found in zip(args.runs, per_folder)
                       for _ in found]
            for path in write_figure_data(rows, args.figures, folders):
                print("wrote %s" % path, file=sys.stderr)
    except UsageError as e:
        print("error: %s" % e, file=sys.stderr)
        return 2
    return 0
