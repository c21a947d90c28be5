"""Occlusion heat-map figures: the maps of one face per keypoint, the
overview of several faces, the censors side by side (no Theano)."""

import numpy as np

from ..plotting import plt, save_figure

__all__ = ["save_figure", "occlusion_keypoint_figure",
           "occlusion_overview_figure", "censor_comparison_figure"]


def _overlay(ax, image, heat, cmap, vmin, vmax, alpha=0.6):
    """A grey face with a heat map over it; returns the heat-map image."""
    ax.imshow(np.asarray(image).reshape(np.shape(image)[-2:]), cmap="gray",
              vmin=0, vmax=1, interpolation="nearest")
    im = ax.imshow(heat, cmap=cmap, vmin=vmin, vmax=vmax, alpha=alpha,
                   interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    return im


def _heat_scale(maps):
    """(cmap, vmin, vmax): 'inferno' from 0 for non-negative maps, a
    symmetric diverging scale when there are negative values."""
    finite = np.asarray(maps)[np.isfinite(maps)]
    if finite.size == 0:
        return "inferno", 0.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    if lo < 0:
        m = max(abs(lo), abs(hi), 1e-6)
        return "RdBu_r", -m, m
    return "inferno", 0.0, max(hi, 1e-6)


def _grid_with_colorbars(rows, cols, panel=2.0):
    """Figure with ``rows x cols`` image axes and a narrow colour-bar column.

    Returns
    -------
    fig, axes (rows, cols), gridspec (the colour-bar column is ``gs[:, -1]``)
    """
    fig = plt.figure(figsize=(panel * cols + 1.3, panel * rows + 0.5))
    gs = fig.add_gridspec(rows, cols + 1, width_ratios=[1] * cols + [0.06],
                          wspace=0.08, hspace=0.22)
    axes = np.array([[fig.add_subplot(gs[r, c]) for c in range(cols)]
                     for r in range(rows)])
    return fig, axes, gs


def occlusion_keypoint_figure(image, maps, aggregate, names, prediction=None,
                              title=None, quantity="keypoint displacement"):
    """One face's occlusion heat maps, one panel per keypoint plus aggregate.

    Parameters
    ----------
    image : ndarray, (96, 96) or (1, 96, 96), grey levels in [0, 1]
    maps : ndarray, (K, 96, 96), pixels
        Per-keypoint heat maps (:class:`kfkd.occlusion.OcclusionMaps`), on
        one colour scale.
    aggregate : ndarray, (96, 96), pixels
        Their mean, last panel, with its own colour scale.
    names : sequence of str, length K
    prediction : ndarray, (2K,), pixels, optional
        The clean prediction; keypoint ``k`` is marked (cyan x) on its panel.
    quantity : str
        What the maps measure, for the colour-bar label (unit: px).

    Returns
    -------
    matplotlib.figure.Figure
    """
    k = len(maps)
    cols = int(np.ceil(np.sqrt(k + 1)))
    rows = int(np.ceil((k + 1) / float(cols)))
    fig, axes, gs = _grid_with_colorbars(rows, cols)
    axes = axes.ravel()
    cmap, vmin, vmax = _heat_scale(maps)
    for j in range(k):
        im = _overlay(axes[j], image, maps[j], cmap, vmin, vmax)
        axes[j].set_title(names[j] if j < len(names) else "keypoint %d" % j,
                          fontsize=7)
        if prediction is not None:
            axes[j].plot(prediction[2 * j] - 0.5, prediction[2 * j + 1] - 0.5,
                         "x", color="cyan", ms=6, mew=1.5)
    fig.colorbar(im, cax=fig.add_subplot(gs[:max(1, rows - 1), -1]),
                 label="%s (px)" % quantity)
    a_cmap, a_vmin, a_vmax = _heat_scale(aggregate)
    im = _overlay(axes[k], image, aggregate, a_cmap, a_vmin, a_vmax)
    axes[k].set_title("mean over keypoints", fontsize=7, fontweight="bold")
    fig.colorbar(im, cax=fig.add_subplot(gs[rows - 1, -1]),
                 label="mean (px)")
    for ax in axes[k + 1:]:
        ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=9)
    return fig


