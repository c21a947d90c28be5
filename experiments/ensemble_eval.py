"""Validation RMSE (px) of models and of their averaged predictions.

    python experiments/ensemble_eval.py MODEL [MODEL ...] [--tta flip]
        [--split grouped|random] [--data-dir D]

Each model (a folder :func:`kfkd.model.load_model` reads) predicts the
validation faces of the split (default grouped), optionally with flip
test-time augmentation (:func:`kfkd.predictor.with_tta`); prints one JSON
line per model and one for their mean, coordinate by coordinate (a
measurement; ``kfkd ensemble`` writes the mean as one model folder).
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

from kfkd.metrics import rmse  # noqa: E402
from kfkd.model import load_model  # noqa: E402
from kfkd.predictor import TTA, with_tta  # noqa: E402
from kfkd.splits import SPLITS, load_split  # noqa: E402

if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("models", nargs="+")
    p.add_argument("--tta", choices=TTA, default="none")
    p.add_argument("--split", choices=SPLITS, default=SPLITS[0])
    p.add_argument("--data-dir")
    args = p.parse_args()
    models = [with_tta(load_model(m), args.tta) for m in args.models]
    _, val = load_split(args.data_dir, method=args.split, verbose=False)
    predictions = [m.predict(val.images) for m in models]
    for folder, pred in zip(args.models, predictions):
        print(json.dumps({"model": folder, "tta": args.tta,
                          "val_rmse_px": rmse(pred, val.keypoints)}))
    print(json.dumps({"ensemble": args.models, "tta": args.tta,
                      "val_rmse_px": rmse(sum(predictions) / len(predictions),
                                          val.keypoints)}))
