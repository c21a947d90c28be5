"""The photo pipeline's keypoint errors on the IMM face database, and the
calibration of its crop.

Errors (:func:`evaluate`) are reported in photo pixels, in pixels of the
model's 96x96 frame (photo error x 96 / crop side, comparable with the
Kaggle RMSE) and normalised by the face's true inter-ocular distance (IOD);
every RMSE is :func:`kfkd.metrics.rms`.  The crop
(:data:`kfkd.pipeline.CROP_SCALE`) is derived by :func:`derive_crop` from
where the Haar box puts the eyes on IMM (:func:`box_geometry`) and where
training.csv has them (:func:`training_framing`).
"""
import csv
import os

import numpy as np
from tqdm import tqdm

from ..fileio import atomic_write, write_json
from ..metrics import rms
from .images import read_image, to_grey
from .imm import (FRONTAL_TYPES, IMM_TO_KAGGLE, eye_centres, imm_keypoints,
                  match_face)

__all__ = ["TABLE_COLUMNS", "mean_shape", "box_geometry", "training_framing",
           "derive_crop", "evaluate", "format_table", "write_results",
           "calibration_lines"]

#: Columns of the per-keypoint table of :func:`evaluate`.
TABLE_COLUMNS = ("keypoint", "faces", "rmse_px", "rmse_frame_px",
                 "rmse_iod", "mean_error_iod")




def mean_shape(keypoints, names):
    """Mean keypoint layout in units of the inter-ocular distance.

    Each face is shifted so its eye midpoint is the origin and divided by
    its IOD (no rotation); the mean is over faces where a keypoint is
    labelled.

    Parameters
    ----------
    keypoints : ndarray, (N, K, 2) pixels, NaN where unlabelled
    names : sequence of str

    Returns
    -------
    ndarray, (K, 2) float64
    """
    k = np.asarray(keypoints, np.float64)
    left = k[:, list(names).index("left_eye_center")]
    right = k[:, list(names).index("right_eye_center")]
    mid = (left + right) / 2.0
    iod = np.hypot(*(left - right).T)
    rel = (k - mid[:, None]) / iod[:, None, None]
    out = np.full(rel.shape[1:], np.nan)
    labelled = np.isfinite(rel).any(axis=0)
    out[labelled] = np.nanmean(rel[:, labelled], axis=0)
    return out


def box_geometry(imm_faces, detector):
    """Where the eyes and mouth sit in the Haar box, on annotated photos.

    Parameters
    ----------
    imm_faces : sequence of ImmFace
    detector : kfkd.pipeline.FaceDetector

    Returns
    -------
    dict
        ``photos``, ``detected`` (photos with a box around the true eye
        midpoint), and mean and standard deviation (``*_std``) over them of
        ``eye_mid_x``, ``eye_mid_y`` (from the box's top-left corner),
        ``iod`` and ``bottom_lip_y``, all in box widths.
    """
    rows = []
    for face in imm_faces:
        boxes, _ = detector.detect(to_grey(read_image(face.image_path)))
        left, right = eye_centres(face.points)
        mid = (left + right) / 2.0
        inside = [b for b in boxes if b[0] <= mid[0] <= b[0] + b[2]
                  and b[1] <= mid[1] <= b[1] + b[3]]
        if not inside:
            continue
        x, y, w, _ = min(inside, key=lambda b: np.hypot(
            mid[0] - b[0] - b[2] / 2.0, mid[1] - b[1] - b[3] / 2.0))
        lip = face.points[list(IMM_TO_KAGGLE["mouth_center_bottom_lip"])
                          ].mean(axis=0)
        rows.append(((mid[0] - x) / w, (mid[1] - y) / w,
                     np.hypot(*(left - right)) / w, (lip[1] - y) / w))
    rows = np.array(rows, np.float64).reshape(-1, 4)
    out = {"photos": len(imm_faces), "detected": len(rows)}
    for k, key in enumerate(("eye_mid_x", "eye_mid_y", "iod",
                             "bottom_lip_y")):
        out[key] = float(rows[:, k].mean()) if len(rows) else None
        out[key + "_std"] = float(rows[:, k].std()) if len(rows) else None
    return out


