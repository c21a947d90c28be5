"""Data augmentation and exposure correction for 96x96 faces and keypoints.

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

Examples
--------
>>> import numpy as np
>>> images = np.zeros((4, 1, 96, 96), np.float32)
>>> keypoints = np.full((4, 30), 48.0, np.float32)
>>> aug = Augmenter(flip=True, rotation=15, shift=5, scale=0.1)
>>> out, kp = aug.transform(images, keypoints, np.random.RandomState(0))
>>> out.shape, out.dtype, kp.shape, kp.dtype
((4, 1, 96, 96), dtype('float32'), (4, 30), dtype('float32'))
"""
import math
import numbers

import cv2
import numpy as np

from .keypoints import KeypointSchema

__all__ = ["flip_horizontal", "affine_matrix", "transform_keypoints",
           "warp_images", "Augmenter", "equalize_exposure",
           "EXPOSURE_METHODS", "check_images", "RANGES"]

#: Methods understood by :func:`equalize_exposure`.
EXPOSURE_METHODS = ("clahe", "hist")

#: Range of each numeric :class:`Augmenter` strength, ``(low, high,
#: high_open)``: a finite number >= ``low`` and <= ``high`` (< ``high`` when
#: ``high_open``; no upper bound when ``high`` is None).  ``kfkd train``
#: checks its options against these ranges.
RANGES = {"rotation": (0.0, 180.0, False),  # degrees
          "shift": (0.0, None, False),  # pixels
          "scale": (0.0, 1.0, True),  # relative zoom
          "brightness": (0.0, 1.0, False),  # the [0, 1] intensity scale
          "contrast": (0.0, 1.0, False)}  # relative contrast

