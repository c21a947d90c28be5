"""Every matplotlib figure of kfkd (no Theano here).

Functions take arrays and a path prefix and write PNG and PDF (via
:func:`save_figure`); they never train or predict.  Uses the non-interactive
Agg backend.
"""
import os
import tempfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

__all__ = ["save_figure"]


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
