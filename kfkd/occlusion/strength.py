"""Censors compared at matched occlusion strength.

A censor that changes nothing adds no edges, so the added edge energy ``E``
alone rewards weak occluders.  Here every censor is scaled
(:meth:`kfkd.occlusion.Censor.scaled`: its square, soft window included,
grows or shrinks about the patch centre) until it removes, on average over
the same faces and positions, the same detail ``D = sum |I - C|``
(:func:`kfkd.occlusion.edges.censor_measures`) as a reference censor at
scale 1 (by default the hard grey patch, Zeiler & Fergus's occluder).  At
that strength the censors' ``E / D``, added edge energy per unit of detail
removed, and their keypoint displacement maps are compared.

numpy and scipy only: no Theano.
"""
import math

import numpy as np

from .censors import make_censor
from .edges import censor_measures

__all__ = ["calibrate_scale", "matched_censors", "strength_table",
           "energy_tables", "table_markdown"]


def _detail(images, censor, patch, stride):
    return censor_measures(images, censor, patch, stride, edges=False)[
        "detail"]


def _bracket(images, censor, patch, stride, target, max_scale):
    """``(lo, d_lo), (hi, d_hi)`` scales whose detail brackets ``target``,
    doubling or halving from 1."""
    lo = hi = 1.0
    d_lo = d_hi = _detail(images, censor.scaled(1.0), patch, stride)
    while d_hi < target and hi < max_scale:
        lo, d_lo = hi, d_hi
        hi = min(2.0 * hi, max_scale)
        d_hi = _detail(images, censor.scaled(hi), patch, stride)
    while d_lo > target and lo * patch > 1.0:
        hi, d_hi = lo, d_lo
        lo /= 2.0
        d_lo = _detail(images, censor.scaled(lo), patch, stride)
    if not d_lo <= target <= d_hi:
        raise ValueError("%r cannot remove %.4g (detail %.4g at scale %g, "
                         "%.4g at scale %g)" % (censor, target, d_lo, lo,
                                                d_hi, hi))
    return (lo, d_lo), (hi, d_hi)


def calibrate_scale(images, censor, patch, stride, target, rtol=0.005,
                    max_iter=40, grey_level=None):
    """The scale at which a censor removes ``target`` detail on average.

    Bisection in ``log(scale)`` (the next scale interpolated on ``log D``
    vs ``log scale`` inside the bracket, which converges in a few steps
    since ``D`` grows about as ``scale ** 2``); ``D`` is the mean detail
    removed (:func:`kfkd.occlusion.edges.detail_removed`) over ``images``
    and the positions of ``patch``, ``stride``.

    Parameters
    ----------
    images : ndarray, (N, 1, 96, 96) float32 in [0, 1]
    censor : str or Censor
    patch, stride : int
        Pixels.
    target : float
        Detail to remove: grey levels summed over pixels, > 0.
    rtol : float
        Stop when ``|D / target - 1| <= rtol``.
    max_iter : int
    grey_level : float, optional
        For ``censor='grey'``.

    Returns
    -------
    Censor
        ``censor.scaled(scale)``.

    Raises
    ------
    ValueError
        ``target <= 0``, or no scale up to ``frame / patch`` (or down to a
        1 px square) removes ``target``, or no convergence.
    """
    if not target > 0:
        raise ValueError("target detail must be > 0, got %r" % (target,))
    censor = make_censor(censor, grey_level)
    max_scale = float(np.shape(images)[-1]) / patch
    (lo, d_lo), (hi, d_hi) = _bracket(images, censor, patch, stride, target,
                                      max_scale)
    for _ in range(max_iter):
        for scale, d in ((lo, d_lo), (hi, d_hi)):
            if abs(d / target - 1.0) <= rtol:
                return censor.scaled(scale)
        t = 0.5                             # plain bisection if D = 0
        if d_lo > 0:
            t = (math.log(target) - math.log(d_lo)) / (math.log(d_hi)
                                                      - math.log(d_lo))
        t = min(max(t, 0.1), 0.9)          # keep the bracket shrinking
        mid = math.exp(math.log(lo) + t * (math.log(hi) - math.log(lo)))
        d = _detail(images, censor.scaled(mid), patch, stride)
        if d < target:
            lo, d_lo = mid, d
        else:
            hi, d_hi = mid, d
    raise ValueError("%r: no scale within %g of the target detail after %d "
                     "steps" % (censor, rtol, max_iter))


