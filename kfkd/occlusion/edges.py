"""Edge energy a censor adds, and the strength of its occlusion.

Two kinds of measure of a censor ``C`` of face ``I`` at one patch position,
each averaged over patch positions (:func:`kfkd.occlusion.patch_positions`)
and faces; images are grey levels in [0, 1]:

* **added edge energy** ``E = sum over ring of S(C - I)``, with ``S`` the
  Sobel gradient magnitude (:func:`sobel_magnitude`; a unit step scores 4
  on each of the two pixels beside it) and the ring the pixels whose
  centres lie within ``ring`` = 2 px of the border of the window's support
  on either side (192 px for a 12 px square away from the frame edge).
  The support is the square outside which the censor changes nothing
  (:meth:`kfkd.occlusion.Censor.support`): the patch for a hard censor,
  the patch shrunk by its 2 px margin for ``edge_free``.
  Units: Sobel grey levels summed over the ring's pixels.  Secondary,
  ``new_edges = sum over ring of max(0, S(C) - S(I)) ** 2``.
* **occlusion strength**: the *detail removed* ``D = sum over pixels of
  |I - C|`` (grey levels summed over pixels; ``C = I`` outside the square,
  so this is the sum over the square) and the window's *mass* ``M = sum of
  w`` (pixels; the square's area for a hard censor).  A censor identical
  to the face removes 0; a hard grey patch of level ``g`` removes
  ``sum |I - g|`` over the patch.

``E / D``, the added edge energy **per unit of detail removed**, is what
:mod:`kfkd.occlusion.strength` compares at matched strength: a censor that
changes nothing adds no edges, so ``E`` alone rewards weak occluders.

numpy and scipy only: no Theano.
"""
import math

import numpy as np
from scipy import ndimage

from ..transforms import check_images
from .censors import make_censor
from .geometry import patch_distance, patch_positions, square_slices

__all__ = ["sobel_magnitude", "MEASURES", "AROUND", "censor_measures",
           "added_edge_energy", "detail_removed", "window_mass",
           "edge_energy_table"]


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


def _position_sums(images, fill, s_orig, censor, y0, x0, patch, ring,
                   edges=True, around="support"):
    """Sums over faces of the measures at one position: dict measure ->
    float (without the edge energies if not ``edges``), and the window's
    mass there (pixels)."""
    frame = images.shape[-1]
    ya, xa, side = censor.square(y0, x0, patch)
    rows, cols = square_slices(ya, xa, side, (frame, frame),
                               pad=int(math.ceil(ring)) + 2)
    crop_i = images[:, rows, cols]
    crop_c = censor._blend_into(crop_i.copy(), fill[:, rows, cols],
                                y0 - rows.start, x0 - cols.start, patch)
    sums = {"detail": float(np.abs(crop_c.astype(np.float64)
                                   - crop_i).sum())}
    if edges:
        sy, sx, sside = (censor.support(y0, x0, patch)
                         if around == "support" else (ya, xa, side))
        t = patch_distance(sy, sx, sside, frame)[rows, cols]
        in_ring = np.abs(t) < ring
        diff = sobel_magnitude(crop_c - crop_i)[:, in_ring]
        new = np.maximum(sobel_magnitude(crop_c)[:, in_ring]
                         - s_orig[:, rows, cols][:, in_ring], 0.0)
        sums.update(difference=float(diff.sum()),
                    new_edges=float((new ** 2).sum()))
    return sums, float(censor._region(y0, x0, patch, (frame, frame))[1].sum())


AROUND = ("support", "square")


