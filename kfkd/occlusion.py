"""Occlusion sensitivity: heat maps, censors and the edge-free censor.

Zeiler & Fergus (2014, "Visualizing and understanding convolutional
networks", section 4.2) slide a grey square over the input and watch the
output change.  The 2015 project this package replicates used such heat maps
to see what its keypoint CNN had learned, compared *censors* (what fills the
occluded patch), and added an **edge-free censor**: a hard-edged patch is a
new edge the network responds to, so a plain map partly shows the censor
instead of the face.

numpy and scipy only (no Theano; image arguments are checked by
:func:`kfkd.augment.check_images`): the heat maps take any ``predict``
callable ``(M, 1, 96, 96) float32 in [0, 1] -> (M, 2K) pixels`` or an object
with such a ``predict`` method (a :class:`kfkd.model.Model`).

Geometry
--------
A patch at ``(y0, x0)`` of side ``size`` covers pixel rows ``y0 .. y0 +
size - 1`` and columns ``x0 .. x0 + size - 1``, i.e. the square ``[x0, x0 +
size] x [y0, y0 + size]`` in the continuous coordinates of
:mod:`kfkd.augment` (pixel ``(i, j)`` covers ``[j, j + 1) x [i, i + 1)``).
The signed distance of a pixel centre outside the patch along one axis is
``t = max(y0 - (i + .5), (i + .5) - (y0 + size))`` (negative inside);
:func:`patch_distance` gives the Chebyshev version ``max(t_y, t_x)``.  The
*depth* of a pixel inside the patch along one axis is ``s = -t`` (0.5 for
the patch's outermost row or column, ``size / 2`` at its centre).

Censors
-------
Every censor is a blend of the face ``I`` with a fill image ``F`` through a
separable window that is zero outside the patch::

    C(y, x) = w(y, x) F(y, x) + (1 - w(y, x)) I(y, x),   w = p(s_y) p(s_x)

with ``s_y``, ``s_x`` the pixel's depths inside the patch (``p = 0`` for
``s <= 0``, i.e. outside the patch).  No censor changes a pixel outside its
patch.

=========  ================================  ==================================
name       fill ``F``                        profile ``p(s)`` inside the patch
=========  ================================  ==================================
black      0                                 hard: 1
grey       dataset mean grey level ``g``     hard
noise      uniform [0, 1], fixed seed        hard
blur       ``G_sigma * I`` (Gaussian,        hard
           sigma = 6 px)
edge_free  ``G_sigma * I`` (sigma = 6 px)    raised cosine inside the patch,
                                             margin ``m`` = 2 px, band
                                             ``b`` = 2 px:
                                             ``(1 - cos(pi u)) / 2``,
                                             ``u = clip((s - m) / b, 0, 1)``
=========  ================================  ==================================

So the edge-free censor's weight is 0 on and outside the patch border and on
the patch's outer ``m`` = 2 px, rises with zero slope at both ends over the
next ``b`` = 2 px (0.146 and 0.854 at the pixel centres, depths 2.5 and 3.5
px) and is 1 in the fully censored core: the patch shrunk by ``m + b`` = 4
px on each side, 4 x 4 px for a 12 px patch.  Its fill is the face's own
low-pass copy.  Because ``C - I = w (F - I)`` and
``grad(C - I) = w grad(F - I) + (F - I) grad(w)``, both terms vanish where
``w`` and ``grad(w)`` do: the censor adds no step at the patch border, and
its smooth band lies deeper inside the patch than the edge-energy ring
below.

Added edge energy
-----------------
:func:`added_edge_energy` measures the edges a censor adds at its border,
as the issue defines it: the Sobel gradient magnitude ``S`` of the
difference image, summed (not squared) over a ring around the patch border,
averaged over patch positions and faces::

    E = mean over positions and faces of  sum over ring of  S(C - I)

The ring is the same for every censor: the pixels whose centres lie within
``ring`` = 2 px of the patch border on either side (Chebyshev signed
distance ``|t| < 2``: the patch's outer 2 px and the 2 px around it; 192 px
for a 12 px patch away from the frame edge).  Because ``S(C - I)`` also
counts the face's own edges that a censor removes in the ring, a censor
that hides the ring pays for them: this is why the edge-free censor leaves
the patch's outer ``m`` = 2 px unchanged.  A secondary measure,
``measure='new_edges'``, sums ``max(0, S(C) - S(I)) ** 2`` over the same
ring: only gradient that the censored image has beyond the original's.
``experiments/benchmark_occlusion.py`` prints both for every censor.

Examples
--------
>>> faces = np.full((2, 1, 96, 96), 0.5, np.float32)
>>> len(patch_positions(12, 2))   # 43 x 43
1849
>>> censored = make_censor("edge_free").apply(faces, 40, 40, 12)
>>> censored.shape, censored.dtype
((2, 1, 96, 96), dtype('float32'))
"""
import inspect
import math
import time

