"""Every matplotlib figure of kfkd (no Theano here).

Functions take arrays and a path prefix and write PNG and PDF (via
:func:`save_figure`); they never train or predict.  Uses the non-interactive
Agg backend.
"""
import os
import tempfile

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

__all__ = ["save_figure", "surface_axis_values", "search_surface_figure",
           "search_surfaces", "occlusion_keypoint_figure",
           "occlusion_overview_figure", "censor_comparison_figure"]


def save_figure(fig, path_prefix, formats=("png", "pdf"), dpi=120):
    """Write ``fig`` to ``path_prefix.<fmt>`` for each format, atomically.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path_prefix : str
        Path without extension; parent folders are created.
    formats : sequence of str
    dpi : int

    Returns
    -------
    list of str
        The written paths.  Each file is written to a temporary name and
        renamed, so no half-written figure is ever left behind.
    """
    folder = os.path.dirname(os.path.abspath(path_prefix))
    os.makedirs(folder, exist_ok=True)
    paths = []
    for fmt in formats:
        path = "%s.%s" % (path_prefix, fmt)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix="." + fmt)
        os.close(fd)
        try:
            fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight")
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
        paths.append(path)
    plt.close(fig)
    return paths


# -- random search: 3D surfaces ----------------------------------------------------
def _label(key):
    return key.split(".")[-1].replace("_", " ")


def surface_axis_values(values, log):
    """Values of one setting as plotted on a 3D axis, and their tick labels.

    Log-sampled settings are plotted as log10(value); 0 (a penalty switched
    off) is put one decade below the smallest positive value and labelled
    "0".  Booleans and categories are plotted as 0, 1, 2, ... .

    Parameters
    ----------
    values : array-like, (M,)
    log : bool

    Returns
    -------
    positions : ndarray, (M,) float
    ticks : list of (float, str)
    """
    values = np.asarray(values, dtype=object)
    numeric = all(isinstance(v, (int, float, np.integer, np.floating))
                  and not isinstance(v, (bool, np.bool_)) for v in values)
    if not numeric:
        categories = sorted({str(v) for v in values})
        index = {c: float(i) for i, c in enumerate(categories)}
        return (np.array([index[str(v)] for v in values]),
                [(index[c], c) for c in categories])
    x = values.astype(float)
    if not log:
        return x, []
    positive = x[x > 0]
    floor = np.floor(np.log10(positive.min())) - 1 if positive.size else -1.0
    pos = np.where(x > 0, np.log10(np.where(x > 0, x, 1.0)), floor)
    top = np.ceil(pos.max()) if pos.size else 0.0
    ticks = [(floor, "0")] if (x <= 0).any() else []
    ticks += [(float(e), "1e%d" % e) for e in
              np.arange(floor + (1 if (x <= 0).any() else 0), top + 1)]
    return pos, ticks


def search_surface_figure(frame, x_key, y_key, log_keys=(),
                          z_key="val_rmse_px"):
    """A 3D surface of validation RMSE over two settings of a random search.

    A triangulated surface (matplotlib ``plot_trisurf``) through the
    completed trials, the sampled points drawn on it, the best trial marked
    with a red star.

    Parameters
    ----------
    frame : pandas.DataFrame
        ``results.csv`` of a study: columns ``state``, ``x_key``, ``y_key``,
        ``z_key``, ``number``.
    x_key, y_key : str
        Configuration keys.
    log_keys : collection of str
        Keys sampled log-uniformly (plotted on log10 axes).

    Returns
    -------
    matplotlib.figure.Figure
        With one 3D axes; ``fig.axes[0].collections`` holds the surface (if
        the points span a plane) and the scatter of sampled points.
    """
    from mpl_toolkits.mplot3d import Axes3D  # noqa: F401  (registers '3d')

    done = frame[(frame.state == "COMPLETE") & frame[z_key].notna()]
    done = done[done[x_key].notna() & done[y_key].notna()]
    x, xticks = surface_axis_values(done[x_key].values, x_key in log_keys)
    y, yticks = surface_axis_values(done[y_key].values, y_key in log_keys)
    z = done[z_key].values.astype(float)
    fig = plt.figure(figsize=(6.4, 5.2))
    ax = fig.add_subplot(111, projection="3d")
    if len(z) >= 3:
        try:
            ax.plot_trisurf(x, y, z, cmap="viridis_r", alpha=0.75,
                            linewidth=0.2, edgecolor="grey")
        except (RuntimeError, ValueError):  # collinear points: no surface
            pass
    ax.scatter(x, y, z, color="black", s=18, depthshade=False,
               label="trials (%d)" % len(z))
    if len(z):
        b = int(np.argmin(z))
        ax.scatter([x[b]], [y[b]], [z[b]], color="red", marker="*", s=220,
                   depthshade=False, label="best: trial %d, %.3f px" % (
                       int(done.number.values[b]), z[b]))
    for axis, key, ticks in ((ax.xaxis, x_key, xticks),
                             (ax.yaxis, y_key, yticks)):
        if ticks:
            axis.set_ticks([t for t, _ in ticks])
            axis.set_ticklabels([s for _, s in ticks])
    log_note = lambda key: " (log)" if key in log_keys else ""  # noqa: E731
    ax.set_xlabel(_label(x_key) + log_note(x_key))
    ax.set_ylabel(_label(y_key) + log_note(y_key))
    ax.set_zlabel("validation RMSE (px)")
    ax.set_title("Random search: RMSE over %s x %s" % (_label(x_key),
                                                         _label(y_key)))
    ax.legend(loc="upper left", fontsize="small")
    return fig


def search_surfaces(frame, pairs, log_keys, path_prefix):
    """Write one surface figure per pair: ``<path_prefix>_<x>_<y>.png/.pdf``.

    Pairs whose settings are absent from ``frame`` are skipped.

    Returns
    -------
    list of str
        Written paths.
    """
    written = []
    for x_key, y_key in pairs:
        if (x_key not in frame or y_key not in frame or "val_rmse_px"
                not in frame):
            continue
        fig = search_surface_figure(frame, x_key, y_key, log_keys)
        name = "%s_%s_%s" % (path_prefix, x_key.split(".")[-1],
                             y_key.split(".")[-1])
        written += save_figure(fig, name)
    return written


# -- occlusion sensitivity (kfkd.occlusion) ----------------------------------

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