def training_framing(keypoints, names):
    """How the training faces sit in the 96x96 frame.

    Parameters
    ----------
    keypoints : ndarray, (N, 2K) pixels, NaN where unlabelled
    names : sequence of str

    Returns
    -------
    dict
        Means over faces, pixels in the frame: ``eye_mid_x``, ``eye_mid_y``
        (midpoint of the eye centres), ``iod`` (its standard deviation
        ``iod_std``), ``bottom_lip_y``.
    """
    k = np.asarray(keypoints, np.float64).reshape(len(keypoints), -1, 2)
    names = list(names)
    left = k[:, names.index("left_eye_center")]
    right = k[:, names.index("right_eye_center")]
    mid = (left + right) / 2.0
    iod = np.hypot(*(left - right).T)
    lip = k[:, names.index("mouth_center_bottom_lip")]
    return {"faces": int(np.isfinite(iod).sum()),
            "eye_mid_x": float(np.nanmean(mid[:, 0])),
            "eye_mid_y": float(np.nanmean(mid[:, 1])),
            "iod": float(np.nanmean(iod)), "iod_std": float(np.nanstd(iod)),
            "bottom_lip_y": float(np.nanmean(lip[:, 1]))}


def derive_crop(geometry, framing, frame=96):
    """The crop (in Haar box widths) that frames photos like training.csv.

    A square of side ``s`` box widths shows the inter-ocular distance at
    ``geometry['iod'] / s`` of its side; equating that with the training
    share ``framing['iod'] / frame`` gives ``s``, and placing the eye
    midpoint where the training faces have it gives the square's corner.

    Parameters
    ----------
    geometry : dict
        From :func:`box_geometry` (box widths).
    framing : dict
        From :func:`training_framing` (frame pixels).

    Returns
    -------
    dict
        ``scale`` (side in box widths), ``shift_x``, ``shift_y`` (centre
        offset from the box centre, box widths):
        :data:`kfkd.pipeline.CROP_SCALE` and :data:`kfkd.pipeline.CROP_SHIFT`.
    """
    scale = geometry["iod"] / (framing["iod"] / float(frame))
    left = geometry["eye_mid_x"] - framing["eye_mid_x"] / float(frame) * scale
    top = geometry["eye_mid_y"] - framing["eye_mid_y"] / float(frame) * scale
    return {"scale": scale, "shift_x": left + scale / 2.0 - 0.5,
            "shift_y": top + scale / 2.0 - 0.5}


def evaluate(pipeline, imm_faces, progress=False):
    """Run the pipeline on IMM photos and measure its keypoint errors.

    Each photo's true face is the accepted face whose box holds the true eye
    midpoint (:func:`~kfkd.pipeline.imm.match_face`); a photo without one is
    a missed detection and adds no error.  Errors are Euclidean distances
    between predicted and true keypoints.

    Parameters
    ----------
    pipeline : kfkd.pipeline.KeypointPipeline
    imm_faces : sequence of ImmFace
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    dict
        ``photos``, ``detected``, ``detection_rate``, ``haar_detected``
        (photos where the cascade found the face, before the filters),
        ``false_positives``
        (accepted faces other than the true one, summed), ``nme`` (mean over
        detected faces and keypoints of error / IOD), ``rmse_px``,
        ``rmse_frame_px`` and ``rmse_iod`` over all mapped keypoints (x and y
        pooled, as Kaggle's RMSE), ``table`` (one dict per keypoint with
        :data:`TABLE_COLUMNS`; ``faces`` is how many detected faces entered)
        ``by_type`` (photos, detected, nme per IMM image type) and
        ``per_photo`` (name, type, detected, nme; for a missed face the
        filter's reason).
    """
    mapped = [k for k, n in enumerate(pipeline.names) if n in IMM_TO_KAGGLE]
    errors, per_photo = [], []
    false_positives = haar_found = 0
    for face in tqdm(imm_faces, disable=not progress, unit="photo"):
        row, diffs, others, haar = _evaluate_photo(pipeline, face, mapped)
        per_photo.append(row)
        false_positives += others
        haar_found += haar
        if diffs is not None:
            errors.append(diffs)
    out = {"photos": len(imm_faces), "detected": len(errors),
           "detection_rate": len(errors) / float(max(1, len(imm_faces))),
           "haar_detected": int(haar_found),
           "false_positives": int(false_positives)}
    if not errors:
        out.update(nme=None, rmse_px=None, rmse_frame_px=None, rmse_iod=None,
                   table=[], by_type=[], per_photo=per_photo)
        return out
    px, frame, rel = (np.array(a) for a in zip(*errors))
    table = _error_table([pipeline.names[k] for k in mapped], px, frame, rel)
    out.update(nme=table[-1]["mean_error_iod"], rmse_px=table[-1]["rmse_px"],
               by_type=_by_type(per_photo),
               rmse_frame_px=table[-1]["rmse_frame_px"],
               rmse_iod=table[-1]["rmse_iod"], table=table,
               per_photo=per_photo)
    return out