_BORDERS = {"replicate": cv2.BORDER_REPLICATE,
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


def _check_keypoints(keypoints, n, n_outputs=None):
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
    keypoints = _check_keypoints(keypoints, len(images), schema.n_outputs)
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
    keypoints = _check_keypoints(keypoints, len(keypoints))
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
    if border not in _BORDERS:
        raise ValueError("border must be one of %s, got %r"
                         % (", ".join(sorted(_BORDERS)), border))
    matrices = np.broadcast_to(np.asarray(matrices, dtype=np.float64),
                               (len(images), 2, 3))
    size = images.shape[-1]
    out = np.empty(images.shape, dtype=np.float32)
    for i, matrix in enumerate(matrices):
        out[i, 0] = cv2.warpAffine(
            np.ascontiguousarray(images[i, 0], dtype=np.float32),
            _cv2_matrix(matrix), (size, size), flags=cv2.INTER_LINEAR,
            borderMode=_BORDERS[border])
    return out


# -- the augmenter -------------------------------------------------------------

class Augmenter(object):
    """Random flips, affines and intensity changes, per mini-batch.

    Hyperparameters are stored as attributes of the same names
    (scikit-learn style); every face of a batch draws its own parameters.

    Parameters
    ----------
    flip : bool or float
        Probability of mirroring each face (``True`` = 0.5).
    rotation : float
        Maximum angle in degrees; angles are uniform in
        ``[-rotation, rotation]``.
    shift : float
        Maximum shift in pixels; ``dx`` and ``dy`` are independently uniform
        in ``[-shift, shift]``.
    scale : float in [0, 1)
        Maximum relative zoom: factors uniform in ``[1 - scale, 1 + scale]``.
    brightness : float
        Maximum additive change of intensity (units of the [0, 1] scale):
        uniform in ``[-brightness, brightness]``.
    contrast : float in [0, 1]
        Maximum relative change of contrast about each image's mean:
        factor ``c`` uniform in ``[1 - contrast, 1 + contrast]``,
        ``x -> mean + c (x - mean)``.
    border : {'replicate', 'reflect', 'constant'}
        Border mode of the warp (see :func:`warp_images`).
    schema : KeypointSchema, optional
        Left/right pairs for flipping; default Kaggle's 15 keypoints.

    Notes
    -----
    Per face: mirror (``x -> 96 - x`` and left/right columns swapped, see
    :func:`flip_horizontal`), then the affine of :func:`affine_matrix`
    (rotation and zoom about the centre, then shift) on image and keypoints
    alike, then contrast, then brightness, then clipping to [0, 1].
    Keypoints pushed outside ``[0, 96]`` become NaN (both coordinates).
    The random stream consumed per batch does not depend on the strengths
    (seven uniform draws per face, always), so a given seed gives the same
    angles whatever the shift is.

    Examples
    --------
    >>> aug = Augmenter(rotation=10)
    >>> aug.get_params()['rotation'], aug.get_params()['flip']
    (10, True)
    >>> images = np.random.RandomState(1).rand(2, 1, 96, 96).astype(np.float32)
    >>> out, _ = Augmenter(flip=False).transform(images, None, 0)
    >>> np.array_equal(out, images), out is images
    (True, False)
    """

    def __init__(self, flip=True, rotation=0.0, shift=0.0, scale=0.0,
                 brightness=0.0, contrast=0.0, border="replicate", schema=None):
        self.flip = flip
        self.rotation = rotation
        self.shift = shift
        self.scale = scale
        self.brightness = brightness
        self.contrast = contrast
        self.border = border
        self.schema = schema

    _param_names = ("flip", "rotation", "shift", "scale", "brightness",
                    "contrast", "border", "schema")

    def get_params(self, deep=True):
        """Hyperparameters as a dict ``{name: value}``."""
        return {name: getattr(self, name) for name in self._param_names}

    def set_params(self, **params):
        """Set hyperparameters by name; returns ``self``.

        Raises
        ------
        ValueError
            For an unknown name.
        """
        for name, value in params.items():
            if name not in self._param_names:
                raise ValueError("unknown Augmenter parameter %r" % name)
            setattr(self, name, value)
        return self

    def __repr__(self):
        return "Augmenter(%s)" % ", ".join(
            "%s=%r" % (name, getattr(self, name)) for name in self._param_names)

    @property
    def flip_probability(self):
        """``flip`` as a probability in [0, 1]."""
        if isinstance(self.flip, (bool, np.bool_)):
            return 0.5 if self.flip else 0.0
        return float(self.flip)

    def _check(self):
        p = self.flip_probability
        if not 0 <= p <= 1:
            raise ValueError("flip must be a bool or a probability in [0, 1], "
                             "got %r" % (self.flip,))
        for name, (lo, hi, hi_open) in RANGES.items():
            value = getattr(self, name)
            ok = (isinstance(value, numbers.Real) and math.isfinite(value)
                  and lo <= value and (hi is None or (
                      value < hi if hi_open else value <= hi)))
            if not ok:
                raise ValueError("%s must be a finite number %s, got %r" % (
                    name, ">= %g" % lo if hi is None else "in [%g, %g%s" % (
                        lo, hi, ")" if hi_open else "]"), value))
        if self.border not in _BORDERS:
            raise ValueError("border must be one of %s, got %r"
                             % (", ".join(sorted(_BORDERS)), self.border))

    def sample_params(self, n, rng):
        """Draw the random parameters of ``n`` faces.

        Parameters
        ----------
        n : int
        rng : numpy.random.RandomState, numpy.random.Generator, int or None
            An int or None seeds a new ``RandomState``.

        Returns
        -------
        dict of ndarray
            ``flip`` (n,) bool, ``angle`` (n,) degrees, ``scale`` (n,)
            factors, ``shift`` (n, 2) pixels ``(dx, dy)``, ``contrast`` (n,)
            factors, ``brightness`` (n,) additive.

        Raises
        ------
        ValueError
            If a hyperparameter is out of range.
        """
        self._check()
        if rng is None or isinstance(rng, numbers.Integral):
            rng = np.random.RandomState(rng)
        return {
            "flip": rng.uniform(0.0, 1.0, n) < self.flip_probability,
            "angle": rng.uniform(-self.rotation, self.rotation, n),
            "scale": rng.uniform(1 - self.scale, 1 + self.scale, n),
            "shift": rng.uniform(-self.shift, self.shift, (n, 2)),
            "contrast": rng.uniform(1 - self.contrast, 1 + self.contrast, n),
            "brightness": rng.uniform(-self.brightness, self.brightness, n),
        }

    def apply(self, images, keypoints, params):
        """Transform faces with given parameters (see :meth:`sample_params`).

        Parameters
        ----------
        images : ndarray, (N, 1, 96, 96), values in [0, 1]
        keypoints : ndarray, (N, 2K) pixels, NaN where unlabelled; or None
        params : dict
            As returned by :meth:`sample_params` for ``N`` faces.

        Returns
        -------
        images : ndarray, (N, 1, 96, 96) float32 in [0, 1], new
        keypoints : ndarray, (N, 2K) float32 pixels, new; or None

        Raises
        ------
        ValueError
            On bad shapes or hyperparameters, or parameters for another
            number of faces.
        """
        self._check()
        images = check_images(images)
        n, frame = len(images), images.shape[-1]
        schema = self.schema or KeypointSchema.kaggle()
        if keypoints is not None:
            keypoints = _check_keypoints(keypoints, n, schema.n_outputs)
            keypoints = keypoints.astype(np.float32)
        for name in ("flip", "angle", "scale", "shift", "contrast",
                     "brightness"):
            if len(params[name]) != n:
                raise ValueError("params[%r] has %d entries for %d faces"
                                 % (name, len(params[name]), n))
        out = images.astype(np.float32)      # always a copy
        flip = np.asarray(params["flip"], dtype=bool)
        if flip.any():
            kp = None if keypoints is None else keypoints[flip]
            out[flip], kp = flip_horizontal(out[flip], kp, schema)
            if keypoints is not None:
                keypoints[flip] = kp
        matrices = np.array([
            affine_matrix(a, s, d, frame) for a, s, d in
            zip(params["angle"], params["scale"], params["shift"])]).reshape(
                n, 2, 3)
        moved = ~np.all(matrices == affine_matrix(0, 1, (0, 0), frame),
                        axis=(1, 2))
        if moved.any():
            out[moved] = warp_images(out[moved], matrices[moved], self.border)
            if keypoints is not None:
                keypoints[moved] = transform_keypoints(
                    keypoints[moved], matrices[moved], frame)
        if self.contrast:
            mean = out.mean(axis=(1, 2, 3), keepdims=True)
            factor = np.asarray(params["contrast"], np.float32)[:, None, None,
                                                                None]
            out = mean + factor * (out - mean)
        if self.brightness:
            out += np.asarray(params["brightness"], np.float32)[:, None, None,
                                                                 None]
        np.clip(out, 0.0, 1.0, out=out)
        return out, keypoints

    def transform(self, images, keypoints, rng):
        """Augment one mini-batch, each face with its own random parameters.

        Parameters
        ----------
        images : ndarray, (N, 1, 96, 96), values in [0, 1]
        keypoints : ndarray, (N, 2K) pixels, NaN where unlabelled; or None
        rng : numpy.random.RandomState, numpy.random.Generator, int or None

        Returns
        -------
        images : ndarray, (N, 1, 96, 96) float32 in [0, 1], new
        keypoints : ndarray, (N, 2K) float32 pixels, new; or None
            Keypoints moved off the frame are NaN (both coordinates).

        Raises
        ------
        ValueError
            On bad shapes or hyperparameters.
        """
        images = check_images(images)
        return self.apply(images, keypoints,
                          self.sample_params(len(images), rng))


# -- exposure ------------------------------------------------------------------

def equalize_exposure(images, method="clahe", clip_limit=2.0, tile=8):
    """Correct the exposure of faces by histogram equalisation.

    Some Kaggle faces are badly over-exposed (washed out, most pixels near
    white); the replicated paper equalises their histograms so that the
    nets see comparable contrast everywhere.

    Parameters
    ----------
    images : ndarray, (N, 1, H, H), values in [0, 1]
    method : {'clahe', 'hist'}
        ``'clahe'``: contrast-limited adaptive histogram equalisation
        (:func:`cv2.createCLAHE`), local; ``'hist'``: global histogram
        equalisation (:func:`cv2.equalizeHist`).
    clip_limit : float
        CLAHE's contrast limit (> 0); ignored by ``'hist'``.
    tile : int
        CLAHE's grid: ``tile x tile`` tiles (8 -> 12x12-pixel tiles on a
        96x96 face); ignored by ``'hist'``.

    Returns
    -------
    ndarray, (N, 1, H, H) float32 in [0, 1]
        Computed on 8-bit grey levels (the data's own resolution).

    Raises
    ------
    ValueError
        For an unknown ``method``, a bad shape, ``clip_limit <= 0`` or
        ``tile < 1``.

    Examples
    --------
    >>> faces = np.linspace(0.7, 1.0, 96 * 96, dtype=np.float32).reshape(
    ...     1, 1, 96, 96)
    >>> out = equalize_exposure(faces, "hist")
    >>> out.shape, out.dtype, float(out.min()), float(out.max())
    ((1, 1, 96, 96), dtype('float32'), 0.0, 1.0)
    """
    if method not in EXPOSURE_METHODS:
        raise ValueError("method must be one of %s, got %r"
                         % (", ".join(EXPOSURE_METHODS), method))
    images = check_images(images)
    if method == "clahe":
        if not clip_limit > 0:
            raise ValueError("clip_limit must be > 0, got %r" % (clip_limit,))
        if not (isinstance(tile, numbers.Integral) and tile >= 1):
            raise ValueError("tile must be an int >= 1, got %r" % (tile,))
        equalize = cv2.createCLAHE(clipLimit=float(clip_limit),
                                   tileGridSize=(int(tile), int(tile))).apply
    else:
        equalize = cv2.equalizeHist
    grey = np.clip(np.rint(images * 255.0), 0, 255).astype(np.uint8)
    out = np.empty(images.shape, dtype=np.float32)
    for i in range(len(images)):
        out[i, 0] = equalize(np.ascontiguousarray(grey[i, 0]))
    out /= np.float32(255.0)
    return out
