"""Evaluation of the photo pipeline on the IMM face database.

The IMM face database (Nordstrom, Larsen, Sierakowski & Stegmann 2004,
DTU; ``shared/data/imm``) has 240 colour photos, 640x480, of 40 people
(file ``<person>-<type><gender>.jpg``; types 1 frontal neutral, 2 frontal
happy, 3 and 4 turned ~30 degrees right/left, 5 spot light, 6 free
expression), each with 58 hand-placed points in an ``.asf`` file (AAM Shape
Format: ``<path#> <type> <x rel.> <y rel.> <point#> <from> <to>``; the
coordinates are pixel / image width and pixel / image height; some files add
three user fields).

The 58 points form seven paths (read from the ``.asf`` files and checked on
a drawing of 01-1m): 0-12 jaw, 13-20 the subject's left eye (on the image's
right) and 21-28 the right eye (closed contours), 29-33 left and 34-38 right
eyebrow (open contours from the inner end, over the top, to the outer end),
39-46 mouth (closed: 39 and 43 the corners, 40-42 upper lip, 44-46 lower
lip) and 47-57 nose (bridge, alae, nostrils, base 52).

Mapping to Kaggle's keypoints (:data:`IMM_TO_KAGGLE`; a keypoint is the mean
of its IMM points).  In units of the inter-ocular distance (IOD) from the
eye midpoint, the mean over IMM's 160 frontal photos (types 1, 2, 5, 6) vs
the mean over training.csv's fully labelled faces:

============================  ============  ==============  ==============
Kaggle keypoint               IMM points    IMM mean        training mean
============================  ============  ==============  ==============
left_eye_center               13-20         (+0.50, 0.00)   (+0.50, -0.01)
left_eye_inner_corner         17            (+0.27, +0.01)  (+0.30, 0.00)
left_eye_outer_corner         13            (+0.72, 0.00)   (+0.68, -0.02)
left_eyebrow_inner_end        29, 30        (+0.30, -0.30)  (+0.28, -0.33)
left_eyebrow_outer_end        32, 33        (+0.84, -0.23)  (+0.89, -0.27)
mouth_left_corner             43            (+0.47, +1.02)  (+0.42, +1.10)
mouth_center_top_lip          41            (+0.01, +0.96)  (+0.03, +0.98)
mouth_center_bottom_lip       45            (+0.03, +1.24)  (+0.03, +1.32)
============================  ============  ==============  ==============

and their mirror images (right eye 21-28, inner corner 25, outer 21,
eyebrow 34/35 and 37/38, mouth corner 39).  Of an eye's two corner points
(:data:`EYE_CORNERS`) the inner corner is the one nearer the other eye: 9
annotations list an eye's contour in the reverse order.  The ends of an
eyebrow are the midpoints of the two contour points at each end (IMM traces
the brow's outline; Kaggle marks its ends).  ``nose_tip`` has no IMM
counterpart (IMM marks the alae, nostrils and base of the nose, not its
tip) and is left out.

Errors (:func:`evaluate`) are reported in photo pixels, in pixels of the
model's 96x96 frame (photo error x 96 / crop side, comparable with the
Kaggle RMSE) and normalised by the face's true IOD.

Examples
--------
>>> faces = load_imm("../shared/data/imm")  # doctest: +SKIP
>>> len(faces), faces[0].points.shape  # doctest: +SKIP
(240, (58, 2))
"""
import glob
import os

import numpy as np

from .data import DataError, DataNotFoundError

__all__ = ["N_POINTS", "IMM_TO_KAGGLE", "ImmFace", "read_asf", "load_imm",
           "imm_keypoints", "match_face", "evaluate", "box_geometry",
           "mean_shape", "training_framing", "derive_crop", "write_results",
           "format_table", "TABLE_COLUMNS", "FRONTAL_TYPES", "EYE_CORNERS",
           "spread_subset"]

