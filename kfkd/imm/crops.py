"""IMM photos cut to the model's input, as the photo pipeline cuts them.

Each photo goes through the pipeline's first two steps
(:mod:`kfkd.pipeline`): OpenCV's Haar cascade on the grey photo
(:class:`~kfkd.pipeline.FaceDetector`), the box that holds the true eye
midpoint (:func:`~kfkd.pipeline.imm.match_face`), and the square of
``crop_scale`` box widths around it (:func:`~kfkd.pipeline.crop_square`)
resized to 96x96 grey in [0, 1] (:func:`~kfkd.pipeline.crop_faces`).  The
58 annotated points are mapped into the crop
(:func:`~kfkd.pipeline.detection.photo_to_frame`) in canonical order
(:func:`kfkd.imm.points.canonical_points`).
"""
import numpy as np

from ..pipeline.detection import (CROP_SHIFT, crop_faces, crop_square,
                                  photo_to_frame)
from ..pipeline.images import read_image, to_grey
from ..pipeline.imm import match_face
from .points import canonical_points

__all__ = ["ImmCrops", "imm_crops"]


class _Box(object):
    """A Haar box as :func:`~kfkd.pipeline.imm.match_face` reads it."""

    def __init__(self, box):
        self.box = box


class ImmCrops(object):
    """Crops of IMM photos and their points in crop pixels.

    Attributes
    ----------
    images : ndarray, (N, 1, 96, 96) float32 in [0, 1]
    points : ndarray, (N, 58, 2) float64, pixels of the 96 frame, canonical
    squares : ndarray, (N, 3) int, ``(x0, y0, side)`` in photo pixels
    names : list of str, length N
        Photo names (``01-1m``).
    persons : ndarray, (N,) int
    missed : list of str
        Photos without a Haar box around the true eye midpoint (not in the
        arrays; reported by ``kfkd imm-train``).
    crop_scale : float
    """

    def __init__(self, images, points, squares, names, persons, missed,
                 crop_scale):
        self.images, self.points, self.squares = images, points, squares
        self.names, self.persons = names, persons
        self.missed, self.crop_scale = missed, crop_scale

    def __len__(self):
        return len(self.images)

    def __repr__(self):
        return "ImmCrops(%d faces, %d missed, crop scale %.3f)" % (
            len(self), len(self.missed), self.crop_scale)


def imm_crops(imm_faces, detector, crop_scale):
    """Cut every IMM photo as the pipeline does.

    Parameters
    ----------
    imm_faces : sequence of kfkd.pipeline.imm.ImmFace
    detector : kfkd.pipeline.FaceDetector
    crop_scale : float
        Side of the crop in Haar box widths
        (:data:`kfkd.pipeline.CROP_SCALE` frames faces as training.csv).

    Returns
    -------
    ImmCrops
    """
    images, points, squares, names, persons, missed = [], [], [], [], [], []
    for face in imm_faces:
        grey = to_grey(read_image(face.image_path))
        boxes, _ = detector.detect(grey)
        match = match_face([_Box(b) for b in boxes], face.points)
        if match is None:
            missed.append(face.name)
            continue
        square = crop_square(match.box, crop_scale, CROP_SHIFT)
        images.append(crop_faces(grey, [square])[0])
        points.append(photo_to_frame(canonical_points(face.points), square))
        squares.append(square)
        names.append(face.name)
        persons.append(face.person)
    return ImmCrops(np.array(images, np.float32).reshape(-1, 1, 96, 96),
                    np.array(points, np.float64).reshape(-1, 58, 2),
                    np.array(squares, np.int64).reshape(-1, 3), names,
                    np.array(persons, np.int64), missed, crop_scale)
