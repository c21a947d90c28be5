"""Censors: what fills an occluded patch.

Every censor is a blend of the face ``I`` with a fill image ``F`` through a
separable window that is zero outside the censor's square::

    C(y, x) = w(y, x) F(y, x) + (1 - w(y, x)) I(y, x),   w = p(s_y) p(s_x)

with ``s_y``, ``s_x`` the pixel's depths inside the square
(:mod:`kfkd.occlusion.geometry`; ``p = 0`` for ``s <= 0``).  The square is
the nominal patch, or with ``scale != 1`` (:meth:`Censor.scaled`) the
square of side ``scale * size`` centred on it.  No censor changes a pixel
outside its square.

==============  ============================  ===============================
name            fill ``F``                    profile ``p(s)`` in the square
==============  ============================  ===============================
black           0                             hard: 1 (pixel coverage)
grey            dataset mean grey level       hard
noise           uniform [0, 1], fixed seed    hard
blur            ``G_sigma * I``, sigma 6 px   hard
edge_free       ``G_sigma * I``, sigma 6 px   Hann window over the whole
                                              square, 0 at its border
edge_free_      ``G_sigma * I``, sigma 6 px   0 on the outer ``m`` = 2 px,
margin                                        raised cosine over ``b`` = 2 px,
                                              1 in the core
==============  ============================  ===============================

numpy and scipy only: no Theano.

Examples
--------
>>> faces = np.full((2, 1, 96, 96), 0.5, np.float32)
>>> censored = make_censor("edge_free").apply(faces, 40, 40, 12)
>>> censored.shape, censored.dtype
((2, 1, 96, 96), dtype('float32'))
"""
import copy
import math

import numpy as np
from scipy import ndimage

from ..transforms import check_images
from ..keypoints import FRAME
from .geometry import axis_distance, scaled_square, square_slices

__all__ = ["Censor", "BlackCensor", "GreyCensor", "NoiseCensor", "BlurCensor",
           "EdgeFreeCensor", "MarginEdgeFreeCensor", "CENSORS",
           "make_censor"]


