"""Atomic file writing: an output file is either complete or absent.

No Theano here.
"""
import contextlib
import json
import os
import tempfile

__all__ = ["atomic_write", "write_json", "read_json"]


@contextlib.contextmanager
def atomic_write(path, mode="w", **kwargs):
    """Open a temporary file beside ``path``; rename it onto ``path`` on success.

    On any exception the temporary file is removed and ``path`` is left as it
    was, so a failure never leaves a half-written output.

    Parameters
    ----------
    path : str
    mode : {'w', 'wb'}
    **kwargs
        Passed to :func:`open` (e.g. ``newline=''``).

    Examples
    --------
    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "x.txt")
    >>> with atomic_write(p) as f:
    ...     _ = f.write("done")
    >>> open(p).read()
    'done'
    """
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path),
                               suffix=".tmp")
    try:
        with os.fdopen(fd, mode, **kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_json(path, obj):
    """Write ``obj`` as indented JSON, atomically."""
    with atomic_write(path) as f:
        json.dump(obj, f, indent=2, sort_keys=False, allow_nan=False)
        f.write("\n")


def read_json(path):
    """Read a JSON file."""
    with open(path) as f:
        return json.load(f)
