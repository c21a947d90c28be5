"""Random grid search: search spaces, the Optuna study, device workers.

The 2015 paper chose its configuration by random search (Bergstra & Bengio
2012, "Random Search for Hyper-Parameter Optimization", JMLR 13) run as GPU
jobs.  Here:

* a **search space** is a Python file under ``experiments/spaces/`` with a
  ``suggest(trial) -> config`` function written against Optuna's
  define-by-run API, a ``FIXED`` dict of settings shared by every trial and
  the ``SURFACES`` (pairs of settings) to plot;
* the **study** (Optuna, one per search) holds every trial.  The driver
  samples the first ``n_trials`` configurations with Optuna's
  :class:`~optuna.samplers.RandomSampler` seeded by ``seed`` (so a search is
  reproducible and the first N configurations do not change when it is
  extended) and enqueues them; each carries its ``sample_index``;
* **workers**, one process per device slot (``cpu``, ``cuda0``, ...), each
  with its own ``THEANO_FLAGS`` device and BLAS/OpenMP thread count, claim
  waiting trials from the study, train them (:func:`run_trial`) and record
  the result, so a killed driver or worker loses no finished trial;
* the driver keeps the slots busy, requeues trials whose worker was
  stopped (``error=interrupted``) or killed (SIGKILL from the OOM killer, a
  segfault: retried :data:`MAX_CRASH_RETRIES` times, then failed with the
  cause), shows progress, and writes ``results.csv``, ``best.json``, the
  best model and the 3D surfaces (:mod:`kfkd.plots`);
* a journal file whose last record a crash cut mid-write is repaired when
  opened: the torn tail is moved, byte for byte, to ``journal.log.torn``
  (:func:`repair_journal`).

Bad options, spaces, storage URLs and resumes with another seed or space
raise :class:`kfkd.errors.UsageError` / :class:`kfkd.errors.SearchError`
(one line from the ``kfkd`` command) before anything is written.

A **trial** is one kfkd training run (:func:`kfkd.train.trainer_from_config`)
with early stopping under a per-trial budget; its value is the best
validation RMSE in pixels.
"""
import contextlib
import ctypes
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import traceback

import optuna
import pandas as pd
from optuna.trial import TrialState

from .data import DataNotFoundError
from .devices import DEVICE_PATTERN, is_gpu
from .errors import DeviceUnavailableError, SearchError, UsageError
from .fileio import atomic_write, write_json

__all__ = ["SPACES_DIR", "SearchSpace", "load_space", "log_uniform_or_zero",
           "sample_configs", "open_storage", "open_study", "parse_devices",
           "default_devices", "worker_env", "claim_trial", "run_trial",
           "fail_orphans", "reconcile", "progress", "results_frame",
           "write_outputs", "Driver", "worker_main", "DEVICE_ERROR_EXIT",
           "DATA_ERROR_EXIT", "Interrupted", "trials_per_hour",
           "repair_journal", "check_study_name", "exit_cause",
           "MAX_CRASH_RETRIES"]

#: Folder of the named search spaces.
SPACES_DIR = os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "experiments", "spaces")

#: Exit status of a worker whose device Theano cannot activate.
DEVICE_ERROR_EXIT = 3

#: Exit status of a worker that cannot load the data.
DATA_ERROR_EXIT = 4

#: Trial user attributes.
INTERRUPTED = "interrupted"

#: A configuration whose worker is killed (SIGKILL from the OOM killer, a
#: segfault) is queued again this many times, then recorded as failed.
MAX_CRASH_RETRIES = 2

#: A worker that dies this many times before running any trial stops the
#: search (a broken installation, not a configuration's fault).
MAX_WORKER_START_FAILURES = 3

optuna.logging.set_verbosity(optuna.logging.WARNING)


class Interrupted(BaseException):
    """A worker was asked to stop (SIGTERM / SIGINT) in the middle of a trial.

    A BaseException, like KeyboardInterrupt, so that no library's
    ``except Exception`` swallows it.
    """


# -- search spaces -------------------------------------------------------------
class SearchSpace(object):
    """A search space loaded from a file (see :func:`load_space`).

    Attributes
    ----------
    name : str
    path : str
    suggest : callable ``(optuna.trial.BaseTrial) -> dict``
        Samples one configuration (flat keys as in
        :func:`kfkd.train.trainer_from_config`).
    fixed : dict
        Settings shared by every trial.
    surfaces : list of (str, str)
        Pairs of configuration keys to plot RMSE over.
    """

    def __init__(self, name, path, suggest, fixed, surfaces):
        self.name, self.path, self.suggest = name, path, suggest
        self.fixed, self.surfaces = dict(fixed), list(surfaces)

    def config(self, trial):
        """The full configuration of ``trial``: ``fixed`` updated by ``suggest``."""
        config = dict(self.fixed)
        config.update(self.suggest(trial))
        return config


