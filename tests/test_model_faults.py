"""Signals during a model save leave a loadable model folder and no stray
files (issue #10, defect 1).

``kfkd train --net net1 --epochs 3 --split random`` on 60 faces improves at every epoch,
so it saves its model folder 4 times (epochs 1, 2, 3 and the end).  The
writer's test-only hook (:data:`kfkd.fileio.FAULT_HOOK_VARIABLE`,
``STAGE:N:SIGNAL``) makes the process send itself SIGINT, SIGTERM or
SIGKILL at a fixed point of the N-th save: ``before:1`` (before the first
checkpoint), ``before:2`` (between checkpoints), ``swap:2`` (the second
checkpoint staged, being swapped in).  All runs start at once (each in its
own folder) to share the two cores, in Theano's FAST_COMPILE mode (1.5 s
instead of 5.5 s to compile net1; the writer under test is the same).  The
``overwrite_`` runs write over a copy of the shipped reference model
(``models/reference``: an ensemble, sub-folders and all).
"""
import hashlib
import os
import shutil
import signal
import subprocess
import sys

import pytest

from conftest import REPO

REFERENCE = os.path.join(REPO, "models", "reference")

#: name -> (hook, --overwrite over a copy of the reference model?)
RUNS = {
    "int_before_first": ("before:1:INT", False),
    "term_before_first": ("before:1:TERM", False),
    "int_between": ("before:2:INT", False),
    "term_between": ("before:2:TERM", False),
    "int_swap": ("swap:2:INT", False),
    "term_swap": ("swap:2:TERM", False),
    "kill_swap": ("swap:2:KILL", False),
    "overwrite_int_before_first": ("before:1:INT", True),
    "overwrite_term_swap": ("swap:2:TERM", True),
    "overwrite_complete": (None, True),
}

#: A model folder's files, and an interrupted run's (its resume state).
MODEL_FILES = ["history.csv", "metrics.json", "model.json", "model.npz"]
INTERRUPTED_FILES = sorted(MODEL_FILES + ["resume.npz"])

#: the exit status of each signal: kfkd exits 130 on SIGINT (Ctrl-C)
STATUS = {"INT": 130, "TERM": -signal.SIGTERM, "KILL": -signal.SIGKILL}


def _digest(folder):
    """{path below ``folder``: sha256} of every file, sub-folders' too (an
    ensemble's members)."""
    digests = {}
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                digests[os.path.relpath(path, folder)] = hashlib.sha256(
                    f.read()).hexdigest()
    return digests


def _default_sigint():
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # python installs its own


@pytest.fixture(scope="module")
def runs(tmp_path_factory, data_dir):
    """Start every run of :data:`RUNS` at once; name -> (status, parent
    folder, model folder, stderr)."""
    import pandas as pd
    from kfkd.data import find_file

    root = tmp_path_factory.mktemp("faults")
    data = root / "data"
    data.mkdir()
    pd.read_csv(find_file("training.csv", data_dir), nrows=60).to_csv(
        data / "training.csv", index=False)
    started = {}
    for name, (hook, overwrite) in RUNS.items():
        parent = root / name
        parent.mkdir()
        out = str(parent / "model")
        argv = [sys.executable, "-m", "kfkd", "train", "--net", "net1",
                "--epochs", "3", "--no-augment", "--quiet", "--split", "random",
                "--data-dir",
                str(data), "--out", out]
        if overwrite:
            shutil.copytree(REFERENCE, out)
            argv.append("--overwrite")
        env = dict(os.environ, PYTHONPATH=REPO,
                   THEANO_FLAGS="mode=FAST_COMPILE")
        env.pop("KFKD_TEST_FAULT", None)
        if hook:
            env["KFKD_TEST_FAULT"] = hook
        started[name] = (subprocess.Popen(
            argv, env=env, cwd=REPO, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, preexec_fn=_default_sigint),
            str(parent), out)
    results = {}
    for name, (proc, parent, out) in started.items():
        _, err = proc.communicate(timeout=600)
        results[name] = (proc.returncode, parent, out, err)
    return results


def _epochs_saved(folder):
    from kfkd.model import load_model
    model = load_model(folder)  # complete and consistent, or ModelError
    assert model.net == "net1"
    return len(model.history)


@pytest.mark.parametrize("name, epochs", [
    ("int_before_first", None), ("term_before_first", None),
    ("int_between", 1), ("term_between", 1),
    ("int_swap", 2), ("term_swap", 2)])
