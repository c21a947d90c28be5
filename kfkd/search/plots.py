"""The random search's figures (no Theano): per declared pair of settings a
fitted validation-RMSE surface in 3D, its contour map and slices, and the
hyperparameter importances.

The fits are :mod:`kfkd.search.response`'s; this module only draws them.
Completed trials are black dots, pruned trials (drawn at the last RMSE they
reported, not fitted) grey crosses, the best trial a red star.
"""

import os

import numpy as np

from ..plotting import plt, save_figure
from .response import ResponseSurface, surface_axis_values
# after kfkd.plotting (the Agg backend); the import registers the '3d' axes
from mpl_toolkits.mplot3d import Axes3D  # noqa: F401,E402

__all__ = ["surface_axis_values", "search_surface_figure",
           "importance_figure", "search_surfaces"]

#: The column pruned trials are drawn at (``results.csv``).
PRUNED_VALUE = "last_val_rmse_px"


def _label(key, log_keys=()):
    text = key.split(".")[-1].replace("_", " ")
    return text + (" (log)" if key in log_keys else "")


def _pruned(frame, x_key, y_key, log_keys):
    """(x, y, z) of the pruned trials on the sampled axes (may be empty)."""
    if PRUNED_VALUE not in frame:
        return np.zeros((3, 0))
    rows = frame[(frame.state == "PRUNED") & frame[PRUNED_VALUE].notna()
                 & frame[x_key].notna() & frame[y_key].notna()]
    if not len(rows):
        return np.zeros((3, 0))
    # placed on the same axes as the completed trials (log floor, codes)
    both = frame[x_key].dropna().tolist(), frame[y_key].dropna().tolist()
    out = []
    for key, values in zip((x_key, y_key), both):
        pos, _ = surface_axis_values(values + rows[key].tolist(),
                                     key in log_keys)
        out.append(pos[len(values):])
    return np.array([out[0], out[1], rows[PRUNED_VALUE].values.astype(float)])


def _set_ticks(ax, surface, names="xy"):
    for name, ticks in zip(names, (surface.xticks_, surface.yticks_)):
        if ticks:
            getattr(ax, "set_%sticks" % name)([t for t, _ in ticks])
            getattr(ax, "set_%sticklabels" % name)([s for _, s in ticks])


def _draw_3d(ax, surface, pruned, best):
    """The fitted surface, the trials and the best one on a 3D axes."""
    if surface.gp_ is not None:
        X, Y, Z = surface.grid(30)
        ax.plot_surface(X, Y, Z, cmap="viridis_r", alpha=0.6, linewidth=0,
                        antialiased=True, rstride=1, cstride=1)
    ax.scatter(surface.x_, surface.y_, surface.z_, color="black", s=16,
               depthshade=False, label="complete (%d)" % len(surface.z_))
    if pruned.shape[1]:
        ax.scatter(pruned[0], pruned[1], pruned[2], color="grey", marker="x",
                   s=22, depthshade=False,
                   label="pruned (%d), last RMSE" % pruned.shape[1])
    if best is not None:
        ax.scatter([surface.x_[best]], [surface.y_[best]],
                   [surface.z_[best]], color="red", marker="*", s=220,
                   depthshade=False, label="best: trial %d, %.3f px" % (
                       surface.numbers_[best], surface.z_[best]))
    _set_ticks(ax, surface)
    ax.set_zlabel("validation RMSE (px)")
    ax.legend(loc="upper left", fontsize="x-small")


def _draw_contour(fig, ax, surface, pruned, best):
    """The fitted mean as a filled contour map, the trials on it."""
    if surface.gp_ is not None:
        X, Y, Z = surface.grid(80)
        filled = ax.contourf(X, Y, Z, levels=14, cmap="viridis_r")
        fig.colorbar(filled, ax=ax, label="fitted validation RMSE (px)")
    ax.scatter(surface.x_, surface.y_, color="black", s=12)
    if pruned.shape[1]:
        ax.scatter(pruned[0], pruned[1], color="grey", marker="x", s=18)
    if best is not None:
        ax.scatter([surface.x_[best]], [surface.y_[best]], color="red",
                   marker="*", s=180, edgecolor="white", linewidth=0.5)
    _set_ticks(ax, surface)
    for values, ticks, set_lim in ((surface.x_, surface.xticks_, ax.set_xlim),
                                   (surface.y_, surface.yticks_, ax.set_ylim)):
        if len(values) and np.ptp(values) > 0:  # the trials' range ...
            lo, hi = values.min(), values.max()
            inside = [t for t, _ in ticks if lo <= t <= hi]
            if ticks and len(inside) < 2:  # ... or the ticks around them
                lo, hi = min(lo, ticks[0][0]), max(hi, ticks[-1][0])
            margin = 0.03 * (hi - lo)
            set_lim(lo - margin, hi + margin)


