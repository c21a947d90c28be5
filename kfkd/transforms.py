"""Geometric transforms of 96x96 faces with their keypoints: the left-right
mirror with the flip pairs swapped, affine warps (rotation, scale, shift).

numpy and OpenCV only: no Theano here.  Every function takes and returns
``images`` of shape ``(N, 1, 96, 96)``, float32 in [0, 1], and ``keypoints``
of shape ``(N, 2K)`` in **pixels** (``x0, y0, x1, y1, ...``), NaN where
unlabelled; inputs are never modified.

Coordinate convention
---------------------
Keypoints live in continuous image coordinates in which pixel ``(row i,
column j)`` covers ``[j, j + 1) x [i, i + 1)``: its centre is at
``(j + 0.5, i + 0.5)``, the frame is ``[0, 96] x [0, 96]`` and the image
centre is ``(48, 48)``.  Hence a left-right mirror maps ``x -> 96 - x``
(pixel column ``j -> 95 - j``).  OpenCV puts pixel centres at integers; the
conversion (``u = x - 0.5``) is done inside :func:`_cv2_matrix`, so the
same matrix from :func:`affine_matrix` moves the image and its keypoints.
"""
import cv2
import numpy as np

from .keypoints import KeypointSchema

__all__ = ["check_images", "check_keypoints", "flip_horizontal", "affine_matrix",
           "transform_keypoints", "warp_images", "BORDERS"]

#: Border modes of :func:`warp_images`.
BORDERS = {"replicate": cv2.BORDER_REPLICATE,
           "reflect": cv2.BORDER_REFLECT_101,
           "constant": cv2.BORDER_CONSTANT}


# -- argument checks ---------------------------------------------------------

