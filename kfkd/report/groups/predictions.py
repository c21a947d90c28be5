"""The ``predictions`` figure group: the reference model on the validation
faces (best and worst faces, RMSE per keypoint)."""
import os

import numpy as np
import pandas as pd

from ...fileio import read_json, write_json
from ...metrics import per_face_rmse, rmse
from .. import store
from ..budget import get_budget
from ..faces_plots import per_keypoint_figure, predictions_figure
from ...plotting import save_figure

__all__ = ["NAME", "run", "predictions_best_worst"]

#: The group's name (:data:`kfkd.report.groups.GROUPS`).
NAME = "predictions"


def predictions_best_worst(out_dir, budget="quick", redraw=False, model=None,
                           data_dir=None):
    """The reference model's predictions on the validation faces.

    Predicts all validation faces of :func:`kfkd.splits.load_split`, ranks
    them by their RMSE over labelled coordinates, and shows the
    ``budget.best_worst`` best and worst.  Writes
    ``predictions/metrics.json`` (:meth:`kfkd.model.Model.metrics`, the
    model folder, its net (:func:`kfkd.model.net_label`: e.g. ``heatmap``
    or ``ensemble of heatmap + breeze``), its training epochs and seconds,
    the mean-shape baseline), ``predictions/per_face.csv``
    (validation index, labelled keypoints, RMSE in pixels),
    ``predictions/best_worst.npz`` (``images``, ``truth``, ``predictions``,
    ``rmse``, ``val_index``, ``row``) and the figures
    ``predictions/best_worst`` and ``predictions/per_keypoint``.

    Returns
    -------
    dict
        ``written``, ``metrics``.
    """
    budget = get_budget(budget)
    folder = store.folder(out_dir, "predictions")
    paths = [os.path.join(folder, f) for f in (
        "metrics.json", "per_face.csv", "best_worst.npz")]
    written = []
    if not redraw:
        from ...model import net_label  # Theano: loaded with the model
        model = store.load_model(model)
        train, val = store.split(data_dir)
        predictions = model.predict(val.images)
        metrics = model.metrics(val, predictions=predictions)
        mean_shape = np.nanmean(train.keypoints, axis=0)
        trained = {}
        if model.folder and os.path.isfile(os.path.join(model.folder,
                                                        "metrics.json")):
            trained = {k: v for k, v in read_json(os.path.join(
                model.folder, "metrics.json")).items()
                if k in ("best_epoch", "epochs", "seconds")}
        metrics.update({
            "training": trained,
            "model": store.rel(model.folder or ""), "net": net_label(model),
            "mean_shape_rmse_px": rmse(np.broadcast_to(
                mean_shape, val.keypoints.shape), val.keypoints),
            "command": "kfkd evaluate --model %s" % store.rel(
                model.folder or "")})
        write_json(paths[0], metrics)
        written.append(paths[0])
        per_face = per_face_rmse(predictions, val.keypoints)
        labelled = np.isfinite(per_face)
        written.append(store.write_csv(paths[1], pd.DataFrame({
            "val_index": np.arange(len(val)),
            "labelled_keypoints": np.isfinite(val.keypoints[:, 0::2]).sum(1),
            "rmse_px": per_face})))
        k = budget.best_worst
        order = np.flatnonzero(labelled)[np.argsort(per_face[labelled],
                                                    kind="stable")]
        pick = np.concatenate([order[:k], order[::-1][:k]])
        written.append(store.save_npz(
            paths[2], images=val.images[pick], truth=val.keypoints[pick],
            predictions=predictions[pick], rmse=per_face[pick],
            val_index=pick, row=np.array(["best"] * k + ["worst"] * k)))
    store.need(*paths)
    d, metrics = store.load_npz(paths[2]), read_json(paths[0])
    rows = [("best %d" % (d["row"] == "best").sum(),
             np.flatnonzero(d["row"] == "best")),
            ("worst %d" % (d["row"] == "worst").sum(),
             np.flatnonzero(d["row"] == "worst"))]
    titles = ["val #%d" % i for i in d["val_index"]]
    written += save_figure(predictions_figure(
        d["images"], d["truth"], d["predictions"], d["rmse"], rows, titles),
        os.path.join(folder, "best_worst"))
    per_keypoint = metrics["per_keypoint_rmse_px"]
    written += save_figure(per_keypoint_figure(
        list(per_keypoint), list(per_keypoint.values()),
        metrics["val_rmse_px"], metrics.get("mean_shape_rmse_px")),
        os.path.join(folder, "per_keypoint"))
    return {"written": written, "metrics": metrics}


def run(out_dir, budget, redraw, model=None, data_dir=None, **context):
    """The group protocol (:mod:`kfkd.report.groups`)."""
    return predictions_best_worst(out_dir, budget, redraw, model, data_dir)
