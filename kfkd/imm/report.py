"""What ``kfkd imm-train`` writes: the error table, a summary and the best
and worst test faces, each figure beside the data that redraws it (no
Theano here)."""
import csv
import os

import numpy as np

from ..fileio import atomic_path, atomic_write, write_json
from ..plotting import face, face_rows, points, save_figure
from .points import TARGETS

__all__ = ["SHOWN", "TABLE_COLUMNS", "write_outputs", "draw_best_worst",
           "format_table"]

#: Test faces shown at each end of the ranking by error.
SHOWN = 4

#: Columns of ``imm_<target>_points.csv``.
TABLE_COLUMNS = ("keypoint", "rmse_px", "rmse_photo_px", "rmse_iod", "nme")


def format_table(result, limit=None):
    """The error table as aligned text (``limit``: at most that many
    keypoint rows, then ``all``)."""
    rows = result["table"][:-1]
    if limit is not None and len(rows) > limit:
        rows = rows[:limit] + [None]
    lines = ["%-20s %9s %11s %9s %8s" % ("keypoint", "RMSE px/96",
                                         "RMSE photo", "RMSE/IOD", "NME")]
    for row in rows + [result["table"][-1]]:
        if row is None:
            lines.append("  ... (%d more in the CSV)"
                         % (len(result["table"]) - 1 - limit))
            continue
        lines.append("%-20s %9.2f %11.2f %9.4f %8.4f" % (
            row["keypoint"], row["rmse_px"], row["rmse_photo_px"],
            row["rmse_iod"], row["nme"]))
    return "\n".join(lines)


def write_outputs(result, crops, target, out, settings):
    """Write ``imm_<target>_points.csv``, ``imm_<target>.json``,
    ``imm_<target>_faces.npz`` and ``imm_<target>_best_worst.png/.pdf``
    into ``out``, each atomically.

    Parameters
    ----------
    result : dict
        From :func:`kfkd.imm.run.train_and_test`.
    crops : kfkd.imm.crops.ImmCrops
    target : str
    out : str
    settings : dict
        Recorded in the JSON (command, budget, machine load).

    Returns
    -------
    list of str
        The written paths.
    """
    os.makedirs(out, exist_ok=True)
    stem = os.path.join(out, "imm_%s" % target)
    with atomic_write(stem + "_points.csv", newline="") as f:
        writer = csv.DictWriter(f, TABLE_COLUMNS)
        writer.writeheader()
        for row in result["table"]:
            writer.writerow({k: (round(v, 5) if isinstance(v, float) else v)
                             for k, v in row.items()})
    summary = {k: v for k, v in result.items()
               if k not in ("model", "test", "predictions")}
    write_json(stem + ".json", dict(summary, settings=settings,
                                    missed=crops.missed,
                                    crop_scale=crops.crop_scale))
    order = np.argsort([f["nme"] for f in result["per_face"]], kind="stable")
    shown = np.concatenate([order[:SHOWN], order[::-1][:SHOWN]])
    test = result["test"][shown]
    with atomic_path(stem + "_faces.npz", suffix=".npz") as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(
                f, images=np.round(crops.images[test, 0] * 255).astype(
                    np.uint8),
                truth=crops.points[test][:, list(TARGETS[target])],
                predictions=result["predictions"][shown],
                names=np.array([crops.names[i] for i in test]),
                nme=np.array([result["per_face"][i]["nme"] for i in shown]))
    paths = draw_best_worst(stem + "_faces.npz", stem + "_best_worst")
    return [stem + "_points.csv", stem + ".json", stem + "_faces.npz"] + paths


def draw_best_worst(npz_path, path_prefix):
    """The best and worst test faces of ``npz_path`` (as
    :func:`write_outputs` saves them: ``images`` (2S, 96, 96) uint8,
    ``truth`` and ``predictions`` (2S, K, 2) frame pixels, ``names``,
    ``nme``; the first S best) in two rows, truth green, prediction red.

    Returns
    -------
    list of str
        The PNG and PDF written.
    """
    with np.load(npz_path) as data:
        d = {k: data[k] for k in data.files}
    half = len(d["names"]) // 2
    fig, cells = face_rows([("best", list(range(half))),
                            ("worst", list(range(half, 2 * half)))],
                           1.9, 2.0, 0.4)
    for ax, _, _, i in cells:
        face(ax, d["images"][i] / 255.0, "%s  NME %.3f" % (
            d["names"][i], d["nme"][i]))
        points(ax, d["truth"][i].ravel(), "lime", size=8)
        points(ax, d["predictions"][i].ravel(), "red", marker="x", size=10)
    fig.suptitle("IMM test people 33-40: green truth, red prediction "
                 "(NME: mean error / outer-corner IOD)", fontsize=8)
    return save_figure(fig, path_prefix)