#: IMM image types with a frontal face (1 neutral, 2 happy, 5 spot light,
#: 6 free expression).
FRONTAL_TYPES = (1, 2, 5, 6)

#: Points per IMM annotation.
N_POINTS = 58

#: Kaggle keypoint -> IMM point indices whose mean gives it.
IMM_TO_KAGGLE = {
    "left_eye_center": tuple(range(13, 21)),
    "right_eye_center": tuple(range(21, 29)),
    "left_eye_inner_corner": (17,),
    "left_eye_outer_corner": (13,),
    "right_eye_inner_corner": (25,),
    "right_eye_outer_corner": (21,),
    "left_eyebrow_inner_end": (29, 30),
    "left_eyebrow_outer_end": (32, 33),
    "right_eyebrow_inner_end": (34, 35),
    "right_eyebrow_outer_end": (37, 38),
    "mouth_left_corner": (43,),
    "mouth_right_corner": (39,),
    "mouth_center_top_lip": (41,),
    "mouth_center_bottom_lip": (45,),
}

#: The two corner points of each eye contour.  Which is the inner corner is
#: decided per photo -- the one nearer the other eye's centre -- because 9 of
#: the 240 annotations list one eye's points in the reverse order (06-5m,
#: 10-4m, 18-4m, 33-3m, 36-4m, 36-5m, 36-6m, 39-3m, 40-5m).
EYE_CORNERS = {"left": (13, 17), "right": (21, 25)}

#: Columns of the per-keypoint table of :func:`evaluate`.
TABLE_COLUMNS = ("keypoint", "faces", "rmse_px", "rmse_frame_px",
                 "rmse_iod", "mean_error_iod")


class ImmFace(object):
    """One IMM photo and its annotation.

    Attributes
    ----------
    image_path : str
    points : ndarray, (58, 2) float64
        Photo pixels ``(x, y)`` (relative coordinates x image size).
    person : int
        1-40.
    image_type : int
        1-6 (see the module docstring).
    gender : str
        ``'m'`` or ``'f'``.
    """

    def __init__(self, image_path, points, person, image_type, gender):
        self.image_path, self.points = image_path, points
        self.person, self.image_type, self.gender = (person, image_type,
                                                     gender)

    @property
    def name(self):
        return os.path.splitext(os.path.basename(self.image_path))[0]

    def __repr__(self):
        return "ImmFace(%r)" % self.name


def read_asf(path):
    """Parse an ``.asf`` file.

    Parameters
    ----------
    path : str

    Returns
    -------
    points : ndarray, (n, 2) float64
        Relative coordinates ``(x / width, y / height)``.
    host : str
        The host image's file name.

    Raises
    ------
    DataError
        Malformed file: the message names the file and the line.
    """
    with open(path) as f:
        lines = [(i + 1, line.strip()) for i, line in enumerate(f)]
    lines = [(i, line) for i, line in lines if line and not
             line.startswith("#")]
    if not lines:
        raise DataError(path, "empty .asf file")
    lineno, first = lines[0]
    try:
        n = int(first)
    except ValueError:
        raise DataError(path, "line %d: expected the number of points, got "
                        "%r" % (lineno, first))
    if len(lines) < n + 2:
        raise DataError(path, "%d points announced, %d lines follow (need "
                        "the points and the host image)" % (n, len(lines) - 1))
    points = np.empty((n, 2), np.float64)
    for k, (lineno, line) in enumerate(lines[1:n + 1]):
        fields = line.split()
        if len(fields) < 7:  # some files add <user1> <user2> <user3>
            raise DataError(path, "line %d: %d fields, expected 7 (path, "
                            "type, x, y, point, from, to)" % (lineno,
                                                              len(fields)))
        try:
            points[k] = float(fields[2]), float(fields[3])
            number = int(fields[4])
        except ValueError:
            raise DataError(path, "line %d: x, y must be numbers and the "
                            "point number an integer: %r" % (lineno, line))
        if number != k:
            raise DataError(path, "line %d: point number %d, expected %d"
                            % (lineno, number, k))
        if not np.all((points[k] >= 0) & (points[k] <= 1)):
            raise DataError(path, "line %d: relative coordinates outside "
                            "[0, 1]: %r" % (lineno, line))
    return points, lines[n + 1][1]


