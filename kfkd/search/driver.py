"""The search driver: keeps one worker per device slot busy until the study
has its trials.

It samples and enqueues the configurations (:func:`reconcile`), starts a
worker process per free slot (``python -m kfkd.search.worker``), fails the
trials of workers that died (requeueing stopped ones, retrying killed ones a
bounded number of times), shows progress, and writes the outputs
(:func:`kfkd.search.results.write_outputs`).  It never imports Theano.
"""
import contextlib
import os
import signal
import subprocess
import sys
import time

from optuna.trial import TrialState
from tqdm.auto import tqdm

from ..data import DataNotFoundError
from ..errors import DeviceUnavailableError, SearchError, UsageError
from .fidelity import record_rungs
from .progress import TrialEvents, summary_lines
from .protocol import DATA_ERROR_EXIT, DEVICE_ERROR_EXIT, exit_cause
from .reconcile import fail_orphans, progress, reconcile
from .results import write_outputs
from .slots import worker_env
from .space import sample_configs, study_space
from .storage import check_study_name, open_storage, open_study

__all__ = ["MAX_WORKER_START_FAILURES", "Driver"]

#: A worker that dies this many times before running any trial stops the
#: search (a broken installation, not a configuration's fault).
MAX_WORKER_START_FAILURES = 3