def _evaluate_photo(pipeline, face, mapped):
    """One photo of :func:`evaluate`.

    Returns
    -------
    row : dict
        Its ``per_photo`` entry.
    diffs : tuple of 3 ndarray (K', 2), or None
        Predicted minus true mapped keypoints in photo pixels, in pixels of
        the 96 frame and in IODs; None for a missed face.
    others : int
        Accepted faces other than the true one.
    haar : bool
        The cascade found the face (before the filters).
    """
    candidates = pipeline.candidates(read_image(face.image_path))
    found = [f for f in candidates if f.accepted]
    match = match_face(found, face.points)
    haar = match or match_face(candidates, face.points)
    row = {"photo": face.name, "type": face.image_type,
           "detected": match is not None}
    if match is None:
        row.update(nme=None, reason=haar.reason if haar else "no Haar box")
        return row, None, len(found), haar is not None
    truth = imm_keypoints(face.points, pipeline.names)[mapped]
    left, right = eye_centres(face.points)
    iod = float(np.hypot(*(left - right)))
    diff = match.keypoints[mapped] - truth  # (K', 2) photo pixels
    row["nme"] = float(np.hypot(*(diff / iod).T).mean())
    diffs = (diff, diff * (96.0 / match.square[2]), diff / iod)
    return row, diffs, len(found) - 1, True


def _error_table(names, px, frame, rel):
    """The rows of :data:`TABLE_COLUMNS`: one per keypoint of ``names``,
    then ``all`` (errors ``(faces, K', 2)``; RMSE: :func:`kfkd.metrics.rms`,
    x and y pooled)."""
    def row(name, j):
        return {"keypoint": name, "faces": len(px),
                "rmse_px": rms(px[:, j]), "rmse_frame_px": rms(frame[:, j]),
                "rmse_iod": rms(rel[:, j]),
                "mean_error_iod": float(np.hypot(rel[:, j, ..., 0],
                                                 rel[:, j, ..., 1]).mean())}

    return ([row(name, j) for j, name in enumerate(names)]
            + [row("all", slice(None))])


def _by_type(per_photo):
    """Photos, detected faces and mean ``nme`` per IMM image type."""
    by_type = []
    for t in sorted(set(p["type"] for p in per_photo)):
        rows = [p for p in per_photo if p["type"] == t]
        hits = [p["nme"] for p in rows if p["detected"]]
        by_type.append({"type": t, "photos": len(rows), "detected": len(hits),
                        "nme": float(np.mean(hits)) if hits else None})
    return by_type


def format_table(result):
    """The per-keypoint table of :func:`evaluate` as aligned text."""
    lines = ["%-26s %6s %9s %11s %9s %10s" % (
        "keypoint", "faces", "RMSE px", "RMSE px/96", "RMSE/IOD", "mean/IOD")]
    for row in result["table"]:
        lines.append("%-26s %6d %9.2f %11.2f %9.3f %10.3f" % (
            row["keypoint"], row["faces"], row["rmse_px"],
            row["rmse_frame_px"], row["rmse_iod"], row["mean_error_iod"]))
    lines.append("detected %d of %d photos (%.1f%%; the cascade found %d, "
                 "the filters rejected %d), %d other accepted faces"
                 % (result["detected"], result["photos"],
                    100.0 * result["detection_rate"], result["haar_detected"],
                    result["haar_detected"] - result["detected"],
                    result["false_positives"]))
    kinds = {1: "frontal", 2: "happy", 3: "turned right", 4: "turned left",
             5: "spot light", 6: "free"}
    for row in result.get("by_type", []):
        lines.append("  type %d (%-12s): %2d of %2d detected, mean/IOD %s" % (
            row["type"], kinds.get(row["type"], "?"), row["detected"],
            row["photos"], "%.3f" % row["nme"] if row["nme"] is not None
            else "-"))
    return "\n".join(lines)


