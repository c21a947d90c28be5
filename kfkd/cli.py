"""The ``kfkd`` command: argument parsing only; the work is in the modules.

``kfkd train``, ``kfkd evaluate``, ``kfkd predict``, ``kfkd ensemble`` (and
the subcommands that later modules add).  Data errors end the command with one line on
stderr and exit status 2, never a traceback.

Arguments are checked in one place, before any data loads or anything
compiles: each numeric option by its argparse ``type`` (:func:`in_range`:
a finite number in the option's range), then what one option cannot check
alone by :func:`check_args` (output paths, ``--limit`` against
``--val-fraction``, ``--net`` with its ``--param`` values).  An argparse
error is one line too (``kfkd CMD: error: argument --batch-size: ...``).
"""
import argparse
import json
import os
import sys
import time

from .checks import positive_float, positive_int, seed_int
from .config import TrainingConfig
from .options import add_split_options, add_train_arguments
from . import missing, search
from .data import (DataError, DataNotFoundError, find_file, load_test,
                   resolve_data_dir)
from .devices import check_devices
from .errors import (DeviceUnavailableError, ModelError, SearchError,
                     UsageError)
from .fileio import check_output_folder, read_json
from .resume import (STATE_FILE, StateError, capped_at, has_state,
                     load_state)
from .occlusion import command as occlusion_command
from .imm import command as imm_command
from .pipeline import command as pipeline_command
from .report import command as report_command
from . import benchmark_command, ensemble_command
from .predictor import TTA, with_tta
from .splits import (VAL_FRACTION, load_split, recorded_split,
                     split_sizes)
from .submission import (SubmissionError, make_submission,
                         write_predictions)

__all__ = ["main", "build_parser", "check_args"]


class _Parser(argparse.ArgumentParser):
    """argparse's parser whose errors are one line, ``PROG: error: MSG``.

    Used for ``kfkd`` and every subcommand (argparse makes subparsers of the
    parser's own class), so that a bad option ends like any other user
    error: one line on stderr naming the option, exit status 2, no usage
    block (``kfkd CMD --help`` shows it).
    """

    def error(self, message):
        self.exit(2, "%s: error: %s\n" % (self.prog, message))

    def parse_args(self, args=None, namespace=None):
        """As argparse's, but unrecognized arguments are reported by the
        subcommand's parser (``kfkd train: error: ...``)."""
        args, extra = self.parse_known_args(args, namespace)
        if extra:
            commands = getattr(self, "commands", {})
            parser = commands.get(getattr(args, "command", None), self)
            parser.error("unrecognized arguments: %s" % " ".join(extra))
        return args


def build_parser():
    """The argparse parser of the ``kfkd`` command."""
    parser = _Parser(
        prog="kfkd", description="Facial keypoint detection (Kaggle) with "
        "Lasagne/Theano.")
    sub = parser.add_subparsers(dest="command", required=True)
    parser.commands = sub.choices  # name -> subparser, for their errors

    _add_train_parser(sub)

    p = sub.add_parser("search", help="random grid search: trials as "
                       "parallel device jobs, resumable, 3D surfaces")
    p.add_argument("--data-dir")
    p.add_argument("--trials", type=positive_int, default=40,
                   help="total trials of the study (default 40)")
    p.add_argument("--minutes-per-trial", type=positive_float,
                   help="a wall-clock cap per trial, on top of the space's "
                   "epochs (default: none)")
    p.add_argument("--workers", type=positive_int,
                   help="N CPU worker processes (shorthand for --devices "
                   "cpu,...)")
    p.add_argument("--devices", help="one worker per device slot, e.g. "
                   "cpu,cpu or cuda0,cuda1 (default: CPU slots to suit the "
                   "machine)")
    p.add_argument("--space", default="default", help="search space: a name "
                   "in kfkd/search/spaces/ or a .py path (default: default)")
    p.add_argument("--study", help="study name (default: the space name); "
                   "rerun with the same name to resume")
    p.add_argument("--storage", help="Optuna storage URL, e.g. "
                   "postgresql://user:pw@host/db (default: a journal file "
                   "in the study folder)")
    p.add_argument("--out", default="runs", help="outputs go to OUT/STUDY/ "
                   "(default runs)")
    p.add_argument("--seed", type=seed_int, default=0)
    p.add_argument("--limit", type=positive_int,
                   help="use only the first N faces")
    p.add_argument("--join", action="store_true", help="only run workers on "
                   "an existing study (e.g. from another machine); its "
                   "space, seed and trials come from the study")
    p.add_argument("--heartbeat", type=positive_int, metavar="SECONDS",
                   help="a new database study: seconds between a worker's "
                   "heartbeats (default 10); a trial silent for 4 of them "
                   "is failed and retried")
    p.add_argument("--quiet", action="store_true")

    p = sub.add_parser("plot-search", help="redraw a study's results.csv, "
                       "best.json and 3D surfaces from its storage")
    p.add_argument("--study", default="default")
    p.add_argument("--storage")
    p.add_argument("--out", default="runs")

    _add_model_parsers(sub)
    benchmark_command.add_parsers(sub)  # benchmark, benchmark-subnormals

    pipeline_command.add_parsers(sub)  # detect, video, imm-eval, ...
    occlusion_command.add_parsers(sub)  # occlusion, benchmark-occlusion
    report_command.add_parser(sub)  # figures
    ensemble_command.add_parser(sub)  # ensemble
    imm_command.add_parser(sub)  # imm-train
    return parser


