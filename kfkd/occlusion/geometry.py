"""Patch geometry: positions, signed distances, the censor's own square.

A patch at ``(y0, x0)`` of side ``size`` covers pixel rows ``y0 .. y0 +
size - 1`` and columns ``x0 .. x0 + size - 1``, i.e. the square ``[x0, x0 +
size] x [y0, y0 + size]`` in the continuous coordinates of
:mod:`kfkd.augment` (pixel ``(i, j)`` covers ``[j, j + 1) x [i, i + 1)``).
The signed distance of a pixel centre outside the patch along one axis is
``t = max(y0 - (i + .5), (i + .5) - (y0 + size))`` (negative inside);
:func:`patch_distance` gives the Chebyshev version ``max(t_y, t_x)``.  The
*depth* of a pixel inside the patch along one axis is ``s = -t`` (0.5 for
the patch's outermost row or column, ``size / 2`` at its centre).

A censor with ``scale != 1`` works on the square of side ``scale * size``
centred on the nominal patch (:func:`scaled_square`); corners and sides may
then be fractions of a pixel.  ``scale = 1`` is the nominal patch exactly.
"""
import math

import numpy as np

from ..keypoints import FRAME

__all__ = ["patch_positions", "patch_distance", "axis_distance",
           "scaled_square", "square_slices"]


def axis_distance(start, size, n):
    """Signed distance (pixels) of pixel centres ``0 .. n-1`` outside
    ``[start, start + size]`` along one axis; negative inside.

    ``start`` and ``size`` may be fractional.

    Returns
    -------
    ndarray, (n,) float64
    """
    c = np.arange(n) + 0.5
    return np.maximum(start - c, c - (start + size))


def patch_distance(y0, x0, size, frame=FRAME):
    """Chebyshev signed distance of each pixel centre outside a patch.

    Returns
    -------
    ndarray, (frame, frame) float64, pixels
        ``max(t_y, t_x)``: positive outside the square, negative inside
        (minus the distance to the nearest border).
    """
    return np.maximum(axis_distance(y0, size, frame)[:, None],
                      axis_distance(x0, size, frame)[None, :])


def patch_positions(patch, stride, frame=FRAME):
    """Top-left corners of the patch positions, row-major.

    Corners run ``0, stride, 2 stride, ...`` up to ``frame - patch``; if the
    stride does not land on ``frame - patch``, that last corner is added so
    that every pixel is covered (96 px, patch 12, stride 2: 43 x 43 = 1849
    positions).

    Returns
    -------
    ndarray, (P, 2) int, ``(y0, x0)``

    Raises
    ------
    ValueError
        ``patch`` not in ``1 .. frame`` or ``stride < 1``.
    """
    patch, stride = int(patch), int(stride)
    if not 1 <= patch <= frame or stride < 1:
        raise ValueError("need 1 <= patch <= %d and stride >= 1, got patch=%r "
                         "stride=%r" % (frame, patch, stride))
    starts = list(range(0, frame - patch + 1, stride))
    if starts[-1] != frame - patch:
        starts.append(frame - patch)
    yy, xx = np.meshgrid(starts, starts, indexing="ij")
    return np.stack([yy.ravel(), xx.ravel()], axis=1)


def scaled_square(y0, x0, size, scale=1.0):
    """The square of side ``scale * size`` centred on the patch at ``(y0,
    x0)`` of side ``size``.

    Returns
    -------
    ya, xa, side : float
        Top-left corner and side (pixels, continuous coordinates); ``(y0,
        x0, size)`` when ``scale == 1``.
    """
    side = float(scale) * size
    shift = (size - side) / 2.0
    return y0 + shift, x0 + shift, side


def square_slices(ya, xa, side, shape, pad=0):
    """Row and column slices of the pixels a square (plus ``pad`` px) may
    touch in an image of ``shape = (H, W)``, clipped to the image.

    Returns
    -------
    (slice, slice)
    """
    r0 = max(0, int(math.floor(ya)) - pad)
    r1 = min(shape[0], int(math.ceil(ya + side)) + pad)
    c0 = max(0, int(math.floor(xa)) - pad)
    c1 = min(shape[1], int(math.ceil(xa + side)) + pad)
    return slice(r0, r1), slice(c0, c1)
