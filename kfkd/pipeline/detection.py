"""Faces in a photo: Haar detection, the square crop, and the filters.

Framing (why ``CROP_SCALE = 0.96``)
-----------------------------------
The Kaggle-format training faces put the mean eye midpoint at (47.8, 38.6)
px of the 96x96 frame with a mean inter-ocular distance (IOD, between the eye
centres) of 34.1 px = 0.355 of the frame, and the bottom-lip centre at
y = 83.0 px (``training.csv``, 3146 faces).  On real photos the Haar box puts
the eye midpoint at (0.50, 0.41) of the box width from its top-left corner,
the IOD at 0.339 of the width and the bottom lip at 0.84 (IMM face database,
persons 01-20, 120 photos; persons 21-40 give the same 0.50, 0.41, 0.339:
``experiments/imm_eval.py --calibrate`` prints both).  A square crop of side
``s`` reproduces the training IOD when ``0.339 w / s = 0.355``, i.e.
``s = 0.955 w``; its top then lies at ``0.41 w - 0.402 s = 0.02 w`` below
the box top, so the crop centre is the box centre to within 0.01 w: the crop
is the Haar box shrunk to :data:`CROP_SCALE` = 0.96 about its own centre
(:data:`CROP_SHIFT` = (0, 0)).  The mouth check: eye-to-bottom-lip is
1.28 IOD on IMM and 1.30 IOD in training.csv.
"""
import os

import cv2
import numpy as np

from ..keypoints import FRAME

__all__ = ["CROP_SCALE", "CROP_SHIFT", "FaceDetector", "crop_square",
           "crop_faces", "frame_to_photo", "photo_to_frame"]

#: Side of the square crop, as a multiple of the Haar box width (see the
#: module docstring for the derivation).
CROP_SCALE = 0.96

#: Shift of the crop centre from the Haar box centre, (x, y) in box widths.
CROP_SHIFT = (0.0, 0.0)

_CASCADES = {}


def _cascade(name):
    """The cascade ``name`` from the opencv wheel, loaded once."""
    if name not in _CASCADES:
        path = os.path.join(cv2.data.haarcascades, name)
        cascade = cv2.CascadeClassifier(path)
        if cascade.empty():
            raise IOError("%s: cannot load the Haar cascade" % path)
        _CASCADES[name] = cascade
    return _CASCADES[name]


# -- detection ---------------------------------------------------------------
class FaceDetector(object):
    """OpenCV's frontal-face Haar cascade, on a downscaled grey copy.

    Parameters
    ----------
    max_side : int or None
        The photo is downscaled (``INTER_AREA``) so that its longer side is at
        most this many pixels before detection; boxes are scaled back.
        ``None``: full resolution.
    scale_factor : float
        ``detectMultiScale``'s step between window sizes.
    min_neighbors : int
        ``detectMultiScale``'s minimum number of overlapping raw detections.
    min_size : float
        Smallest face searched for, as a share of the photo's shorter side
        (never below the cascade's 24 px window at detection resolution).
    cascade : str
        File name in ``cv2.data.haarcascades``.
    """

    def __init__(self, max_side=640, scale_factor=1.1, min_neighbors=4,
                 min_size=0.04,
                 cascade="haarcascade_frontalface_default.xml"):
        self.max_side, self.scale_factor = max_side, scale_factor
        self.min_neighbors, self.min_size = min_neighbors, min_size
        self.cascade_name = cascade
        self.cascade = _cascade(cascade)

    @classmethod
    def for_video(cls):
        """Settings for live 640x480 video: detect at 320 px (the cascade's
        24 px window then finds faces from 48 px, 10% of the frame height),
        step 1.2 (see ``experiments/benchmark_pipeline.py --sweep``).
        """
        return cls(max_side=320, scale_factor=1.2, min_neighbors=4,
                   min_size=0.1)

    def __repr__(self):
        return ("FaceDetector(max_side=%r, scale_factor=%r, min_neighbors=%r,"
                " min_size=%r)" % (self.max_side, self.scale_factor,
                                   self.min_neighbors, self.min_size))

    def detect(self, grey):
        """Face boxes in ``grey``.

        Parameters
        ----------
        grey : ndarray, (H, W) uint8

        Returns
        -------
        boxes : ndarray, (M, 4) int
            ``(x, y, w, h)`` in photo pixels, most neighbours first.
        neighbours : ndarray, (M,) int
            Raw detections merged into each box (the cascade's confidence).
        """
        h, w = grey.shape[:2]
        scale = 1.0
        if self.max_side and max(h, w) > self.max_side:
            scale = self.max_side / float(max(h, w))
            grey = cv2.resize(grey, (max(1, int(round(w * scale))),
                                     max(1, int(round(h * scale)))),
                              interpolation=cv2.INTER_AREA)
        side = max(24, int(round(self.min_size * min(grey.shape[:2]))))
        boxes, neighbours = self.cascade.detectMultiScale2(
            grey, scaleFactor=self.scale_factor,
            minNeighbors=self.min_neighbors, minSize=(side, side))
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        neighbours = np.asarray(neighbours, dtype=np.int64).reshape(-1)
        boxes = np.round(boxes / scale).astype(np.int64)
        order = np.argsort(-neighbours, kind="stable")
        return boxes[order], neighbours[order]


