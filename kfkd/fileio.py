"""Atomic writing: an output file or folder is either complete or absent.

A file is written to a temporary name beside it and renamed
(:func:`atomic_write`); a folder (a model folder) is written into a staging
folder beside it and swapped in (:func:`atomic_folder`), so that the target
is at every instant the old complete folder or the new complete one.

No Theano here.
"""
import contextlib
import ctypes
import errno
import json
import os
import re
import shutil
import signal
import tempfile

from .errors import ModelError

__all__ = ["atomic_path", "atomic_write", "write_json", "read_json",
           "atomic_folder", "check_output_folder", "remove_stale_staging",
           "FAULT_HOOK_VARIABLE", "STAGING", "MODEL_MARKERS", "pid_alive"]

#: Test-only hook (tests/test_model_faults.py): ``STAGE:N:SIGNAL``, e.g.
#: ``swap:2:TERM``, makes the N-th :func:`atomic_folder` of the process send
#: itself SIGNAL at STAGE: ``before`` (before the save starts) or ``swap``
#: (staging folder complete, not yet swapped in).
FAULT_HOOK_VARIABLE = "KFKD_TEST_FAULT"

#: Signals deferred while a folder is staged and swapped in.
_DEFERRED_SIGNALS = (signal.SIGINT, signal.SIGTERM)

#: The JSON file that makes a folder a model folder, by kind: an ensemble
#: (:mod:`kfkd.ensemble`), specialists (:mod:`kfkd.groups`), a single net.
MODEL_MARKERS = ("ensemble.json", "specialists.json", "model.json")

#: Staging folders of ``path`` are ``<path>.staging-<pid>-*``.
STAGING = ".staging-"
_saves = [0]  # atomic_folder calls in this process (for the fault hook)


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


# -- folders ------------------------------------------------------------------
def _staging_pattern(path):
    name = os.path.basename(os.path.normpath(path))
    return re.compile(r"^%s%s(\d+)-" % (re.escape(name), re.escape(STAGING)))


