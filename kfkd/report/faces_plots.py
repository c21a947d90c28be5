"""Figures of faces and their keypoints: labelled samples, labels per
keypoint, augmentation, exposure correction, predictions and RMSE per
keypoint, the groups of the grouped split (arrays in, a matplotlib figure out; no Theano)."""

import numpy as np

from ..plotting import face as _face, face_rows as _face_rows, plt
from ..plotting import points as _points

__all__ = ["sample_faces_figure", "label_counts_figure",
           "augmentation_figure", "exposure_figure", "predictions_figure",
           "per_keypoint_figure", "group_examples_figure",
           "nearest_face_figure"]


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
    return _faces_in_rows(images, rows, titles, "Training faces and their "
                          "labelled keypoints (cyan)", keypoints)


def _faces_in_rows(images, rows, titles, title, keypoints=None,
                   cell=(1.75, 1.95), fontsize=7):
    """Faces (and their keypoints in cyan, if given) in labelled rows
    (:func:`kfkd.plotting.face_rows`), ``cell`` inches each, under
    ``title``."""
    fig, cells = _face_rows(rows, cell[0], cell[1], 0.3)
    for ax, _, _, i in cells:
        _face(ax, images[i], titles[i], fontsize=fontsize)
        if keypoints is not None:
            _points(ax, keypoints[i], "cyan")
    fig.suptitle(title, fontsize=10 if fontsize >= 7 else 9)
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


def group_examples_figure(images, rows, titles):
    """Example groups of likely the same person, one row per group.

    Parameters
    ----------
    images : ndarray, (N, 1, 96, 96) in [0, 1]
    rows : sequence of (str, ndarray of int)
        Row label and the indices (into ``images``) of the group's faces.
    titles : sequence of str, length N

    Returns
    -------
    matplotlib.figure.Figure
    """
    return _faces_in_rows(images, rows, titles, "Groups of the grouped "
                          "validation split (faces aligned on eye centres "
                          "and nose tip, compared by gradients, clustered)",
                          cell=(1.1, 1.25), fontsize=6)


def nearest_face_figure(sizes, nearest):
    """Group sizes, and each face's correlation with its nearest training
    face for the splits compared.

    Parameters
    ----------
    sizes : ndarray, (G,) int
        Faces per group.
    nearest : dict
        Label -> ndarray of correlations in [-1, 1], one per face.
    """
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.4))
    counts = np.bincount(sizes)
    left.bar(np.arange(len(counts)), counts, color="steelblue")
    left.set_xlabel("faces in the group")
    left.set_ylabel("groups")
    left.set_title("%d groups of %d faces" % (len(sizes), sizes.sum()))
    bins = np.linspace(0.3, 1.0, 36)
    for label, values in nearest.items():
        right.hist(values, bins=bins, histtype="step", lw=1.4, density=True,
                   label="%s (median %.3f)" % (label, np.median(values)))
    right.set_xlabel("correlation with the nearest training face (pixels)")
    right.set_ylabel("density")
    right.set_title("How alike validation and test faces are to training")
    right.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig
