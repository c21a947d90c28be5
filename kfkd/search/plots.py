"""The random search's 3D validation-RMSE surfaces (no Theano)."""

import numpy as np

from ..plotting import plt, save_figure
# after kfkd.plotting (the Agg backend); the import registers the '3d' axes
from mpl_toolkits.mplot3d import Axes3D  # noqa: F401,E402

__all__ = ["surface_axis_values", "search_surface_figure", "search_surfaces"]


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
    done = frame[(frame.state == "COMPLETE") & frame[z_key].notna()]
    done = done[done[x_key].notna() & done[y_key].notna()]
    x, xticks = surface_axis_values(done[x_key].values, x_key in log_keys)
    y, yticks = surface_axis_values(done[y_key].values, y_key in log_keys)
    z = done[z_key].values.astype(float)
    fig = plt.figure(figsize=(7.0, 5.6))
    ax = fig.add_subplot(111, projection="3d")
    ax.set_box_aspect(None, zoom=0.85)  # keep the z label inside the figure
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


