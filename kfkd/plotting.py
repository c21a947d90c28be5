"""Plotting shared by every figure family (the report, the search surfaces,
the occlusion maps): the Agg backend, :func:`save_figure` and the
face/keypoint drawing (no Theano)."""

import matplotlib
import numpy as np

matplotlib.use("Agg")
from .fileio import atomic_path  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

__all__ = ["plt", "save_figure", "face", "points", "face_rows",
           "METADATA"]

#: ``savefig`` metadata per format: no creation date in a PDF, so that
#: redrawing the same data writes the same bytes.
METADATA = {"pdf": {"CreationDate": None}}


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
        renamed, so no half-written figure is ever left behind; the same
        figure gives the same bytes (:data:`METADATA`).
    """
    paths = []
    for fmt in formats:
        path = "%s.%s" % (path_prefix, fmt)
        with atomic_path(path, suffix="." + fmt) as tmp:
            fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight",
                        metadata=METADATA.get(fmt))
        paths.append(path)
    plt.close(fig)
    return paths


def face(ax, image, title=None, fontsize=7):
    """A grey face on ``ax``, no ticks; pixel (i, j) drawn centred at (j, i)."""
    ax.imshow(np.asarray(image).reshape(np.shape(image)[-2:]), cmap="gray",
              vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=fontsize)


def points(ax, keypoints, color, marker="o", size=10, label=None,
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


def face_rows(rows, width, height, pad):
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