import numpy as np
from scipy import ndimage

from .augment import check_images
from .keypoints import FRAME

__all__ = ["Censor", "BlackCensor", "GreyCensor", "NoiseCensor", "BlurCensor",
           "EdgeFreeCensor", "CENSORS", "make_censor", "patch_positions",
           "patch_distance", "sobel_magnitude", "MEASURES",
           "added_edge_energy",
           "edge_energy_table", "OcclusionMaps", "occlusion_maps",
           "compare_censors", "load_occlusion_maps", "censor_examples",
           "write_figures", "add_script_args"]


def _axis_distance(start, size, n):
    """Signed distance (pixels) of pixel centres ``0 .. n-1`` outside
    ``[start, start + size]`` along one axis; negative inside."""
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
    return np.maximum(_axis_distance(y0, size, frame)[:, None],
                      _axis_distance(x0, size, frame)[None, :])


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


# -- censors -----------------------------------------------------------------

class Censor(object):
    """What fills an occluded patch: ``C = w F + (1 - w) I``.

    Subclasses define :meth:`fill` (the image ``F``) and, for soft censors,
    :meth:`profile` (and set ``hard = False``).  The window ``w`` is zero
    outside the patch: no censor changes a pixel outside its patch.

    Attributes
    ----------
    name : str
    hard : bool
        True if ``w`` is 1 on the whole patch (the fill is copied exactly).
    """

    name = "censor"
    hard = True

    def fill(self, images):
        """The fill ``F``, ``(N, 1, H, H) float32``, for faces ``images``."""
        raise NotImplementedError

    def profile(self, s):
        """1-D weight of a pixel at depth ``s`` (pixels) inside the patch.

        ``s`` is the distance of the pixel centre from the patch border,
        inward (0.5 for the outermost row); ``s <= 0`` is outside.  Hard
        censors: 1 inside, 0 outside.
        """
        return (np.asarray(s) > 0).astype(np.float64)

    def check_patch(self, size):
        """Raise ValueError if the censor cannot censor a ``size`` px patch
        (hard censors: any ``size >= 1``)."""
        if int(size) < 1:
            raise ValueError("patch size must be >= 1, got %r" % (size,))

    def _region(self, y0, x0, size, shape):
        """Slices of the patch in an image of ``shape = (H, W)`` (clipped
        to the image), and the window ``w`` there."""
        self.check_patch(size)
        r0, r1 = max(0, y0), min(shape[0], y0 + size)
        c0, c1 = max(0, x0), min(shape[1], x0 + size)
        wy = self.profile(-_axis_distance(y0, size, shape[0])[r0:r1])
        wx = self.profile(-_axis_distance(x0, size, shape[1])[c0:c1])
        return (slice(r0, r1), slice(c0, c1)), np.outer(wy, wx)

    def window(self, y0, x0, size, frame=FRAME):
        """The full window ``w``, ``(frame, frame) float64`` in [0, 1]
        (zero outside the patch)."""
        w = np.zeros((frame, frame))
        (rows, cols), local = self._region(y0, x0, size, (frame, frame))
        w[rows, cols] = local
        return w

    def _blend_into(self, out, fill, y0, x0, size):
        """Censor ``out`` (``(..., H, W)``) in place with ``fill``; ``(y0,
        x0)`` may lie outside ``out`` (a crop of a larger image)."""
        (rows, cols), w = self._region(y0, x0, size, out.shape[-2:])
        if self.hard:           # copy exactly, no float round-off
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

    def __repr__(self):
        return "%s()" % type(self).__name__


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

    def __repr__(self):
        return "GreyCensor(level=%r)" % self.level


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

    def __repr__(self):
        return "NoiseCensor(seed=%d)" % self.seed


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

    def __repr__(self):
        return "%s(sigma=%r)" % (type(self).__name__, self.sigma)


