"""Atomic file writing: an output file is either complete or absent.

No Theano here.
"""
import contextlib
import json
import os
import tempfile

__all__ = ["atomic_path", "atomic_write", "write_json", "read_json"]


@contextlib.contextmanager
def atomic_path(path, suffix=".tmp"):
    """A temporary path beside ``path``, renamed onto ``path`` on success.

    For writers that need a file name rather than a file object (OpenCV's
    ``VideoWriter``, matplotlib's ``savefig`` by format).  On any exception
    the temporary file is removed and ``path`` is left as it was.

    Parameters
    ----------
    path : str
    suffix : str
        Ending of the temporary name (some writers choose the format by it).
    """
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path)
                               + ".", suffix=suffix)
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


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
    with atomic_path(path) as tmp:
        with open(tmp, mode, **kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json(path, obj):
    """Write ``obj`` as indented JSON, atomically."""
    with atomic_write(path) as f:
        json.dump(obj, f, indent=2, sort_keys=False, allow_nan=False)
        f.write("\n")


def read_json(path):
    """Read a JSON file."""
    with open(path) as f:
        return json.load(f)
