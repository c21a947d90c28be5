"""The pipeline's subcommands of ``kfkd``: ``detect``, ``video``,
``imm-eval`` and ``benchmark-pipeline``.

:func:`add_parsers` adds their parsers to ``kfkd``'s subparsers and
:data:`COMMANDS` maps each name to its function of the parsed arguments.
The model is loaded at the Theano boundary, inside the command functions
(``kfkd.model.load_model``), after every input has been checked.
"""
import argparse
import os
import sys
import time

from ..data import find_file, load_training
from .benchmark import PHOTOS, benchmark_video, machine_line
from .detection import CROP_SCALE, FaceDetector
from .images import VIDEO_CODECS, read_image, video_info
from .imm import load_imm, spread_subset
from .imm_eval import calibration_lines, evaluate, format_table, write_results
from .run import KeypointPipeline, detect_photos, process_video

__all__ = ["add_parsers", "COMMANDS", "cmd_detect", "cmd_video",
           "cmd_imm_eval", "cmd_benchmark_pipeline"]

#: The repository (``figures/imm`` and ``../shared`` are found from it).
REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

#: Where the shared photos and the IMM database are, beside the repository.
SHARED_DATA = os.path.normpath(os.path.join(REPO, "..", "shared", "data"))


def add_parsers(sub):
    """Add ``detect``, ``video``, ``imm-eval`` and ``benchmark-pipeline``
    to ``sub`` (the ``add_subparsers`` of ``kfkd``)."""
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
    _add_imm_eval_args(sub.add_parser(
        "imm-eval", help="keypoint errors of the photo pipeline on the IMM "
        "face database"))
    _add_benchmark_args(sub.add_parser(
        "benchmark-pipeline", help="frames per second of the video pipeline "
        "on a 640x480 video"))


def _add_model_arg(p):
    p.add_argument("--model", help="model folder (default: the shipped "
                   "reference model, or $KFKD_MODEL)")


def _add_face_args(p):
    """Options of ``kfkd detect`` and ``kfkd video``."""
    _add_model_arg(p)
    p.add_argument("--blur", action="store_true", help="blur the faces")
    p.add_argument("--sunglasses", action="store_true",
                   help="put sunglasses on the faces")


def _video_path(text):
    if os.path.splitext(text)[1].lower() not in VIDEO_CODECS:
        raise argparse.ArgumentTypeError("%r: the output video must end in %s"
                                         % (text, " or ".join(sorted(
                                             VIDEO_CODECS))))
    return text


def _add_imm_eval_args(p):
    """Options of ``kfkd imm-eval`` (``experiments/imm_eval.py``)."""
    _add_model_arg(p)
    p.add_argument("--imm-dir", default=os.environ.get(
        "KFKD_IMM_DIR", os.path.join(SHARED_DATA, "imm")))
    p.add_argument("--data-dir", help="training.csv folder for "
                   "--calibrate (default: $KFKD_DATA_DIR)")
    p.add_argument("--out", default=os.path.join(REPO, "figures", "imm"))
    p.add_argument("--every", type=int, default=1,
                   help="use every N-th photo (default: all 240)")
    p.add_argument("--subset24", action="store_true",
                   help="only the 24 photos of kfkd.pipeline.imm."
                   "spread_subset (the test's subset)")
    p.add_argument("--crop-scale", type=float, default=None,
                   help="crop side in Haar box widths (default: "
                   "kfkd.pipeline.CROP_SCALE)")
    p.add_argument("--calibrate", action="store_true", help="print how "
                   "training.csv and the Haar box frame faces, the crop that "
                   "follows and the mean shapes, instead of evaluating")


def _add_benchmark_args(p):
    """Options of ``kfkd benchmark-pipeline``
    (``experiments/benchmark_pipeline.py``)."""
    _add_model_arg(p)
    p.add_argument("--photos-dir", default=os.path.join(SHARED_DATA,
                                                        "photos"))
    p.add_argument("--photos", default=",".join(PHOTOS))
    p.add_argument("--frames", type=int, default=100)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--sweep", action="store_true", help="also time "
                   "detection at other max_side / scale_factor values")


def _model_name(args):
    return args.model or os.environ.get("KFKD_MODEL") or "models/reference"


def cmd_detect(args):
    """``kfkd detect``: :func:`~kfkd.pipeline.detect_photos`, one line per
    photo."""
    from ..model import load_model  # the Theano boundary

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
    """``kfkd video``: :func:`~kfkd.pipeline.process_video` with the video
    detector settings."""
    from ..model import load_model  # the Theano boundary

    video_info(args.input)  # not a video: fails before Theano
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


def cmd_imm_eval(args):
    """``kfkd imm-eval``: the pipeline's keypoint errors on the IMM photos
    (printed, and written to ``--out``), or with ``--calibrate`` the crop's
    calibration (:func:`~kfkd.pipeline.imm_eval.calibration_lines`)."""
    faces = load_imm(args.imm_dir)[::args.every]
    if args.subset24:
        faces = spread_subset(faces)
    if args.calibrate:
        train = load_training(find_file("training.csv", args.data_dir),
                              verbose=False)
        print("\n".join(calibration_lines(faces, train, FaceDetector())))
        return None
    from ..model import load_model  # the Theano boundary

    crop_scale = args.crop_scale or CROP_SCALE
    pipeline = KeypointPipeline(load_model(args.model), crop_scale=crop_scale)
    started = time.time()
    result = evaluate(pipeline, faces, progress=True)
    print(format_table(result))
    settings = {"model": _model_name(args), "imm_dir": args.imm_dir,
                "every": args.every, "subset24": args.subset24,
                "crop_scale": crop_scale,
                "detector": repr(pipeline.detector),
                "seconds": round(time.time() - started, 1)}
    for path in write_results(result, args.out, settings):
        print("wrote %s" % path)
    return result


def cmd_benchmark_pipeline(args):
    """``kfkd benchmark-pipeline``: :func:`~kfkd.pipeline.benchmark.
    benchmark_video` on the ``--photos``."""
    from ..model import load_model  # the Theano boundary

    photos = [read_image(os.path.join(args.photos_dir, name))
              for name in args.photos.split(",")]
    model = load_model(args.model)
    print("%s; model %s" % (machine_line(), _model_name(args)))
    benchmark_video(model, photos, args.frames, args.repeat, args.sweep,
                    label=args.photos)


#: subcommand -> its function of the parsed arguments
COMMANDS = {"detect": cmd_detect, "video": cmd_video,
            "imm-eval": cmd_imm_eval,
            "benchmark-pipeline": cmd_benchmark_pipeline}
