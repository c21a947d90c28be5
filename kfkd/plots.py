"""Every matplotlib figure of kfkd (no Theano here).

Functions take arrays and a path prefix and write PNG and PDF (via
:func:`save_figure`); they never train or predict.  Uses the non-interactive
Agg backend.
"""

import matplotlib
import numpy as np

matplotlib.use("Agg")
from .fileio import atomic_path  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

__all__ = ["save_figure", "surface_axis_values", "search_surface_figure",
           "search_surfaces", "occlusion_keypoint_figure",
           "occlusion_overview_figure", "censor_comparison_figure",
           "sample_faces_figure", "label_counts_figure",
           "augmentation_figure", "exposure_figure", "training_curves_figure",
           "predictions_figure", "per_keypoint_figure", "architecture_boxes",
           "draw_architecture", "architecture_figure"]


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
    paths = []
    for fmt in formats:
        path = "%s.%s" % (path_prefix, fmt)
        with atomic_path(path, suffix="." + fmt) as tmp:
            fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight")
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


# -- the paper's figures (kfkd.figures) --------------------------------------

def _face(ax, image, title=None, fontsize=7):
    """A grey face on ``ax``, no ticks; pixel (i, j) drawn centred at (j, i)."""
    ax.imshow(np.asarray(image).reshape(np.shape(image)[-2:]), cmap="gray",
              vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=fontsize)


def _points(ax, keypoints, color, marker="o", size=10, label=None,
            highlight=None, highlight_color="magenta"):
    """Keypoints ``(2K,)`` in pixels (NaN: not drawn) over a face on ``ax``.

    ``highlight``: (K,) bool, keypoints drawn in ``highlight_color``.
    """
    kp = np.asarray(keypoints, dtype=float)
    x, y = kp[0::2] - 0.5, kp[1::2] - 0.5     # pixel centres at integers
    colors = np.array([color] * len(x), dtype=object)
    if highlight is not None:
        colors[np.asarray(highlight, bool)] = highlight_color
    ok = np.isfinite(x) & np.isfinite(y)
    filled = marker not in ("x", "+")
    ax.scatter(x[ok], y[ok], s=size, c=list(colors[ok]), marker=marker,
               linewidths=0.9 if not filled else 0.3,
               edgecolors="black" if filled else None, label=label)


def _face_rows(rows, width, height, pad):
    """A figure of faces in rows: one row of axes per ``(label, indices)``
    of ``rows``, ``label`` on its left, as many columns as the longest row
    (the cells beyond a shorter row's faces blank); ``width`` x ``height``
    inches per cell plus ``pad`` inches.

    Returns the figure and, per face in row order, ``(ax, r, c, i)``: its
    axes, row, column and index into the images.
    """
    cols = max(len(idx) for _, idx in rows)
    fig, axes = plt.subplots(len(rows), cols, squeeze=False,
                             figsize=(width * cols, height * len(rows) + pad))
    cells = []
    for r, (label, idx) in enumerate(rows):
        for c in range(cols):
            if c < len(idx):
                cells.append((axes[r, c], r, c, idx[c]))
            else:
                axes[r, c].axis("off")
        axes[r, 0].set_ylabel(label, fontsize=9)
    return fig, cells


