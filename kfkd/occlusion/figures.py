"""The occlusion figures, drawn from saved maps (no model needed)."""
import os

import numpy as np

from . import plots
from .censors import make_censor

__all__ = ["example_position", "censor_examples", "write_figures",
           "write_matched_figure"]


def example_position(maps):
    """Patch corner ``(y0, x0)`` over face 0's predicted right eye centre,
    inside the frame (where the figures show each censor)."""
    patch, side = maps.patch, maps.images.shape[-1]
    x, y = maps.clean_predictions[0, 2:4]
    y0 = int(min(max(round(y - patch / 2.0), 0), side - patch))
    x0 = int(min(max(round(x - patch / 2.0), 0), side - patch))
    return y0, x0


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

    Writes, via :func:`kfkd.plotting.save_figure` (PNG and PDF):
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


def _side(maps):
    """Side (px) of the censor's square: ``scale * patch``, the scale read
    from the saved censor repr (1 if absent)."""
    text = maps.censor
    if "scale=" not in text:
        return float(maps.patch)
    return float(text.split("scale=")[1].rstrip(")").split(",")[0]) \
        * maps.patch


def write_matched_figure(matched, out_dir, examples=None):
    """``compare_censors_matched``: the censors' aggregate maps at matched
    strength (rows: censors, columns: faces).

    Parameters
    ----------
    matched : dict
        censor name -> OcclusionMaps of scaled censors on the same faces.
    out_dir : str
    examples : dict, optional
        censor name -> (96, 96) censored image.

    Returns
    -------
    list of str
    """
    first = next(iter(matched.values()))
    label = {k: "%s, %.1f px" % (k, _side(v)) for k, v in matched.items()}
    fig = plots.censor_comparison_figure(
        first.images, {label[k]: v.aggregate for k, v in matched.items()},
        examples and {label[k]: examples[k] for k in matched},
        title="Censors at matched strength: each removes the hard grey "
              "patch's detail (patch %d px, stride %d px)"
              % (first.patch, first.stride))
    return plots.save_figure(fig, os.path.join(out_dir,
                                               "compare_censors_matched"),
                             formats=("png",), dpi=64)
