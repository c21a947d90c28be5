"""``kfkd occlusion`` and ``kfkd benchmark-occlusion``: parsers and runs.

``kfkd occlusion`` computes (or with ``--redraw`` only draws) a folder of
occlusion results (:mod:`kfkd.occlusion.run`); ``kfkd benchmark-occlusion``
times the heat maps and prints the edge-energy tables
(:mod:`kfkd.occlusion.benchmark`).  Options are checked before the data or
the model load (:class:`kfkd.errors.UsageError`, one line, exit 2).
"""
import os

from ..splits import load_split
from ..errors import UsageError
from . import benchmark, run as folder_run
from .censors import CENSORS

__all__ = ["add_parsers", "COMMANDS", "DEFAULT_OUT"]

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
#: The repository's ``figures/occlusion``.
DEFAULT_OUT = os.path.join(REPO, "figures", "occlusion")


def _common(p, faces, faces_help=None):
    p.add_argument("--model", help="model folder (default: the shipped "
                   "reference model, or $KFKD_MODEL)")
    p.add_argument("--data-dir", help="Kaggle data folder (default: "
                   "$KFKD_DATA_DIR)")
    p.add_argument("--faces", type=int, default=faces,
                   help=faces_help or "the first N validation faces")
    p.add_argument("--patch", type=int, default=12, help="pixels")
    p.add_argument("--stride", type=int, default=2, help="pixels")
    p.add_argument("--batch-size", type=int, default=256,
                   help="censored images per predict call")


def add_parsers(sub):
    """Add ``occlusion`` and ``benchmark-occlusion`` to argparse
    subparsers."""
    p = sub.add_parser("occlusion", help="occlusion heat maps of validation "
                       "faces, censors compared (also at matched strength)")
    _common(p, faces=8)
    p.add_argument("--censor", default="edge_free", choices=sorted(CENSORS))
    p.add_argument("--compare-faces", type=int, default=4,
                   help="faces in the censor comparison (0: skip it)")
    p.add_argument("--compare-stride", type=int, default=4, help="pixels")
    p.add_argument("--matched-faces", type=int, default=0, help="faces in "
                   "the comparison at matched strength (0: skip it)")
    p.add_argument("--matched-stride", type=int, default=2, help="pixels")
    p.add_argument("--calibration-faces", type=int, default=32,
                   help="validation faces on which the censors are scaled "
                   "to matched strength (positions every 4 px)")
    p.add_argument("--out", default=DEFAULT_OUT)
    p.add_argument("--redraw", action="store_true",
                   help="redraw the figures from the saved .npz files")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p = sub.add_parser("benchmark-occlusion", help="seconds per heat map; "
                       "edge energy per unit of detail removed")
    _common(p, faces=2, faces_help="faces timed (= repeats)")
    p.add_argument("--energy-faces", type=int, default=32,
                   help="validation faces of the edge-energy tables")
    p.add_argument("--energy-stride", type=int, default=4, help="pixels")
    p.add_argument("--skip-timing", action="store_true")


def _check(args, positive=(), non_negative=()):
    """UsageError naming the first option out of range."""
    if not 1 <= args.patch <= 96:
        raise UsageError("--patch must be in 1..96 px, got %r" % args.patch)
    for name in ("stride", "compare_stride", "matched_stride"):
        if getattr(args, name, 0) > args.patch:
            raise UsageError("--%s %r leaves pixels no patch covers: it must "
                             "be <= --patch %r" % (name.replace("_", "-"),
                                                   getattr(args, name),
                                                   args.patch))
    for name in positive:
        if getattr(args, name) < 1:
            raise UsageError("--%s must be >= 1, got %r" % (
                name.replace("_", "-"), getattr(args, name)))
    for name in non_negative:
        if getattr(args, name) < 0:
            raise UsageError("--%s must be >= 0, got %r" % (
                name.replace("_", "-"), getattr(args, name)))


def _model_and_data(args):
    """The model (the Theano boundary) and ``(train, val)``."""
    from ..model import load_model      # the Theano boundary
    return load_model(args.model), load_split(args.data_dir, verbose=False)


def cmd_occlusion(args):
    """``kfkd occlusion``: compute unless ``--redraw``, then draw."""
    _check(args, ("faces", "stride", "batch_size", "compare_stride",
                  "matched_stride", "calibration_faces"),
           ("compare_faces", "matched_faces"))
    if not args.redraw:
        model, (train, val) = _model_and_data(args)
        grey = float(train.images.mean())
        os.makedirs(args.out, exist_ok=True)
        kw = dict(patch=args.patch, batch_size=args.batch_size,
                  progress=not args.quiet)
        folder_run.compute_maps(
            model, val, grey, args.out, args.censor, faces=args.faces,
            stride=args.stride, compare_faces=args.compare_faces,
            compare_stride=args.compare_stride,
            extra={"model": _repo_relative(model.folder or "")}, **kw)
        if args.matched_faces > 0:
            folder_run.compute_matched(
                model, val, grey, args.out, faces=args.matched_faces,
                stride=args.matched_stride,
                calibration_faces=args.calibration_faces, **kw)
    written = folder_run.draw_folder(args.out, args.censor)
    benchmark.print_folder(args.out, args.censor)
    print("wrote %d figure files to %s" % (len(written), args.out))


def _repo_relative(path):
    """``path`` relative to the repository when inside it, else absolute."""
    path = os.path.abspath(path)
    inside = path.startswith(REPO + os.sep)
    return os.path.relpath(path, REPO) if inside else path


def cmd_benchmark(args):
    """``kfkd benchmark-occlusion``."""
    _check(args, ("faces", "stride", "batch_size", "energy_faces",
                  "energy_stride"))
    model, (train, val) = (_model_and_data(args) if not args.skip_timing
                           else (None, load_split(args.data_dir,
                                                  verbose=False)))
    grey = float(train.images.mean())
    if model is not None:
        benchmark.print_timing(model, val, args.faces, args.patch,
                               args.stride, args.batch_size)
    benchmark.print_energy(val.images[:args.energy_faces], grey, args.patch,
                           args.energy_stride)


#: subcommand -> function(args)
COMMANDS = {"occlusion": cmd_occlusion, "benchmark-occlusion": cmd_benchmark}