class Censor(object):
    """What fills an occluded patch: ``C = w F + (1 - w) I``.

    Subclasses define :meth:`fill` (the image ``F``) and, for soft censors,
    :meth:`profile` (and set ``hard = False``).  The window ``w`` is zero
    outside the censor's square: the nominal patch, or the square of side
    ``scale * size`` centred on it (:meth:`scaled`, used to match the
    occlusion strength of censors, :mod:`kfkd.occlusion.strength`).

    Attributes
    ----------
    name : str
    hard : bool
        True if ``w`` is 1 on every pixel the square covers whole (the fill
        is copied exactly there).
    scale : float
        Side of the censor's square over the nominal patch side (default 1:
        the patch itself).  Soft profiles stretch with it; hard censors
        cover the pixels the square covers (fractions at its border).
    """

    name = "censor"
    hard = True
    scale = 1.0

    def fill(self, images):
        """The fill ``F``, ``(N, 1, H, H) float32``, for faces ``images``."""
        raise NotImplementedError

    def profile(self, s, size):
        """1-D weight of a pixel at depth ``s`` (pixels) inside a square of
        side ``size``.

        ``s`` is the distance of the pixel centre from the square's border,
        inward (0.5 for the outermost row of a whole-pixel square); ``s <=
        -0.5`` is outside.  Hard censors: the share of the pixel the square
        covers, ``clip(s + 0.5, 0, 1)`` (1 inside, 0 outside on whole
        pixels).
        """
        return np.clip(np.asarray(s, np.float64) + 0.5, 0.0, 1.0)

    def scaled(self, scale):
        """A copy of this censor working on a square of side ``scale *
        size`` centred on the patch.

        Raises
        ------
        ValueError
            ``scale`` not a finite number > 0.
        """
        scale = float(scale)
        if not (math.isfinite(scale) and scale > 0):
            raise ValueError("scale must be > 0, got %r" % (scale,))
        out = copy.copy(self)
        out.scale = scale
        return out

    def check_patch(self, size):
        """Raise ValueError if the censor cannot censor a ``size`` px patch
        (hard censors: any ``size >= 1``)."""
        if int(size) < 1:
            raise ValueError("patch size must be >= 1, got %r" % (size,))

    def square(self, y0, x0, size):
        """The censor's square ``(ya, xa, side)`` (pixels, continuous) for
        the patch at ``(y0, x0)`` of side ``size``."""
        return scaled_square(y0, x0, size, self.scale)

    def support(self, y0, x0, size):
        """The square ``(ya, xa, side)`` outside which ``w = 0`` (pixels,
        continuous): where the edge energy's ring is centred
        (:mod:`kfkd.occlusion.edges`).  The censor's square, unless a
        subclass leaves a margin of it untouched."""
        return self.square(y0, x0, size)

    def axis_weights(self, start, size, n):
        """1-D window along one axis of ``n`` pixels for a patch starting at
        ``start`` of side ``size``: ``(n,) float64`` in [0, 1]."""
        a, _, side = scaled_square(start, start, size, self.scale)
        depth = -axis_distance(a, side, n)
        if self.hard:
            return self.profile(depth, side)
        return self.profile(depth / self.scale, size)

    def _region(self, y0, x0, size, shape):
        """Slices of the censor's square in an image of ``shape = (H, W)``
        (clipped to the image), and the window ``w`` there."""
        self.check_patch(size)
        rows, cols = square_slices(*self.square(y0, x0, size), shape=shape)
        wy = self.axis_weights(y0, size, shape[0])[rows]
        wx = self.axis_weights(x0, size, shape[1])[cols]
        return (rows, cols), np.outer(wy, wx)

    def window(self, y0, x0, size, frame=FRAME):
        """The full window ``w``, ``(frame, frame) float64`` in [0, 1]
        (zero outside the censor's square)."""
        w = np.zeros((frame, frame))
        (rows, cols), local = self._region(y0, x0, size, (frame, frame))
        w[rows, cols] = local
        return w

    def _blend_into(self, out, fill, y0, x0, size):
        """Censor ``out`` (``(..., H, W)``) in place with ``fill``; ``(y0,
        x0)`` may lie outside ``out`` (a crop of a larger image)."""
        (rows, cols), w = self._region(y0, x0, size, out.shape[-2:])
        if self.hard and (w == 1).all():    # copy exactly, no round-off
            out[..., rows, cols] = fill[..., rows, cols]
            return out
        w = w.astype(out.dtype)     # w = 0 gives back the face exactly
        region = out[..., rows, cols]
        out[..., rows, cols] = w * fill[..., rows, cols] + (1 - w) * region
        return out

    def apply(self, images, y0, x0, size):
        """Censored copy of faces at one patch position.

        Parameters
        ----------
        images : ndarray, (N, 1, H, H) float32 in [0, 1]
        y0, x0 : int
            Top-left corner of the patch (pixels).
        size : int
            Patch side (pixels).

        Returns
        -------
        ndarray, (N, 1, H, H) float32; ``images`` is not modified.

        Raises
        ------
        ValueError
            ``images`` not ``(N, 1, H, H)``.
        """
        images = check_images(images)
        out = np.array(images, dtype=np.float32)
        return self._blend_into(out, self.fill(out), int(y0), int(x0),
                                int(size))

    def apply_positions(self, image, positions, size, fill=None):
        """One face censored at many positions (the heat-map batch).

        Parameters
        ----------
        image : ndarray, (1, H, H) or (1, 1, H, H) float32 in [0, 1]
        positions : ndarray, (P, 2) int, ``(y0, x0)``
        size : int
        fill : ndarray, (1, H, H), optional
            ``self.fill`` of this face, if already computed.

        Returns
        -------
        ndarray, (P, 1, H, H) float32
        """
        image = np.asarray(image, dtype=np.float32).reshape(
            (1,) + np.shape(image)[-2:])
        if fill is None:
            fill = self.fill(image[None])[0]
        out = np.repeat(image[None], len(positions), axis=0)
        for p, (y0, x0) in enumerate(positions):
            self._blend_into(out[p], fill, int(y0), int(x0), int(size))
        return out

    def _params(self):
        """``name=value`` strings of the constructor's parameters."""
        return []

    def __repr__(self):
        params = self._params()
        if self.scale != 1.0:
            params.append("scale=%r" % self.scale)
        return "%s(%s)" % (type(self).__name__, ", ".join(params))


class BlackCensor(Censor):
    """Hard black patch (grey level 0), Zeiler & Fergus's simplest occluder."""

    name = "black"

    def fill(self, images):
        return np.zeros(np.shape(images), np.float32)