def check_images(images):
    """``images`` as an ndarray of shape ``(N, 1, H, H)``.

    The one check of a batch of square grey images shared by
    :mod:`kfkd.augment` and :mod:`kfkd.occlusion`.

    Parameters
    ----------
    images : array_like, (N, 1, H, H), any dtype

    Returns
    -------
    ndarray
        ``np.asarray(images)`` (no copy when already an ndarray).

    Raises
    ------
    ValueError
        If ``images`` is not 4-D with one channel and square frames.

    Examples
    --------
    >>> check_images(np.zeros((2, 1, 96, 96), np.float32)).shape
    (2, 1, 96, 96)
    >>> check_images(np.zeros((2, 96, 96)))
    Traceback (most recent call last):
    ...
    ValueError: images must have shape (N, 1, H, H), got (2, 96, 96)
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[1] != 1 or (
            images.shape[2] != images.shape[3]):
        raise ValueError("images must have shape (N, 1, H, H), got %r"
                         % (images.shape,))
    return images


def check_keypoints(keypoints, n, n_outputs=None):
    """``keypoints`` as an ndarray (n, 2K); ValueError otherwise."""
    keypoints = np.asarray(keypoints)
    if keypoints.ndim != 2 or keypoints.shape[0] != n or keypoints.shape[1] % 2:
        raise ValueError("keypoints must have shape (%d, 2K), got %r"
                         % (n, keypoints.shape))
    if n_outputs is not None and keypoints.shape[1] != n_outputs:
        raise ValueError("keypoints have %d columns, the schema %d"
                         % (keypoints.shape[1], n_outputs))
    return keypoints


# -- mirroring ---------------------------------------------------------------

def flip_horizontal(images, keypoints, schema=None):
    """Mirror faces left-right, with their keypoints.

    Parameters
    ----------
    images : ndarray, (N, 1, H, H)
        Faces; any dtype.
    keypoints : ndarray, (N, 2K) or None
        Pixels, NaN where unlabelled.  ``None`` flips the images only.
    schema : KeypointSchema, optional
        Names the ``left_*``/``right_*`` pairs; default Kaggle's 15 keypoints.

    Returns
    -------
    images : ndarray, (N, 1, H, H), same dtype
        ``images[..., ::-1]`` (pixel column ``j -> H - 1 - j``), a new
        contiguous array.
    keypoints : ndarray, (N, 2K), same dtype, or None
        ``x -> H - x``, ``y`` unchanged, then columns permuted by
        ``schema.flip_columns``, so that the new ``left_eye_center`` is the
        mirrored old ``right_eye_center``.  NaN stays NaN.

    Notes
    -----
    Flipping twice gives back the images exactly, and float64 keypoints
    exactly.  For float32 keypoints ``96 - x`` must round when ``x < 32``,
    so that a double flip is exact for ``x >= 32`` and otherwise within
    ``2**-18`` px (3.8e-6 px); no float32 mirror can do better, as [0, 48)
    holds far more float32 values than (48, 96].

    Raises
    ------
    ValueError
        If the shapes are wrong or the keypoints do not match the schema.

    Examples
    --------
    >>> import numpy as np
    >>> images = np.arange(4, dtype=np.float32).reshape(1, 1, 2, 2)
    >>> kp = np.array([[0.5, 1.0] * 15], np.float32)
    >>> out, kp2 = flip_horizontal(images, kp)
    >>> out[0, 0].tolist(), kp2[0, :2].tolist()
    ([[1.0, 0.0], [3.0, 2.0]], [1.5, 1.0])
    """
    images = check_images(images)
    flipped = np.ascontiguousarray(images[..., ::-1])
    if keypoints is None:
        return flipped, None
    schema = schema or KeypointSchema.kaggle()
    keypoints = check_keypoints(keypoints, len(images), schema.n_outputs)
    mirrored = np.array(keypoints, copy=True)
    mirrored[:, 0::2] = mirrored.dtype.type(images.shape[-1]) - mirrored[:, 0::2]
    return flipped, mirrored[:, schema.flip_columns]


# -- affine transforms -------------------------------------------------------

def affine_matrix(angle_deg, scale=1.0, shift_xy=(0.0, 0.0), frame=96):
    """The 2x3 affine that moves both a face and its keypoints.

    ``p' = M[:, :2] @ p + M[:, 2]``: scale by ``scale`` and rotate by
    ``angle_deg`` about the frame centre ``(frame/2, frame/2)``, then shift
    by ``shift_xy``.

    Parameters
    ----------
    angle_deg : float
        Degrees; positive turns the face counter-clockwise *as displayed*
        (y pointing down), as :func:`cv2.getRotationMatrix2D`.
    scale : float
        Zoom factor, > 0; ``1.1`` makes the face 10% larger.
    shift_xy : (float, float)
        Translation ``(dx, dy)`` in pixels; ``dx > 0`` moves right,
        ``dy > 0`` moves down.
    frame : int
        Image side in pixels.

    Returns
    -------
    ndarray, (2, 3) float64
        In keypoint coordinates (pixel ``j`` covers ``[j, j + 1)``).

    Raises
    ------
    ValueError
        If ``scale`` is not positive.

    Examples
    --------
    A point right of the centre goes up under a 90 degree turn:

    >>> M = affine_matrix(90, 1.0, (0, 0))
    >>> np.round(M @ [72, 48, 1], 6).tolist()
    [48.0, 24.0]
    >>> affine_matrix(0, 1.0, (3, -2)).tolist()
    [[1.0, 0.0, 3.0], [0.0, 1.0, -2.0]]
    """
    if not scale > 0:
        raise ValueError("scale must be positive, got %r" % (scale,))
    theta = np.deg2rad(angle_deg)
    a, b = scale * np.cos(theta), scale * np.sin(theta)
    c = frame / 2.0
    dx, dy = shift_xy
    return np.array([[a, b, (1 - a) * c - b * c + dx],
                     [0.0 - b, a, b * c + (1 - a) * c + dy]],
                    dtype=np.float64)


def _cv2_matrix(matrix):
    """Keypoint-convention affine -> OpenCV's (pixel centres at integers).

    With ``u = x - 0.5``: ``u' = A u + (b + A @ [.5, .5] - [.5, .5])``.
    """
    matrix = np.array(matrix, dtype=np.float64)
    matrix[:, 2] += matrix[:, :2].sum(axis=1) * 0.5 - 0.5
    return matrix


def transform_keypoints(keypoints, matrices, frame=96):
    """Apply one affine per face to its keypoints; off-frame -> NaN.

    Parameters
    ----------
    keypoints : ndarray, (N, 2K)
        Pixels, NaN where unlabelled.
    matrices : ndarray, (N, 2, 3) or (2, 3)
        From :func:`affine_matrix`; a single matrix applies to all faces.
    frame : int
        A keypoint is kept if both coordinates land in ``[0, frame]``;
        otherwise both become NaN (unlabelled).

    Returns
    -------
    ndarray, (N, 2K) float32

    Raises
    ------
    ValueError
        On mismatched shapes.

    Examples
    --------
    >>> kp = np.array([[10.0, 20.0, 90.0, 50.0]])
    >>> transform_keypoints(kp, affine_matrix(0, 1.0, (8, 0))).tolist()
    [[18.0, 20.0, nan, nan]]
    """
    keypoints = np.asarray(keypoints, dtype=np.float64)
    keypoints = check_keypoints(keypoints, len(keypoints))
    matrices = np.broadcast_to(np.asarray(matrices, dtype=np.float64),
                               (len(keypoints), 2, 3))
    points = keypoints.reshape(len(keypoints), -1, 2)
    moved = (np.einsum("nij,nkj->nki", matrices[:, :, :2], points)
             + matrices[:, None, :, 2])
    with np.errstate(invalid="ignore"):
        outside = ((moved < 0) | (moved > frame)).any(axis=2)
    moved[outside | np.isnan(moved).any(axis=2)] = np.nan
    return moved.reshape(keypoints.shape).astype(np.float32)


def warp_images(images, matrices, border="replicate"):
    """Warp each face by its affine (bilinear, OpenCV).

    Parameters
    ----------
    images : ndarray, (N, 1, H, H)
    matrices : ndarray, (N, 2, 3) or (2, 3)
        From :func:`affine_matrix` (keypoint convention); converted to
        OpenCV's pixel-centre convention here.
    border : {'replicate', 'reflect', 'constant'}
        How pixels pulled from outside the frame are filled: repeat the edge
        pixel (default: adds no face-like structure), mirror the image
        (``BORDER_REFLECT_101``; can add a mirrored eye or mouth), or 0.

    Returns
    -------
    ndarray, (N, 1, H, H) float32
        Bilinear interpolation of values in [0, 1] stays in [0, 1].

    Raises
    ------
    ValueError
        On a bad shape or an unknown ``border``.
    """
    images = check_images(images)
    if border not in BORDERS:
        raise ValueError("border must be one of %s, got %r"
                         % (", ".join(sorted(BORDERS)), border))
    matrices = np.broadcast_to(np.asarray(matrices, dtype=np.float64),
                               (len(images), 2, 3))
    size = images.shape[-1]
    out = np.empty(images.shape, dtype=np.float32)
    for i, matrix in enumerate(matrices):
        out[i, 0] = cv2.warpAffine(
            np.ascontiguousarray(images[i, 0], dtype=np.float32),
            _cv2_matrix(matrix), (size, size), flags=cv2.INTER_LINEAR,
            borderMode=BORDERS[border])
    return out
