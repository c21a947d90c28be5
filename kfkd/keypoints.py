"""The keypoint schema as data: names, flip pairs, pixel <-> unit scaling.

Kaggle's Facial Keypoints Detection files name 15 keypoints by 30 columns
``<keypoint>_x``, ``<keypoint>_y`` in the 96x96 frame, in pixels.  "left" is
the subject's left, which lies on the *image's* right.  Everything here is
derived from the column names, so the code follows whatever columns a file
has, in its order.

Examples
--------
>>> schema = KeypointSchema.from_columns(KAGGLE_COLUMNS)
>>> len(schema), schema.n_outputs
(15, 30)
>>> schema.names[schema.flip_index[0]]
'right_eye_center'
"""
import numpy as np

__all__ = ["FRAME", "KAGGLE_COLUMNS", "KeypointSchema", "to_unit", "to_pixels"]

#: Side of Kaggle's square face images, in pixels.
FRAME = 96

#: Kaggle's 30 keypoint columns, in training.csv order.
KAGGLE_COLUMNS = tuple(
    "%s_%s" % (name, axis)
    for name in (
        "left_eye_center", "right_eye_center",
        "left_eye_inner_corner", "left_eye_outer_corner",
        "right_eye_inner_corner", "right_eye_outer_corner",
        "left_eyebrow_inner_end", "left_eyebrow_outer_end",
        "right_eyebrow_inner_end", "right_eyebrow_outer_end",
        "nose_tip",
        "mouth_left_corner", "mouth_right_corner",
        "mouth_center_top_lip", "mouth_center_bottom_lip")
    for axis in "xy")


def _mirror_name(name):
    """Name of the keypoint that ``name`` becomes in a mirrored face."""
    for a, b in (("left", "right"), ("right", "left")):
        if "%s_" % a in name or name.endswith("_%s" % a):
            return name.replace(a, b, 1)
    return name


class KeypointSchema(object):
    """Keypoint names and left/right flip pairs, derived from column names.

    Parameters
    ----------
    columns : sequence of str
        Coordinate column names, alternating ``<name>_x``, ``<name>_y``.

    Attributes
    ----------
    columns : tuple of str, length 2K
    names : tuple of str, length K
        Keypoint names (columns without their ``_x``/``_y`` suffix).
    flip_pairs : tuple of (int, int)
        Indices ``(i, j)``, ``i < j``, of keypoints that swap when the face
        is mirrored (``left_*`` <-> ``right_*``).
    flip_index : ndarray of int, shape (K,)
        Keypoint ``k`` of a mirrored face is keypoint ``flip_index[k]`` of the
        original.
    flip_columns : ndarray of int, shape (2K,)
        The same permutation on coordinate columns.

    Raises
    ------
    ValueError
        If columns do not alternate ``_x``/``_y`` for the same name, or a
        ``left_*`` keypoint has no ``right_*`` partner.
    """

    def __init__(self, columns):
        columns = tuple(columns)
        if len(columns) == 0 or len(columns) % 2:
            raise ValueError("keypoint columns must come in _x/_y pairs, "
                             "got %d columns" % len(columns))
        names = []
        for cx, cy in zip(columns[::2], columns[1::2]):
            if not (cx.endswith("_x") and cy.endswith("_y")
                    and cx[:-2] == cy[:-2]):
                raise ValueError("columns %r, %r are not an _x/_y pair"
                                 % (cx, cy))
            names.append(cx[:-2])
        self.columns = columns
        self.names = tuple(names)
        position = {n: k for k, n in enumerate(names)}
        flip_index = []
        for name in names:
            mirror = _mirror_name(name)
            if mirror not in position:
                raise ValueError("keypoint %r has no mirror partner %r"
                                 % (name, mirror))
            flip_index.append(position[mirror])
        self.flip_index = np.array(flip_index, dtype=np.intp)
        self.flip_pairs = tuple((k, int(j)) for k, j in enumerate(flip_index)
                                if k < j)
        self.flip_columns = np.ravel(
            np.column_stack([2 * self.flip_index, 2 * self.flip_index + 1]))

    @classmethod
    def from_columns(cls, columns):
        """Schema of the coordinate columns among ``columns``.

        Columns that are not ``*_x``/``*_y`` (``Image``, ``ImageId``) are
        ignored.
        """
        return cls([c for c in columns if c.endswith(("_x", "_y"))])

    @classmethod
    def kaggle(cls):
        """Kaggle's 15-keypoint schema."""
        return cls(KAGGLE_COLUMNS)

    def __len__(self):
        return len(self.names)

    @property
    def n_outputs(self):
        """Number of coordinates, ``2 * len(self)``."""
        return len(self.columns)

    def __eq__(self, other):
        return (isinstance(other, KeypointSchema)
                and self.columns == other.columns)

    def __repr__(self):
        return "KeypointSchema(%d keypoints, %d flip pairs)" % (
            len(self), len(self.flip_pairs))

    def column_index(self, column):
        """Index of coordinate column ``column``; KeyError if unknown."""
        try:
            return self.columns.index(column)
        except ValueError:
            raise KeyError("unknown keypoint column %r" % column)


def to_unit(keypoints, frame=FRAME):
    """Pixels -> the [-1, 1] targets the nets regress (Nouri's scaling).

    Parameters
    ----------
    keypoints : ndarray, (..., 2K) float, pixels in [0, frame]
    frame : int
        Image side in pixels.

    Returns
    -------
    ndarray, same shape, float32: ``(keypoints - frame/2) / (frame/2)``.
    NaN stays NaN.
    """
    half = frame / 2.0
    return ((np.asarray(keypoints, dtype=np.float32) - half) / half).astype(
        np.float32)


def to_pixels(unit, frame=FRAME):
    """Inverse of :func:`to_unit`: [-1, 1] -> pixels in [0, frame]."""
    half = frame / 2.0
    return (np.asarray(unit, dtype=np.float32) * half + half).astype(
        np.float32)
