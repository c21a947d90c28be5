"""The ``kfkd`` command: argument parsing only; the work is in the modules.

``kfkd train``, ``kfkd evaluate``, ``kfkd predict`` (and the subcommands
that later modules add).  Data errors end the command with one line on
stderr and exit status 2, never a traceback.
"""
import argparse
import json
import os
import sys

from .occlusion import command as occlusion_command

__all__ = ["main", "build_parser", "train_config"]


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
    p.add_argument("--lr", dest="learning_rate", type=float, default=2e-3)
    p.add_argument("--lr-end", dest="learning_rate_end", type=float)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--momentum-end", type=float)
    p.add_argument("--l1", type=float, default=0.0)
    p.add_argument("--l2", type=float, default=0.0)
    p.add_argument("--batch-size", type=int, default=32)
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

    p = sub.add_parser("search", help="random grid search: trials as "
                       "parallel device jobs, resumable, 3D surfaces")
    p.add_argument("--data-dir")
    p.add_argument("--trials", type=int, default=8,
                   help="total trials of the study (default 8)")
    p.add_argument("--minutes-per-trial", type=float, default=3.5,
                   help="training budget of one trial (default 3.5)")
    p.add_argument("--workers", type=int,
                   help="N CPU worker processes (shorthand for --devices "
                   "cpu,...)")
    p.add_argument("--devices", help="one worker per device slot, e.g. "
                   "cpu,cpu or cuda0,cuda1 (default: CPU slots to suit the "
                   "machine)")
    p.add_argument("--space", default="default", help="search space: a name "
                   "in experiments/spaces/ or a path (default: default)")
    p.add_argument("--study", help="study name (default: the space name); "
                   "rerun with the same name to resume")
    p.add_argument("--storage", help="Optuna storage URL, e.g. "
                   "postgresql://user:pw@host/db (default: a journal file "
                   "in the study folder)")
    p.add_argument("--out", default="runs", help="outputs go to OUT/STUDY/ "
                   "(default runs)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=int, help="use only the first N faces")
    p.add_argument("--join", action="store_true", help="only run workers on "
                   "an existing study (e.g. from another machine)")
    p.add_argument("--quiet", action="store_true")

    p = sub.add_parser("plot-search", help="redraw a study's results.csv, "
                       "best.json and 3D surfaces from its storage")
    p.add_argument("--study", default="default")
    p.add_argument("--storage")
    p.add_argument("--out", default="runs")

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

    p = sub.add_parser("submit", help="a Kaggle submission (RowId,Location) "
                       "for test.csv and IdLookupTable.csv")
    _add_submit_args(p)

    p = sub.add_parser("detect", help="faces and keypoints in photos: "
                       "annotated images and detections.json")
    p.add_argument("photos", nargs="+", metavar="PHOTO",
                   help="photos (any format cv2.imread reads)")
    p.add_argument("--out", required=True, help="folder to write")
    _add_face_args(p)

    p = sub.add_parser("video", help="faces and keypoints on every frame of "
                       "a video")
    p.add_argument("input", metavar="IN", help="video OpenCV can read")
    p.add_argument("--out", required=True, type=_video_path,
                   help="video to write (.mp4: mp4v, .avi: MJPG)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_face_args(p)
    occlusion_command.add_parsers(sub)
    return parser


def _add_face_args(p):
    """Options of ``kfkd detect`` and ``kfkd video``."""
    p.add_argument("--model", help="model folder (default: the shipped "
                   "reference model)")
    p.add_argument("--blur", action="store_true", help="blur the faces")
    p.add_argument("--sunglasses", action="store_true",
                   help="put sunglasses on the faces")


def _video_path(text):
    from .pipeline import VIDEO_CODECS

    if os.path.splitext(text)[1].lower() not in VIDEO_CODECS:
        raise argparse.ArgumentTypeError("%r: the output video must end in %s"
                                         % (text, " or ".join(sorted(
                                             VIDEO_CODECS))))
    return text


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


def _split_kwargs(args):
    kwargs = {"data_dir": args.data_dir, "limit": args.limit}
    if args.val_fraction is not None:
        kwargs["val_fraction"] = args.val_fraction
    return kwargs


def train_config(args):
    """The flat training config (:func:`kfkd.train.trainer_from_config`) of
    parsed ``kfkd train`` arguments; also used by :mod:`kfkd.figures` so
    that every figure's run is exactly a ``kfkd train`` command."""
    from .train import AUGMENT_KEYS, TRAINER_KEYS

    config = {k: getattr(args, k) for k in TRAINER_KEYS if hasattr(args, k)}
    if not args.no_augment:
        config.update({k: getattr(args, k) for k in AUGMENT_KEYS})
    config.update({"net." + k: v for k, v in args.net_params})
    return config


def cmd_train(args):
    from .data import load_split
    from .train import trainer_from_config

    train, val = load_split(**_split_kwargs(args))
    config = train_config(args)
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

    _, val = load_split(**_split_kwargs(args))  # data errors before Theano
    model = load_model(args.model)
    metrics = model.metrics(val)
    print("validation faces: %d" % metrics["n_faces"])
    print("RMSE (all labelled coordinates): %.4f px" % metrics["val_rmse_px"])
    print("Kaggle metric (RMSE over %d lookup-style rows, clipped to [0, 96]): "
          "%.4f px" % (int(val.mask.sum()), metrics["lookup_rmse_px"]))
    for name, value in metrics["per_keypoint_rmse_px"].items():
        print("  %-26s %s" % (name, "%.4f px" % value if value is not None
                              else "-"))
    return metrics


def cmd_predict(args):
    from .data import find_file, load_test
    from .model import load_model
    from .submission import write_predictions

    test = load_test(args.csv or find_file("test.csv", args.data_dir))
    model = load_model(args.model)
    predictions = model.predict(test.images)
    write_predictions(args.out, test.image_ids, predictions, model.schema)
    print("wrote %d faces to %s" % (len(test), args.out), file=sys.stderr)


def cmd_submit(args):
    import time

    from .data import find_file
    from .model import load_model
    from .submission import make_submission

    started = time.time()
    test_path = args.test_csv or find_file("test.csv", args.data_dir)
    lookup_path = args.lookup or find_file("IdLookupTable.csv", args.data_dir)
    summary = make_submission(load_model(args.model), test_path, lookup_path,
                              args.out)
    print("wrote %s: %d rows (RowId,Location) for %d images in %.1f s" % (
        args.out, summary["rows"], summary["images"], time.time() - started))
    return summary


def cmd_search(args):
    from . import search

    space = search.load_space(args.space)
    study = args.study or space.name
    devices = search.parse_devices(args.devices, args.workers)
    driver = search.Driver(space, study, args.trials, devices, args.out,
                           args.storage, args.data_dir, args.limit,
                           args.minutes_per_trial, args.seed, args.join,
                           verbose=not args.quiet)
    from .data import resolve_data_dir
    resolve_data_dir(args.data_dir)  # fail here, in one line, not per worker
    print("study %s: %d trials of space %s on %s (%d thread(s) each), "
          "%s min per trial -> %s" % (
              study, args.trials, space.name, ",".join(devices),
              driver.threads, args.minutes_per_trial,
              os.path.join(args.out, study)), file=sys.stderr)
    best = driver.run()
    if best:
        print("best trial %d: validation RMSE %.3f px -> %s" % (
            best["number"], best["val_rmse_px"], best["model"]))
    return best


def cmd_plot_search(args):
    from . import search

    study_dir = os.path.join(args.out, args.study)
    storage = search.open_storage(args.storage, study_dir)
    study = search.open_study(storage, args.study)
    space = search.load_space(study.user_attrs["space"])
    best = search.write_outputs(study, space, study_dir)
    print("redrew %s (best trial %s)" % (study_dir, best.get("number")))


def cmd_detect(args):
    from .model import load_model
    from .pipeline import KeypointPipeline, detect_photos, read_image

    for path in args.photos:  # unreadable photos fail before Theano
        read_image(path)
    pipeline = KeypointPipeline(load_model(args.model))
    report = detect_photos(args.photos, args.out, pipeline, blur=args.blur,
                           sunglasses=args.sunglasses)
    for photo in report["photos"]:
        print("%s: %d face(s) (confidence %s), %d rejected candidate(s) "
              "(confidence %s)" % (
                  photo["photo"], len(photo["faces"]),
                  " ".join("%.2f" % f["confidence"] for f in photo["faces"])
                  or "-", len(photo["rejected"]),
                  " ".join("%.2f" % f["confidence"]
                           for f in photo["rejected"]) or "-"))
    print("wrote %d files to %s" % (len(report["written"]), args.out),
          file=sys.stderr)
    return report


def cmd_video(args):
    from .model import load_model
    from .pipeline import FaceDetector, KeypointPipeline, process_video

    if not os.path.isfile(args.input):
        raise FileNotFoundError("%s: no such file" % args.input)
    pipeline = KeypointPipeline(load_model(args.model),
                                detector=FaceDetector.for_video())
    stats = process_video(args.input, args.out, pipeline, blur=args.blur,
                          sunglasses=args.sunglasses,
                          progress=not args.quiet)
    print("%d frames, %d with a face, %.1f frames per second (detection + "
          "keypoints + drawing, no video I/O); wrote %s" % (
              stats["frames"], stats["frames_with_face"], stats["fps"],
              args.out))
    return stats


COMMANDS = {"train": cmd_train, "evaluate": cmd_evaluate,
            "predict": cmd_predict, "search": cmd_search,
            "plot-search": cmd_plot_search,
            "submit": cmd_submit,
            "detect": cmd_detect, "video": cmd_video,
            **occlusion_command.COMMANDS}


def main(argv=None):
    """Entry point of the ``kfkd`` console script (and ``python -m kfkd``)."""
    from .data import DataError, DataNotFoundError
    from .errors import (DeviceUnavailableError, ModelError, SearchError,
                         UsageError)
    from .submission import SubmissionError

    args = build_parser().parse_args(argv)
    try:
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
