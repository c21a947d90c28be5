"""The 58 IMM points as a keypoint schema, the split by person and the
inter-ocular normalisation.

The IMM face database (Nordstrom, Larsen, Sierakowski & Stegmann 2004;
:mod:`kfkd.pipeline.imm`) marks 58 points in seven paths: 0-12 jaw (from
the subject's right, on the image's left, over the chin to the subject's
left), 13-20 the subject's left eye and 21-28 the right eye (closed
contours from the outer corner over the upper lid), 29-33 left and 34-38
right eyebrow (inner end, over the top, outer end), 39-46 mouth (39 the
right corner, 40-42 upper lip, 43 the left corner, 44-46 lower lip) and
47-57 nose (47/57 the bridge, 48-51 and 53-56 the alae and nostrils, 52
the base of the nose on the midline).

Names (:data:`IMM_NAMES`) carry ``left``/``right`` so that
:class:`kfkd.keypoints.KeypointSchema` derives the mirror pairs itself:
jaw ``k`` <-> ``12 - k``, eye ``13 + i`` <-> ``21 + i``, eyebrow ``29 + i``
<-> ``34 + i``, mouth 39 <-> 43, 40 <-> 42, 44 <-> 46 (41 and 45 on the
midline), nose ``47 + i`` <-> ``57 - i`` (52 on the midline).  These pairs
were derived from the data: on the mean IMM shape (eyes levelled, in units
of the inter-ocular distance) every point's mirror image lies within 0.04
IOD of its partner, and of no other point (``tests/test_imm.py``).

Examples
--------
>>> schema = target_schema("all58")
>>> len(schema), schema.n_outputs, len(schema.flip_pairs)
(58, 116, 27)
>>> schema.names[schema.flip_index[13]]
'right_eye_0'
>>> target_schema("nose").names
('nose_base',)
"""
import numpy as np

from ..errors import UsageError
from ..keypoints import KeypointSchema
from ..metrics import rms

__all__ = ["IMM_NAMES", "NOSE_POINT", "TARGETS", "OUTER_CORNERS",
           "TRAIN_PEOPLE", "VAL_PEOPLE", "TEST_PEOPLE", "target_schema",
           "canonical_points", "split_people", "inter_ocular", "error_table"]


def _names():
    jaw = (["right_jaw_%d" % k for k in range(6)] + ["chin"]
           + ["left_jaw_%d" % k for k in reversed(range(6))])
    eyes = (["left_eye_%d" % i for i in range(8)]
            + ["right_eye_%d" % i for i in range(8)])
    brows = (["left_eyebrow_%d" % i for i in range(5)]
             + ["right_eyebrow_%d" % i for i in range(5)])
    mouth = ["right_mouth_corner", "right_upper_lip", "upper_lip_centre",
             "left_upper_lip", "left_mouth_corner", "left_lower_lip",
             "lower_lip_centre", "right_lower_lip"]
    nose = (["right_nose_%d" % i for i in range(5)] + ["nose_base"]
            + ["left_nose_%d" % i for i in reversed(range(5))])
    return tuple(jaw + eyes + brows + mouth + nose)


#: The 58 IMM points, in annotation order (left = the subject's left).
IMM_NAMES = _names()

#: The nose-tip target: IMM marks no tip of the nose; its midline point at
#: the base of the nose (52) is the nearest and the one used.
NOSE_POINT = 52

#: ``--target`` -> the IMM points it regresses.
TARGETS = {"nose": (NOSE_POINT,), "all58": tuple(range(58))}

#: The outer eye corners (left eye, right eye) after
#: :func:`canonical_points`.
OUTER_CORNERS = (13, 21)

#: The people (1-40) of each side of the split: fit on 1-28, early-stop on
#: 29-32 (so training uses people 1-32 only), test on 33-40.
TRAIN_PEOPLE = tuple(range(1, 29))
VAL_PEOPLE = (29, 30, 31, 32)
TEST_PEOPLE = tuple(range(33, 41))


def target_schema(target):
    """The :class:`~kfkd.keypoints.KeypointSchema` of a ``--target``.

    Raises
    ------
    UsageError
        An unknown target.
    """
    if target not in TARGETS:
        raise UsageError("--target %r: choose one of %s"
                         % (target, ", ".join(sorted(TARGETS))))
    names = [IMM_NAMES[k] for k in TARGETS[target]]
    return KeypointSchema(["%s_%s" % (n, a) for n in names for a in "xy"])


