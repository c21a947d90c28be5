"""The ``kfkd`` command: argument parsing only; the work is in the modules.

``kfkd train``, ``kfkd evaluate``, ``kfkd predict`` (and the subcommands
that later modules add).  Data errors end the command with one line on
stderr and exit status 2, never a traceback.
"""
import argparse
import json
import os
import sys

__all__ = ["main", "build_parser"]


def _value(text):
    """'5' -> 5, '0.1' -> 0.1, 'true' -> True, 'none' -> None, else the text."""
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _net_param(text):
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError("expected NAME=VALUE, got %r" % text)
    return key, _value(value)


def _add_data_args(p):
    p.add_argument("--data-dir", help="folder with training.csv(.gz) etc. "
                   "(default: $KFKD_DATA_DIR)")
    p.add_argument("--val-fraction", type=float, default=None,
                   help="validation share of training.csv (default 0.2)")
    p.add_argument("--limit", type=int, help="use only the first N faces")


def build_parser():
    """The argparse parser of the ``kfkd`` command."""
    parser = argparse.ArgumentParser(
        prog="kfkd", description="Facial keypoint detection (Kaggle) with "
        "Lasagne/Theano.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train a net, early-stopping on "
                       "validation RMSE")
    p.add_argument("--net", default="breeze", help="net1, net2, net6, breeze")
    p.add_argument("--out", required=True, help="model folder to write")
    _add_data_args(p)
    p.add_argument("--epochs", dest="max_epochs", type=int, default=100)
    p.add_argument("--max-minutes", type=float)
    p.add_argument("--update", choices=("adam", "nesterov"), default="adam")
    p.add_argument("--lr", dest="learning_rate", type=float, default=1e-3)
    p.add_argument("--lr-end", dest="learning_rate_end", type=float)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--momentum-end", type=float)
    p.add_argument("--l1", type=float, default=0.0)
    p.add_argument("--l2", type=float, default=0.0)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--patience", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-flip", dest="flip", action="store_false",
                   help="no horizontal flips")
    p.add_argument("--rotation", type=float, default=10.0, help="max degrees")
    p.add_argument("--shift", type=float, default=3.0, help="max pixels")
    p.add_argument("--scale", type=float, default=0.05,
                   help="max relative scale change")
    p.add_argument("--brightness", type=float, default=0.0)
    p.add_argument("--contrast", type=float, default=0.0)
    p.add_argument("--no-augment", action="store_true",
                   help="no augmentation at all")
    p.add_argument("--exposure", choices=("clahe", "hist"),
                   help="exposure correction of every image")
    p.add_argument("--param", dest="net_params", type=_net_param,
                   action="append", default=[], metavar="NAME=VALUE",
                   help="net hyperparameter, e.g. --param depth=5")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = sub.add_parser("evaluate", help="RMSE of a model on the validation "
                       "split")
    p.add_argument("--model", help="model folder (default: the shipped "
                   "reference model)")
    _add_data_args(p)

    p = sub.add_parser("predict", help="keypoints for every face of a "
                       "test.csv")
    p.add_argument("--model", help="model folder (default: the shipped "
                   "reference model)")
    p.add_argument("--csv", help="test.csv(.gz) (default: DATA_DIR/test.csv)")
    p.add_argument("--data-dir")
    p.add_argument("--out", required=True, help="predictions CSV to write")
    return parser


def _split_kwargs(args):
    kwargs = {"data_dir": args.data_dir, "limit": args.limit}
    if args.val_fraction is not None:
        kwargs["val_fraction"] = args.val_fraction
    return kwargs


def cmd_train(args):
    from .data import load_split
    from .train import AUGMENT_KEYS, TRAINER_KEYS, trainer_from_config

    train, val = load_split(**_split_kwargs(args))
    config = {k: getattr(args, k) for k in TRAINER_KEYS if hasattr(args, k)}
    if not args.no_augment:
        config.update({k: getattr(args, k) for k in AUGMENT_KEYS})
    config.update({"net." + k: v for k, v in args.net_params})
    trainer = trainer_from_config(config, verbose=not args.quiet)
    print("training %s on %d faces, validating on %d" % (
        args.net, len(train), len(val)), file=sys.stderr)
    model = trainer.fit(train, val, out_dir=args.out)
    metrics = json.load(open(os.path.join(args.out, "metrics.json")))
    print(json.dumps({k: metrics[k] for k in (
        "val_rmse_px", "best_epoch", "epochs", "seconds")}, indent=None))
    print("wrote %s (model.npz, model.json, history.csv, metrics.json)"
          % args.out, file=sys.stderr)
    return model


def cmd_evaluate(args):
    from .data import load_split
    from .model import load_model

    model = load_model(args.model)
    _, val = load_split(**_split_kwargs(args))
    metrics = model.metrics(val)
    print("validation faces: %d" % metrics["n_faces"])
    print("RMSE (all labelled coordinates): %.4f px" % metrics["val_rmse_px"])
    for name, value in metrics["per_keypoint_rmse_px"].items():
        print("  %-26s %s" % (name, "%.4f px" % value if value is not None
                              else "-"))
    return metrics


def cmd_predict(args):
    from .data import find_file, load_test
    from .model import load_model
    from .submission import write_predictions

    model = load_model(args.model)
    test = load_test(args.csv or find_file("test.csv", args.data_dir))
    predictions = model.predict(test.images)
    write_predictions(args.out, test.image_ids, predictions, model.schema)
    print("wrote %d faces to %s" % (len(test), args.out), file=sys.stderr)


COMMANDS = {"train": cmd_train, "evaluate": cmd_evaluate,
            "predict": cmd_predict}


def main(argv=None):
    """Entry point of the ``kfkd`` console script (and ``python -m kfkd``)."""
    from .data import DataError, DataNotFoundError

    args = build_parser().parse_args(argv)
    try:
        COMMANDS[args.command](args)
    except (DataError, DataNotFoundError, FileNotFoundError) as e:
        print("kfkd %s: error: %s" % (args.command, e), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("kfkd %s: interrupted" % args.command, file=sys.stderr)
        return 130
    return 0