def censor_measures(images, censor, patch, stride, ring=2.0,
                    grey_level=None, edges=True, around="support"):
    """Every measure of one censor in one pass over the positions.

    Parameters
    ----------
    images : ndarray, (N, 1, 96, 96) float32 in [0, 1]
    censor : str or Censor
    patch, stride : int
        Patch side and stride (pixels), as in
        :func:`kfkd.occlusion.patch_positions`.
    ring : float
        Ring half-width (pixels, > 0).
    grey_level : float, optional
        For ``censor='grey'``.
    edges : bool
        False: only ``detail`` and ``mass`` (no Sobel; for calibration).
    around : {'support', 'square'}
        Centre the ring on the border of the window's support
        (:meth:`kfkd.occlusion.Censor.support`: where the censor starts to
        change pixels; the default) or of the censor's square (the patch at
        scale 1; the definition before the matched-strength comparison,
        under which :class:`EdgeFreeCensor`'s untouched margin hides the
        ring).

    Returns
    -------
    dict
        Means over positions and faces: ``difference`` (the added edge
        energy ``E``), ``new_edges``, ``detail`` (``D``, grey levels summed
        over pixels), ``mass`` (``M``, pixels; mean over positions) and
        ``per_detail`` (``E / D``; inf if ``D = 0`` and ``E > 0``, NaN if
        both are 0).

    Raises
    ------
    ValueError
        Bad ``images`` shape, ``ring`` or censor; a patch the censor cannot
        censor.
    """
    ring = float(ring)
    if not ring > 0:
        raise ValueError("ring must be > 0, got %r" % (ring,))
    if around not in AROUND:
        raise ValueError("around must be one of %s, got %r"
                         % (", ".join(AROUND), around))
    censor = make_censor(censor, grey_level)
    images = np.array(check_images(images)[:, 0], dtype=np.float32)
    fill = np.ascontiguousarray(censor.fill(images[:, None])[:, 0])
    s_orig = sobel_magnitude(images) if edges else None
    positions = patch_positions(patch, stride, images.shape[-1])
    totals = {"mass": 0.0}
    for y0, x0 in positions:
        sums, mass = _position_sums(images, fill, s_orig, censor, int(y0),
                                    int(x0), int(patch), ring, edges,
                                    around)
        for k, v in sums.items():
            totals[k] = totals.get(k, 0.0) + v
        totals["mass"] += mass
    out = {k: v / (len(positions) * len(images)) for k, v in totals.items()}
    out["mass"] = totals["mass"] / len(positions)
    if not edges:
        return out
    with np.errstate(divide="ignore", invalid="ignore"):
        out["per_detail"] = float(np.float64(out["difference"])
                                  / out["detail"])
    return out


def added_edge_energy(images, censor, patch, stride, ring=2.0,
                      measure="difference", grey_level=None,
                      around="support"):
    """Edge energy a censor adds around its patch, mean per position and face.

    For each patch position (:func:`patch_positions`) and face, with ``C``
    the censored and ``I`` the original face and ``S`` the Sobel gradient
    magnitude (:func:`sobel_magnitude`)::

        difference  E = sum over ring of S(C - I)                (default)
        new_edges   E = sum over ring of max(0, S(C) - S(I)) ** 2

    ``'difference'`` is the issue's "added edge energy": the gradient
    magnitude of the difference image, summed (not squared).  The ring is
    the same for every censor at scale 1: the pixels whose centres lie
    within ``ring`` px of the border of the window's support (``around``)
    on either side, i.e. whose Chebyshev signed distance ``t`` (:func:`patch_distance`) has ``|t| < ring`` (192 px for
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
    around : {'support', 'square'}
        Where the ring is centred, see :func:`censor_measures`.

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
    return censor_measures(images, censor, patch, stride, ring,
                           grey_level, around=around)[measure]


def edge_energy_table(images, censors, patch, stride, ring=2.0,
                      grey_level=None, reference="grey"):
    """:func:`added_edge_energy` of several censors, as table rows.

    All measures come from one pass over the positions per censor.

    Returns
    -------
    list of dict
        Per censor: ``censor`` (name), ``repr``, the measures of
        :func:`censor_measures` (``difference``: the added edge energy,
        ``new_edges``, ``detail``, ``mass``, ``per_detail``) and, as ratios
        of the ``reference`` censor's, ``difference_ratio``,
        ``new_edges_ratio`` and ``per_detail_ratio``.
    """
    rows = []
    for name in censors:
        c = make_censor(name, grey_level)
        row = {"censor": c.name, "repr": repr(c)}
        row.update(censor_measures(images, c, patch, stride, ring))
        rows.append(row)
    ref = make_censor(reference, grey_level)
    ref_row = next((r for r in rows if r["repr"] == repr(ref)), None)
    if ref_row is None:
        ref_row = censor_measures(images, ref, patch, stride, ring)
    for r in rows:
        for k in MEASURES + ("per_detail",):
            r[k + "_ratio"] = r[k] / ref_row[k]
    return rows


def detail_removed(images, censor, patch, stride, grey_level=None):
    """Detail a censor removes: ``D = sum over pixels of |I - C|``, mean
    over positions and faces (grey levels of [0, 1] images summed over
    pixels; 0 for a censor identical to the face).  See
    :func:`censor_measures`."""
    return censor_measures(images, censor, patch, stride,
                           grey_level=grey_level)["detail"]


def window_mass(censor, patch, stride, frame=96):
    """Mass of a censor's window: ``M = sum of w`` (pixels), mean over the
    positions (:func:`kfkd.occlusion.patch_positions`); the patch's area for
    a hard censor at scale 1, less where the square leaves the frame."""
    censor = make_censor(censor)
    return float(np.mean([censor._region(int(y0), int(x0), patch,
                                         (frame, frame))[1].sum()
                          for y0, x0 in patch_positions(patch, stride,
                                                        frame)]))