def matched_censors(images, censors, patch, stride, reference="grey",
                    grey_level=None, rtol=0.005):
    """Each censor scaled to remove the detail the reference removes.

    Returns
    -------
    target : float
        The reference censor's mean detail removed at scale 1 (grey levels
        summed over pixels).
    matched : dict
        censor name -> scaled Censor, in the order of ``censors`` (the
        reference itself at scale 1).
    """
    ref = make_censor(reference, grey_level)
    target = _detail(images, ref, patch, stride)
    matched = {}
    for c in censors:
        c = make_censor(c, grey_level)
        matched[c.name] = (c if repr(c) == repr(ref) else calibrate_scale(
            images, c, patch, stride, target, rtol))
    return target, matched


def strength_table(images, censors, patch, stride, ring=2.0,
                   reference="grey"):
    """Measures of (scaled) censors, with ``E / D`` as a share of the
    reference's.

    Parameters
    ----------
    images : ndarray, (N, 1, 96, 96) float32 in [0, 1]
    censors : dict
        name -> Censor (e.g. :func:`matched_censors`' second value).
    patch, stride : int
    ring : float
    reference : str
        A key of ``censors``.

    Returns
    -------
    list of dict
        Per censor: ``censor``, ``repr``, ``scale``, ``side_px`` (``scale *
        patch``), ``mean_weight`` (``mass / side_px ** 2``), the measures of
        :func:`kfkd.occlusion.edges.censor_measures` and
        ``per_detail_ratio`` (``E / D`` over the reference's).
    """
    rows = []
    for name, c in censors.items():
        row = {"censor": name, "repr": repr(c), "scale": float(c.scale),
               "side_px": float(c.scale * patch)}
        row.update(censor_measures(images, c, patch, stride, ring))
        row["mean_weight"] = row["mass"] / row["side_px"] ** 2
        rows.append(row)
    ref = next(r for r in rows if r["censor"] == reference)
    for r in rows:
        r["per_detail_ratio"] = r["per_detail"] / ref["per_detail"]
        r["difference_ratio"] = r["difference"] / ref["difference"]
    return rows


def energy_tables(images, censors, patch, stride, reference):
    """The :func:`strength_table` of censors at scale 1 and scaled to the
    ``reference`` censor's detail removed (:func:`matched_censors`), on the
    same faces and positions.

    Parameters
    ----------
    images : ndarray, (N, 1, 96, 96) float32 in [0, 1]
    censors : sequence of Censor
    patch, stride : int
    reference : Censor
        One of ``censors``.

    Returns
    -------
    target : float
    matched : dict
        censor name -> scaled Censor.
    tables : (list of dict, list of dict)
        Rows at scale 1, rows at matched strength.
    """
    plain = {c.name: c for c in censors}
    target, matched = matched_censors(images, list(plain.values()), patch,
                                      stride, reference)
    tables = tuple(strength_table(images, cs, patch, stride,
                                  reference=reference.name)
                   for cs in (plain, matched))
    return target, matched, tables


def table_markdown(rows, bold=None):
    """:func:`strength_table` rows as a markdown table (``bold``: the name
    of a censor whose row is set in bold)."""
    lines = ["| censor | scale | side (px) | mass Σw (px) | detail removed "
             "D | added edge energy E | E / D | E / D, share of grey |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        cells = ["`%s`" % r["censor"], "%.3f" % r["scale"],
                 "%.1f" % r["side_px"], "%.1f" % r["mass"],
                 "%.3f" % r["detail"], "%.3f" % r["difference"],
                 "%.4f" % r["per_detail"], "%.2f%%" % (
                     100 * r["per_detail_ratio"])]
        if r["censor"] == bold:
            cells = ["**%s**" % c for c in cells]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