def canonical_points(points):
    """An IMM annotation with both eye contours in the usual order.

    9 of the 240 annotations list an eye's contour from the inner corner
    (:data:`kfkd.pipeline.imm.EYE_CORNERS`); in the usual order the contour
    starts at the outer corner (the one farther from the other eye) and
    runs over the upper lid.  A reversed contour ``p`` becomes ``p[(4 - i)
    % 8]``: the same direction over the upper lid, from the other corner.

    Parameters
    ----------
    points : ndarray, (58, 2) float, pixels

    Returns
    -------
    ndarray, (58, 2) float64, a new array
    """
    out = np.array(points, np.float64)
    centres = {13: out[21:29].mean(axis=0), 21: out[13:21].mean(axis=0)}
    for start, other in centres.items():
        eye = out[start:start + 8].copy()
        if np.hypot(*(eye[0] - other)) < np.hypot(*(eye[4] - other)):
            out[start:start + 8] = eye[[(4 - i) % 8 for i in range(8)]]
    return out


def split_people(persons, train=TRAIN_PEOPLE, val=VAL_PEOPLE,
                 test=TEST_PEOPLE):
    """Indices of the faces of each side of the split by person.

    Parameters
    ----------
    persons : sequence of int
        Each face's person (1-40).
    train, val, test : sequence of int
        The people of each side.

    Returns
    -------
    (train, val, test) : three ndarray of int
        Indices into ``persons``; faces of other people are in none.

    Raises
    ------
    ValueError
        A person on two sides.
    """
    sides = [set(train), set(val), set(test)]
    for a in range(3):
        for b in range(a + 1, 3):
            if sides[a] & sides[b]:
                raise ValueError("people %s are on two sides of the split"
                                 % sorted(sides[a] & sides[b]))
    persons = np.asarray(persons)
    return tuple(np.flatnonzero(np.isin(persons, sorted(s))) for s in sides)


def inter_ocular(points):
    """Inter-ocular distance: the distance between the outer eye corners.

    The normalisation of the 300-W challenge (Sagonas, Antonakos,
    Tzimiropoulos, Zafeiriou & Pantic 2016, "300 Faces In-The-Wild
    Challenge: database and results", Image and Vision Computing 47: the
    error is "normalized by the inter-ocular distance defined as the
    Euclidean distance between the outer points of each eye").
    (:mod:`kfkd.pipeline.imm_eval` divides by the distance between the eye
    centres instead, which is about 0.69 of this.)

    Parameters
    ----------
    points : ndarray, (..., 58, 2) float, canonical (:func:`canonical_points`)

    Returns
    -------
    ndarray, (...) float64, in the unit of ``points``

    Examples
    --------
    >>> p = np.zeros((58, 2)); p[13] = (70, 40); p[21] = (30, 37)
    >>> float(inter_ocular(p))
    40.11234224026316
    """
    p = np.asarray(points, np.float64)
    return np.hypot(*np.moveaxis(p[..., OUTER_CORNERS[0], :]
                                 - p[..., OUTER_CORNERS[1], :], -1, 0))


def error_table(names, diff, iod, photo_scale):
    """Errors per keypoint and over all of them.

    Parameters
    ----------
    names : sequence of str, length K
    diff : ndarray, (N, K, 2) predicted minus true, pixels of the 96 frame
    iod : ndarray, (N,) inter-ocular distance (:func:`inter_ocular`), the
        same pixels
    photo_scale : ndarray, (N,) photo pixels per frame pixel (crop side /
        96)

    Returns
    -------
    list of dict
        One per keypoint, then ``all``: ``keypoint``; ``rmse_px`` (frame
        pixels) and ``rmse_photo_px`` (the 640x480 photo), x and y pooled as
        Kaggle's RMSE (:func:`kfkd.metrics.rms`); ``rmse_iod`` (the same
        divided by each face's IOD) and ``nme`` (mean Euclidean error /
        IOD, the 300-W measure).
    """
    diff = np.asarray(diff, np.float64)
    rel = diff / np.asarray(iod, np.float64)[:, None, None]
    photo = diff * np.asarray(photo_scale, np.float64)[:, None, None]

    def row(name, j):
        return {"keypoint": name, "rmse_px": rms(diff[:, j]),
                "rmse_photo_px": rms(photo[:, j]), "rmse_iod": rms(rel[:, j]),
                "nme": float(np.hypot(rel[:, j, ..., 0],
                                      rel[:, j, ..., 1]).mean())}

    return ([row(n, j) for j, n in enumerate(names)]
            + [row("all", slice(None))])
