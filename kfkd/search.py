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
* the driver keeps the slots busy, requeues trials whose worker died,
  shows progress, and writes ``results.csv``, ``best.json``, the best model
  and the 3D surfaces (:mod:`kfkd.plots`).

A **trial** is one kfkd training run (:func:`kfkd.train.trainer_from_config`)
with early stopping under a per-trial budget; its value is the best
validation RMSE in pixels.
"""
import contextlib
import ctypes
import importlib.util
import os
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

from .fileio import atomic_write, write_json

__all__ = ["SPACES_DIR", "SearchSpace", "load_space", "log_uniform_or_zero",
           "sample_configs", "open_storage", "open_study", "parse_devices",
           "default_devices", "worker_env", "claim_trial", "run_trial",
           "fail_orphans", "reconcile", "progress", "results_frame",
           "write_outputs", "Driver", "worker_main", "DEVICE_ERROR_EXIT",
           "DATA_ERROR_EXIT", "Interrupted", "trials_per_hour"]

#: Folder of the named search spaces.
SPACES_DIR = os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "experiments", "spaces")

#: Exit status of a worker whose device Theano cannot activate.
DEVICE_ERROR_EXIT = 3

#: Exit status of a worker that cannot load the data.
DATA_ERROR_EXIT = 4

#: Trial user attributes.
INTERRUPTED = "interrupted"

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
    ValueError
        The file has no ``suggest`` function.
    """
    path = name_or_path
    if not os.path.isfile(path):
        path = os.path.join(SPACES_DIR, name_or_path + ".py")
    if not os.path.isfile(path):
        known = sorted(f[:-3] for f in os.listdir(SPACES_DIR)
                       if f.endswith(".py") and not f.startswith("_"))
        raise FileNotFoundError("search space %r: no such file; named spaces: %s"
                                % (name_or_path, ", ".join(known)))
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location("kfkd_space_" + name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not callable(getattr(module, "suggest", None)):
        raise ValueError("%s: a search space needs a suggest(trial) function"
                         % path)
    return SearchSpace(name, os.path.abspath(path), module.suggest,
                       getattr(module, "FIXED", {}),
                       getattr(module, "SURFACES", []))


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
    """
    scratch = optuna.create_study(
        sampler=optuna.samplers.RandomSampler(seed=seed))
    params = []
    for _ in range(n):
        trial = scratch.ask()
        space.config(trial)
        params.append(dict(trial.params))
        scratch.tell(trial, 0.0)
    return params


# -- storage and study ------------------------------------------------------------
def open_storage(storage, study_dir):
    """An Optuna storage.

    Parameters
    ----------
    storage : str or None
        ``None`` or ``'journal'``: an Optuna JournalStorage file
        ``study_dir/journal.log`` (embedded, safe for several local
        processes through its file lock); ``sqlite:///...``,
        ``postgresql://...`` or ``mysql://...``: an RDB storage, which
        workers on several machines can share.
    study_dir : str
    """
    if not storage or storage == "journal":
        os.makedirs(study_dir, exist_ok=True)
        path = os.path.join(study_dir, "journal.log")
        return optuna.storages.JournalStorage(
            optuna.storages.journal.JournalFileBackend(
                path, lock_obj=optuna.storages.journal.JournalFileOpenLock(
                    path)))
    return optuna.storages.RDBStorage(storage)


def open_study(storage, name, space=None, seed=None):
    """Create or load study ``name``; check it belongs to ``space``/``seed``.

    Raises
    ------
    ValueError
        The study exists but was made with another space or seed.
    """
    study = optuna.create_study(study_name=name, storage=storage,
                                direction="minimize", load_if_exists=True,
                                sampler=optuna.samplers.RandomSampler(seed=seed))
    attrs = study.user_attrs
    if space is not None:
        if "space" not in attrs:
            study.set_user_attr("space", space.path)
            study.set_user_attr("space_name", space.name)
            study.set_user_attr("seed", seed)
        elif (attrs.get("space_name"), attrs.get("seed")) != (space.name, seed):
            raise ValueError(
                "study %r was made with space %r seed %r, not %r seed %r; "
                "choose another --study" % (name, attrs.get("space_name"),
                                            attrs.get("seed"), space.name, seed))
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

    Raises
    ------
    ValueError
        An unrecognised device name, or both options given.
    """
    if devices and workers:
        raise ValueError("give --devices or --workers, not both")
    if workers:
        return ["cpu"] * int(workers)
    if not devices:
        return default_devices()
    slots = [d.strip() for d in devices.split(",") if d.strip()]
    for d in slots:
        if not (d == "cpu" or d.startswith(("cuda", "gpu", "opencl"))):
            raise ValueError("unknown device %r (cpu, cuda, cuda0, cuda1, ...)"
                             % d)
    return slots


def worker_env(device, threads, environ=None):
    """Environment of a worker: its Theano device and its thread count.

    ``THEANO_FLAGS`` gets ``device=<device>`` (appended, so it wins over the
    user's own device flag); ``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS`` and
    ``MKL_NUM_THREADS`` are set to ``threads`` so that workers do not
    oversubscribe the cores.
    """
    env = dict(os.environ if environ is None else environ)
    flags = [f for f in env.get("THEANO_FLAGS", "").split(",") if f]
    flags = [f for f in flags if not f.strip().startswith("device=")]
    env["THEANO_FLAGS"] = ",".join(flags + ["device=%s" % device])
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    return env


# -- trials ------------------------------------------------------------------------
def claim_trial(study):
    """Atomically take one waiting (enqueued) trial; None when none is left.

    The same compare-and-set as Optuna's own queue (a trial moves WAITING ->
    RUNNING once only, whichever process asks), but a worker never makes a
    fresh trial: the driver decides what runs.
    """
    storage = study._storage
    for frozen in study.get_trials(deepcopy=False, states=(TrialState.WAITING,)):
        try:
            if storage.set_trial_state_values(frozen._trial_id,
                                              state=TrialState.RUNNING):
                return optuna.trial.Trial(study, frozen._trial_id)
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


def _raise_interrupted(signum, frame):
    raise Interrupted("signal %d" % signum)


def _die_with_parent():
    """Ask Linux to send SIGTERM to this worker when its driver dies."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def worker_main(study_name, storage=None, out_dir="runs", device="cpu",
                data_dir=None, minutes=None, limit=None, seed=0,
                parent_bound=True):
    """A worker: claim and run waiting trials until none is left.

    Returns
    -------
    int
        Exit status: 0, or :data:`DEVICE_ERROR_EXIT` when Theano cannot run
        on ``device`` (the worker says so and stops; it never falls back to
        the CPU silently).
    """
    if parent_bound:
        _die_with_parent()
    signal.signal(signal.SIGTERM, _raise_interrupted)
    signal.signal(signal.SIGINT, _raise_interrupted)
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
    study = open_study(open_storage(storage, study_dir), study_name)
    space = load_space(study.user_attrs["space"])
    while True:
        try:
            trial = claim_trial(study)
        except Interrupted:
            return 0
        if trial is None:
            return 0
        try:
            trial.set_user_attr("host", socket.gethostname())
            trial.set_user_attr("pid", os.getpid())
            trial.set_user_attr("device", device)
            value = run_trial(trial, space, train, val, study_dir, minutes,
                              seed, device)
        except Interrupted:
            trial.set_user_attr("error", INTERRUPTED)
            study.tell(trial, state=TrialState.FAIL)
            return 0
        except Exception as e:  # a crashing configuration fails its trial only
            trial.set_user_attr("error", "%s: %s" % (type(e).__name__, e))
            trial.set_user_attr("traceback", traceback.format_exc()[-4000:])
            study.tell(trial, state=TrialState.FAIL)
            print("%s: trial %d failed: %s: %s" % (tag, trial.number,
                                                   type(e).__name__, e),
                  file=sys.stderr, flush=True)
            continue
        study.tell(trial, value)


# -- driver-side bookkeeping ------------------------------------------------------
def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _counts_toward_total(trial):
    if trial.state == TrialState.COMPLETE:
        return True
    return (trial.state == TrialState.FAIL
            and trial.user_attrs.get("error") != INTERRUPTED)


def fail_orphans(study, live_pids=()):
    """Fail as interrupted the RUNNING trials of this host's dead workers.

    A trial is an orphan when its worker (``pid`` user attribute, on this
    host) is neither one of ``live_pids`` nor alive; trials of workers on
    other hosts are left alone.
    """
    host = socket.gethostname()
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        pid = t.user_attrs.get("pid")
        if (t.user_attrs.get("host") == host and pid is not None
                and pid not in live_pids and not _pid_alive(pid)):
            study._storage.set_trial_user_attr(t._trial_id, "error",
                                               INTERRUPTED)
            study._storage.set_trial_state_values(t._trial_id,
                                                  TrialState.FAIL)


def reconcile(study, space, seed, n_trials, live_pids=()):
    """Bring the study in line with ``n_trials``; return the number finished.

    1. A RUNNING trial of this host whose worker process is gone (and is not
       one of ``live_pids``) is failed as interrupted;
    2. each of the first ``n_trials`` sampled configurations that has no
       trial finished, running or waiting is enqueued (again), with its
       ``sample_index``.
    """
    fail_orphans(study, live_pids)
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
    from .report import search_plots as plots

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
        self.study_dir = os.path.join(out_dir, study_name)
        self.threads = max(1, (os.cpu_count() or 1) // max(1, len(devices)))
        self.workers = [None] * len(devices)

    def _worker_command(self, device):
        cmd = [sys.executable, "-m", "kfkd.search", "--study", self.study_name,
               "--out", self.out_dir, "--device", device, "--seed",
               str(self.seed)]
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

    def run(self):
        """Run to completion; returns the best trial summary (``best.json``).

        Raises
        ------
        compat.DeviceUnavailableError
            A worker's device cannot be activated by Theano.
        KeyboardInterrupt
            After stopping the workers cleanly and writing the outputs.
        """
        from tqdm.auto import tqdm

        from .data import DataNotFoundError
        from .errors import DeviceUnavailableError

        storage = open_storage(self.storage_url, self.study_dir)
        study = open_study(storage, self.study_name, self.space, self.seed)
        if self.join:
            done = progress(study, self.n_trials)[0]
        else:
            done = reconcile(study, self.space, self.seed, self.n_trials)
        bar = tqdm(total=self.n_trials, initial=done, unit="trial",
                   desc="study %s" % self.study_name, disable=not self.verbose,
                   dynamic_ncols=True)
        reported = {t.number for t in study.get_trials(deepcopy=False)
                    if t.state.is_finished()}
        shown = None
        try:
            while True:
                live = self._live_pids()
                if not self.join:
                    reconcile(study, self.space, self.seed, self.n_trials, live)
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
                    if w is not None and w.poll() == DEVICE_ERROR_EXIT:
                        raise DeviceUnavailableError(
                            "worker %d: Theano cannot run on device %r (see "
                            "its message above); no trial ran on it"
                            % (slot, self.devices[slot]))
                    if w is not None and w.poll() == DATA_ERROR_EXIT:
                        raise DataNotFoundError(
                            "worker %d could not load the data (see its "
                            "message above)" % slot)
                    if (w is None or w.poll() is not None) and waiting:
                        self._start(slot)
                time.sleep(self.poll_seconds)
        except BaseException:
            self.stop_workers()
            fail_orphans(study)
            bar.close()
            with contextlib.suppress(Exception):  # keep what finished
                write_outputs(study, self.space, self.study_dir)
            raise
        bar.close()
        self.stop_workers()
        return write_outputs(study, self.space, self.study_dir)

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
    args = p.parse_args(argv)
    return worker_main(args.study, args.storage, args.out, args.device,
                       args.data_dir, args.minutes, args.limit, args.seed,
                       parent_bound=not args.detached)


if __name__ == "__main__":
    sys.exit(_worker_cli())