class GreyCensor(Censor):
    """Hard patch of one grey level (Zeiler & Fergus 2014 use the mean).

    Parameters
    ----------
    level : float in [0, 1], optional
        The dataset's mean grey level (e.g. ``train.images.mean()``).  If
        None, the mean of the images being censored is used.
    """

    name = "grey"

    def __init__(self, level=None):
        if level is not None and not 0.0 <= float(level) <= 1.0:
            raise ValueError("grey level must be in [0, 1], got %r" % level)
        self.level = None if level is None else float(level)

    def fill(self, images):
        level = (float(np.mean(images)) if self.level is None
                 else self.level)
        return np.full(np.shape(images), level, np.float32)

    def _params(self):
        return ["level=%r" % self.level]


class NoiseCensor(Censor):
    """Hard patch of uniform noise in [0, 1].

    The noise is one ``H x H`` field drawn from ``RandomState(seed)``; a patch
    shows the part of the field under it.  Hence the result depends only on
    ``seed`` and the position (deterministic, the same for every face).
    """

    name = "noise"

    def __init__(self, seed=0):
        self.seed = int(seed)

    def fill(self, images):
        side = np.shape(images)[-1]
        field = np.random.RandomState(self.seed).uniform(
            0.0, 1.0, (side, side)).astype(np.float32)
        return np.broadcast_to(field, np.shape(images))

    def _params(self):
        return ["seed=%d" % self.seed]


class BlurCensor(Censor):
    """Hard patch showing a strongly blurred copy of the face.

    Parameters
    ----------
    sigma : float
        Gaussian standard deviation (pixels); the default 6 px removes the
        detail of a 12 px patch (eyes, lips) but keeps its mean brightness.
    """

    name = "blur"

    def __init__(self, sigma=6.0):
        if sigma <= 0:
            raise ValueError("sigma must be > 0, got %r" % sigma)
        self.sigma = float(sigma)

    def fill(self, images):
        images = np.asarray(images, dtype=np.float32)
        return ndimage.gaussian_filter(
            images, (0,) * (images.ndim - 2) + (self.sigma, self.sigma),
            mode="nearest")

    def _params(self):
        return ["sigma=%r" % self.sigma]


class MarginEdgeFreeCensor(BlurCensor):
    """The first edge-free censor (``edge_free_margin``): a blurred fill
    blended in through a smooth window that lies inside the patch.

    ``C = w F + (1 - w) I`` with ``F = G_sigma * I`` (Gaussian blur) and the
    separable window ``w(y, x) = p(s_y) p(s_x)``, where ``s`` is the depth
    (pixels) of the pixel centre inside the patch along that axis (0.5 for
    the outermost row, ``s <= 0`` outside) and::

        p(s) = (1 - cos(pi u)) / 2,   u = clip((s - margin) / band, 0, 1)

    i.e. ``p = 0`` for ``s <= margin``, a raised cosine for ``margin < s <
    margin + band`` and ``p = 1`` for ``s >= margin + band``.  The window is
    0 on and outside the patch border and on the patch's outer ``margin``
    px (nothing there changes), has zero slope at both ends of the band, and
    is 1 in the fully censored core: the patch shrunk by ``margin + band``
    px on each side (4 x 4 px for a 12 px patch with the defaults; the band
    pixels have weights 0.146 and 0.854).

    Since ``grad(C - I) = w grad(F - I) + (F - I) grad(w)`` and ``w``,
    ``grad(w)`` vanish near the border, the censor adds no edge there.  The
    margin keeps the 2 px edge-energy ring inside the patch untouched
    (:func:`kfkd.occlusion.edges.added_edge_energy`); the price is a weak
    occluder (mean weight 0.25 over a 12 px patch), hence the comparison at
    matched strength in :mod:`kfkd.occlusion.strength`.  With ``scale``
    (:meth:`Censor.scaled`) margin, band and core stretch with the square.

    Parameters
    ----------
    sigma : float
        Gaussian blur of the fill (pixels).
    margin : float
        Outer part of the patch left unchanged (pixels, >= 0).
    band : float
        Width (pixels, > 0) of the raised-cosine band, which starts
        ``margin`` px inside the patch border.

    Raises
    ------
    ValueError
        Bad parameters; when applied, a patch with no fully censored core
        (``size < 2 (margin + band) + 1`` for integer ``margin + band``).
    """

    name = "edge_free_margin"
    hard = False

    def __init__(self, sigma=6.0, margin=2.0, band=2.0):
        super(MarginEdgeFreeCensor, self).__init__(sigma)
        if margin < 0 or band <= 0:
            raise ValueError("need margin >= 0 and band > 0, got margin=%r "
                             "band=%r" % (margin, band))
        self.margin, self.band = float(margin), float(band)

    def profile(self, s, size=None):
        """``p(s)`` above; ``size`` is not used (the window is set by
        ``margin`` and ``band``)."""
        u = np.clip((np.asarray(s, np.float64) - self.margin) / self.band,
                    0.0, 1.0)
        return 0.5 * (1.0 - np.cos(np.pi * u))

    def core(self, size):
        """Side (pixels) of the fully censored core (``w = 1``) of a
        ``size`` px patch (at scale 1: ``size - 2 ceil(margin + band -
        1/2)``), >= 0."""
        pad = int(math.ceil(abs(self.scale - 1.0) * size / 2.0)) + 1
        return int((self.axis_weights(pad, size, size + 2 * pad)
                    >= 1.0).sum())

    def check_patch(self, size):
        super(MarginEdgeFreeCensor, self).check_patch(size)
        if self.core(size) < 1:
            raise ValueError(
                "%r: a %d px patch has no fully censored core (needs >= %d px "
                "at scale 1)" % (self, size, 2 * int(math.ceil(
                    self.margin + self.band - 0.5)) + 1))

    def support(self, y0, x0, size):
        """The square shrunk by the (scaled) margin on each side."""
        ya, xa, side = self.square(y0, x0, size)
        m = self.margin * self.scale
        return ya + m, xa + m, side - 2 * m

    def _params(self):
        return ["sigma=%r" % self.sigma, "margin=%r" % self.margin,
                "band=%r" % self.band]


