"""The reference model's recipe in stages: base, pseudo-labels, specialists.

The command of ``experiments/train_reference.py``::

    python experiments/train_reference.py --stage base --config CONFIG \\
        --minutes 60 --out runs/reference/base
    python experiments/train_reference.py --stage pseudo \\
        --from runs/reference/base --minutes 30 --out runs/reference/pseudo
    python experiments/train_reference.py --stage specialists \\
        --from runs/reference/base --minutes 10 --out runs/reference/specialists
    python experiments/train_reference.py --stage continue \\
        --from runs/reference/base --minutes 30 --out runs/reference/continue

``--config`` is what ``kfkd train --config`` reads
(:func:`kfkd.config.read_flat`): a flat config, a search's ``best.json``
(its ``config``) or a single model's folder (the config it was trained
with); it is the whole config of ``base``.  For the other stages the config
is the ``--from`` model's, with the learning rate times ``--lr-factor`` and
``--config``'s keys on top.  ``--config`` and ``--from`` refuse an ensemble
(the shipped ``models/reference``) or a specialist model in one line naming
its nets' folders: its nets were trained with configs of their own, so give
one of them (``models/reference/member_<k>``).

``base``         train from scratch (as ``kfkd train --config``).
``pseudo``       the ``--from`` model fills the missing keypoints of the
                 training split (never the validation split), then training
                 continues from it on the completed set
                 (:func:`kfkd.pseudo.train_pseudo`).
``specialists``  Nouri's six specialists, warm-started from the ``--from``
                 model (:func:`kfkd.specialists.train_specialists`);
                 ``--minutes`` is per specialist.
``continue``     the control for ``pseudo``: the same warm start, learning
                 rate and budget on the true labels only, so that the gain of
                 the pseudo-labels is told apart from that of more epochs.

Every stage validates on the same split (:func:`kfkd.splits.load_split`) with
the true labels only, writes ``metrics.json`` into ``--out`` and prints the
validation RMSE (and the ``--from`` model's, on the same faces).
"""
import argparse
import json
import os
import sys

from .checks import positive_float, positive_int
from .config import TrainingConfig, read_flat
from .data import DataError, DataNotFoundError
from .splits import load_split
from .errors import ModelError, UsageError
from .fileio import read_json
from .model import Model, load_model, net_label, single_nets
from .pseudo import continuation_config, train_pseudo
from .specialists import train_specialists
from .train import Trainer

__all__ = ["STAGES", "DEFAULT_LR_FACTOR", "build_parser", "run_stage",
           "main"]

STAGES = ("base", "pseudo", "specialists", "continue")

#: The ``--from`` model's learning rate is multiplied by this, per stage.
DEFAULT_LR_FACTOR = {"base": 1.0, "pseudo": 0.1, "specialists": 1.0,
                     "continue": 0.1}

#: The metrics a stage prints.
SUMMARY = ("val_rmse_px", "lookup_rmse_px", "base_val_rmse_px",
           "init_val_rmse_px", "best_epoch", "epochs", "seconds", "n_faces")


def build_parser():
    """The parser of ``experiments/train_reference.py``."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--stage", required=True, choices=STAGES)
    p.add_argument("--from", dest="base", metavar="DIR",
                   help="model folder to start from (all stages but base)")
    p.add_argument("--config", help="JSON config (required for base; "
                   "overrides for the other stages)")
    p.add_argument("--out", required=True, help="model folder to write")
    p.add_argument("--data-dir", help="default: $KFKD_DATA_DIR")
    p.add_argument("--minutes", type=positive_float, help="training budget "
                   "(per specialist for --stage specialists)")
    p.add_argument("--epochs", type=positive_int,
                   help="max epochs (per specialist)")
    p.add_argument("--lr-factor", type=positive_float, help="learning rate "
                   "of the --from model times this (default 0.1 for pseudo "
                   "and continue, 1 for specialists)")
    p.add_argument("--limit", type=positive_int,
                   help="use only the first N faces")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p


def run_stage(args):
    """Run the stage of parsed arguments; -> its metrics (dict).

    Raises
    ------
    UsageError
        ``--from`` missing or given to ``base``; no ``--config`` for
        ``base``; a bad config.
    ModelError
        ``--from`` is not a single model (an ensemble or specialists:
        the message names its nets' folders).
    """
    if (args.stage == "base") != (args.base is None):
        raise UsageError("--from is needed by every stage but base (and "
                         "only by them)")
    if args.stage == "base" and args.config is None:
        raise UsageError("--stage base needs --config (or use `kfkd train`)")
    budget = {k: v for k, v in (("max_minutes", args.minutes),
                                ("max_epochs", args.epochs)) if v is not None}
    overrides = (read_flat(args.config, "--config", on_top=budget)
                 if args.config else {})
    base = load_model(args.base) if args.base else None
    if base is not None and not isinstance(base, Model):
        folders = [os.path.join(args.base, os.path.relpath(
            net.folder, base.folder)) for net in single_nets(base)]
        raise ModelError("--from %s: a single model is needed, it holds "
                         "several nets (%s); give one of their folders: %s"
                         % (args.base, net_label(base), ", ".join(folders)))
    train, val = load_split(args.data_dir, limit=args.limit)
    verbose = not args.quiet
    if args.stage == "specialists":
        config = continuation_config(base, _lr_factor(args), overrides)
        return train_specialists(base, train, val, config, args.out,
                                 args.minutes, args.epochs,
                                 verbose=verbose)[1]
    if args.stage == "base":
        config = dict(overrides, **budget)
    else:
        config = continuation_config(base, _lr_factor(args),
                                     dict(overrides, **budget))
    if args.stage == "pseudo":
        return train_pseudo(base, train, val, config, args.out, verbose)[1]
    Trainer(TrainingConfig.from_flat(config), verbose=verbose).fit(
        train, val, out_dir=args.out, init_model=base)
    return read_json(os.path.join(args.out, "metrics.json"))


def _lr_factor(args):
    return (args.lr_factor if args.lr_factor is not None
            else DEFAULT_LR_FACTOR[args.stage])


def main(argv=None):
    """Entry point of ``experiments/train_reference.py``: one line of error
    on stderr and exit status 2 for a user error."""
    args = build_parser().parse_args(argv)
    try:
        metrics = run_stage(args)
    except (DataError, DataNotFoundError, FileNotFoundError, UsageError,
            ModelError) as e:
        print("train_reference: error: %s" % e, file=sys.stderr)
        return 2
    print(json.dumps(dict(stage=args.stage, **{
        k: metrics[k] for k in SUMMARY if k in metrics})))
    print("wrote %s (metrics.json)" % args.out, file=sys.stderr)
    return 0
