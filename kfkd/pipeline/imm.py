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

The pipeline's errors on these photos: :mod:`kfkd.pipeline.imm_eval`.

Examples
--------
>>> faces = load_imm("../shared/data/imm")  # doctest: +SKIP
>>> len(faces), faces[0].points.shape  # doctest: +SKIP
(240, (58, 2))
"""
import glob
import os

import numpy as np

from ..data import DataError, DataNotFoundError
from .images import read_image

__all__ = ["N_POINTS", "IMM_TO_KAGGLE", "FRONTAL_TYPES", "EYE_CORNERS",
           "ImmFace", "read_asf", "load_imm", "spread_subset",
           "imm_keypoints", "eye_centres", "match_face"]

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


def _name_fields(path):
    """``(person, image_type, gender)`` of ``<person>-<type><gender>.asf``;
    ``(0, 0, '')`` for another name."""
    stem = os.path.splitext(os.path.basename(path))[0]
    try:
        person, rest = stem.split("-")
        return int(person), int(rest[0]), rest[1:]
    except (ValueError, IndexError):
        return 0, 0, ""


def _load_face(folder, path):
    """The :class:`ImmFace` of the ``.asf`` file ``path`` (:func:`load_imm`)."""
    rel, host = read_asf(path)
    if len(rel) != N_POINTS:
        raise DataError(path, "%d points, expected %d" % (len(rel), N_POINTS))
    image_path = os.path.join(folder, host)
    if not os.path.isfile(image_path):
        raise DataNotFoundError("%s: host image %s does not exist"
                                % (path, image_path))
    height, width = read_image(image_path).shape[:2]
    return ImmFace(image_path, rel * [width, height], *_name_fields(path))


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
    if not os.path.isdir(folder):
        raise DataNotFoundError("%s: no such folder (the IMM face database)"
                                % folder)
    paths = sorted(glob.glob(os.path.join(folder, "*.asf")))
    if not paths:
        raise DataNotFoundError("%s: no .asf files" % folder)
    return [_load_face(folder, path) for path in paths]


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
    centres = dict(zip(("left", "right"), eye_centres(points)))
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


def eye_centres(points):
    """``(left, right)`` eye centres of an IMM annotation (58, 2), the
    means of their contours."""
    left = points[list(IMM_TO_KAGGLE["left_eye_center"])].mean(axis=0)
    right = points[list(IMM_TO_KAGGLE["right_eye_center"])].mean(axis=0)
    return left, right


def match_face(faces, points):
    """The face whose Haar box holds the true eye midpoint (nearest box
    centre if several), or None."""
    left, right = eye_centres(points)
    mid = (left + right) / 2.0
    best, best_d = None, np.inf
    for face in faces:
        x, y, w, h = face.box
        if x <= mid[0] <= x + w and y <= mid[1] <= y + h:
            d = np.hypot(mid[0] - (x + w / 2.0), mid[1] - (y + h / 2.0))
            if d < best_d:
                best, best_d = face, d
    return best