def pid_alive(pid):
    """Whether process ``pid`` runs (a zombie nobody reaped does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):  # not Linux, or gone meanwhile
        return True


def remove_stale_staging(path):
    """Remove staging folders of ``path`` left by dead processes (SIGKILL).

    Staging folders are ``<path>.staging-<pid>-<random>`` beside ``path``;
    those of a live process (a save in progress) are left alone.

    Returns
    -------
    list of str
        The folders removed.
    """
    parent = os.path.dirname(os.path.abspath(path))
    pattern, removed = _staging_pattern(path), []
    try:
        names = os.listdir(parent)
    except OSError:
        return removed
    for name in names:
        match = pattern.match(name)
        if match and not pid_alive(int(match.group(1))):
            shutil.rmtree(os.path.join(parent, name), ignore_errors=True)
            removed.append(os.path.join(parent, name))
    return removed


def check_output_folder(path, overwrite=False, option="--out"):
    """Check that a model folder may be written at ``path``, before any work.

    Parameters
    ----------
    path : str
        The folder to write: absent, an empty folder, or (with
        ``overwrite``) a folder to replace as a whole.
    overwrite : bool
        Allow replacing a non-empty folder.
    option : str
        The option that named ``path`` (for the message).

    Raises
    ------
    ModelError
        ``path`` is a file; a non-empty folder and not ``overwrite``; a
        folder that even ``overwrite`` must not replace whole (the current
        folder or one holding it, or one holding a sub-folder that is not
        a model); or its parent is a file or not writable.  Also removes stale staging
        folders of ``path`` (:func:`remove_stale_staging`).
    """
    where = "%s %s" % (option, path)
    if os.path.exists(path) and not os.path.isdir(path):
        raise ModelError("%s: is a file, not a model folder" % where)
    parent = os.path.dirname(os.path.abspath(path))
    existing = parent
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise ModelError("%s: %s is a file, not a folder" % (where, existing))
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ModelError("%s: %s is not writable" % (where, existing))
    remove_stale_staging(path)
    if os.path.isdir(path):
        _check_replaceable(path, where)
    if os.path.isdir(path) and not overwrite:
        markers = MODEL_MARKERS + ("model.npz",)
        entries = sorted(os.listdir(path), key=lambda e: (
            e not in markers, e))
        if entries:
            what = ("holds a model" if entries[0] in MODEL_MARKERS
                    else "is not empty")
            raise ModelError("%s: %s (%s); pass --overwrite to replace it"
                             % (where, what, ", ".join(entries[:4] + (
                                 ["..."] if len(entries) > 4 else []))))


def _check_replaceable(path, where):
    """ModelError if replacing ``path`` whole could lose more than a model:
    it is (or holds) the current folder, or holds a sub-folder that is not
    a model (a specialist group folder has a model.json, an ensemble
    member's a model.json or specialists.json)."""
    real, cwd = os.path.realpath(path), os.path.realpath(os.getcwd())
    if cwd == real or cwd.startswith(real.rstrip(os.sep) + os.sep):
        raise ModelError("%s: is the current folder or holds it; a model "
                         "folder is replaced whole, choose another" % where)
    for entry in sorted(os.listdir(path)):
        sub = os.path.join(path, entry)
        if os.path.isdir(sub) and not any(os.path.isfile(
                os.path.join(sub, m)) for m in MODEL_MARKERS):
            raise ModelError("%s: holds the folder %s, not a model; a model "
                             "folder is replaced whole, choose another"
                             % (where, entry))


@contextlib.contextmanager
def _signals_deferred():
    """SIGINT and SIGTERM wait until the block is done, then act as usual.

    Only in the main thread (elsewhere signal handlers cannot be set).
    """
    received, previous = [], {}

    def record(signum, frame):
        received.append(signum)

    try:
        for sig in _DEFERRED_SIGNALS:
            if signal.getsignal(sig) is not None:  # None: set outside Python
                previous[sig] = signal.signal(sig, record)
    except ValueError:  # not the main thread
        pass
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for sig in dict.fromkeys(received):
            signal.raise_signal(sig)


def _fault_hook(stage):
    """Send this process a signal at ``stage`` if asked (tests only)."""
    value = os.environ.get(FAULT_HOOK_VARIABLE)
    if not value:
        return
    want, n, name = value.split(":")
    if want == stage and int(n) == _saves[0]:
        os.kill(os.getpid(), getattr(signal, "SIG" + name))


def _exchange(a, b):
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE).

    Returns False where the system cannot (then nothing happened).
    """
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b),
                 rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), a)


def _fsync_tree(folder):
    for root, _, files in os.walk(folder):
        for name in files:
            fd = os.open(os.path.join(root, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def _swap_in(staging, path):
    """Make ``staging`` ``path``; the old ``path`` (if any) ends at
    ``staging``'s name, for removal."""
    if not os.path.isdir(path):
        os.rename(staging, path)
        return False
    if _exchange(staging, path):
        return True
    old = staging + ".old"  # no atomic exchange: two renames
    os.rename(path, old)
    os.rename(staging, path)
    os.rename(old, staging)
    return True


@contextlib.contextmanager
def atomic_folder(path):
    """A staging folder beside ``path``, swapped in for ``path`` on success.

    The one writer of model folders.  The block writes the complete folder
    into the staging folder it is given; on success the staging folder
    replaces ``path`` as a whole (an atomic exchange on Linux), so that
    ``path`` is at every instant either the old complete folder (or
    absent) or the new complete one.  SIGINT and SIGTERM received during
    the block are acted upon after it, so a signal never leaves a staging
    folder behind; on an exception the staging folder is removed and
    ``path`` is left as it was.  A process killed outright (SIGKILL) can
    leave ``<path>.staging-<pid>-*``: the next save or
    :func:`check_output_folder` removes it.

    Parameters
    ----------
    path : str
        The folder to (re)place; a file there is an error.

    Raises
    ------
    ModelError
        ``path`` is a file.

    Examples
    --------
    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "model")
    >>> with atomic_folder(p) as staging:
    ...     _ = open(os.path.join(staging, "a.txt"), "w").write("done")
    >>> os.listdir(p)
    ['a.txt']
    """
    path = os.path.normpath(path)
    if os.path.exists(path) and not os.path.isdir(path):
        raise ModelError("%s: is a file, not a model folder" % path)
    _saves[0] += 1
    _fault_hook("before")
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    remove_stale_staging(path)
    with _signals_deferred():
        staging = tempfile.mkdtemp(dir=parent, prefix="%s%s%d-" % (
            os.path.basename(path), STAGING, os.getpid()))
        try:
            os.chmod(staging, 0o777 & ~_umask())
            yield staging
            _fsync_tree(staging)
            _fault_hook("swap")
            _swap_in(staging, path)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
