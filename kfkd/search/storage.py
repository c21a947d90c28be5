"""Where a study lives: the journal file or a database, and the study in it.

* By default an Optuna JournalStorage file ``OUT/STUDY/journal.log``
  (embedded, safe for several local processes through its file lock); a
  journal whose last record a crash cut mid-write is repaired when opened:
  the torn tail is moved, byte for byte, to ``journal.log.torn``
  (:func:`repair_journal`).
* ``--storage sqlite:///FILE``, ``postgresql+psycopg://...`` or
  ``mysql+pymysql://...``: an RDB storage that workers on several machines
  can share; a malformed URL, a missing driver or an unreachable database
  is one :class:`kfkd.errors.SearchError` line.
* A study records the space and the seed it was made with
  (:func:`open_study`), so resuming it with another one is refused; in a
  database it also records its heartbeat interval (:mod:`.heartbeat`).
"""
import json
import os
import sys

import optuna
from sqlalchemy.engine import make_url

from ..errors import SearchError, UsageError
from . import heartbeat

__all__ = ["RDB_BACKENDS", "CONNECT_TIMEOUT", "check_study_name",
           "repair_journal", "open_storage", "open_study"]

#: Database backends an RDB storage may use, and how to install their driver.
RDB_BACKENDS = {"sqlite": None, "postgresql": "pip install -e .[postgres]",
                "mysql": "pip install pymysql (and use mysql+pymysql://)"}

#: Seconds to wait for a database server before giving up.
CONNECT_TIMEOUT = 5

#: What an RDB storage URL looks like, for the error messages.
URL_FORMS = ("sqlite:///FILE, postgresql+psycopg://USER:PASSWORD@HOST[:PORT]/"
             "DATABASE")


def check_study_name(name):
    """Refuse a ``--study`` that is not a plain folder name.

    Returns
    -------
    str
        ``name``.

    Raises
    ------
    kfkd.errors.UsageError
    """
    if (not name or name in (".", "..") or "/" in name or os.sep in name
            or "\0" in name):
        raise UsageError("--study %r: a study name is a plain folder name "
                         "(no '/', not '.' or '..')" % name)
    return name


def _is_record(line):
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:  # JSONDecodeError, UnicodeDecodeError
        return False


def _sound_prefix(data):
    """(bytes, records) of the complete, readable records at the start."""
    good = records = 0
    while good < len(data):
        end = data.find(b"\n", good)
        if end < 0 or not _is_record(data[good:end]):
            break
        good, records = end + 1, records + 1
    return good, records


def _set_aside(path, tail):
    """Write ``tail`` to a fresh ``PATH.torn`` (``.torn.2``, ...); its name."""
    torn = path + ".torn"
    k = 1
    while os.path.exists(torn):
        k += 1
        torn = "%s.torn.%d" % (path, k)
    with open(torn, "wb") as f:
        f.write(tail)
        f.flush()
        os.fsync(f.fileno())
    return torn


def _repair_locked(path):
    """:func:`repair_journal` under the lock: (torn file, records, bytes)."""
    with open(path, "rb") as f:
        data = f.read()
    good, records = _sound_prefix(data)
    if good == len(data):
        return None, records, 0
    tail = data[good:]
    if _is_record(tail):  # complete, only the newline is missing
        with open(path, "ab") as f:
            f.write(b"\n")
            os.fsync(f.fileno())
        return None, records, 0
    torn = _set_aside(path, tail)
    os.truncate(path, good)
    return torn, records, len(tail)


def repair_journal(path):
    """Make a journal file that a crash cut mid-write readable again.

    Optuna's :class:`~optuna.storages.journal.JournalFileBackend` writes one
    JSON record per line, each with one ``write``.  A crash mid-write leaves
    a last line without its newline: Optuna skips it until the next record
    is appended to it, and from then on every read fails ("Invalid log
    format" / a JSON error), for ever.  This keeps every complete record
    before the first torn or unreadable line and moves that line and
    everything after it, byte for byte, to ``PATH.torn`` (``.torn.2``, ...
    when taken), then says so in one line on stderr.  A last record that is
    complete but lacks only its newline gets the newline back.  Runs under
    the journal's own lock, so no process is appending meanwhile.

    Returns
    -------
    str or None
        The ``.torn`` file written, or None when the journal was sound.
    """
    if not os.path.isfile(path):
        return None
    lock = optuna.storages.journal.JournalFileOpenLock(path)
    lock.acquire()
    try:
        torn, records, size = _repair_locked(path)
    finally:
        lock.release()
    if torn is not None:
        print("kfkd: warning: study journal %s: a record cut short by a "
              "crash at line %d; kept the %d records before it, moved the %d "
              "byte(s) from there on to %s" % (path, records + 1, records,
                                               size, torn),
              file=sys.stderr, flush=True)
    return torn


def _storage_error(url, e):
    """A one-line SearchError for an RDB storage that cannot be opened."""
    cause = getattr(e, "orig", None) or e
    lines = [l.strip() for l in str(cause).splitlines() if l.strip()]
    return SearchError("--storage %s: cannot open the database: %s%s" % (
        url, type(cause).__name__, (": " + lines[0]) if lines else ""))