def _add_train_parser(sub):
    """``kfkd train``: the output, the data split and one option per
    :class:`kfkd.config.TrainingConfig` field."""
    p = sub.add_parser("train", help="train a net, early-stopping on "
                       "validation RMSE")
    add_train_arguments(p)


def _add_model_parsers(sub):
    """``kfkd evaluate``, ``kfkd predict`` and ``kfkd submit``."""
    p = sub.add_parser("evaluate", help="RMSE of a model on the validation "
                       "split")
    p.add_argument("--model", help="model folder (default: the shipped "
                   "reference model)")
    add_split_options(p, split_default="the split the model was trained "
                      "with; random for models that record none")
    _add_tta_option(p)

    p = sub.add_parser("predict", help="keypoints for every face of a "
                       "test.csv")
    p.add_argument("--model", help="model folder (default: the shipped "
                   "reference model)")
    p.add_argument("--csv", help="test.csv(.gz) (default: DATA_DIR/test.csv)")
    p.add_argument("--data-dir")
    p.add_argument("--out", required=True, help="predictions CSV to write")
    _add_tta_option(p)

    p = sub.add_parser("submit", help="a Kaggle submission (RowId,Location) "
                       "for test.csv and IdLookupTable.csv")
    _add_submit_args(p)



def _add_submit_args(p):
    """Options of ``kfkd submit`` (also experiments/make_submission.py)."""
    p.add_argument("--model", help="model folder (default: the shipped "
                   "reference model)")
    p.add_argument("--data-dir", help="folder with test.csv(.gz) and "
                   "IdLookupTable.csv(.gz) (default: $KFKD_DATA_DIR)")
    p.add_argument("--test-csv", help="test.csv(.gz) (default: "
                   "DATA_DIR/test.csv)")
    p.add_argument("--lookup", help="IdLookupTable.csv(.gz) (default: "
                   "DATA_DIR/IdLookupTable.csv)")
    p.add_argument("--out", default="submission.csv",
                   help="submission CSV to write (default: submission.csv)")
    _add_tta_option(p)


def _add_tta_option(p):
    """``--tta``: test-time augmentation (:func:`kfkd.predictor.with_tta`)."""
    p.add_argument("--tta", choices=TTA, default="none",
                   help="test-time augmentation: 'flip' averages each "
                   "face's keypoints with its mirror image's, mapped back "
                   "(twice the prediction time; default none)")


# -- checks across options, before any data loads or anything compiles ------
def _check_output_file(path, option="--out"):
    """UsageError unless ``path`` can be a new or replaced file: not a
    folder, and in a folder that exists."""
    if os.path.isdir(path):
        raise UsageError("%s %s: is a folder; give the path of a file"
                         % (option, path))
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise UsageError("%s %s: folder %s does not exist"
                         % (option, path, parent))