def load_imm(folder):
    """Every annotated photo of the IMM database in ``folder``.

    Returns
    -------
    list of ImmFace
        Sorted by file name.

    Raises
    ------
    DataNotFoundError
        The folder or a host image is missing, or no ``.asf`` is there.
    DataError
        A malformed ``.asf`` (see :func:`read_asf`), or not 58 points.
    ImageError
        A host image OpenCV cannot read.
    """
    from .pipeline import read_image

    if not os.path.isdir(folder):
        raise DataNotFoundError("%s: no such folder (the IMM face database)"
                                % folder)
    paths = sorted(glob.glob(os.path.join(folder, "*.asf")))
    if not paths:
        raise DataNotFoundError("%s: no .asf files" % folder)
    faces = []
    for path in paths:
        rel, host = read_asf(path)
        if len(rel) != N_POINTS:
            raise DataError(path, "%d points, expected %d" % (len(rel),
                                                              N_POINTS))
        image_path = os.path.join(folder, host)
        if not os.path.isfile(image_path):
            raise DataNotFoundError("%s: host image %s does not exist"
                                    % (path, image_path))
        height, width = read_image(image_path).shape[:2]
        stem = os.path.splitext(os.path.basename(path))[0]
        try:
            person, rest = stem.split("-")
            person, image_type, gender = int(person), int(rest[0]), rest[1:]
        except (ValueError, IndexError):
            person, image_type, gender = 0, 0, ""
        faces.append(ImmFace(image_path, rel * [width, height], person,
                             image_type, gender))
    return faces


def spread_subset(imm_faces):
    """24 of the 240 photos: 24 people, each of the 6 image types 4 times.

    Person ``p`` contributes the photo of type ``t`` with ``(p + t) % 10 ==
    0`` (persons whose number ends in 0-3 contribute none).
    """
    return [f for f in imm_faces if (f.person + f.image_type) % 10 == 0]


def imm_keypoints(points, names):
    """Kaggle keypoints of an IMM annotation.

    Parameters
    ----------
    points : ndarray, (58, 2) photo pixels
    names : sequence of str
        Keypoint names (e.g. ``model.schema.names``).

    Returns
    -------
    ndarray, (K, 2) float64
        Photo pixels; NaN for keypoints IMM does not mark (``nose_tip``).
    """
    out = np.full((len(names), 2), np.nan)
    for k, name in enumerate(names):
        if name in IMM_TO_KAGGLE:
            out[k] = points[list(IMM_TO_KAGGLE[name])].mean(axis=0)
    centres = dict(zip(("left", "right"), _eyes(points)))
    for side, other in (("left", "right"), ("right", "left")):
        a, b = (points[i] for i in EYE_CORNERS[side])
        d_a = np.hypot(*(a - centres[other]))
        d_b = np.hypot(*(b - centres[other]))
        inner, outer = (a, b) if d_a < d_b else (b, a)
        for which, value in (("inner", inner), ("outer", outer)):
            name = "%s_eye_%s_corner" % (side, which)
            if name in names:
                out[list(names).index(name)] = value
    return out


def _eyes(points):
    left = points[list(IMM_TO_KAGGLE["left_eye_center"])].mean(axis=0)
    right = points[list(IMM_TO_KAGGLE["right_eye_center"])].mean(axis=0)
    return left, right


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