class EdgeFreeCensor(BlurCensor):
    """The edge-free censor (``edge_free``): the blurred fill blended in
    through a Hann (raised-cosine) window over the whole square.

    ``C = w F + (1 - w) I``, ``F = G_sigma * I``, ``w(y, x) = p(s_y)
    p(s_x)`` with, for a square of side ``L`` and depth ``s`` (pixels) of the
    pixel centre inside it::

        p(s) = sin^2(pi s / L) = (1 - cos(2 pi s / L)) / 2,   0 < s <= L / 2

    and 0 outside: the window falls to zero, with zero slope, exactly at the
    square's border and is 1 only at its centre (a Tukey window with no flat
    top; mean weight 1/4 in the continuum, as MONAI's Gaussian occlusion
    mask it has no hard border).  Unlike :class:`MarginEdgeFreeCensor` it
    has no untouched margin and no steep band: at matched strength (every
    censor removing the hard grey patch's detail,
    :mod:`kfkd.occlusion.strength`) it adds several times less edge energy
    per unit of detail removed than the margin window, which is why it is
    the default (``kfkd benchmark-occlusion`` measures both; numbers in the
    README).

    Parameters
    ----------
    sigma : float
        Gaussian blur of the fill (pixels).
    """

    name = "edge_free"
    hard = False

    def profile(self, s, size):
        s = np.clip(np.asarray(s, np.float64), 0.0, size / 2.0)
        return np.sin(np.pi * s / size) ** 2


#: name -> censor class
CENSORS = {"black": BlackCensor, "grey": GreyCensor, "noise": NoiseCensor,
           "blur": BlurCensor, "edge_free": EdgeFreeCensor,
           "edge_free_margin": MarginEdgeFreeCensor}


def make_censor(censor, grey_level=None, seed=0):
    """A censor from its name (or a censor, returned as is).

    Parameters
    ----------
    censor : str or Censor
        A key of :data:`CENSORS`.
    grey_level : float, optional
        For ``'grey'``: the dataset mean grey level in [0, 1].
    seed : int
        For ``'noise'``.

    Raises
    ------
    ValueError
        Unknown name.
    """
    if isinstance(censor, Censor):
        return censor
    if censor not in CENSORS:
        raise ValueError("unknown censor %r; known: %s"
                         % (censor, ", ".join(sorted(CENSORS))))
    if censor == "grey":
        return GreyCensor(grey_level)
    if censor == "noise":
        return NoiseCensor(seed)
    return CENSORS[censor]()


