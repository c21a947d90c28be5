"""Keypoint errors of the photo pipeline on the IMM face database.

    python experiments/imm_eval.py [--model M] [--imm-dir D]
        [--out figures/imm] [--every N | --subset24] [--crop-scale S]
    python experiments/imm_eval.py --calibrate

Runs Haar detection + keypoints (:mod:`kfkd.pipeline`) on the 240 IMM
photos, prints RMSE per keypoint in photo pixels, in pixels of the 96x96
frame and relative to the inter-ocular distance, plus the detection rate,
and writes ``imm_keypoints.csv`` and ``imm_eval.json`` to ``--out``.
``--calibrate`` instead prints how training.csv frames its faces, where the
Haar box puts the eyes on IMM persons 01-20 and 21-40, the crop that follows
(:data:`kfkd.pipeline.CROP_SCALE`), and the IMM-to-Kaggle mean shapes.
The IMM folder is ``--imm-dir``, else ``$KFKD_IMM_DIR``, else
``../shared/data/imm`` beside the repository.
"""
import argparse
import os
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from kfkd import imm  # noqa: E402
from kfkd.pipeline import FaceDetector, KeypointPipeline  # noqa: E402


def _points(points):
    if not points:
        return "-"
    if len(points) > 2:
        return "%d-%d" % (points[0], points[-1])
    return ",".join(map(str, points))


def calibrate(faces, data_dir):
    from kfkd.data import find_file, load_training

    train = load_training(find_file("training.csv", data_dir), verbose=False)
    framing = imm.training_framing(train.keypoints, train.schema.names)
    print("training.csv (%d faces), pixels of the 96 frame: eye midpoint "
          "(%.2f, %.2f), IOD %.2f +- %.2f, bottom lip y %.2f" % (
              framing["faces"], framing["eye_mid_x"], framing["eye_mid_y"],
              framing["iod"], framing["iod_std"], framing["bottom_lip_y"]))
    detector = FaceDetector()
    for label, subset in (("persons 01-20", [f for f in faces
                                             if f.person <= 20]),
                          ("persons 21-40", [f for f in faces
                                             if f.person > 20])):
        g = imm.box_geometry(subset, detector)
        crop = imm.derive_crop(g, framing)
        print("IMM %s (%d of %d photos with a box), box widths: eye midpoint "
              "(%.3f, %.3f), IOD %.3f +- %.3f, bottom lip y %.3f -> crop side "
              "%.3f, centre shift (%+.3f, %+.3f)" % (
                  label, g["detected"], g["photos"], g["eye_mid_x"],
                  g["eye_mid_y"], g["iod"], g["iod_std"], g["bottom_lip_y"],
                  crop["scale"], crop["shift_x"], crop["shift_y"]))
    names = train.schema.names
    k = train.keypoints.reshape(len(train), -1, 2)
    train_shape = imm.mean_shape(k, names)
    frontal = [f for f in faces if f.image_type in imm.FRONTAL_TYPES]
    imm_shape = imm.mean_shape(
        [imm.imm_keypoints(f.points, names) for f in frontal], names)
    print("mean shapes in IOD units from the eye midpoint: IMM %d frontal "
          "photos vs training.csv" % len(frontal))
    for n, a, b in zip(names, imm_shape, train_shape):
        points = imm.IMM_TO_KAGGLE.get(n)
        print("  %-26s %-14s IMM (%+.2f, %+.2f)  training (%+.2f, %+.2f)" % (
            n, _points(points), a[0], a[1],
            b[0], b[1]))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="model folder (default: the shipped "
                        "reference model, or $KFKD_MODEL)")
    parser.add_argument("--imm-dir", default=os.environ.get(
        "KFKD_IMM_DIR", os.path.normpath(os.path.join(
            REPO, "..", "shared", "data", "imm"))))
    parser.add_argument("--data-dir", help="training.csv folder for "
                        "--calibrate (default: $KFKD_DATA_DIR)")
    parser.add_argument("--out", default=os.path.join(REPO, "figures", "imm"))
    parser.add_argument("--every", type=int, default=1,
                        help="use every N-th photo (default: all 240)")
    parser.add_argument("--subset24", action="store_true",
                        help="only the 24 photos of kfkd.imm.spread_subset "
                        "(the test's subset)")
    parser.add_argument("--crop-scale", type=float, default=None,
                        help="crop side in Haar box widths (default: "
                        "kfkd.pipeline.CROP_SCALE)")
    parser.add_argument("--calibrate", action="store_true")
    args = parser.parse_args(argv)

    faces = imm.load_imm(args.imm_dir)[::args.every]
    if args.subset24:
        faces = imm.spread_subset(faces)
    if args.calibrate:
        calibrate(faces, args.data_dir)
        return 0
    from kfkd.model import load_model
    from kfkd.pipeline import CROP_SCALE

    model = load_model(args.model)
    crop_scale = args.crop_scale or CROP_SCALE
    pipeline = KeypointPipeline(model, crop_scale=crop_scale)
    started = time.time()
    result = imm.evaluate(pipeline, faces, progress=True)
    print(imm.format_table(result))
    settings = {"model": args.model or os.environ.get("KFKD_MODEL")
                or "models/reference", "imm_dir": args.imm_dir,
                "every": args.every, "subset24": args.subset24,
                "crop_scale": crop_scale,
                "detector": repr(pipeline.detector),
                "seconds": round(time.time() - started, 1)}
    for path in imm.write_results(result, args.out, settings):
        print("wrote %s" % path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