#: The folder that holds the ``kfkd`` package (a worker's PYTHONPATH).
PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


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
        See :func:`kfkd.search.storage.open_storage`.
    data_dir, limit : data folder and face limit for the workers
    minutes : float or None
        A wall-clock cap per trial, on top of the space's epochs (its top
        rung: :mod:`kfkd.search.fidelity`).
    seed : int
        Seeds the sampler (and every trial's training).
    join : bool
        Do not enqueue: only work on trials a driver elsewhere enqueued;
        the space, the seed and the number of trials come from the study.
    heartbeat : int, optional
        Seconds between a worker's heartbeats in a new database study
        (:mod:`kfkd.search.heartbeat`).

    Raises
    ------
    kfkd.errors.UsageError
        A study name that is not a plain folder name, or no device slot.
    """

    def __init__(self, space, study_name, n_trials, devices, out_dir="runs",
                 storage=None, data_dir=None, limit=None, minutes=None,
                 seed=0, join=False, verbose=True, poll_seconds=2.0,
                 heartbeat=None):
        self.space, self.study_name, self.n_trials = space, study_name, n_trials
        self.devices, self.out_dir, self.storage_url = devices, out_dir, storage
        self.data_dir, self.limit, self.minutes = data_dir, limit, minutes
        self.seed, self.join, self.verbose = seed, join, verbose
        self.poll_seconds, self.heartbeat = poll_seconds, heartbeat
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

    # -- workers ---------------------------------------------------------------
    def worker_command(self, device):
        """The command line of a worker on ``device`` (:mod:`.worker`)."""
        cmd = [sys.executable, "-m", "kfkd.search.worker", "--study",
               self.study_name, "--out", self.out_dir, "--device", device,
               "--seed", str(self.seed), "--parent", str(os.getpid())]
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
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (PACKAGE_ROOT, env.get("PYTHONPATH")) if p)
        self.workers[slot] = subprocess.Popen(
            self.worker_command(device), env=env, start_new_session=False)

    def _live_pids(self):
        return {w.pid for w in self.workers if w is not None and w.poll() is None}

    def _check_exit(self, slot, returncode, study):
        """Stop the search if the worker of ``slot`` could not use its device
        or the data, or keeps dying before it takes any trial."""
        pid = self.workers[slot].pid
        if returncode == DEVICE_ERROR_EXIT:
            raise DeviceUnavailableError(
                "worker %d: Theano cannot run on device %r (see its "
                "message above); no trial ran on it"
                % (slot, self.devices[slot]))
        if returncode == DATA_ERROR_EXIT:
            raise DataNotFoundError("worker %d could not load the data "
                                    "(see its message above)" % slot)
        cause = exit_cause(returncode)
        if cause is None or any(t.user_attrs.get("pid") == pid
                                for t in study.get_trials(deepcopy=False)):
            return
        self.start_failures[slot] += 1
        if self.start_failures[slot] >= MAX_WORKER_START_FAILURES:
            raise SearchError(
                "worker %d (device %r): %s before it took any trial, %d "
                "times (see its messages above)" % (
                    slot, self.devices[slot], cause,
                    self.start_failures[slot]))

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
            self._check_exit(slot, w.returncode, study)

    def _note_exits_quietly(self):
        for w in self.workers:
            if w is not None and w.poll() is not None:
                self.exits.setdefault(w.pid, w.returncode)

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

    # -- the study ---------------------------------------------------------------
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
        if self._opened is None and self.join:
            self._opened = self._open_joined()
        elif self._opened is None:
            # a suggest() that fails, before anything is written
            sample_configs(self.space, self.seed, max(1, self.n_trials))
            storage = open_storage(self.storage_url, self.study_dir)
            study = open_study(storage, self.study_name, self.space,
                               self.seed, heartbeat_seconds=self.heartbeat)
            study.set_user_attr("n_trials", self.n_trials)  # for --join
            # the faces and the wall-clock cap, for the command that made it
            # (kfkd.search.results.study_command)
            study.set_user_attr("limit", self.limit)
            study.set_user_attr("minutes", self.minutes)
            # the rungs every worker rebuilds the pruner from
            record_rungs(study, self.space.rungs)
            self._opened = (storage, study)
        return self._opened

    def _open_joined(self):
        """(storage, study) of an existing study; its space, seed and
        number of trials replace this driver's."""
        storage = open_storage(self.storage_url, self.study_dir, create=False)
        study = open_study(storage, self.study_name, create=False)
        self.space = study_space(study)
        self.seed = study.user_attrs.get("seed", self.seed)
        self.n_trials = study.user_attrs.get("n_trials", self.n_trials)
        return storage, study

    def _reconcile(self, study, storage, live):
        """Fail orphans; enqueue missing configurations unless joining."""
        if self.join:
            fail_orphans(study, storage, live, self.exits)
        else:
            reconcile(study, storage, self.space, self.seed, self.n_trials,
                      live, self.exits)

    def _report(self, study, bar, events, shown):
        """Print the trials' new events (rungs, ends), update the bar; the
        (done, best) shown."""
        done, best, best_number = progress(study, self.n_trials)
        for line in events.lines(study, best, best_number):
            bar.write(line)
        if (done, best) != shown:
            bar.n = done
            bar.set_postfix_str("best %s" % (
                "-" if best is None else "%.3f px (#%d)" % (best, best_number)))
            bar.refresh()
        return done, best

    def _step(self, study, storage, bar, events, shown):
        """One supervision round; (finished?, the (done, best) shown)."""
        self._note_exits(study)
        live = self._live_pids()
        self._reconcile(study, storage, live)
        shown = self._report(study, bar, events, shown)
        waiting = study.get_trials(deepcopy=False,
                                   states=(TrialState.WAITING,))
        if shown[0] >= self.n_trials or (self.join and not waiting
                                         and not live):
            return True, shown
        for slot, w in enumerate(self.workers):
            if (w is None or w.poll() is not None) and waiting:
                self._start(slot)
        return False, shown

    def _abort(self, study, storage, bar, summary):
        """Stop the workers, fail their trials, keep what finished."""
        self.stop_workers()
        self._note_exits_quietly()
        fail_orphans(study, storage, (), self.exits)
        bar.close()
        summary()
        with contextlib.suppress(Exception):  # keep what finished
            write_outputs(study, self.space, self.study_dir)

    def _summary(self, study, started, before):
        """Print the run's summary (:func:`summary_lines`) unless quiet;
        ``before``: the trials finished when the run started."""
        if self.verbose:
            print("\n".join(summary_lines(
                study, self.space.rungs, time.time() - started,
                sum(t.state != TrialState.FAIL for t in before))),
                  file=sys.stderr, flush=True)

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
        storage, study = self.open()
        if self.join:  # a driver elsewhere enqueues (and reconciles)
            done = progress(study, self.n_trials)[0]
        else:
            done = reconcile(study, storage, self.space, self.seed,
                             self.n_trials)
        bar = tqdm(total=self.n_trials, initial=done, unit="trial",
                   desc="study %s" % self.study_name, disable=not self.verbose,
                   dynamic_ncols=True)
        before = [t for t in study.get_trials(deepcopy=False)
                  if t.state.is_finished()]
        events = TrialEvents(self.space.rungs, [t.number for t in before])
        shown, finished, started = None, False, time.time()
        try:
            while not finished:
                finished, shown = self._step(study, storage, bar, events,
                                             shown)
                if not finished:
                    time.sleep(self.poll_seconds)
        except BaseException:
            self._abort(study, storage, bar,
                        lambda: self._summary(study, started, before))
            raise
        bar.close()
        self.stop_workers()
        self._summary(study, started, before)
        return write_outputs(study, self.space, self.study_dir)