def load_space(name_or_path):
    """Load a search space by name (``experiments/spaces/NAME.py``) or path.

    Raises
    ------
    FileNotFoundError
        No such space; the message lists the named spaces.
    kfkd.errors.SearchError
        The file is not a ``.py`` file, does not run (syntax error, failing
        import), has no ``suggest`` function, or a ``FIXED`` that is not a
        dict or ``SURFACES`` that are not pairs of keys.
    """
    path = name_or_path
    if not os.path.isfile(path):
        path = os.path.join(SPACES_DIR, name_or_path + ".py")
    if not os.path.isfile(path):
        known = sorted(f[:-3] for f in os.listdir(SPACES_DIR)
                       if f.endswith(".py") and not f.startswith("_"))
        raise FileNotFoundError("search space %r (--space): no such file; "
                                "named spaces: %s"
                                % (name_or_path, ", ".join(known)))
    if not path.endswith(".py"):
        raise SearchError("search space %s (--space): not a Python file (a "
                          "space is a .py file with suggest(trial))" % path)
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location("kfkd_space_" + name, path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except SyntaxError as e:
        raise SearchError("search space %s (--space): syntax error at line "
                          "%s: %s" % (path, e.lineno, e.msg)) from None
    except Exception as e:  # the user's code: any failure is the file's
        raise SearchError("search space %s (--space) does not load: %s: %s"
                          % (path, type(e).__name__, e)) from None
    if not callable(getattr(module, "suggest", None)):
        raise SearchError("search space %s (--space): no suggest(trial) "
                          "function" % path)
    fixed = getattr(module, "FIXED", {})
    surfaces = getattr(module, "SURFACES", [])
    if not isinstance(fixed, dict):
        raise SearchError("search space %s (--space): FIXED must be a dict, "
                          "not %s" % (path, type(fixed).__name__))
    if not (isinstance(surfaces, (list, tuple))
            and all(isinstance(p, (list, tuple)) and len(p) == 2
                    for p in surfaces)):
        raise SearchError("search space %s (--space): SURFACES must be a "
                          "list of (key, key) pairs" % path)
    return SearchSpace(name, os.path.abspath(path), module.suggest, fixed,
                       surfaces)


def log_uniform_or_zero(trial, name, low, high, p_zero=0.25):
    """Sample ``name`` log-uniformly in [low, high], or exactly 0.

    With probability ``p_zero`` the value is 0 (the term switched off).
    Optuna records ``name + '_on'`` (bool) and, when on, ``name``.

    Returns
    -------
    float
    """
    on = trial.suggest_float(name + "_on", 0.0, 1.0) >= p_zero
    if not on:
        return 0.0
    return trial.suggest_float(name, low, high, log=True)


def sample_configs(space, seed, n):
    """The first ``n`` parameter sets of the random search, reproducibly.

    Samples with Optuna's :class:`~optuna.samplers.RandomSampler` seeded by
    ``seed`` in a throwaway in-memory study, so the k-th parameter set depends
    only on (space, seed, k).

    Returns
    -------
    list of dict
        Optuna parameter dicts (``trial.params``), ready for
        :meth:`optuna.study.Study.enqueue_trial`.

    Raises
    ------
    kfkd.errors.SearchError
        The space's ``suggest`` fails or returns something else than a dict.
    """
    scratch = optuna.create_study(
        sampler=optuna.samplers.RandomSampler(seed=seed))
    params = []
    for _ in range(n):
        trial = scratch.ask()
        try:
            config = space.suggest(trial)
        except Exception as e:  # the user's code
            raise SearchError("search space %s: suggest(trial) fails: %s: %s"
                              % (space.path, type(e).__name__, e)) from None
        if not isinstance(config, dict):
            raise SearchError("search space %s: suggest(trial) returned %s, "
                              "not a dict" % (space.path,
                                              type(config).__name__))
        params.append(dict(trial.params))
        scratch.tell(trial, 0.0)
    return params


# -- storage and study ------------------------------------------------------------
#: Database backends an RDB storage may use, and how to install their driver.
RDB_BACKENDS = {"sqlite": None, "postgresql": "pip install -e .[postgres]",
                "mysql": "pip install pymysql (and use mysql+pymysql://)"}

#: Seconds to wait for a database server before giving up.
CONNECT_TIMEOUT = 5


def check_study_name(name):
    """Refuse a ``--study`` that is not a plain folder name.

    Raises
    ------
    kfkd.errors.UsageError
    """
    if (not name or name in (".", "..") or "/" in name or os.sep in name
            or "\0" in name):
        raise UsageError("--study %r: a study name is a plain folder name "
                         "(no '/', not '.' or '..')" % name)
    return name


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
        with open(path, "rb") as f:
            data = f.read()
        good, records = _sound_prefix(data)
        if good == len(data):
            return None
        tail = data[good:]
        if _is_record(tail):  # complete, only the newline is missing
            with open(path, "ab") as f:
                f.write(b"\n")
                os.fsync(f.fileno())
            return None
        torn = path + ".torn"
        k = 1
        while os.path.exists(torn):
            k += 1
            torn = "%s.torn.%d" % (path, k)
        with open(torn, "wb") as f:
            f.write(tail)
            f.flush()
            os.fsync(f.fileno())
        os.truncate(path, good)
    finally:
        lock.release()
    print("kfkd: warning: study journal %s: a record cut short by a "
          "crash at line %d; kept the %d records before it, moved the %d "
          "byte(s) from there on to %s" % (path, records + 1, records,
                                           len(tail), torn),
          file=sys.stderr, flush=True)
    return torn


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


def _storage_error(url, e):
    """A one-line SearchError for an RDB storage that cannot be opened."""
    cause = getattr(e, "orig", None) or e
    lines = [l.strip() for l in str(cause).splitlines() if l.strip()]
    return SearchError("--storage %s: cannot open the database: %s%s" % (
        url, type(cause).__name__, (": " + lines[0]) if lines else ""))


def _rdb_storage(storage, create=True):
    """An :class:`optuna.storages.RDBStorage`, or one line saying why not."""
    from sqlalchemy.engine import make_url

    try:
        url = make_url(storage)
        backend = url.get_backend_name()
    except Exception:  # sqlalchemy's ArgumentError and co.
        raise SearchError("--storage %r: not a database URL (journal, "
                          "sqlite:///FILE, postgresql+psycopg://USER:PASSWORD"
                          "@HOST[:PORT]/DATABASE)" % storage) from None
    shown = url.render_as_string(hide_password=True)
    if backend not in RDB_BACKENDS:
        raise SearchError("--storage %s: unsupported database %r (sqlite, "
                          "postgresql, mysql)" % (shown, backend))
    if not url.database:
        raise SearchError("--storage %s: no database name (sqlite:///FILE, "
                          "postgresql+psycopg://USER:PASSWORD@HOST[:PORT]/"
                          "DATABASE)" % shown)
    if backend == "sqlite":
        if not create and not os.path.isfile(url.database):
            raise SearchError("--storage %s: no such database file" % shown)
        engine_kwargs = {"connect_args": {"timeout": CONNECT_TIMEOUT}}
    else:
        engine_kwargs = {"connect_args": {"connect_timeout": CONNECT_TIMEOUT}}
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


def open_study(storage, name, space=None, seed=None, create=True):
    """Create or load study ``name``; check it belongs to ``space``/``seed``.

    A new study records ``space`` (path), ``space_name`` and ``seed`` as
    user attributes.

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
    attrs = study.user_attrs
    if space is not None:
        if "space" not in attrs:
            study.set_user_attr("space", space.path)
            study.set_user_attr("space_name", space.name)
            study.set_user_attr("seed", seed)
        elif attrs.get("space_name") != space.name:
            raise SearchError(
                "study %r was made with --space %s, not --space %s: rerun "
                "with --space %s, or choose another --study"
                % (name, attrs.get("space_name"), space.name,
                   attrs.get("space")))
        elif attrs.get("seed") != seed:
            raise SearchError(
                "study %r was made with --seed %s, not --seed %s: rerun with "
                "--seed %s, or choose another --study"
                % (name, attrs.get("seed"), seed, attrs.get("seed")))
    return study


# -- devices -----------------------------------------------------------------------
def default_devices(cores=None):
    """As many CPU slots as suit the machine.

    One single-threaded slot per core on machines of up to 3 cores (on 2
    cores, two workers give more trials per hour than one two-threaded one:
    see ``experiments/benchmark_search.py``), one per 2 cores above that.
    """
    cores = cores or os.cpu_count() or 1
    return ["cpu"] * max(1, min(cores, 2 if cores <= 3 else cores // 2))


def parse_devices(devices=None, workers=None):
    """Device slots from ``--devices cpu,cpu`` / ``--workers N``.

    Parameters
    ----------
    devices : str or None
        Comma-separated slots: ``cpu``, ``cuda``, ``cudaN``, ``gpuN``,
        ``openclP:D``; a device may repeat (two workers on one GPU).
    workers : int or None
        N CPU slots (N >= 1).

    Returns
    -------
    list of str
        At least one slot; :func:`default_devices` when neither is given.

    Raises
    ------
    kfkd.errors.UsageError
        Both options given, ``--workers`` below 1, an empty ``--devices``
        or an empty slot in it (``cpu,,cpu``), or an unknown device name;
        the message names the option and the value.
    """
    if devices is not None and workers is not None:
        raise UsageError("give --devices or --workers, not both (--devices "
                         "%r, --workers %r)" % (devices, workers))
    if workers is not None:
        if isinstance(workers, bool) or not isinstance(workers, int) \
                or workers < 1:
            raise UsageError("--workers %r: the number of worker processes "
                             "must be an integer >= 1" % (workers,))
        return ["cpu"] * workers
    if devices is None:
        return default_devices()
    slots = [d.strip() for d in devices.split(",")]
    if not devices.strip() or any(not d for d in slots):
        raise UsageError("--devices %r: an empty device slot; give one or "
                         "more of cpu, cuda, cuda0, cuda1, ... separated by "
                         "commas" % devices)
    for d in slots:
        if not DEVICE_PATTERN.match(d):
            raise UsageError("--devices %r: unknown device %r (cpu, cuda, "
                             "cuda0, cuda1, ..., opencl0:0)" % (devices, d))
    return slots


def worker_env(device, threads, environ=None):
    """Environment of a worker: its Theano device and its thread count.

    ``THEANO_FLAGS`` gets ``device=<device>`` (appended, so it wins over the
    user's own device flag), and ``floatX=float32`` on a GPU slot; each
    worker activates its own device, the driver never touches a GPU
    (theano-pymc forbids a child from starting the GPU after its parent
    did); ``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS`` and
    ``MKL_NUM_THREADS`` are set to ``threads`` so that workers do not
    oversubscribe the cores.
    """
    env = dict(os.environ if environ is None else environ)
    pinned = {"device": device}
    if is_gpu(device):  # the GPU backend computes in float32
        pinned["floatX"] = "float32"
    flags = [f for f in env.get("THEANO_FLAGS", "").split(",") if f
             and f.split("=")[0].strip() not in pinned]
    env["THEANO_FLAGS"] = ",".join(
        flags + ["%s=%s" % kv for kv in pinned.items()])
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    return env


# -- trials ------------------------------------------------------------------------
def _trial_id(storage, study, number):
    """The storage's id of trial ``number`` of ``study`` (public API only)."""
    study_id = storage.get_study_id_from_name(study.study_name)
    return storage.get_trial_id_from_study_id_trial_number(study_id, number)


def claim_trial(study, storage, attrs=None):
    """Atomically take one waiting (enqueued) trial; None when none is left.

    The same compare-and-set as Optuna's own queue (a trial moves WAITING ->
    RUNNING once only, whichever process asks), but a worker never makes a
    fresh trial: the driver decides what runs.  ``attrs`` (the worker's
    ``host``, ``pid``, ``device``) are set as user attributes of the trial
    taken, so that a driver can tell whose it is.
    """
    for frozen in study.get_trials(deepcopy=False, states=(TrialState.WAITING,)):
        trial_id = _trial_id(storage, study, frozen.number)
        try:
            if storage.set_trial_state_values(trial_id,
                                              state=TrialState.RUNNING):
                trial = optuna.trial.Trial(study, trial_id)
                for key, value in (attrs or {}).items():
                    trial.set_user_attr(key, value)
                return trial
        except optuna.exceptions.UpdateFinishedTrialError:
            continue
    return None


def run_trial(trial, space, train, val, out_dir, minutes=None, seed=0,
              device="cpu"):
    """Train one trial's configuration; its value is validation RMSE (pixels).

    Writes the trial's model folder to ``out_dir/trials/<number>`` and
    records ``config``, ``best_epoch``, ``epochs``, ``seconds``, ``device``
    and ``host`` as user attributes of the trial.

    Returns
    -------
    float
        Best validation RMSE in pixels.
    """
    from .train import trainer_from_config

    config = space.config(trial)
    config.setdefault("seed", seed)
    if minutes is not None:
        config["max_minutes"] = minutes
    trial.set_user_attr("config", config)
    trainer = trainer_from_config(config, verbose=False)
    folder = os.path.join(out_dir, "trials", "%04d" % trial.number)
    started = time.time()
    trainer.fit(train, val, out_dir=folder)
    best = min(h["val_rmse_px"] for h in trainer.history_)
    trial.set_user_attr("best_epoch", trainer.best_epoch_)
    trial.set_user_attr("epochs", len(trainer.history_))
    trial.set_user_attr("seconds", time.time() - started)
    trial.set_user_attr("model_dir", os.path.abspath(folder))
    return best


#: The signals that stop a worker (the driver's SIGTERM, Ctrl-C's SIGINT).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _ignore_stop_signals():
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)


def _raise_interrupted(signum, frame):
    # one request to stop is enough: later ones (a second Ctrl-C, the
    # parent-death signal sent again as the driver's threads die) are
    # ignored, so they cannot cut the recording of the interrupted trial
    _ignore_stop_signals()
    raise Interrupted("signal %d" % signum)


@contextlib.contextmanager
def _signals_deferred():
    """Hold SIGINT/SIGTERM until the block is done: a trial's final state is
    written whole (a pending signal then raises :class:`Interrupted`)."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _die_with_parent(parent=None):
    """Ask Linux to send SIGTERM to this worker when its driver dies.

    Returns
    -------
    bool
        False when the driver (pid ``parent``) is already gone.
    """
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
    except (OSError, AttributeError):
        pass
    return parent is None or os.getppid() == parent


def study_space(study):
    """The search space a study was made with (its ``space`` user attribute;
    by name when the path is from another machine).

    Raises
    ------
    kfkd.errors.SearchError
        The study records no space.
    FileNotFoundError
        Neither the path nor the named space exists here.
    """
    attrs = study.user_attrs
    if "space" not in attrs:
        raise SearchError("study %r records no search space (not made by "
                          "kfkd search)" % study.study_name)
    try:
        return load_space(attrs["space"])
    except FileNotFoundError:
        return load_space(attrs.get("space_name", attrs["space"]))


def worker_main(study_name, storage=None, out_dir="runs", device="cpu",
                data_dir=None, minutes=None, limit=None, seed=0,
                parent_bound=True, parent=None):
    """A worker: claim and run waiting trials until none is left.

    SIGTERM / SIGINT (or the death of the driver ``parent``, when
    ``parent_bound``) stop it quietly: the trial it was running is recorded
    as failed with ``error=interrupted`` (the driver queues it again).
    Claiming a trial and writing its final state happen with those signals
    held, so a trial is never left RUNNING by a signal.

    Returns
    -------
    int
        Exit status: 0, or :data:`DEVICE_ERROR_EXIT` when Theano cannot run
        on ``device`` (the worker says so and stops; it never falls back to
        the CPU silently), or :data:`DATA_ERROR_EXIT` when the data do not
        load.
    """
    if parent_bound and not _die_with_parent(parent):
        return 0
    for signum in STOP_SIGNALS:
        signal.signal(signum, _raise_interrupted)
    try:
        return _work(study_name, storage, out_dir, device, data_dir, minutes,
                     limit, seed)
    except Interrupted:  # before or between trials: nothing to record
        return 0


def _work(study_name, storage, out_dir, device, data_dir, minutes, limit,
          seed):
    tag = "worker %d (%s)" % (os.getpid(), device)
    from .compat import DeviceUnavailableError, check_device
    try:
        check_device(device)
    except DeviceUnavailableError as e:
        print("%s: error: %s" % (tag, e), file=sys.stderr, flush=True)
        return DEVICE_ERROR_EXIT
    from .data import DataError, DataNotFoundError, load_split

    try:  # before claiming any trial: a data problem is not a trial's fault
        train, val = load_split(data_dir, limit=limit, verbose=False)
    except (DataError, DataNotFoundError) as e:
        print("%s: error: %s" % (tag, e), file=sys.stderr, flush=True)
        return DATA_ERROR_EXIT
    study_dir = os.path.join(out_dir, study_name)
    try:
        store = open_storage(storage, study_dir, create=False)
        study = open_study(store, study_name, create=False)
        space = study_space(study)
    except (SearchError, FileNotFoundError) as e:
        print("%s: error: %s" % (tag, e), file=sys.stderr, flush=True)
        return 1
    mine = {"host": socket.gethostname(), "pid": os.getpid(), "device": device}
    trial = None
    try:
        while True:
            with _signals_deferred():
                trial = claim_trial(study, store, mine)
            if trial is None:
                return 0
            try:
                value = run_trial(trial, space, train, val, study_dir,
                                  minutes, seed, device)
            except Exception as e:  # a crashing configuration fails its trial
                with _signals_deferred():
                    trial.set_user_attr("error", "%s: %s" % (type(e).__name__,
                                                             e))
                    trial.set_user_attr("traceback",
                                        traceback.format_exc()[-4000:])
                    study.tell(trial, state=TrialState.FAIL)
                    number, trial = trial.number, None
                print("%s: trial %d failed: %s: %s" % (
                    tag, number, type(e).__name__, e), file=sys.stderr,
                    flush=True)
                continue
            with _signals_deferred():
                study.tell(trial, value)
                trial = None
    except Interrupted:
        if trial is not None:
            with _signals_deferred():
                trial.set_user_attr("error", INTERRUPTED)
                study.tell(trial, state=TrialState.FAIL)
        return 0


# -- driver-side bookkeeping ------------------------------------------------------
def _pid_alive(pid):
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


def _counts_toward_total(trial):
    """Finished for good: complete, or failed and not to be run again."""
    if trial.state == TrialState.COMPLETE:
        return True
    return (trial.state == TrialState.FAIL
            and trial.user_attrs.get("error") != INTERRUPTED
            and not trial.user_attrs.get("requeued"))


def exit_cause(returncode):
    """Why a worker process ended, as a trial's error; None for a stop.

    ``None`` (unknown, e.g. a worker of a driver that was killed), 0,
    SIGTERM and SIGINT are stops (the trial is interrupted, not at fault);
    another signal is ``'worker killed by SIGKILL (signal 9)'``, a
    non-zero status ``'worker exited with status 1'``.
    """
    if returncode is None or returncode == 0 or -returncode in STOP_SIGNALS:
        return None
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = "signal"
        return "worker killed by %s (signal %d)" % (name, -returncode)
    return "worker exited with status %d" % returncode


def _crash_error(trials, orphan, cause, max_retries):
    """(error text, queued again?) of a trial whose worker crashed."""
    index = orphan.user_attrs.get("sample_index")
    before = sum(1 for t in trials
                 if index is not None and t.state == TrialState.FAIL
                 and t.user_attrs.get("sample_index") == index
                 and t.user_attrs.get("crash"))
    crashes = before + 1
    if index is None or crashes > max_retries:
        return "%s %d time%s" % (cause, crashes, "s"[:crashes > 1]), False
    return ("%s (attempt %d of %d; queued again)"
            % (cause, crashes, max_retries + 1)), True


def fail_orphans(study, storage, live_pids=(), exits=None,
                 max_retries=MAX_CRASH_RETRIES):
    """Fail the RUNNING trials of this host's dead workers.

    A trial is an orphan when its worker (``pid`` user attribute, on this
    host) is neither one of ``live_pids`` nor alive; trials of workers on
    other hosts are left alone.  Its ``error`` user attribute says why,
    from the worker's exit status in ``exits`` (``{pid: returncode}``, see
    :func:`exit_cause`):

    * stopped or unknown: ``interrupted`` (its configuration runs again);
    * killed (SIGKILL from the OOM killer, a segfault) or crashed: the
      cause, ``crash`` set and, up to ``max_retries`` times per
      configuration, ``requeued`` (it runs again); then the cause and the
      count, e.g. ``worker killed by SIGKILL (signal 9) 3 times``, and the
      trial counts as finished (failed).
    """
    host = socket.gethostname()
    exits = exits or {}
    trials = study.get_trials(deepcopy=False)
    for t in trials:
        pid = t.user_attrs.get("pid")
        if (t.state != TrialState.RUNNING or t.user_attrs.get("host") != host
                or pid is None or pid in live_pids or _pid_alive(pid)):
            continue
        trial_id = _trial_id(storage, study, t.number)
        cause = exit_cause(exits.get(pid))
        if cause is None:
            error = INTERRUPTED
        else:
            error, again = _crash_error(trials, t, cause, max_retries)
            storage.set_trial_user_attr(trial_id, "crash", cause)
            if again:
                storage.set_trial_user_attr(trial_id, "requeued", True)
        storage.set_trial_user_attr(trial_id, "error", error)
        storage.set_trial_state_values(trial_id, TrialState.FAIL)


def reconcile(study, storage, space, seed, n_trials, live_pids=(),
              exits=None):
    """Bring the study in line with ``n_trials``; return the number finished.

    1. A RUNNING trial of this host whose worker process is gone (and is not
       one of ``live_pids``) is failed (:func:`fail_orphans`);
    2. each of the first ``n_trials`` sampled configurations that has no
       trial finished for good (:func:`fail_orphans`), running or waiting is
       enqueued (again), with its ``sample_index``.
    """
    fail_orphans(study, storage, live_pids, exits)
    trials = study.get_trials(deepcopy=False)
    covered = set()
    for t in trials:
        index = t.user_attrs.get("sample_index")
        if index is None:
            continue
        if (t.state in (TrialState.RUNNING, TrialState.WAITING)
                or _counts_toward_total(t)):
            covered.add(index)
    missing = [k for k in range(n_trials) if k not in covered]
    if missing:
        params = sample_configs(space, seed, n_trials)
        for k in missing:
            study.enqueue_trial(params[k], user_attrs={"sample_index": k},
                                skip_if_exists=False)
    return progress(study, n_trials)[0]


def progress(study, n_trials):
    """(finished, best value, best trial number) among the first ``n_trials``."""
    done = [t for t in study.get_trials(deepcopy=False)
            if _counts_toward_total(t)
            and t.user_attrs.get("sample_index", n_trials) < n_trials]
    complete = [t for t in done if t.state == TrialState.COMPLETE]
    if not complete:
        return len(done), None, None
    best = min(complete, key=lambda t: t.value)
    return len(done), best.value, best.number


def results_frame(study):
    """One row per trial: number, state, parameters, RMSE, epochs, seconds.

    Columns: ``number``, ``sample_index``, ``state``, one column per
    configuration key (effective values: 0 where a penalty is off),
    ``val_rmse_px``, ``best_epoch``, ``epochs``, ``seconds``, ``device``,
    ``host``, ``pid`` (of the worker), ``error``.
    """
    rows = []
    for t in study.get_trials(deepcopy=False):
        row = {"number": t.number,
               "sample_index": t.user_attrs.get("sample_index"),
               "state": t.state.name}
        row.update(t.user_attrs.get("config", {}))
        row.update({
            "val_rmse_px": t.value if t.state == TrialState.COMPLETE else None,
            "best_epoch": t.user_attrs.get("best_epoch"),
            "epochs": t.user_attrs.get("epochs"),
            "seconds": t.user_attrs.get("seconds"),
            "device": t.user_attrs.get("device"),
            "host": t.user_attrs.get("host"),
            "pid": t.user_attrs.get("pid"),
            "error": t.user_attrs.get("error"),
        })
        rows.append(row)
    frame = pd.DataFrame(rows)
    if len(frame):
        frame = frame.sort_values("number").reset_index(drop=True)
    return frame


def log_scaled_keys(study):
    """Configuration keys sampled log-uniformly (from the trials' distributions)."""
    keys = set()
    for t in study.get_trials(deepcopy=False):
        for name, dist in t.distributions.items():
            if getattr(dist, "log", False):
                keys.add(name)
    config_keys = set()
    for t in study.get_trials(deepcopy=False):
        config_keys.update(t.user_attrs.get("config", {}))
    # a parameter name maps to the config key that ends with it ('net.width')
    out = set()
    for key in config_keys:
        if key in keys or key.split(".")[-1] in keys:
            out.add(key)
    return out


def _copy_tree_atomic(src, dst):
    tmp = dst + ".tmp-%d" % os.getpid()
    if os.path.exists(tmp):
        shutil.rmtree(tmp)
    shutil.copytree(src, tmp)
    old = dst + ".old-%d" % os.getpid()
    if os.path.exists(dst):
        os.replace(dst, old)
    os.replace(tmp, dst)
    if os.path.exists(old):
        shutil.rmtree(old)


def write_outputs(study, space, study_dir, plot=True):
    """results.csv, best.json, best_model/ and the 3D surfaces of a study.

    Returns
    -------
    dict
        The best trial's summary (empty if no trial completed).
    """
    from . import plots

    frame = results_frame(study)
    with atomic_write(os.path.join(study_dir, "results.csv"), newline="") as f:
        frame.to_csv(f, index=False)
    complete = frame[frame.state == "COMPLETE"] if len(frame) else frame
    if not len(complete):
        return {}
    best_row = complete.loc[complete.val_rmse_px.idxmin()]
    best_trial = study.trials[int(best_row.number)]
    best = {
        "study": study.study_name,
        "space": space.name,
        "number": int(best_row.number),
        "val_rmse_px": float(best_row.val_rmse_px),
        "best_epoch": best_trial.user_attrs.get("best_epoch"),
        "seconds": best_trial.user_attrs.get("seconds"),
        "config": best_trial.user_attrs.get("config"),
        "n_complete": int(len(complete)),
        "n_trials": int(len(frame)),
        "model": None,
    }
    source = best_trial.user_attrs.get("model_dir")
    if source and os.path.isdir(source):
        target = os.path.join(study_dir, "best_model")
        _copy_tree_atomic(source, target)
        best["model"] = os.path.abspath(target)
    write_json(os.path.join(study_dir, "best.json"), best)
    if plot:
        plots.search_surfaces(frame, space.surfaces, log_scaled_keys(study),
                              os.path.join(study_dir, "surfaces"))
    return best


class Driver(object):
    """Runs a study's trials on device slots until ``n_trials`` are finished.

    Parameters
    ----------
    space : SearchSpace
    study_name : str
    n_trials : int
    devices : list of str
        One worker process per slot.
    out_dir : str
        Outputs go to ``out_dir/study_name/``.
    storage : str or None
        See :func:`open_storage`.
    data_dir, limit : data folder and face limit for the workers
    minutes : float or None
        Per-trial budget.
    seed : int
        Seeds the sampler (and every trial's training).
    join : bool
        Do not enqueue: only work on trials a driver elsewhere enqueued.
    """

    def __init__(self, space, study_name, n_trials, devices, out_dir="runs",
                 storage=None, data_dir=None, limit=None, minutes=None,
                 seed=0, join=False, verbose=True, poll_seconds=2.0):
        self.space, self.study_name, self.n_trials = space, study_name, n_trials
        self.devices, self.out_dir, self.storage_url = devices, out_dir, storage
        self.data_dir, self.limit, self.minutes = data_dir, limit, minutes
        self.seed, self.join, self.verbose = seed, join, verbose
        self.poll_seconds = poll_seconds
        check_study_name(study_name)
        if not devices:  # no worker would ever run a trial
            raise UsageError("no device slot to run trials on (--devices / "
                             "--workers give none)")
        self.study_dir = os.path.join(out_dir, study_name)
        self.threads = max(1, (os.cpu_count() or 1) // len(devices))
        self.workers = [None] * len(devices)
        self.exits = {}  # pid -> exit status of the workers that ended
        self.start_failures = [0] * len(devices)
        self._opened = None  # (storage, study), see open()

    def _worker_command(self, device):
        cmd = [sys.executable, "-m", "kfkd.search", "--study", self.study_name,
               "--out", self.out_dir, "--device", device, "--seed",
               str(self.seed), "--parent", str(os.getpid())]
        for flag, value in (("--storage", self.storage_url),
                            ("--data-dir", self.data_dir),
                            ("--limit", self.limit),
                            ("--minutes", self.minutes)):
            if value is not None:
                cmd += [flag, str(value)]
        return cmd

    def _start(self, slot):
        device = self.devices[slot]
        env = worker_env(device, self.threads)
        # the package must be importable by the worker wherever it runs from
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (root, env.get("PYTHONPATH")) if p)
        self.workers[slot] = subprocess.Popen(
            self._worker_command(device), env=env,
            start_new_session=False)

    def _live_pids(self):
        return {w.pid for w in self.workers if w is not None and w.poll() is None}

    def _note_exits(self, study):
        """Record the exit status of workers that ended (for
        :func:`fail_orphans`); stop the search when a worker keeps dying
        before it runs any trial, or cannot use its device or the data.

        Raises
        ------
        kfkd.errors.DeviceUnavailableError, kfkd.data.DataNotFoundError,
        kfkd.errors.SearchError
        """
        for slot, w in enumerate(self.workers):
            if w is None or w.poll() is None or w.pid in self.exits:
                continue
            self.exits[w.pid] = w.returncode
            if w.returncode == DEVICE_ERROR_EXIT:
                raise DeviceUnavailableError(
                    "worker %d: Theano cannot run on device %r (see its "
                    "message above); no trial ran on it"
                    % (slot, self.devices[slot]))
            if w.returncode == DATA_ERROR_EXIT:
                raise DataNotFoundError("worker %d could not load the data "
                                        "(see its message above)" % slot)
            cause = exit_cause(w.returncode)
            if cause is None or any(t.user_attrs.get("pid") == w.pid
                                    for t in study.get_trials(deepcopy=False)):
                continue
            self.start_failures[slot] += 1
            if self.start_failures[slot] >= MAX_WORKER_START_FAILURES:
                raise SearchError(
                    "worker %d (device %r): %s before it took any trial, %d "
                    "times (see its messages above)" % (
                        slot, self.devices[slot], cause,
                        self.start_failures[slot]))

    def stop_workers(self, timeout=120):
        """SIGTERM every worker; they fail their trial as interrupted and exit."""
        for w in self.workers:
            if w is not None and w.poll() is None:
                w.send_signal(signal.SIGTERM)
        deadline = time.time() + timeout
        for w in self.workers:
            if w is None:
                continue
            try:
                w.wait(max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                w.kill()
                w.wait()
                self.exits[w.pid] = None  # our kill: the trial is interrupted

    def run(self):
        """Run to completion; returns the best trial summary (``best.json``).

        Raises
        ------
        kfkd.errors.DeviceUnavailableError
            A worker's device cannot be activated by Theano.
        kfkd.errors.SearchError
            The storage or study cannot be opened or resumed as asked, or a
            worker keeps dying before it takes a trial.
        KeyboardInterrupt
            After stopping the workers cleanly and writing the outputs.
        """
        from tqdm.auto import tqdm

        storage, study = self.open()
        if self.join:
            done = progress(study, self.n_trials)[0]
        else:
            done = reconcile(study, storage, self.space, self.seed,
                             self.n_trials)
        bar = tqdm(total=self.n_trials, initial=done, unit="trial",
                   desc="study %s" % self.study_name, disable=not self.verbose,
                   dynamic_ncols=True)
        reported = {t.number for t in study.get_trials(deepcopy=False)
                    if t.state.is_finished()}
        shown = None
        try:
            while True:
                self._note_exits(study)
                live = self._live_pids()
                if self.join:
                    fail_orphans(study, storage, live, self.exits)
                else:
                    reconcile(study, storage, self.space, self.seed,
                              self.n_trials, live, self.exits)
                done, best, best_number = progress(study, self.n_trials)
                for t in study.get_trials(deepcopy=False):
                    if t.state.is_finished() and t.number not in reported:
                        reported.add(t.number)
                        bar.write(self._describe(t, best, best_number))
                if (done, best) != shown:
                    shown = (done, best)
                    bar.n = done
                    bar.set_postfix_str("best %s" % (
                        "-" if best is None else
                        "%.3f px (#%d)" % (best, best_number)))
                    bar.refresh()
                waiting = study.get_trials(deepcopy=False,
                                           states=(TrialState.WAITING,))
                if done >= self.n_trials or (self.join and not waiting and
                                             not live):
                    break
                for slot, w in enumerate(self.workers):
                    if (w is None or w.poll() is not None) and waiting:
                        self._start(slot)
                time.sleep(self.poll_seconds)
        except BaseException:
            self.stop_workers()
            self._note_exits_quietly()
            fail_orphans(study, storage, (), self.exits)
            bar.close()
            with contextlib.suppress(Exception):  # keep what finished
                write_outputs(study, self.space, self.study_dir)
            raise
        bar.close()
        self.stop_workers()
        return write_outputs(study, self.space, self.study_dir)

    def open(self):
        """Sample the configurations (a failing ``suggest`` stops here), open
        (or create) the storage and the study; check that a resumed study
        has this space and seed.  :meth:`run` calls it; call it first
        to report these errors before anything else happens.

        Returns
        -------
        (storage, optuna.study.Study)

        Raises
        ------
        kfkd.errors.SearchError
        """
        if self._opened is None:
            # a suggest() that fails, before anything is written
            sample_configs(self.space, self.seed, max(1, self.n_trials))
            storage = open_storage(self.storage_url, self.study_dir)
            self._opened = (storage, open_study(
                storage, self.study_name, self.space, self.seed,
                create=not self.join))
        return self._opened

    def _note_exits_quietly(self):
        for w in self.workers:
            if w is not None and w.poll() is not None:
                self.exits.setdefault(w.pid, w.returncode)

    def _describe(self, t, best, best_number):
        if t.state == TrialState.COMPLETE:
            outcome = "val RMSE %.3f px, best epoch %s, %.0f s" % (
                t.value, t.user_attrs.get("best_epoch"),
                t.user_attrs.get("seconds", float("nan")))
        else:
            outcome = "%s: %s" % (t.state.name, t.user_attrs.get("error"))
        best_text = ("" if best is None else
                     " | best %.3f px (#%d)" % (best, best_number))
        return "trial %d [%s] %s%s" % (t.number,
                                       t.user_attrs.get("device", "?"),
                                       outcome, best_text)


def trials_per_hour(space, n_trials, devices, out_dir, data_dir=None,
                    limit=None, minutes=None, seed=0):
    """Run a fresh study of ``n_trials`` on ``devices``; its trials per hour.

    Wall-clock time of the whole search (worker start-up and Theano compile
    included), so it measures what a user waits for.

    Returns
    -------
    float
    """
    name = "bench-%d-%s" % (len(devices), os.getpid())
    started = time.time()
    Driver(space, name, n_trials, devices, out_dir, None, data_dir, limit,
           minutes, seed, verbose=False).run()
    return n_trials / ((time.time() - started) / 3600.0)


def _worker_cli(argv=None):
    """``python -m kfkd.search --study NAME ...``: one worker process."""
    import argparse
    p = argparse.ArgumentParser(prog="python -m kfkd.search",
                                description="a random-search worker")
    p.add_argument("--study", required=True)
    p.add_argument("--storage")
    p.add_argument("--out", default="runs")
    p.add_argument("--device", default="cpu")
    p.add_argument("--data-dir")
    p.add_argument("--limit", type=int)
    p.add_argument("--minutes", type=float)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--detached", action="store_true",
                   help="keep running if the process that started it dies")
    p.add_argument("--parent", type=int, help="pid of the driver: stop at "
                   "once if it is already gone")
    args = p.parse_args(argv)
    status = worker_main(args.study, args.storage, args.out, args.device,
                         args.data_dir, args.minutes, args.limit, args.seed,
                         parent_bound=not args.detached, parent=args.parent)
    _ignore_stop_signals()  # no Interrupted in the atexit handlers (Theano's)
    return status


if __name__ == "__main__":
    sys.exit(_worker_cli())