def match_face(faces, points):
    """The face whose Haar box holds the true eye midpoint (nearest box
    centre if several), or None."""
    left, right = _eyes(points)
    mid = (left + right) / 2.0
    best, best_d = None, np.inf
    for face in faces:
        x, y, w, h = face.box
        if x <= mid[0] <= x + w and y <= mid[1] <= y + h:
            d = np.hypot(mid[0] - (x + w / 2.0), mid[1] - (y + h / 2.0))
            if d < best_d:
                best, best_d = face, d
    return best


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
    from .pipeline import read_image, to_grey

    rows = []
    for face in imm_faces:
        boxes, _ = detector.detect(to_grey(read_image(face.image_path)))
        left, right = _eyes(face.points)
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
    midpoint (:func:`match_face`); a photo without one is a missed detection
    and adds no error.  Errors are Euclidean distances between predicted and
    true keypoints.

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
    from tqdm import tqdm

    from .pipeline import read_image

    names = pipeline.names
    mapped = [k for k, n in enumerate(names) if n in IMM_TO_KAGGLE]
    dx_px, dx_frame, dx_iod, per_photo = [], [], [], []
    false_positives = haar_found = 0
    for face in tqdm(imm_faces, disable=not progress, unit="photo"):
        candidates = pipeline.candidates(read_image(face.image_path))
        found = [f for f in candidates if f.accepted]
        match = match_face(found, face.points)
        haar = match or match_face(candidates, face.points)
        haar_found += haar is not None
        false_positives += len(found) - (match is not None)
        if match is None:
            per_photo.append({"photo": face.name, "type": face.image_type,
                              "detected": False, "nme": None,
                              "reason": haar.reason if haar else
                              "no Haar box"})
            continue
        truth = imm_keypoints(face.points, names)[mapped]
        left, right = _eyes(face.points)
        iod = float(np.hypot(*(left - right)))
        diff = match.keypoints[mapped] - truth  # (K', 2) photo pixels
        dx_px.append(diff)
        dx_frame.append(diff * (96.0 / match.square[2]))
        dx_iod.append(diff / iod)
        per_photo.append({"photo": face.name, "type": face.image_type,
                          "detected": True,
                          "nme": float(np.hypot(*(diff / iod).T).mean())})
    detected = len(dx_px)
    out = {"photos": len(imm_faces), "detected": detected,
           "detection_rate": detected / float(max(1, len(imm_faces))),
           "haar_detected": int(haar_found),
           "false_positives": int(false_positives)}
    if not detected:
        out.update(nme=None, rmse_px=None, rmse_frame_px=None, rmse_iod=None,
                   table=[], by_type=[], per_photo=per_photo)
        return out
    px, frame, rel = (np.array(a) for a in (dx_px, dx_frame, dx_iod))

    def rmse(d):
        return float(np.sqrt(np.mean(d ** 2)))

    table = []
    for j, k in enumerate(mapped):
        table.append({
            "keypoint": names[k], "faces": detected,
            "rmse_px": rmse(px[:, j]), "rmse_frame_px": rmse(frame[:, j]),
            "rmse_iod": rmse(rel[:, j]),
            "mean_error_iod": float(np.hypot(*rel[:, j].T).mean())})
    table.append({
        "keypoint": "all", "faces": detected, "rmse_px": rmse(px),
        "rmse_frame_px": rmse(frame), "rmse_iod": rmse(rel),
        "mean_error_iod": float(np.hypot(rel[..., 0], rel[..., 1]).mean())})
    by_type = []
    for t in sorted(set(p["type"] for p in per_photo)):
        rows = [p for p in per_photo if p["type"] == t]
        hits = [p["nme"] for p in rows if p["detected"]]
        by_type.append({"type": t, "photos": len(rows), "detected": len(hits),
                        "nme": float(np.mean(hits)) if hits else None})
    out.update(nme=table[-1]["mean_error_iod"], rmse_px=table[-1]["rmse_px"],
               by_type=by_type,
               rmse_frame_px=table[-1]["rmse_frame_px"],
               rmse_iod=table[-1]["rmse_iod"], table=table,
               per_photo=per_photo)
    return out


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
    import csv

    from .fileio import atomic_write, write_json

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