def test_signal_at_each_stage_of_a_save(runs, name, epochs):
    """Before the first checkpoint: no folder; between checkpoints: the
    first; during the swap: the second (the swap completes, then the
    signal acts), with the resume state of the last epoch finished (the
    first: carried through the swap).  Never a staging folder or a .tmp
    file."""
    status, parent, out, err = runs[name]
    assert status == STATUS[RUNS[name][0].split(":")[2]], err
    if epochs is None:
        assert os.listdir(parent) == [], os.listdir(parent)
    else:
        assert os.listdir(parent) == ["model"], os.listdir(parent)
        assert sorted(os.listdir(out)) == INTERRUPTED_FILES
        assert _epochs_saved(out) == epochs
        assert _state_epoch(out) == 1


def _state_epoch(folder):
    """The epochs done of the resume state in ``folder``."""
    import json
    import numpy as np
    with np.load(os.path.join(folder, "resume.npz")) as f:
        return json.loads(str(f["meta"]))["epoch"]


def test_interrupted_run_resumes_from_the_command_line(runs, tmp_path):
    """``kfkd train`` again on the run stopped by SIGINT between
    checkpoints: refused without --resume; with it, the run goes on from
    epoch 2 and ends a finished model (no state left)."""
    _, parent, out, _ = runs["int_between"]
    folder = str(tmp_path / "model")
    shutil.copytree(out, folder)
    data = os.path.join(os.path.dirname(parent), "data")
    argv = [sys.executable, "-m", "kfkd", "train", "--net", "net1",
            "--epochs", "3", "--no-augment", "--quiet", "--split", "random",
            "--data-dir", data, "--out", folder]
    env = dict(os.environ, PYTHONPATH=REPO, THEANO_FLAGS="mode=FAST_COMPILE")
    env.pop("KFKD_TEST_FAULT", None)
    refused = subprocess.run(argv, env=env, cwd=REPO, capture_output=True,
                             text=True, timeout=600)
    assert refused.returncode == 2 and "--resume" in refused.stderr
    done = subprocess.run(argv + ["--resume"], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert sorted(os.listdir(folder)) == MODEL_FILES
    assert _epochs_saved(folder) == 3


def test_sigkill_during_swap_leaves_the_previous_checkpoint(runs):
    """SIGKILL cannot be deferred: the staging folder stays beside the
    model, which is still the first checkpoint; the next save or
    check_output_folder removes the dead process's staging folder."""
    from kfkd.fileio import check_output_folder

    status, parent, out, err = runs["kill_swap"]
    assert status == STATUS["KILL"], err
    stale = [n for n in os.listdir(parent) if n != "model"]
    assert len(stale) == 1 and stale[0].startswith("model.staging-"), stale
    assert _epochs_saved(out) == 1
    with pytest.raises(Exception, match="holds a model"):
        check_output_folder(out)
    assert os.listdir(parent) == ["model"]


def test_signal_before_first_checkpoint_keeps_the_old_model(runs):
    status, parent, out, err = runs["overwrite_int_before_first"]
    assert status == 130, err
    assert os.listdir(parent) == ["model"]
    assert _digest(out) == _digest(REFERENCE)


def test_signal_during_swap_over_an_old_model(runs):
    """With --overwrite the first checkpoint replaces the old model whole:
    never a mix of the two (the old one is the shipped model, an ensemble
    of other nets in sub-folders: none of its files is left)."""
    status, parent, out, err = runs["overwrite_term_swap"]
    assert status == STATUS["TERM"], err
    assert os.listdir(parent) == ["model"]
    assert sorted(os.listdir(out)) == INTERRUPTED_FILES
    assert _epochs_saved(out) == 2


def test_overwrite_replaces_the_whole_folder(runs):
    status, parent, out, err = runs["overwrite_complete"]
    assert status == 0, err
    assert os.listdir(parent) == ["model"]
    assert sorted(os.listdir(out)) == MODEL_FILES  # finished: no state
    assert _epochs_saved(out) == 3


def test_without_overwrite_the_old_model_is_untouched(tmp_path):
    """Refused in a subprocess too, before the data is even looked for."""
    out = str(tmp_path / "model")
    shutil.copytree(REFERENCE, out)
    before = _digest(out)
    proc = subprocess.run(
        [sys.executable, "-m", "kfkd", "train", "--net", "net1", "--out",
         out, "--data-dir", str(tmp_path / "no-data")],
        env=dict(os.environ, PYTHONPATH=REPO), cwd=REPO, capture_output=True,
        text=True, timeout=300)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        proc.stderr.strip()], proc.stderr
    assert "holds a model" in proc.stderr and "--overwrite" in proc.stderr
    assert _digest(out) == before
    assert os.listdir(str(tmp_path)) == ["model"]