def occlusion_overview_figure(images, aggregate, aggregate_error_increase=None,
                              predictions=None, title=None):
    """Aggregate occlusion maps of several faces: rows face / displacement /
    error increase, one column per face.

    Parameters
    ----------
    images : ndarray, (N, 1, 96, 96) in [0, 1]
    aggregate : ndarray, (N, 96, 96), pixels (mean keypoint displacement)
    aggregate_error_increase : ndarray, (N, 96, 96), pixels, optional
        Mean increase of the keypoint error (NaN where unlabelled).
    predictions : ndarray, (N, 2K), pixels, optional
        Clean predictions, drawn on the face row.

    Returns
    -------
    matplotlib.figure.Figure
    """
    n = len(images)
    rows = [("face", None),
            ("mean keypoint\ndisplacement (px)", aggregate)]
    if (aggregate_error_increase is not None
            and np.isfinite(aggregate_error_increase).any()):
        rows.append(("mean error\nincrease (px)", aggregate_error_increase))
    fig, axes, gs = _grid_with_colorbars(len(rows), n, panel=1.9)
    for r, (label, maps) in enumerate(rows):
        axes[r, 0].set_ylabel(label, fontsize=8)
        if maps is None:
            for i in range(n):
                _overlay(axes[r, i], images[i], np.full(images.shape[-2:],
                                                        np.nan),
                         "inferno", 0, 1)
                if predictions is not None:
                    axes[r, i].plot(predictions[i, 0::2] - 0.5,
                                    predictions[i, 1::2] - 0.5, ".",
                                    color="cyan", ms=3)
            continue
        cmap, vmin, vmax = _heat_scale(maps)
        for i in range(n):
            im = _overlay(axes[r, i], images[i], maps[i], cmap, vmin, vmax)
        fig.colorbar(im, cax=fig.add_subplot(gs[r, -1]), label="px")
    if title:
        fig.suptitle(title, fontsize=9)
    return fig


def censor_comparison_figure(images, maps_by_censor, examples=None,
                             title=None):
    """Occlusion maps of several censors: rows censors, columns faces.

    Parameters
    ----------
    images : ndarray, (N, 1, 96, 96) in [0, 1]
    maps_by_censor : dict
        censor name -> ndarray (N, 96, 96), pixels (e.g. the aggregate
        keypoint displacement).  Each row has its own colour bar: the hard
        black and noise patches move predictions ~10x more than the others,
        which would leave their rows blank on a shared scale.
    examples : dict, optional
        censor name -> (96, 96) image censored at one position, shown in a
        first column ("what the net sees").

    Returns
    -------
    matplotlib.figure.Figure
    """
    names = list(maps_by_censor)
    n = len(images)
    extra = 1 if examples else 0
    fig, axes, gs = _grid_with_colorbars(len(names), n + extra, panel=1.8)
    for r, name in enumerate(names):
        if examples:
            _overlay(axes[r, 0], examples[name],
                     np.full(np.shape(examples[name]), np.nan), "inferno", 0, 1)
            if r == 0:
                axes[r, 0].set_title("censored example", fontsize=8)
        cmap, vmin, vmax = _heat_scale(maps_by_censor[name])
        for i in range(n):
            im = _overlay(axes[r, i + extra], images[i],
                          maps_by_censor[name][i], cmap, vmin, vmax)
            if r == 0:
                axes[r, i + extra].set_title("face %d" % i, fontsize=8)
        axes[r, 0].set_ylabel(name, fontsize=9)
        fig.colorbar(im, cax=fig.add_subplot(gs[r, -1]), label="px")
    if title:
        fig.suptitle(title + "\ncolour: mean keypoint displacement (px), one "
                     "scale per row", fontsize=9)
    return fig