def _checked_url(storage, create):
    """(SQLAlchemy URL, its backend, engine kwargs) of an RDB ``--storage``."""
    try:
        url = make_url(storage)
        backend = url.get_backend_name()
    except Exception:  # sqlalchemy's ArgumentError and co.
        raise SearchError("--storage %r: not a database URL (journal, %s)"
                          % (storage, URL_FORMS)) from None
    shown = url.render_as_string(hide_password=True)
    if backend not in RDB_BACKENDS:
        raise SearchError("--storage %s: unsupported database %r (sqlite, "
                          "postgresql, mysql)" % (shown, backend))
    if not url.database:
        raise SearchError("--storage %s: no database name (%s)"
                          % (shown, URL_FORMS))
    if backend == "sqlite":
        if not create and not os.path.isfile(url.database):
            raise SearchError("--storage %s: no such database file" % shown)
        return url, backend, {"connect_args": {"timeout": CONNECT_TIMEOUT}}
    return url, backend, {"connect_args": {"connect_timeout": CONNECT_TIMEOUT}}


def _rdb_storage(storage, create=True):
    """An :class:`optuna.storages.RDBStorage`, or one line saying why not."""
    url, backend, engine_kwargs = _checked_url(storage, create)
    shown = url.render_as_string(hide_password=True)
    try:
        return optuna.storages.RDBStorage(storage, engine_kwargs=engine_kwargs)
    except ImportError as e:
        missing = e.__cause__ or e.__context__ or e  # Optuna rewords it
        raise SearchError("--storage %s: the %s driver is not installed (%s): "
                          "%s" % (shown, backend, missing,
                                  RDB_BACKENDS[backend])) from None
    except Exception as e:  # connection refused, timeout, bad credentials
        raise _storage_error(shown, e) from None


def open_storage(storage, study_dir, create=True):
    """An Optuna storage.

    Parameters
    ----------
    storage : str or None
        ``None`` or ``'journal'``: an Optuna JournalStorage file
        ``study_dir/journal.log`` (embedded, safe for several local
        processes through its file lock), repaired first if a crash tore its
        last record (:func:`repair_journal`); ``sqlite:///...``,
        ``postgresql+psycopg://...`` (``postgresql://`` is the same with
        SQLAlchemy 2.1) or ``mysql+pymysql://...``: an RDB storage, which
        workers on several machines can share.
    study_dir : str
    create : bool
        False: only open a storage that exists (nothing is created).

    Raises
    ------
    kfkd.errors.SearchError
        A malformed or unsupported URL, a missing database driver, an
        unreachable database (after :data:`CONNECT_TIMEOUT` seconds), or
        (``create=False``) no study stored there.
    """
    if storage and storage != "journal":
        return _rdb_storage(storage, create)
    path = os.path.join(study_dir, "journal.log")
    if not create and not os.path.isfile(path):
        raise SearchError("no study in %s (no journal.log there): run `kfkd "
                          "search --study %s --out %s` first, or give its "
                          "--storage" % (study_dir,
                                         os.path.basename(study_dir),
                                         os.path.dirname(study_dir) or "."))
    os.makedirs(study_dir, exist_ok=True)
    repair_journal(path)
    return optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(
            path, lock_obj=optuna.storages.journal.JournalFileOpenLock(path)))


def _check_origin(study, space, seed):
    """Record a new study's space and seed; refuse a resume with others."""
    attrs = study.user_attrs
    if "space" not in attrs:
        study.set_user_attr("space", space.path)
        study.set_user_attr("space_name", space.name)
        study.set_user_attr("seed", seed)
    elif attrs.get("space_name") != space.name:
        raise SearchError(
            "study %r was made with --space %s, not --space %s: rerun "
            "with --space %s, or choose another --study"
            % (study.study_name, attrs.get("space_name"), space.name,
               attrs.get("space")))
    elif attrs.get("seed") != seed:
        raise SearchError(
            "study %r was made with --seed %s, not --seed %s: rerun with "
            "--seed %s, or choose another --study"
            % (study.study_name, attrs.get("seed"), seed, attrs.get("seed")))


def open_study(storage, name, space=None, seed=None, create=True,
               heartbeat_seconds=None):
    """Create or load study ``name``; check it belongs to ``space``/``seed``.

    A new study records ``space`` (path), ``space_name`` and ``seed`` as
    user attributes.  In a database storage heartbeats are turned on
    (:func:`kfkd.search.heartbeat.configure`): at the study's recorded
    interval, else ``heartbeat_seconds`` (recorded when given), else
    :data:`kfkd.search.heartbeat.DEFAULT_INTERVAL`.

    Returns
    -------
    optuna.study.Study

    Raises
    ------
    kfkd.errors.SearchError
        The study exists but was made with another space or seed (the
        message names both values), or (``create=False``) there is no
        study ``name`` in ``storage``.
    """
    sampler = optuna.samplers.RandomSampler(seed=seed)
    if name in optuna.get_all_study_names(storage):  # reading writes nothing
        study = optuna.load_study(study_name=name, storage=storage,
                                  sampler=sampler)
    elif not create:
        raise SearchError("no study %r in this storage (--study); studies "
                          "there: %s" % (name, ", ".join(
                              optuna.get_all_study_names(storage)) or "none"))
    else:
        study = optuna.create_study(study_name=name, storage=storage,
                                    direction="minimize", load_if_exists=True,
                                    sampler=sampler)
    if space is not None:
        _check_origin(study, space, seed)
    heartbeat.configure(storage, study, heartbeat_seconds)
    return study