def write_results(result, out_dir, settings=None):
    """Write ``imm_keypoints.csv`` (the table) and ``imm_eval.json`` (all of
    ``result`` plus ``settings``) into ``out_dir``, atomically.

    Returns
    -------
    list of str
        The written paths.
    """
    os.makedirs(out_dir, exist_ok=True)
    csv_path = os.path.join(out_dir, "imm_keypoints.csv")
    with atomic_write(csv_path, newline="") as f:
        writer = csv.DictWriter(f, TABLE_COLUMNS)
        writer.writeheader()
        for row in result["table"]:
            writer.writerow({k: (round(v, 5) if isinstance(v, float) else v)
                             for k, v in row.items()})
    json_path = os.path.join(out_dir, "imm_eval.json")
    write_json(json_path, dict(result, settings=settings or {}))
    return [csv_path, json_path]


def _point_list(points):
    """IMM point numbers as text: ``13-20``, ``29,30``, or ``-``."""
    if not points:
        return "-"
    if len(points) > 2:
        return "%d-%d" % (points[0], points[-1])
    return ",".join(map(str, points))


def calibration_lines(imm_faces, train, detector):
    """What ``kfkd imm-eval --calibrate`` prints: how training.csv frames
    its faces, where the Haar box puts the eyes on IMM persons 01-20 and
    21-40 and the crop that follows (:data:`kfkd.pipeline.CROP_SCALE`),
    and the IMM-to-Kaggle mean shapes.

    Parameters
    ----------
    imm_faces : sequence of ImmFace
    train : kfkd.data.KeypointData
        training.csv (``keypoints`` (N, 2K) pixels, ``schema``).
    detector : kfkd.pipeline.FaceDetector

    Returns
    -------
    list of str
    """
    names = train.schema.names
    framing = training_framing(train.keypoints, names)
    lines = ["training.csv (%d faces), pixels of the 96 frame: eye midpoint "
             "(%.2f, %.2f), IOD %.2f +- %.2f, bottom lip y %.2f" % (
                 framing["faces"], framing["eye_mid_x"], framing["eye_mid_y"],
                 framing["iod"], framing["iod_std"], framing["bottom_lip_y"])]
    for label, subset in (
            ("persons 01-20", [f for f in imm_faces if f.person <= 20]),
            ("persons 21-40", [f for f in imm_faces if f.person > 20])):
        g = box_geometry(subset, detector)
        crop = derive_crop(g, framing)
        lines.append(
            "IMM %s (%d of %d photos with a box), box widths: eye midpoint "
            "(%.3f, %.3f), IOD %.3f +- %.3f, bottom lip y %.3f -> crop side "
            "%.3f, centre shift (%+.3f, %+.3f)" % (
                label, g["detected"], g["photos"], g["eye_mid_x"],
                g["eye_mid_y"], g["iod"], g["iod_std"], g["bottom_lip_y"],
                crop["scale"], crop["shift_x"], crop["shift_y"]))
    return lines + _shape_lines(imm_faces, train)


def _shape_lines(imm_faces, train):
    """Mean shapes in IOD units, IMM's frontal photos vs training.csv."""
    names = train.schema.names
    train_shape = mean_shape(train.keypoints.reshape(len(train), -1, 2),
                             names)
    frontal = [f for f in imm_faces if f.image_type in FRONTAL_TYPES]
    imm_shape = mean_shape([imm_keypoints(f.points, names) for f in frontal],
                           names)
    lines = ["mean shapes in IOD units from the eye midpoint: IMM %d frontal "
             "photos vs training.csv" % len(frontal)]
    for n, a, b in zip(names, imm_shape, train_shape):
        lines.append("  %-26s %-14s IMM (%+.2f, %+.2f)  training (%+.2f, "
                     "%+.2f)" % (n, _point_list(IMM_TO_KAGGLE.get(n)), a[0],
                                 a[1], b[0], b[1]))
    return lines