class EdgeFreeCensor(BlurCensor):
    """The edge-free censor: a blurred fill blended in through a smooth
    window that lies inside the patch.

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
    ``grad(w)`` vanish near the border, the censor adds no edge there: on
    the validation faces its added edge energy
    (:func:`added_edge_energy`, ring 2 px) is ~1.3% of the hard grey
    censor's (``experiments/benchmark_occlusion.py``).  The margin is what
    the 2 px ring requires: a window that rises from the border itself
    changes the ring and is charged for the face edges it removes there
    (see the benchmark's ``--variants``).

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

    name = "edge_free"
    hard = False

    def __init__(self, sigma=6.0, margin=2.0, band=2.0):
        super(EdgeFreeCensor, self).__init__(sigma)
        if margin < 0 or band <= 0:
            raise ValueError("need margin >= 0 and band > 0, got margin=%r "
                             "band=%r" % (margin, band))
        self.margin, self.band = float(margin), float(band)

    def profile(self, s):
        u = np.clip((np.asarray(s, np.float64) - self.margin) / self.band,
                    0.0, 1.0)
        return 0.5 * (1.0 - np.cos(np.pi * u))

    def core(self, size):
        """Side (pixels) of the fully censored core (``w = 1``) of a
        ``size`` px patch: ``size - 2 ceil(margin + band - 1/2)``, >= 0."""
        depth = np.minimum(np.arange(size) + 0.5, size - np.arange(size) - 0.5)
        return int((self.profile(depth) >= 1.0).sum())

    def check_patch(self, size):
        super(EdgeFreeCensor, self).check_patch(size)
        if self.core(size) < 1:
            raise ValueError(
                "%r: a %d px patch has no fully censored core (needs >= %d px)"
                % (self, size, 2 * int(math.ceil(self.margin + self.band
                                                 - 0.5)) + 1))

    def __repr__(self):
        return "EdgeFreeCensor(sigma=%r, margin=%r, band=%r)" % (
            self.sigma, self.margin, self.band)


#: name -> censor class
CENSORS = {"black": BlackCensor, "grey": GreyCensor, "noise": NoiseCensor,
           "blur": BlurCensor, "edge_free": EdgeFreeCensor}


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


# -- added edge energy -------------------------------------------------------

def sobel_magnitude(images):
    """Sobel gradient magnitude over the last two axes.

    Parameters
    ----------
    images : ndarray, (..., H, W)

    Returns
    -------
    ndarray, (..., H, W) float64: ``hypot(Sx, Sy)`` with the 3x3 Sobel
    kernels (``[1, 2, 1]`` smoothing, ``[-1, 0, 1]`` derivative; a unit step
    gives 4), border pixels replicated.  Other axes are not mixed (unlike
    :func:`scipy.ndimage.sobel` on a stack).
    """
    a = np.asarray(images, dtype=np.float64)
    d, s = [-1.0, 0.0, 1.0], [1.0, 2.0, 1.0]
    gx = ndimage.correlate1d(ndimage.correlate1d(a, d, axis=-1,
                                                 mode="nearest"),
                             s, axis=-2, mode="nearest")
    gy = ndimage.correlate1d(ndimage.correlate1d(a, d, axis=-2,
                                                 mode="nearest"),
                             s, axis=-1, mode="nearest")
    return np.hypot(gx, gy)


MEASURES = ("difference", "new_edges")


def _ring_energies(images, censor, patch, stride, ring):
    """Both edge energies of one censor: dict measure -> mean over
    positions and faces (see :func:`added_edge_energy`)."""
    ring = float(ring)
    if ring <= 0:
        raise ValueError("ring must be > 0, got %r" % (ring,))
    images = np.array(check_images(images)[:, 0], dtype=np.float32)
    frame = images.shape[-1]
    fill = np.ascontiguousarray(censor.fill(images[:, None])[:, 0])
    s_orig = sobel_magnitude(images)
    margin = int(math.ceil(ring)) + 2       # ring + the Sobel's reach + 1
    totals = dict.fromkeys(MEASURES, 0.0)
    count = 0
    for y0, x0 in patch_positions(patch, stride, frame):
        r0, r1 = max(0, y0 - margin), min(frame, y0 + patch + margin)
        c0, c1 = max(0, x0 - margin), min(frame, x0 + patch + margin)
        crop_i = images[:, r0:r1, c0:c1]
        crop_c = censor._blend_into(crop_i.copy(), fill[:, r0:r1, c0:c1],
                                    y0 - r0, x0 - c0, patch)
        t = patch_distance(y0, x0, patch, frame)[r0:r1, c0:c1]
        in_ring = np.abs(t) < ring
        diff = sobel_magnitude(crop_c - crop_i)[:, in_ring]
        new = np.maximum(sobel_magnitude(crop_c)[:, in_ring]
                         - s_orig[:, r0:r1, c0:c1][:, in_ring], 0.0)
        totals["difference"] += float(diff.sum())
        totals["new_edges"] += float((new ** 2).sum())
        count += len(images)
    return {k: v / count for k, v in totals.items()}


def added_edge_energy(images, censor, patch, stride, ring=2.0,
                      measure="difference", grey_level=None):
    """Edge energy a censor adds around its patch, mean per position and face.

    For each patch position (:func:`patch_positions`) and face, with ``C``
    the censored and ``I`` the original face and ``S`` the Sobel gradient
    magnitude (:func:`sobel_magnitude`)::

        difference  E = sum over ring of S(C - I)                (default)
        new_edges   E = sum over ring of max(0, S(C) - S(I)) ** 2

    ``'difference'`` is the issue's "added edge energy": the gradient
    magnitude of the difference image, summed (not squared).  The ring is
    the same for every censor: the pixels whose centres lie within ``ring``
    px of the patch border on either side, i.e. whose Chebyshev signed
    distance ``t`` (:func:`patch_distance`) has ``|t| < ring`` (192 px for
    a 12 px patch and ``ring=2`` away from the frame edge; fewer at the
    edge).  ``S(C - I)`` also counts the face's own edges the censor
    removes in the ring; ``'new_edges'`` (secondary) counts only gradient
    the censored image has beyond the original's at the same pixel.

    Parameters
    ----------
    images : ndarray, (N, 1, 96, 96) float32 in [0, 1]
    censor : str or Censor
    patch, stride : int
        Patch side and stride (pixels), as in :func:`patch_positions`.
    ring : float
        Ring half-width (pixels, > 0).
    measure : {'difference', 'new_edges'}
    grey_level : float, optional
        For ``censor='grey'``.

    Returns
    -------
    float
        Mean over positions and faces.  ``'difference'``: grey levels per
        pixel (Sobel units: a unit step scores 4 on each of the two pixels
        beside it) summed over the ring; ``'new_edges'``: their squares.

    Raises
    ------
    ValueError
        Bad ``images`` shape, ``ring``, ``measure`` or censor; a patch the
        censor cannot censor.
    """
    if measure not in MEASURES:
        raise ValueError("measure must be one of %s, got %r"
                         % (", ".join(MEASURES), measure))
    return _ring_energies(images, make_censor(censor, grey_level), patch,
                          stride, ring)[measure]


def edge_energy_table(images, censors, patch, stride, ring=2.0,
                      grey_level=None, reference="grey"):
    """:func:`added_edge_energy` of several censors, as table rows.

    Both measures come from one pass over the positions per censor.

    Returns
    -------
    list of dict
        Per censor: ``censor`` (name), ``repr``, ``difference`` (the added
        edge energy) and ``new_edges`` (secondary), and each as a ratio of
        the ``reference`` censor's (``difference_ratio``,
        ``new_edges_ratio``).
    """
    rows = []
    for name in censors:
        c = make_censor(name, grey_level)
        row = {"censor": c.name, "repr": repr(c)}
        row.update(_ring_energies(images, c, patch, stride, ring))
        rows.append(row)
    ref = make_censor(reference, grey_level)
    ref_row = next((r for r in rows if r["repr"] == repr(ref)), None)
    if ref_row is None:
        ref_row = _ring_energies(images, ref, patch, stride, ring)
    for r in rows:
        for k in MEASURES:
            r[k + "_ratio"] = r[k] / ref_row[k]
    return rows


# -- heat maps ---------------------------------------------------------------

class OcclusionMaps(object):
    """Occlusion-sensitivity heat maps of N faces.

    Parameters
    ----------
    **fields
        The fields named in :attr:`ARRAYS` and :attr:`SCALARS` (and
        ``keypoint_names``), as :func:`occlusion_maps` makes them or
        :func:`load_occlusion_maps` reads them; the pixel maps
        (``displacement`` ... ``aggregate_error_increase``) are computed from
        the per-position values.

    Raises
    ------
    ValueError
        A field is missing.

    Attributes
    ----------
    displacement : ndarray, (N, K, 96, 96) float32, pixels
        Per keypoint, how far the prediction moves when the patch covers a
        pixel: ``|p_k(censored) - p_k(clean)|`` (Euclidean), averaged over
        the patch positions whose patch covers that pixel (the nominal
        ``patch x patch`` square for every censor; the edge-free censor
        changes only its inner part, see :class:`EdgeFreeCensor`).
    error_increase : ndarray, (N, K, 96, 96) float32, pixels
        ``|p_k(censored) - y_k| - |p_k(clean) - y_k|`` with ``y_k`` the
        label, averaged the same way; NaN where keypoint ``k`` of a face is
        unlabelled.
    aggregate : ndarray, (N, 96, 96) float32, pixels
        ``displacement`` averaged over the K keypoints.
    aggregate_error_increase : ndarray, (N, 96, 96) float32, pixels
        ``error_increase`` averaged over the labelled keypoints (NaN if none).
    position_displacement, position_error_increase : ndarray, (N, P, K)
        The values per patch position before resampling.
    positions : ndarray, (P, 2) int
        Patch corners ``(y0, x0)``, :func:`patch_positions`.
    images : ndarray, (N, 1, 96, 96) float32
    clean_predictions : ndarray, (N, 2K) float32, pixels
    keypoints : ndarray, (N, 2K) float32, pixels, NaN where unlabelled
    patch, stride : int
    censor : str
        The censor's repr, e.g.
        ``"EdgeFreeCensor(sigma=6.0, margin=2.0, band=2.0)"``.
    censor_name : str
    keypoint_names : list of str
    seconds : float
        Wall time of censoring and the censored forward passes (not the
        clean prediction, whose first call may compile the network).
    """

    #: Saved fields; the pixel maps are derived from them.
    ARRAYS = ("position_displacement", "position_error_increase", "positions",
              "images", "clean_predictions", "keypoints")
    SCALARS = ("patch", "stride", "censor", "censor_name", "seconds")

    def __init__(self, **fields):
        missing = set(self.ARRAYS + self.SCALARS) - set(fields)
        if missing:
            raise ValueError("OcclusionMaps: missing %s" % sorted(missing))
        self.keypoint_names = list(fields.pop("keypoint_names", []) or [])
        for k, v in fields.items():
            setattr(self, k, v)
        frame = self.images.shape[-1]
        self.displacement = _to_pixel_maps(
            self.position_displacement, self.positions, self.patch, frame)
        self.error_increase = _to_pixel_maps(
            self.position_error_increase, self.positions, self.patch, frame)
        self.aggregate = self.displacement.mean(axis=1)
        labelled = np.isfinite(self.error_increase).any(axis=(2, 3))  # (N, K)
        self.aggregate_error_increase = np.full(self.aggregate.shape, np.nan,
                                                np.float32)
        for i in np.flatnonzero(labelled.any(axis=1)):
            self.aggregate_error_increase[i] = self.error_increase[
                i, labelled[i]].mean(axis=0)

    def __len__(self):
        return len(self.displacement)

    def focus(self, radius=8.0):
        """How much of the aggregate map lies near the face's keypoints.

        Returns
        -------
        focus, area : float
            Mean over faces of the share of ``aggregate`` (its sum) on the
            pixels within ``radius`` px of a clean-predicted keypoint, and
            the share of the frame those pixels cover (what a uniform map
            would score).  A censor whose own edges drive the network
            spreads its map and scores nearer ``area``.
        """
        side = self.aggregate.shape[-1]
        c = np.arange(side) + 0.5
        shares, areas = [], []
        for i in range(len(self)):
            xs = self.clean_predictions[i, 0::2]
            ys = self.clean_predictions[i, 1::2]
            d2 = ((c[None, :, None] - ys[:, None, None]) ** 2
                  + (c[None, None, :] - xs[:, None, None]) ** 2)
            near = (d2 <= radius ** 2).any(axis=0)
            total = float(self.aggregate[i].sum())
            shares.append(float(self.aggregate[i][near].sum()) / total
                          if total > 0 else np.nan)
            areas.append(near.mean())
        return float(np.nanmean(shares)), float(np.mean(areas))

    def summary(self):
        """JSON-ready dict: settings, mean and max displacement per keypoint."""
        names = self.keypoint_names or [
            "keypoint_%d" % k for k in range(self.displacement.shape[1])]
        mean = self.displacement.mean(axis=(0, 2, 3))
        peak = self.displacement.max(axis=(0, 2, 3))
        return {"censor": self.censor, "censor_name": self.censor_name,
                "patch_px": int(self.patch), "stride_px": int(self.stride),
                "n_faces": len(self), "n_positions": int(len(self.positions)),
                "seconds": float(self.seconds),
                "seconds_per_face": float(self.seconds) / max(1, len(self)),
                "mean_displacement_px": dict(zip(names, map(float, mean))),
                "max_displacement_px": dict(zip(names, map(float, peak))),
                "mean_aggregate_px": float(self.aggregate.mean()),
                "focus_8px": self.focus(8.0)[0],
                "focus_8px_uniform": self.focus(8.0)[1]}

    def save(self, path):
        """Write the fields of :attr:`ARRAYS` and :attr:`SCALARS` and the
        keypoint names to ``path`` (.npz, no pickle), atomically; the pixel
        maps are rebuilt on loading."""
        from .fileio import atomic_write
        arrays = {k: np.asarray(getattr(self, k)) for k in self.ARRAYS}
        arrays.update({k: np.asarray(getattr(self, k)) for k in self.SCALARS})
        arrays["keypoint_names"] = np.asarray(self.keypoint_names, dtype=str)
        with atomic_write(path, "wb") as f:
            np.savez_compressed(f, **arrays)
        return path


def load_occlusion_maps(path):
    """Read :meth:`OcclusionMaps.save` output (``allow_pickle=False``)."""
    with np.load(path, allow_pickle=False) as z:
        fields = {k: z[k] for k in z.files}
    for k in ("patch", "stride"):
        fields[k] = int(fields[k])
    fields["seconds"] = float(fields["seconds"])
    for k in ("censor", "censor_name"):
        fields[k] = str(fields[k])
    fields["keypoint_names"] = [str(s) for s in fields.get(
        "keypoint_names", [])]
    return OcclusionMaps(**fields)


def _predict_fn(predict, batch_size):
    """The predict callable; a ``.predict(images, batch_size)`` method gets
    ``batch_size`` so that the network sees the whole chunk at once."""
    fn = getattr(predict, "predict", predict)
    if not callable(fn):
        raise TypeError("predict must be callable or have a .predict method")
    try:
        takes_batch = "batch_size" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        takes_batch = False
    if takes_batch:
        return lambda images: fn(images, batch_size=batch_size)
    return fn


def _keypoint_distance(a, b):
    """Euclidean distance per keypoint: (M, 2K), (M, 2K) -> (M, K) float64."""
    d = (np.asarray(a, np.float64) - np.asarray(b, np.float64))
    d = d.reshape(len(d), -1, 2)
    return np.hypot(d[..., 0], d[..., 1])


def _to_pixel_maps(values, positions, patch, frame):
    """Mean over covering positions: (N, P, K) -> (N, K, frame, frame)."""
    n, _, k = values.shape
    sums = np.zeros((n, k, frame, frame))
    counts = np.zeros((frame, frame))
    for p, (y0, x0) in enumerate(positions):
        sums[:, :, y0:y0 + patch, x0:x0 + patch] += values[:, p, :, None, None]
        counts[y0:y0 + patch, x0:x0 + patch] += 1
    return (sums / counts).astype(np.float32)


def occlusion_maps(predict, images, keypoints=None, censor="edge_free",
                   patch=12, stride=2, batch_size=256, grey_level=None,
                   keypoint_names=None, progress=False):
    """Occlusion-sensitivity heat maps (Zeiler & Fergus 2014, section 4.2).

    For every face and every patch position (:func:`patch_positions`) the
    censored face is run through the network; positions are batched,
    ``batch_size`` images per ``predict`` call.

    Parameters
    ----------
    predict : callable or object with ``.predict``
        ``(M, 1, 96, 96) float32 in [0, 1] -> (M, 2K)`` pixels, e.g. a
        :class:`kfkd.model.Model`.
    images : ndarray, (N, 1, 96, 96) float32 in [0, 1]
    keypoints : ndarray, (N, 2K), pixels, NaN where unlabelled; optional
        Labels for ``error_increase`` (all NaN without them).
    censor : str or Censor
        A key of :data:`CENSORS` or a censor.
    patch, stride : int
        Patch side and stride, pixels.
    batch_size : int
        Censored images per ``predict`` call (also passed as
        ``predict.predict(images, batch_size=...)`` where it takes one).
    grey_level : float, optional
        For ``censor='grey'``: the dataset mean grey level.
    keypoint_names : sequence of str, optional
        Defaults to ``predict.schema.names`` if there is one.
    progress : bool
        tqdm progress bar over faces.

    Returns
    -------
    OcclusionMaps
        Pixel maps are the mean over the patch positions whose patch covers
        the pixel.

    Raises
    ------
    ValueError
        Bad shapes, unknown censor, a bad patch/stride or batch size.
    """
    from tqdm.auto import tqdm
    images = np.asarray(check_images(images), dtype=np.float32)
    frame = images.shape[-1]
    censor = make_censor(censor, grey_level)
    if isinstance(censor, GreyCensor) and censor.level is None:
        censor = GreyCensor(float(images.mean()))
    fn = _predict_fn(predict, batch_size)
    positions = patch_positions(patch, stride, frame)
    if int(batch_size) < 1:
        raise ValueError("batch_size must be >= 1, got %r" % (batch_size,))
    clean = np.asarray(fn(images), dtype=np.float32)  # may compile: untimed
    started = time.time()
    if clean.ndim != 2 or len(clean) != len(images) or clean.shape[1] % 2:
        raise ValueError("predict returned shape %r for %d images"
                         % (clean.shape, len(images)))
    n, k = len(images), clean.shape[1] // 2
    if keypoints is None:
        keypoints = np.full(clean.shape, np.nan, np.float32)
    keypoints = np.asarray(keypoints, dtype=np.float32)
    if keypoints.shape != clean.shape:
        raise ValueError("keypoints must have shape %r, got %r"
                         % (clean.shape, keypoints.shape))
    clean_error = _keypoint_distance(clean, keypoints)          # (N, K)
    disp = np.zeros((n, len(positions), k), np.float32)
    incr = np.zeros((n, len(positions), k), np.float32)
    for i in tqdm(range(n), disable=not progress, unit="face",
                  desc="occlusion (%s)" % censor.name):
        fill = censor.fill(images[i:i + 1])[0]
        for s in range(0, len(positions), batch_size):
            chunk = positions[s:s + batch_size]
            batch = censor.apply_positions(images[i], chunk, patch, fill)
            pred = np.asarray(fn(batch), dtype=np.float32)
            disp[i, s:s + len(chunk)] = _keypoint_distance(pred, clean[i:i + 1])
            incr[i, s:s + len(chunk)] = (
                _keypoint_distance(pred, keypoints[i:i + 1]) - clean_error[i])
    if keypoint_names is None:
        schema = getattr(predict, "schema", None)
        keypoint_names = list(schema.names) if schema is not None else []
    return OcclusionMaps(
        position_displacement=disp, position_error_increase=incr,
        positions=positions, images=images, clean_predictions=clean,
        keypoints=keypoints, patch=int(patch), stride=int(stride),
        censor=repr(censor), censor_name=censor.name,
        seconds=time.time() - started, keypoint_names=keypoint_names)


def compare_censors(predict, images, keypoints=None, censors=tuple(CENSORS),
                    patch=12, stride=4, grey_level=None, progress=False,
                    **kwargs):
    """:func:`occlusion_maps` for several censors on the same faces.

    Returns
    -------
    dict
        censor name -> OcclusionMaps, in the order of ``censors``.
    """
    return {make_censor(c, grey_level).name: occlusion_maps(
        predict, images, keypoints, c, patch, stride, grey_level=grey_level,
        progress=progress, **kwargs) for c in censors}


def censor_examples(image, censors, y0, x0, patch, grey_level=None):
    """One face censored at one position by each censor (for figures).

    Returns
    -------
    dict
        censor name -> ndarray (96, 96) float32.
    """
    image = np.asarray(image, np.float32).reshape((1, 1) + np.shape(image)[-2:])
    out = {}
    for c in censors:
        c = make_censor(c, grey_level)
        out[c.name] = c.apply(image, y0, x0, patch)[0, 0]
    return out


def write_figures(maps, out_dir, comparisons=None, examples=None):
    """Draw the occlusion figures from saved results (no model needed).

    Writes, via :func:`kfkd.plots.save_figure` (PNG and PDF):
    ``face<i>_<censor>`` (per-keypoint grid of each face),
    ``overview_<censor>`` (aggregates of all faces) and, if ``comparisons``
    is given, ``compare_censors`` (rows: censors, columns: faces).

    Parameters
    ----------
    maps : OcclusionMaps
    out_dir : str
    comparisons : dict, optional
        censor name -> OcclusionMaps on the same faces (:func:`compare_censors`).
    examples : dict, optional
        censor name -> (96, 96) censored image (:func:`censor_examples`).

    Returns
    -------
    list of str
        Written paths.
    """
    import os
    from .report import occlusion_plots as plots
    written = []
    for i in range(len(maps)):
        fig = plots.occlusion_keypoint_figure(
            maps.images[i], maps.displacement[i], maps.aggregate[i],
            maps.keypoint_names, maps.clean_predictions[i],
            title="Occlusion sensitivity, face %d: %s, patch %d px, stride "
                  "%d px" % (i, maps.censor, maps.patch, maps.stride))
        written += plots.save_figure(fig, os.path.join(
            out_dir, "face%d_%s" % (i, maps.censor_name)))
    fig = plots.occlusion_overview_figure(
        maps.images, maps.aggregate, maps.aggregate_error_increase,
        maps.clean_predictions,
        title="Occlusion sensitivity (%s, patch %d px, stride %d px)"
              % (maps.censor, maps.patch, maps.stride))
    written += plots.save_figure(fig, os.path.join(
        out_dir, "overview_%s" % maps.censor_name))
    if comparisons:
        first = next(iter(comparisons.values()))
        fig = plots.censor_comparison_figure(
            first.images, {k: v.aggregate for k, v in comparisons.items()},
            examples, title="Censors compared (patch %d px, stride %d px)"
                            % (first.patch, first.stride))
        written += plots.save_figure(fig, os.path.join(out_dir,
                                                       "compare_censors"))
    return written


def add_script_args(parser, faces, faces_help=None):
    """Add the options the occlusion scripts share to an argparse parser.

    ``--model``, ``--data-dir``, ``--faces`` (default ``faces``),
    ``--patch`` (default 12 px) and ``--stride`` (default 2 px), the
    defaults of :func:`occlusion_maps`; used by
    ``experiments/occlusion_heatmaps.py`` and
    ``experiments/benchmark_occlusion.py``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
    faces : int
        Default number of validation faces.
    faces_help : str, optional
        Help text of ``--faces``.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> add_script_args(parser, faces=8)
    >>> args = parser.parse_args(["--stride", "4"])
    >>> args.model, args.data_dir, args.faces, args.patch, args.stride
    (None, None, 8, 12, 4)
    """
    parser.add_argument("--model", help="model folder (default: the shipped "
                        "reference model, or $KFKD_MODEL)")
    parser.add_argument("--data-dir", help="Kaggle data folder (default: "
                        "$KFKD_DATA_DIR)")
    parser.add_argument("--faces", type=int, default=faces, help=faces_help)
    parser.add_argument("--patch", type=int, default=12, help="pixels")
    parser.add_argument("--stride", type=int, default=2, help="pixels")