def sample_faces_figure(images, keypoints, rows, titles):
    """Labelled sample faces, one row per group (e.g. fully / partly labelled).

    Parameters
    ----------
    images : ndarray, (N, 1, 96, 96) in [0, 1]
    keypoints : ndarray, (N, 2K), pixels, NaN where unlabelled
    rows : sequence of (str, ndarray of int)
        Row label and the indices (into ``images``) of its faces.
    titles : sequence of str, length N

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, cells = _face_rows(rows, 1.75, 1.95, 0.3)
    for ax, _, _, i in cells:
        _face(ax, images[i], titles[i])
        _points(ax, keypoints[i], "cyan")
    fig.suptitle("Training faces and their labelled keypoints (cyan)",
                 fontsize=10)
    fig.tight_layout()
    return fig


def label_counts_figure(names, counts, n_faces):
    """Faces labelled per keypoint (horizontal bars).

    Parameters
    ----------
    names : sequence of str, K
    counts : sequence of int, K
    n_faces : int
    """
    fig, ax = plt.subplots(figsize=(6.4, 0.28 * len(names) + 1.2))
    y = np.arange(len(names))[::-1]
    ax.barh(y, counts, color="steelblue")
    for yy, c in zip(y, counts):
        ax.text(c, yy, " %d" % c, va="center", fontsize=7)
    ax.set_yticks(y)
    ax.set_yticklabels([n.replace("_", " ") for n in names], fontsize=7)
    ax.axvline(n_faces, color="grey", ls="--", lw=0.8)
    ax.set_xlim(0, n_faces * 1.12)
    ax.set_xlabel("labelled faces (of %d)" % n_faces)
    ax.set_title("Keypoint labels per keypoint")
    fig.tight_layout()
    return fig


def augmentation_figure(examples, left=None):
    """One face and its keypoints before and after each transform.

    Parameters
    ----------
    examples : sequence of (str, ndarray (1, 96, 96), ndarray (2K,))
        Title, image and keypoints (pixels); the first is the original.
    left : ndarray (K,) bool, optional
        The subject's ``left_*`` keypoints, drawn in magenta (so that a flip
        visibly swaps the labels with the face).
    """
    n = len(examples)
    cols = min(n, 6)
    rows = int(np.ceil(n / float(cols)))
    fig, axes = plt.subplots(rows, cols, squeeze=False,
                             figsize=(2.0 * cols, 2.25 * rows + 0.4))
    for k, ax in enumerate(axes.ravel()):
        if k >= n:
            ax.axis("off")
            continue
        title, image, kp = examples[k]
        _face(ax, image, title)
        _points(ax, kp, "cyan", highlight=left)
    fig.suptitle("Augmentation: image and keypoints moved together "
                 "(magenta: the subject's left keypoints)", fontsize=9)
    fig.tight_layout()
    return fig


def exposure_figure(rows, titles):
    """Exposure correction: rows of faces (original, corrected, ...).

    Parameters
    ----------
    rows : sequence of (str, ndarray (N, 1, 96, 96))
        Row label and faces in [0, 1].
    titles : sequence of str, N
        Column titles (e.g. the share of near-white pixels).
    """
    n = len(rows[0][1])
    fig, axes = plt.subplots(len(rows), n, squeeze=False,
                             figsize=(1.9 * n, 1.95 * len(rows) + 0.3))
    for r, (label, images) in enumerate(rows):
        for c in range(n):
            _face(axes[r, c], images[c], titles[c] if r == 0 else
                  "mean %.2f" % float(np.mean(images[c])))
        axes[r, 0].set_ylabel(label, fontsize=9)
    fig.suptitle("Exposure correction of the most over-exposed training faces",
                 fontsize=10)
    fig.tight_layout()
    return fig


def training_curves_figure(histories, title="Training curves"):
    """Train and validation loss per epoch, one panel per run, and the
    validation RMSE of all runs together (Nouri 2014's plots).

    Parameters
    ----------
    histories : dict
        run name -> mapping with arrays ``epoch``, ``train_loss``,
        ``val_loss`` (masked MSE in the [-1, 1] target scale),
        ``val_rmse_px`` (pixels) and optionally ``seconds`` (then the last
        panel plots RMSE against training time, which compares runs of one
        time budget); e.g. a ``history.csv`` as a DataFrame.
    title : str
    """
    names = list(histories)
    n = len(names) + 1
    cols = min(n, 3)
    rows = int(np.ceil(n / float(cols)))
    fig, axes = plt.subplots(rows, cols, squeeze=False,
                             figsize=(4.2 * cols, 3.2 * rows + 0.4))
    axes = axes.ravel()
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, name in enumerate(names):
        h = histories[name]
        ax = axes[k]
        epoch = np.asarray(h["epoch"])
        ax.plot(epoch, h["train_loss"], "-", color="tab:blue", lw=1.3,
                label="train")
        ax.plot(epoch, h["val_loss"], "-", color="tab:green", lw=1.3,
                label="validation")
        b = int(np.nanargmin(np.asarray(h["val_loss"], float)))
        ax.plot(epoch[b], np.asarray(h["val_loss"])[b], "*", color="red",
                ms=9, label="best: %.3f px" % np.asarray(h["val_rmse_px"])[b])
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss (MSE, [-1, 1] scale)")
        ax.set_title(name, fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    ax = axes[len(names)]
    timed = all("seconds" in histories[name] for name in names)
    for k, name in enumerate(names):
        h = histories[name]
        x = (np.asarray(h["seconds"], float) / 60.0 if timed
             else np.asarray(h["epoch"]))
        ax.plot(x, h["val_rmse_px"], ".-", lw=1.3, ms=3,
                color=colors[k % len(colors)], label=name)
    ax.set_xlabel("training time (min)" if timed else "epoch")
    ax.set_ylabel("validation RMSE (px)")
    ax.set_title("validation RMSE, all runs", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    from matplotlib.ticker import MaxNLocator
    for ax in axes[:n - 1]:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    for ax in axes[n:]:
        ax.axis("off")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def predictions_figure(images, truth, predictions, rmse, rows, titles):
    """Predicted against labelled keypoints, e.g. the best and worst faces.

    Parameters
    ----------
    images : ndarray, (N, 1, 96, 96) in [0, 1]
    truth : ndarray, (N, 2K), pixels, NaN where unlabelled
    predictions : ndarray, (N, 2K), pixels
    rmse : ndarray, (N,), pixels
    rows : sequence of (str, ndarray of int)
        Row label and indices into ``images``.
    titles : sequence of str, N
    """
    fig, cells = _face_rows(rows, 1.8, 2.0, 0.5)
    for ax, r, c, i in cells:
        _face(ax, images[i], "%s\n%.2f px" % (titles[i], rmse[i]))
        _points(ax, truth[i], "lime", "o", size=12,
                label="truth" if (r, c) == (0, 0) else None)
        _points(ax, predictions[i], "red", "x", size=14,
                label="prediction" if (r, c) == (0, 0) else None)
    fig.legend(loc="lower center", fontsize=7, ncol=2)
    fig.suptitle("Predictions (red x) against truth (green o) on validation "
                 "faces", fontsize=10)
    fig.tight_layout(rect=(0, 0.04, 1, 1), h_pad=1.5)
    return fig


def per_keypoint_figure(names, values, overall=None, baseline=None):
    """Validation RMSE per keypoint (horizontal bars, pixels).

    Parameters
    ----------
    names : sequence of str, K
    values : sequence of float or None, K (pixels)
    overall, baseline : float, optional
        Overall RMSE and the mean-shape baseline, drawn as vertical lines.
    """
    values = np.array([np.nan if v is None else v for v in values], float)
    fig, ax = plt.subplots(figsize=(6.4, 0.28 * len(names) + 1.2))
    y = np.arange(len(names))[::-1]
    ax.barh(y, values, color="indianred")
    ax.set_yticks(y)
    ax.set_yticklabels([n.replace("_", " ") for n in names], fontsize=7)
    for v, label, style in ((overall, "all keypoints %.2f px", "-"),
                            (baseline, "mean shape %.2f px", "--")):
        if v is not None:
            ax.axvline(v, color="black", ls=style, lw=0.9, label=label % v)
    ax.set_xlabel("validation RMSE (px)")
    ax.set_title("Validation RMSE per keypoint")
    if overall is not None or baseline is not None:
        ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


_LAYER_COLORS = {"InputLayer": "#d9d9d9", "conv": "#9ecae1",
                 "MaxPool2DLayer": "#fdd0a2", "DropoutLayer": "#f2f2f2",
                 "DenseLayer": "#a1d99b", "GlobalPoolLayer": "#fdd0a2",
                 "output": "#fc9272"}


def _nonlinearity_name(name):
    return {"rectify": "ReLU", "sigmoid": "sigmoid", "tanh": "tanh"}.get(
        name, name)


def architecture_boxes(layers):
    """Layer descriptions -> boxes of a drawing (batch norm and the
    nonlinearity folded into the layer they follow).

    Parameters
    ----------
    layers : sequence of dict
        As written by :func:`kfkd.figures.describe_layers`: ``type``,
        ``name``, ``output_shape`` (without the batch axis), ``n_params``
        and, where they apply, ``num_filters``, ``filter_size``,
        ``pool_size``, ``p``, ``num_units``, ``nonlinearity``.

    Returns
    -------
    list of (str, str, str)
        (text, output shape text, kind) per box, input first.
    """
    boxes = []
    for layer in layers:
        kind, shape = layer["type"], layer["output_shape"]
        shape_text = " x ".join(str(s) for s in shape)
        if kind == "BatchNormLayer" and boxes:
            text, _, k = boxes[-1]
            boxes[-1] = (text + " + BN", shape_text, k)
            continue
        if kind == "NonlinearityLayer" and boxes:
            text, _, k = boxes[-1]
            boxes[-1] = (text + " + " + _nonlinearity_name(
                layer.get("nonlinearity", "f")), shape_text, k)
            continue
        if kind == "InputLayer":
            text, k = "input", kind
        elif "num_filters" in layer:
            text = "conv %s, %d filters" % (
                "x".join(str(s) for s in layer["filter_size"]),
                layer["num_filters"])
            k = "conv"
        elif kind == "MaxPool2DLayer":
            text, k = "max-pool %s" % "x".join(
                str(s) for s in layer["pool_size"]), kind
        elif kind == "DropoutLayer":
            text, k = "dropout %.2g" % layer["p"], kind
        elif kind == "DenseLayer":
            text = "dense %d" % layer["num_units"]
            k = "output" if layer.get("name") == "output" else kind
            if k == "output":
                text = "output: %d linear units" % layer["num_units"]
        else:
            text, k = kind.replace("Layer", "").lower(), kind
        if layer.get("nonlinearity") not in (None, "linear", "identity") \
                and k != "output":
            text += " + " + _nonlinearity_name(layer["nonlinearity"])
        boxes.append((text, shape_text, k))
    return boxes


def draw_architecture(ax, layers, title=None, fontsize=8):
    """Draw a net's layer stack as boxes, input at the top, on ``ax``.

    Parameters
    ----------
    ax : matplotlib Axes
    layers : sequence of dict
        See :func:`architecture_boxes`.
    title : str, optional
    fontsize : float
    """
    from matplotlib.patches import Rectangle

    boxes = architecture_boxes(layers)
    n = len(boxes)
    ax.set_xlim(0, 1)
    ax.set_ylim(n + 0.4, -0.5)            # input at the top
    ax.axis("off")
    for k, (text, shape, kind) in enumerate(boxes):
        ax.add_patch(Rectangle((0.04, k - 0.34), 0.56, 0.68,
                               facecolor=_LAYER_COLORS.get(kind, "white"),
                               edgecolor="black", lw=0.8))
        ax.text(0.32, k, text, ha="center", va="center", fontsize=fontsize)
        ax.text(0.64, k, shape, ha="left", va="center", fontsize=fontsize,
                color="dimgrey")
        if k:     # the data flows down the stack
            ax.plot([0.32, 0.32], [k - 0.66, k - 0.34], color="black",
                    lw=1.0)
    total = sum(layer.get("n_params", 0) for layer in layers)
    ax.text(0.32, n, "%s parameters" % format(total, ","), ha="center",
            va="center", fontsize=fontsize, style="italic")
    if title:
        ax.set_title(title, fontsize=fontsize + 2)
    return ax


def architecture_figure(layers, title=None):
    """A figure of :func:`draw_architecture`."""
    n = len(architecture_boxes(layers))
    fig, ax = plt.subplots(figsize=(5.2, 0.36 * n + 0.9))
    draw_architecture(ax, layers, title=title)
    fig.tight_layout()
    return fig
