"""Train the reference model in stages: base, pseudo-labels, specialists.

Usage::

    python experiments/train_reference.py --stage base --config CONFIG \\
        --minutes 60 --out runs/reference/base
    python experiments/train_reference.py --stage pseudo \\
        --from runs/reference/base --minutes 30 --out runs/reference/pseudo
    python experiments/train_reference.py --stage specialists \\
        --from runs/reference/base --minutes 10 --out runs/reference/specialists
    python experiments/train_reference.py --stage continue \\
        --from runs/reference/base --minutes 30 --out runs/reference/continue

``--config`` is a JSON file: a flat config for
:func:`kfkd.train.trainer_from_config` (``{"net": "breeze", "net.depth": 4,
"learning_rate": 1e-3, "flip": true, ...}``), a search's ``best.json``
(its ``config``), or a model folder (the config it was trained with); it is
the whole config of ``base``.  For the other stages the config is the
``--from`` model's, with the learning rate times ``--lr-factor`` and
``--config``'s keys on top.

``base``         train from scratch (as ``kfkd train``).
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

Every stage validates on the same split (``kfkd.data.load_split``) with the
true labels only, writes ``metrics.json`` into ``--out`` and prints the
validation RMSE (and the ``--from`` model's, on the same faces).
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from kfkd.data import DataError, DataNotFoundError, load_split  # noqa: E402
from kfkd.fileio import read_json  # noqa: E402

STAGES = ("base", "pseudo", "specialists", "continue")
DEFAULT_LR_FACTOR = {"base": 1.0, "pseudo": 0.1, "specialists": 1.0,
                     "continue": 0.1}


def read_config(path):
    """Flat config from a JSON file, a search's best.json or a model folder."""
    from kfkd.train import config_from_training

    if os.path.isdir(path):
        return config_from_training(read_json(os.path.join(
            path, "model.json"))["training"])
    config = read_json(path)
    return config["config"] if "config" in config else config


def build_parser():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--stage", required=True, choices=STAGES)
    p.add_argument("--from", dest="base", metavar="DIR",
                   help="model folder to start from (all stages but base)")
    p.add_argument("--config", help="JSON config (required for base; "
                   "overrides for the other stages)")
    p.add_argument("--out", required=True, help="model folder to write")
    p.add_argument("--data-dir", help="default: $KFKD_DATA_DIR")
    p.add_argument("--minutes", type=float, help="training budget (per "
                   "specialist for --stage specialists)")
    p.add_argument("--epochs", type=int, help="max epochs (per specialist)")
    p.add_argument("--lr-factor", type=float, help="learning rate of the "
                   "--from model times this (default 0.1 for pseudo and "
                   "continue, 1 for specialists)")
    p.add_argument("--limit", type=int, help="use only the first N faces")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p


def run(args):
    from kfkd.model import Model, load_model
    from kfkd.pseudo import continuation_config, train_pseudo
    from kfkd.specialists import train_specialists
    from kfkd.train import trainer_from_config

    if (args.stage == "base") != (args.base is None):
        raise SystemExit("--from is needed by every stage but base (and "
                         "only by them)")
    if args.stage == "base" and args.config is None:
        raise SystemExit("--stage base needs --config (or use `kfkd train`)")
    overrides = read_config(args.config) if args.config else {}
    budget = {k: v for k, v in (("max_minutes", args.minutes),
                                ("max_epochs", args.epochs)) if v is not None}
    train, val = load_split(args.data_dir, limit=args.limit)
    verbose = not args.quiet
    if args.stage == "base":
        trainer = trainer_from_config(dict(overrides, **budget), verbose)
        trainer.fit(train, val, out_dir=args.out)
        metrics = read_json(os.path.join(args.out, "metrics.json"))
    else:
        base = load_model(args.base)
        if not isinstance(base, Model):
            raise SystemExit("--from %s: a single model is needed, not %r"
                             % (args.base, base))
        factor = (args.lr_factor if args.lr_factor is not None
                  else DEFAULT_LR_FACTOR[args.stage])
        config = continuation_config(base, factor, overrides)
        if args.stage == "pseudo":
            _, metrics = train_pseudo(base, train, val, dict(config, **budget),
                                      args.out, verbose)
        elif args.stage == "continue":
            trainer = trainer_from_config(dict(config, **budget), verbose)
            trainer.fit(train, val, out_dir=args.out, init_model=base)
            metrics = read_json(os.path.join(args.out, "metrics.json"))
        else:
            _, metrics = train_specialists(base, train, val, config, args.out,
                                           args.minutes, args.epochs,
                                           verbose=verbose)
    summary = {k: metrics.get(k) for k in (
        "val_rmse_px", "lookup_rmse_px", "base_val_rmse_px",
        "init_val_rmse_px", "best_epoch", "epochs", "seconds", "n_faces")
        if k in metrics}
    print(json.dumps(dict(stage=args.stage, **summary)))
    print("wrote %s (metrics.json)" % args.out, file=sys.stderr)
    return metrics


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        run(args)
    except (DataError, DataNotFoundError, FileNotFoundError) as e:
        print("train_reference: error: %s" % e, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