def _check_output_folder(path, option="--out"):
    """UsageError when ``path`` exists and is not a folder."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise UsageError("%s %s: is an existing file, not a folder"
                         % (option, path))


def _check_split(args):
    """``--limit`` faces must leave at least one training and one
    validation face after the ``--val-fraction`` split."""
    if getattr(args, "limit", None) is None:
        return
    val_fraction = getattr(args, "val_fraction", None) or VAL_FRACTION
    try:
        split_sizes(args.limit, val_fraction)
    except ValueError as e:
        raise UsageError("--limit %d with --val-fraction %g: %s"
                         % (args.limit, val_fraction, e))


def _check_net(config):
    """``--net`` and every ``--param`` through :func:`kfkd.nets.check_params`
    (imports Theano, compiles nothing); -> the config with checked values."""
    from . import nets  # the Theano boundary

    try:
        params = nets.check_params(config.net, dict(config.net_params))
    except UsageError as e:
        option = "--param" if config.net in nets.NETS else "--net"
        raise UsageError("%s: %s" % (option, e))
    return config.replace(net_params=params)


def _check_train(args):
    config = TrainingConfig.from_args(args)
    if args.resume:
        _check_resume(args, config)
    elif has_state(args.out) and not args.overwrite:
        cap = capped_at(args.out)
        raise UsageError("--out %s: holds %s (%s); pass --resume%s to go on "
                         "with it or --overwrite to replace it" % (
                             args.out, "an interrupted run" if cap is None
                             else "a run stopped by its --max-minutes %g"
                             % cap, STATE_FILE, "" if cap is None else
                             " with a larger --max-minutes"))
    else:
        # a model folder: not a file, and not another model unless
        # --overwrite
        check_output_folder(args.out, args.overwrite)
    _check_split(args)
    args.training_config = _check_net(config)


def _check_resume(args, config):
    """``--resume``: ``--out`` holds an interrupted run of these settings,
    or nothing yet (then the run starts); not with ``--overwrite``."""
    if args.overwrite:
        raise UsageError("--resume with --overwrite: choose one")
    if has_state(args.out):
        try:
            state = load_state(args.out, config.to_training(), faces=None)
        except ValueError as e:
            raise UsageError("--resume: %s" % e)
        cap = capped_at(args.out)
        if cap is not None and state.training.get("max_minutes") == \
                config.max_minutes:
            raise UsageError("--resume: --out %s: its run was stopped by "
                             "its --max-minutes %g; give a larger "
                             "--max-minutes to go on" % (args.out, cap))
    elif os.path.isdir(args.out) and os.listdir(args.out):
        raise UsageError("--resume: --out %s holds no interrupted run (no "
                         "%s)%s" % (args.out, STATE_FILE, (
                             "; its run is finished" if os.path.isfile(
                                 os.path.join(args.out, "metrics.json"))
                             else "")))
    else:
        check_output_folder(args.out)


def _check_search(args):
    _check_output_folder(args.out)
    _check_split(args)


def _check_predict(args):
    _check_output_file(args.out)


def _check_detect(args):
    _check_output_folder(args.out)


CHECKS = {"train": _check_train, "evaluate": _check_split,
          "search": _check_search, "predict": _check_predict,
          "submit": _check_predict, "detect": _check_detect,
          "video": _check_predict, "ensemble": ensemble_command.check,
          **benchmark_command.CHECKS}


def check_args(args):
    """Check what one option cannot check alone, before any work starts.

    The value of each numeric option is checked as it is parsed (its
    ``type``: :func:`in_range`); this checks the rest: output paths
    (``--out`` an existing folder where a file is written, or a file where
    a folder is, or in a missing folder), ``--limit`` against
    ``--val-fraction``, ``--net`` and ``--param`` (:func:`kfkd.nets.
    check_params`).  Input files (data, photos, videos, models) are checked
    by their readers, also before anything compiles.

    Raises
    ------
    UsageError
        Naming the option and the value.
    """
    check = CHECKS.get(args.command)
    if check is not None:
        check(args)


def _split_kwargs(args, recorded=None):
    """:func:`kfkd.splits.load_split`'s arguments: ``recorded`` (a model's
    split, :func:`kfkd.splits.recorded_split`) with the options given on
    top."""
    kwargs = dict(recorded or {}, data_dir=args.data_dir)
    for key, option in (("method", "split"), ("val_fraction", "val_fraction"),
                        ("limit", "limit")):
        if getattr(args, option) is not None:
            kwargs[key] = getattr(args, option)
    return kwargs


def cmd_train(args):
    from .train import Trainer  # the Theano boundary

    train, val = load_split(**_split_kwargs(args))
    config = getattr(args, "training_config", None) or \
        TrainingConfig.from_args(args)
    trainer = Trainer(config, verbose=not args.quiet)
    if args.resume:  # the saved run's faces and split, now they are known
        try:
            load_state(args.out, trainer.get_params(), (len(train), len(val)),
                       val.split)
        except StateError as e:
            raise UsageError("--resume: %s" % e)
    print("training %s on %d faces, validating on %d" % (
        config.net, len(train), len(val)), file=sys.stderr)
    print(missing.describe(train, config.missing), file=sys.stderr)
    model = trainer.fit(train, val, out_dir=args.out, resume=args.resume)
    metrics = read_json(os.path.join(args.out, "metrics.json"))
    print(json.dumps({k: metrics[k] for k in (
        "val_rmse_px", "best_epoch", "epochs", "seconds")}, indent=None))
    print("wrote %s (model.npz, model.json, history.csv, metrics.json)%s"
          % (args.out, "; stopped by --max-minutes: --resume with a larger "
             "one goes on" if trainer.stopped_by_ == "max_minutes" else ""),
          file=sys.stderr)
    return model


def cmd_evaluate(args):
    from .model import load_model  # the Theano boundary

    model = load_model(args.model)  # validated in 0.4 s, nothing compiled
    kwargs = _split_kwargs(args, recorded_split(model.training))
    _, val = load_split(**kwargs)
    metrics = with_tta(model, args.tta).metrics(val)
    print("validation faces: %d (%s split%s%s)" % (
        metrics["n_faces"], kwargs["method"], ", first %d faces"
        % kwargs["limit"] if kwargs.get("limit") else "",
        ", flip test-time augmentation" if args.tta == "flip" else ""))
    print("RMSE (all labelled coordinates): %.4f px" % metrics["val_rmse_px"])
    print("Kaggle metric (RMSE over %d lookup-style rows, clipped to [0, 96]): "
          "%.4f px" % (int(val.mask.sum()), metrics["lookup_rmse_px"]))
    for name, value in metrics["per_keypoint_rmse_px"].items():
        print("  %-26s %s" % (name, "%.4f px" % value if value is not None
                              else "-"))
    return metrics


def cmd_predict(args):
    from .model import load_model  # the Theano boundary

    test = load_test(args.csv or find_file("test.csv", args.data_dir))
    model = with_tta(load_model(args.model), args.tta)
    predictions = model.predict(test.images)
    write_predictions(args.out, test.image_ids, predictions, model.schema)
    print("wrote %d faces to %s" % (len(test), args.out), file=sys.stderr)


def cmd_submit(args):
    from .model import load_model  # the Theano boundary

    started = time.time()
    test_path = args.test_csv or find_file("test.csv", args.data_dir)
    lookup_path = args.lookup or find_file("IdLookupTable.csv", args.data_dir)
    summary = make_submission(with_tta(load_model(args.model), args.tta),
                              test_path, lookup_path, args.out)
    print("wrote %s: %d rows (RowId,Location) for %d images in %.1f s" % (
        args.out, summary["rows"], summary["images"], time.time() - started))
    return summary


def cmd_search(args):
    devices = search.parse_devices(args.devices, args.workers)
    check_devices(devices)  # one line on what a GPU slot lacks, no worker
    space = search.load_space(args.space)
    study = search.check_study_name(args.study or space.name)
    driver = search.Driver(space, study, args.trials, devices, args.out,
                           args.storage, args.data_dir, args.limit,
                           args.minutes_per_trial, args.seed, args.join,
                           verbose=not args.quiet, heartbeat=args.heartbeat)
    resolve_data_dir(args.data_dir)  # fail here, in one line, not per worker
    driver.open()  # storage URL, database, resume with another seed: one line
    rungs = driver.space.rungs
    print("study %s: %d trials of space %s on %s (%d thread(s) each), %s"
          "%s -> %s" % (
              study, driver.n_trials, driver.space.name, ",".join(devices),
              driver.threads, "rungs at %s epochs" % "/".join(
                  map(str, rungs.epochs)) if rungs else "no pruning",
              "" if args.minutes_per_trial is None
              else ", at most %s min per trial" % args.minutes_per_trial,
              os.path.join(args.out, study)), file=sys.stderr)
    best = driver.run()
    if best:
        print("best trial %d: validation RMSE %.3f px -> %s" % (
            best["number"], best["val_rmse_px"], best["model"]))
    return best


def cmd_plot_search(args):
    study_dir = os.path.join(args.out, search.check_study_name(args.study))
    storage = search.open_storage(args.storage, study_dir, create=False)
    study = search.open_study(storage, args.study, create=False)
    space = search.study_space(study)
    best = search.write_outputs(study, space, study_dir)
    print("redrew %s (best trial %s)" % (study_dir, best.get("number")))
    if best.get("importances_note"):  # too few trials for the importances
        print(best["importances_note"])


COMMANDS = {"train": cmd_train, "evaluate": cmd_evaluate,
            "predict": cmd_predict, "search": cmd_search,
            "plot-search": cmd_plot_search,
            "submit": cmd_submit, **benchmark_command.COMMANDS,
            "ensemble": ensemble_command.run,
            "figures": report_command.run,
            "imm-train": imm_command.cmd_imm_train,
            **pipeline_command.COMMANDS, **occlusion_command.COMMANDS}


def main(argv=None):
    """Entry point of the ``kfkd`` console script (and ``python -m kfkd``)."""
    args = build_parser().parse_args(argv)
    try:
        check_args(args)
        COMMANDS[args.command](args)
    except (DataError, DataNotFoundError, FileNotFoundError,
            SubmissionError, DeviceUnavailableError, UsageError, ModelError,
            SearchError) as e:
        print("kfkd %s: error: %s" % (args.command, e), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("kfkd %s: interrupted" % args.command, file=sys.stderr)
        return 130
    return 0
