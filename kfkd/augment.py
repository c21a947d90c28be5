"""Data augmentation (random transforms of each mini-batch) and exposure
correction for 96x96 faces and keypoints.

numpy and OpenCV only: no Theano here.  Every function takes and returns
``images`` of shape ``(N, 1, 96, 96)``, float32 in [0, 1], and ``keypoints``
of shape ``(N, 2K)`` in **pixels** (``x0, y0, x1, y1, ...``), NaN where
unlabelled; inputs are never modified.

The transforms themselves (mirror, affine warps) and their coordinate
convention are in :mod:`kfkd.transforms`.

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
from .transforms import (BORDERS, affine_matrix, check_images,
                         check_keypoints, flip_horizontal,
                         transform_keypoints, warp_images)

__all__ = ["Augmenter", "equalize_exposure", "EXPOSURE_METHODS", "RANGES"]

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
        if self.border not in BORDERS:
            raise ValueError("border must be one of %s, got %r"
                             % (", ".join(sorted(BORDERS)), self.border))

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
            keypoints = check_keypoints(keypoints, n, schema.n_outputs)
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