# -- crops -----------------------------------------------------------------
def crop_square(box, scale=CROP_SCALE, shift=CROP_SHIFT):
    """The square cut from the photo for a Haar box.

    Parameters
    ----------
    box : (x, y, w, h)
        Haar box, photo pixels.
    scale : float
        Side of the square in box widths (:data:`CROP_SCALE`).
    shift : (float, float)
        Centre offset from the box centre, in box widths.

    Returns
    -------
    (x0, y0, side) : tuple of int
        Top-left corner and side, photo pixels (may reach outside the photo).

    Examples
    --------
    >>> crop_square((100, 50, 200, 200))
    (104, 54, 192)
    """
    x, y, w, h = [float(v) for v in box]
    side = max(1, int(round(scale * w)))
    cx = x + w / 2.0 + shift[0] * w
    cy = y + h / 2.0 + shift[1] * w
    return (int(round(cx - side / 2.0)), int(round(cy - side / 2.0)), side)


def crop_faces(grey, squares, frame=FRAME):
    """Cut squares from a grey photo and resize them to the model input.

    Parameters
    ----------
    grey : ndarray, (H, W) uint8
    squares : sequence of (x0, y0, side)
        From :func:`crop_square`; parts outside the photo replicate its
        border.
    frame : int

    Returns
    -------
    ndarray, (N, 1, frame, frame) float32 in [0, 1]
    """
    h, w = grey.shape[:2]
    out = np.empty((len(squares), 1, frame, frame), np.float32)
    for i, (x0, y0, side) in enumerate(squares):
        xa, ya = max(0, x0), max(0, y0)
        xb, yb = min(w, x0 + side), min(h, y0 + side)
        if xa >= xb or ya >= yb:
            raise ValueError("crop %r lies outside the %dx%d photo"
                             % ((x0, y0, side), w, h))
        patch = grey[ya:yb, xa:xb]
        if (xa, ya, xb, yb) != (x0, y0, x0 + side, y0 + side):
            patch = cv2.copyMakeBorder(patch, ya - y0, y0 + side - yb,
                                       xa - x0, x0 + side - xb,
                                       cv2.BORDER_REPLICATE)
        inter = cv2.INTER_AREA if side > frame else cv2.INTER_LINEAR
        out[i, 0] = cv2.resize(patch, (frame, frame),
                               interpolation=inter) / np.float32(255.0)
    return out


def frame_to_photo(keypoints, square, frame=FRAME):
    """Keypoints in the 96x96 frame -> photo pixels.

    ``cv2.resize`` maps the centre of frame pixel ``u`` to photo coordinate
    ``x0 + (u + 0.5) * side / frame - 0.5`` (both with pixel centres at
    integers); the same map is applied to the keypoints.

    Parameters
    ----------
    keypoints : ndarray, (..., 2K) or (..., K, 2) float, pixels in the frame
    square : (x0, y0, side)
    frame : int

    Returns
    -------
    ndarray, same shape, float64 photo pixels

    Examples
    --------
    >>> frame_to_photo(np.array([47.5, 47.5]), (104, 54, 192))  # the centre
    array([199.5, 149.5])
    """
    x0, y0, side = square
    k = np.asarray(keypoints, dtype=np.float64)
    xy = k.reshape(k.shape[:-1] + (-1, 2)) if k.shape[-1] != 2 else k
    out = (xy + 0.5) * (side / float(frame)) - 0.5 + np.array([x0, y0])
    return out.reshape(k.shape)


def photo_to_frame(points, square, frame=FRAME):
    """Photo points -> points of the ``frame`` x ``frame`` crop of
    ``square`` ``(x0, y0, side)``: ``(p - (x0, y0)) * frame / side``.

    Both in the edge convention (0 is the outer edge of the first pixel,
    whose centre is 0.5): the one of IMM's relative coordinates (times the
    image size), of the augmenter's mirror ``x -> 96 - x``
    (:func:`kfkd.transforms.flip_horizontal`) and of :mod:`kfkd.plotting`;
    ``cv2.resize`` maps pixel areas edge to edge, so the map is a pure
    scaling.  (:func:`frame_to_photo` puts pixel centres at integers
    instead; the two differ by ``(side / frame - 1) / 2`` photo pixels.)
    ``points`` ``(..., 2)``; returns float64 of the same shape.

    >>> photo_to_frame(np.array([200.0, 150.0]), (104, 54, 192))
    array([48., 48.])
    """
    offset = np.array(square[:2], dtype=np.float64)
    return (np.asarray(points, np.float64) - offset) * (frame /
                                                         float(square[2]))