def _draw_slice(ax, surface, axis, best, pruned):
    """RMSE along one setting, the other held at the best trial's value:
    the fitted mean with a +-2 sd band, and every trial's RMSE."""
    along = (surface.x_, surface.y_)[axis]
    if surface.gp_ is not None and best is not None:
        t = np.linspace(along.min(), along.max(), 120)
        held = np.full_like(t, (surface.y_, surface.x_)[axis][best])
        xy = (t, held) if axis == 0 else (held, t)
        mean, sd = surface.predict(*xy, return_std=True)
        ax.plot(t, mean, color="C0", label="fit, other setting at the best")
        ax.fill_between(t, mean - 2 * sd, mean + 2 * sd, color="C0",
                        alpha=0.2, label="+-2 sd")
    ax.scatter(along, surface.z_, color="black", s=10)
    if pruned.shape[1]:
        ax.scatter(pruned[axis], pruned[2], color="grey", marker="x", s=14)
    if best is not None:
        ax.scatter([along[best]], [surface.z_[best]], color="red",
                   marker="*", s=120)
    ticks = (surface.xticks_, surface.yticks_)[axis]
    if ticks:
        ax.set_xticks([p for p, _ in ticks])
        ax.set_xticklabels([s for _, s in ticks])
    ax.set_ylabel("validation RMSE (px)")
    if surface.gp_ is not None:
        ax.legend(fontsize="x-small")


def search_surface_figure(frame, x_key, y_key, log_keys=(),
                          z_key="val_rmse_px"):
    """Validation RMSE over two settings of a random search, fitted.

    Four panels: the fitted surface (:class:`kfkd.search.response.\
ResponseSurface`, a Gaussian process over the sampled axes) in 3D with the
    trials as points; its contour map; and two slices through the best
    trial, each along one setting with the fit's +-2 sd band.  Pruned
    trials are grey crosses at their last reported RMSE (not fitted).  With
    too few completed trials no surface is drawn and the title says so.

    Parameters
    ----------
    frame : pandas.DataFrame
        ``results.csv`` of a study: columns ``number``, ``state``,
        ``x_key``, ``y_key``, ``z_key`` and (optional)
        ``last_val_rmse_px``.
    x_key, y_key : str
        Configuration keys.
    log_keys : collection of str
        Keys sampled log-uniformly (fitted and drawn over log10).

    Returns
    -------
    matplotlib.figure.Figure
        ``fig.axes[0]`` is the 3D axes (its first collection is the surface
        when one was fitted, then the scatter of completed trials).
    """
    surface = ResponseSurface(x_key, y_key, log_keys, z_key).fit(frame)
    pruned = _pruned(frame, x_key, y_key, log_keys)
    best = int(np.argmin(surface.z_)) if len(surface.z_) else None
    fig = plt.figure(figsize=(12.0, 9.5))
    ax3 = fig.add_subplot(2, 2, 1, projection="3d")
    ax3.set_box_aspect(None, zoom=0.85)  # keep the z label inside the figure
    _draw_3d(ax3, surface, pruned, best)
    axc = fig.add_subplot(2, 2, 2)
    _draw_contour(fig, axc, surface, pruned, best)
    for ax in (ax3, axc):
        ax.set_xlabel(_label(x_key, log_keys))
        ax.set_ylabel(_label(y_key, log_keys))
    for k, key in enumerate((x_key, y_key)):
        ax = fig.add_subplot(2, 2, 3 + k)
        _draw_slice(ax, surface, k, best, pruned)
        ax.set_xlabel(_label(key, log_keys))
    fig.suptitle("Random search: validation RMSE over %s x %s%s" % (
        _label(x_key), _label(y_key),
        "" if surface.note_ is None else "\n(%s)" % surface.note_))
    fig.subplots_adjust(left=0.06, right=0.96, bottom=0.06, top=0.92,
                        wspace=0.25, hspace=0.25)
    return fig


def importance_figure(importances, note=None, n_complete=None):
    """A horizontal bar chart of fANOVA importances (largest at the top).

    Parameters
    ----------
    importances : dict or None
        ``{key: share of variance}`` (:func:`kfkd.search.response.\
param_importances`); None draws only ``note``.
    note : str or None
    n_complete : int, optional
        Shown in the title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    items = sorted((importances or {}).items(), key=lambda kv: kv[1])
    fig, ax = plt.subplots(figsize=(6.5, 0.45 * max(len(items), 3) + 1.2))
    if items:
        ax.barh([_label(k) for k, _ in items], [v for _, v in items],
                color="C0")
        for i, (_, v) in enumerate(items):
            ax.text(v, i, " %.2f" % v, va="center", fontsize="small")
        ax.set_xlim(0, max(v for _, v in items) * 1.2)
    else:
        ax.text(0.5, 0.5, note or "no importances", ha="center",
                va="center", transform=ax.transAxes)
        ax.set_yticks([])
    ax.set_xlabel("fANOVA importance (share of the RMSE variance)")
    ax.set_title("Hyperparameter importances%s" % (
        "" if n_complete is None else " (%d completed trials)" % n_complete))
    fig.tight_layout()
    return fig


def search_surfaces(frame, pairs, log_keys, path_prefix, importances=None):
    """Write one figure per pair, ``<path_prefix>_<x>_<y>.png/.pdf``, and
    (given ``importances``) ``<folder>/importances.png/.pdf``.

    Pairs whose settings are absent from ``frame`` are skipped.

    Parameters
    ----------
    importances : tuple (dict or None, str or None), optional
        :func:`kfkd.search.response.param_importances`'s result.

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
    if importances is not None:
        n_complete = int((frame.state == "COMPLETE").sum()) if len(frame) else 0
        fig = importance_figure(importances[0], importances[1], n_complete)
        written += save_figure(fig, os.path.join(
            os.path.dirname(path_prefix), "importances"))
    return written
