"""``kfkd ensemble``: average trained model folders into one model folder
(the parser, the argument checks and the command; :mod:`kfkd.cli` wires
them in).  The ensemble itself is :class:`kfkd.ensemble.EnsembleModel`."""
import os
import sys

from .errors import ModelError, UsageError
from .fileio import MODEL_MARKERS, check_output_folder, read_json
from .splits import SPLITS, load_split, recorded_split

__all__ = ["add_parser", "check", "run"]


def add_parser(subparsers):
    """Add ``ensemble`` to a ``kfkd`` subcommand parser; the subparser."""
    p = subparsers.add_parser("ensemble", help="average trained models into one "
                       "model folder (a snapshot or small ensemble), "
                       "validated on their split", usage="%(prog)s "
                       "[-h] MODEL MODEL [MODEL ...] --out OUT [--overwrite] "
                       "[--data-dir DATA_DIR] [--split {grouped,random}]")
    p.add_argument("models", nargs="+", metavar="MODEL",
                   help="model folders (at least 2, all validated on the "
                   "same split)")
    p.add_argument("--out", required=True, help="ensemble folder to write")
    p.add_argument("--overwrite", action="store_true", help="replace the "
                   "model (or anything else) already in --out")
    p.add_argument("--data-dir", help="folder with training.csv(.gz) "
                   "(default: $KFKD_DATA_DIR)")
    p.add_argument("--split", choices=SPLITS,
                   help="validation faces; must be the members' split "
                   "(default: the split the members were trained with; "
                   "random for models that record none)")
    return p


def check(args):
    """At least two distinct member folders that exist and hold a model;
    ``--out`` a folder a model may be written to (as ``kfkd train``'s),
    neither a member nor holding one."""
    if len(args.models) < 2:
        raise UsageError("an ensemble needs at least 2 model folders, got "
                         "%d (%s)" % (len(args.models), args.models[0]))
    seen = {}
    for folder in args.models:
        real = os.path.realpath(folder)
        if real in seen:
            raise UsageError("model folder %s is given twice (as %s and %s);"
                             " an ensemble's members must differ"
                             % (folder, seen[real], folder))
        seen[real] = folder
        if not os.path.isdir(folder):
            raise UsageError("model folder %s: no such folder" % folder)
        if not any(os.path.isfile(os.path.join(folder, m))
                   for m in MODEL_MARKERS):
            raise UsageError("model folder %s: holds no model (none of %s)"
                             % (folder, ", ".join(MODEL_MARKERS)))
        if os.path.isfile(os.path.join(folder, "ensemble.json")):
            raise UsageError("model folder %s is an ensemble; give its "
                             "members' folders instead" % folder)
    out = os.path.realpath(args.out)
    for real, folder in seen.items():
        if real == out or real.startswith(out.rstrip(os.sep) + os.sep):
            raise UsageError("--out %s: is (or holds) the member model "
                             "folder %s; write the ensemble elsewhere"
                             % (args.out, folder))
    check_output_folder(args.out, args.overwrite)


def _member_split(folder, model):
    """A member's recorded split (:func:`kfkd.splits.recorded_split`);
    ModelError naming its folder if malformed."""
    try:
        return recorded_split(getattr(model, "training", None))
    except ModelError as e:
        raise ModelError("%s: %s" % (folder, e))


def _own_metrics(folder, measured):
    """A member's metrics.json for the ensemble folder: its own (the
    training record: best epoch, epochs, seconds, per-keypoint RMSE), with
    what ``kfkd ensemble`` measured added as ``ensemble_measured``;
    ``measured`` alone when the member has none or it is not a JSON
    object."""
    path = os.path.join(folder, "metrics.json")
    try:
        own = read_json(path) if os.path.isfile(path) else None
    except ValueError:
        own = None
    if not isinstance(own, dict):
        return measured
    return dict(own, ensemble_measured=measured)


def run(args):
    """``kfkd ensemble``: the members' mean, validated on their common
    split, saved as one model folder (:class:`kfkd.ensemble.
    EnsembleModel`)."""
    from .ensemble import EnsembleModel
    from .model import load_model, net_label  # the Theano boundary

    members = [load_model(folder) for folder in args.models]
    splits = [_member_split(f, m) for f, m in zip(args.models, members)]
    for folder, split in zip(args.models[1:], splits[1:]):
        if split != splits[0]:
            raise UsageError(
                "%s and %s were validated on different splits (%s against "
                "%s): the ensemble's validation RMSE is only honest when "
                "every member held out the same faces" % (
                    args.models[0], folder, _split_text(splits[0]),
                    _split_text(split)))
    if args.split is not None and args.split != splits[0]["method"]:
        raise UsageError("--split %s: the members were validated on the %s "
                         "split; the ensemble is validated on theirs"
                         % (args.split, splits[0]["method"]))
    _, val = load_split(data_dir=args.data_dir, verbose=False, **splits[0])
    predictions = [m.predict(val.images) for m in members]
    sources = [os.path.normpath(f) for f in args.models]
    model = EnsembleModel(members, sources=sources, training={
        "combination": "mean", "split": dict(val.split)})
    reports = []
    for k, (folder, member, pred) in enumerate(zip(sources, members,
                                                   predictions)):
        member_metrics = member.metrics(val, predictions=pred)
        reports.append({"folder": folder,
                        "val_rmse_px": member_metrics["val_rmse_px"],
                        "lookup_rmse_px": member_metrics["lookup_rmse_px"]})
        print("member %d %s (%s): validation RMSE %.4f px" % (
            k, folder, net_label(member), member_metrics["val_rmse_px"]))
    metrics = model.metrics(val, predictions=model.combine(predictions),
                            extra={"members": reports})
    print("%s: validation RMSE %.4f px (%d faces, %s split)" % (
        net_label(model), metrics["val_rmse_px"], metrics["n_faces"],
        val.split["method"]))
    model.save(args.out, metrics=metrics, member_metrics=[
        _own_metrics(folder, report) for folder, report in zip(sources,
                                                               reports)])
    print("wrote %s (ensemble.json, %s, metrics.json)" % (args.out, ", ".join(
        "member_%d/" % k for k in range(len(members)))), file=sys.stderr)
    return metrics


def _split_text(split):
    """'grouped, val_fraction 0.2, seed 42' (and ', first N faces')."""
    return "%s, val_fraction %g, seed %d%s" % (
        split["method"], split["val_fraction"], split["seed"],
        ", first %d faces" % split["limit"] if split.get("limit") else "")
