"""``kfkd imm-train``: train and test a nose-tip or 58-point detector on
the IMM face database (:mod:`kfkd.imm`).

Every option is checked before anything is loaded or compiled
(:func:`check_args`); Theano is imported inside :func:`cmd_imm_train`.
"""
import os
import time

from ..errors import UsageError
from ..pipeline.command import REPO, SHARED_DATA
from ..pipeline.detection import CROP_SCALE
from .points import TARGETS

__all__ = ["CROP_SCALES", "add_parser", "check_args", "cmd_imm_train"]

#: Default crop side in Haar box widths per target: the pipeline's crop
#: (framed like training.csv, brows to lower lip) for the nose; 1.4 box
#: widths for all 58 points, so the jaw and chin fall inside the 96x96
#: crop (with the pipeline's crop the chin lies up to 23 px below it).
CROP_SCALES = {"nose": CROP_SCALE, "all58": 1.4}


def add_parser(sub):
    """Add ``imm-train`` to ``sub`` (the ``add_subparsers`` of ``kfkd``)."""
    p = sub.add_parser("imm-train", help="train and test a nose-tip or "
                       "58-point detector on the IMM face database (people "
                       "1-32 vs 33-40)")
    p.add_argument("--target", required=True, help="nose (IMM point 52) "
                   "or all58")
    p.add_argument("--imm-dir", default=os.environ.get(
        "KFKD_IMM_DIR", os.path.join(SHARED_DATA, "imm")))
    p.add_argument("--out", default=os.path.join(REPO, "figures", "imm"))
    p.add_argument("--max-minutes", type=float, default=None,
                   help="wall-clock training budget in minutes (default: "
                   "none, --epochs decides)")
    p.add_argument("--epochs", type=int, default=150,
                   help="at most this many epochs (default 150)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--crop-scale", type=float, default=None,
                   help="crop side in Haar box widths (default: nose %.3f, "
                   "all58 %.1f)" % (CROP_SCALE, CROP_SCALES["all58"]))
    p.add_argument("--no-flip", action="store_true",
                   help="no horizontal flips in the augmentation")
    p.add_argument("--every", type=int, default=1,
                   help="use every N-th photo (a quick run; default all)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def check_args(args):
    """UsageError naming the first bad option; nothing is loaded."""
    if args.target not in TARGETS:
        raise UsageError("--target %r: choose one of %s"
                         % (args.target, ", ".join(sorted(TARGETS))))
    if not os.path.isdir(args.imm_dir):
        raise UsageError("--imm-dir %s: no such folder" % args.imm_dir)
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise UsageError("--out %s: is a file, not a folder" % args.out)
    for option, value in (("--max-minutes", args.max_minutes),
                          ("--crop-scale", args.crop_scale)):
        if value is not None and not value > 0:
            raise UsageError("%s %r: must be positive" % (option, value))
    for option, value in (("--epochs", args.epochs),
                          ("--every", args.every)):
        if value < 1:
            raise UsageError("%s %r: must be at least 1" % (option, value))


def cmd_imm_train(args):
    """``kfkd imm-train``: crops, training, test errors, figures."""
    check_args(args)
    from ..pipeline.detection import FaceDetector
    from ..pipeline.imm import load_imm
    from .crops import imm_crops
    from .report import format_table, write_outputs
    from .run import imm_config, train_and_test  # the Theano boundary

    started = time.time()
    crop_scale = args.crop_scale or CROP_SCALES[args.target]
    crops = imm_crops(load_imm(args.imm_dir)[::args.every], FaceDetector(),
                      crop_scale)
    config, augmenter = imm_config(args.target, args.max_minutes,
                                   args.epochs, args.seed,
                                   flip=not args.no_flip)
    cpu = time.process_time()
    result = train_and_test(crops, args.target, config, augmenter,
                            verbose=not args.quiet)
    settings = {"target": args.target, "imm_dir": args.imm_dir,
                "every": args.every, "training": dict(
                    result["model"].training),
                "train_cpu_seconds": round(time.process_time() - cpu, 1),
                "seconds": round(time.time() - started, 1),
                "load": os.getloadavg()}
    print(format_table(result, limit=20))
    print("mean-shape baseline (the training faces' mean points): RMSE "
          "%.2f px/96, NME %.4f" % (result["mean_shape"]["rmse_px"],
                                    result["mean_shape"]["nme"]))
    print("%s: %d parameters, %d epochs (best %d), %.0f s training + %.0f s "
          "compiling; faces train/val/test %s; missed %s" % (
              args.target, result["params"], result["epochs"],
              result["best_epoch"], result["train_seconds"],
              result["compile_seconds"], result["faces"],
              crops.missed or "none"))
    for path in write_outputs(result, crops, args.target, args.out,
                              settings):
        print("wrote %s" % path)
    return result
