"""Where the report keeps its files, and how it reads and writes them.

Every figure group writes the data it computed (CSV, JSON, ``.npz``
without pickle, Markdown) atomically and draws its figures from those saved
files; this module holds those readers and writers, the repository paths,
and the two inputs a group may load (the data split and a model).
"""
import glob
import os
import shutil

import numpy as np

from ..data import resolve_data_dir
from ..splits import load_split
from ..fileio import atomic_write

__all__ = ["REPO", "DEFAULT_STUDY_DIR", "COMMAND", "split", "load_model",
           "folder", "save_npz", "load_npz", "write_csv", "write_text", "rel",
           "rel_to", "need", "remove_stale", "markdown_table"]

#: The repository folder (figures/, runs/ and models/ live here).
REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

#: The main job's study (``make search`` / ``python experiments/grid_search.py``).
DEFAULT_STUDY_DIR = os.path.join(REPO, "runs", "default")

#: The command that remakes every figure group (``--budget NAME`` for
#: another budget, ``--only GROUP`` for one group).
COMMAND = "python experiments/reproduce_figures.py"

_SPLITS = {}


def split(data_dir=None, limit=None):
    """(train, val) of :func:`kfkd.splits.load_split`, cached per process."""
    key = (os.path.abspath(resolve_data_dir(data_dir)), limit)
    if key not in _SPLITS:
        _SPLITS[key] = load_split(data_dir, limit=limit, verbose=False)
    return _SPLITS[key]


def load_model(model):
    """A loaded model: ``model`` itself, its folder, or the default one."""
    if model is None or isinstance(model, str):
        from ..model import load_model as load  # Theano boundary: lazy
        return load(model)
    return model


def folder(out_dir, group):
    """``out_dir/group``, created if needed."""
    path = os.path.join(out_dir, group)
    os.makedirs(path, exist_ok=True)
    return path


def save_npz(path, **arrays):
    """Write ``arrays`` compressed to ``path`` atomically; ``path``."""
    with atomic_write(path, "wb") as f:
        np.savez_compressed(f, **arrays)
    return path


def load_npz(path):
    """{name: array} of an ``.npz`` (no pickle)."""
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def write_csv(path, frame):
    """Write a DataFrame as CSV (no index) atomically; ``path``."""
    with atomic_write(path, newline="") as f:
        frame.to_csv(f, index=False)
    return path


def write_text(path, text):
    """Write ``text`` atomically; ``path``."""
    with atomic_write(path) as f:
        f.write(text)
    return path


def rel(path):
    """``path`` relative to the repository when inside it (for commands)."""
    if not path:
        return None
    path = os.path.abspath(path)
    return os.path.relpath(path, REPO) if path.startswith(REPO + os.sep) \
        else path


def rel_to(path, folder):
    """``path`` relative to ``folder``."""
    return os.path.relpath(os.path.abspath(path), os.path.abspath(folder))


def need(*paths):
    """Check that the saved files a redraw reads exist.

    Raises
    ------
    FileNotFoundError
        The first missing path, with what to run first.
    """
    for p in paths:
        if not os.path.isfile(p):
            raise FileNotFoundError("%s: no such file; run the figure group "
                                    "without --redraw first" % p)


def remove_stale(folder, patterns):
    """Remove what matches ``patterns`` (globs relative to ``folder``;
    files or whole folders): outputs another budget or model left that this
    run does not make, so that one folder never mixes two of them."""
    for pattern in patterns:
        for path in glob.glob(os.path.join(folder, pattern)):
            if os.path.isdir(path):
                shutil.rmtree(path)
            else:
                os.unlink(path)


def markdown_table(frame, columns, formats=None):
    """A Markdown table of ``frame``'s ``columns`` {column: header}.

    ``formats``: {column: format string or callable} for the cells.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"a": ["x"], "b": [1.23456]})
    >>> print(markdown_table(f, {"a": "name", "b": "RMSE"}, {"b": "%.2f"}))
    | name | RMSE |
    |---|---|
    | x | 1.23 |
    """
    formats = formats or {}
    lines = ["| " + " | ".join(columns.values()) + " |",
             "|" + "---|" * len(columns)]
    for _, row in frame.iterrows():
        cells = []
        for c in columns:
            fmt = formats.get(c, "%s")
            cells.append(fmt(row) if callable(fmt) else fmt % row[c])
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


