"""kfkd.resume: an interrupted training run goes on where it stopped, in
the trainer and in ``kfkd train --resume`` (real faces, a tiny breeze with
dropout and batch norm, so that their states carry over too)."""
import json
import os

import numpy as np
import pytest

from kfkd import compat  # noqa: F401  (configures Theano first)

import lasagne  # noqa: E402

from kfkd.resume import (STATE_FILE, StateError, TrainingState,  # noqa: E402
                         cap_raised, has_state, load_state, save_state)
from kfkd.train import Trainer  # noqa: E402

#: A breeze that trains in seconds, with dropout and batch norm.
NET = dict(depth=2, width=8, convs_per_block=1, dense_units=32,
           dropout_conv=0.1, dropout_dense=0.2, batch_norm=True)
SETTINGS = dict(net="breeze", net_params=NET, update="adam",
                learning_rate=2e-3, learning_rate_end=2e-4,
                lr_schedule="cosine", batch_size=32, max_epochs=4,
                patience=20, seed=3, verbose=False)


class Interrupted(Exception):
    pass


def _interrupt_after(epochs):
    def on_epoch(row):
        if row["epoch"] == epochs:
            raise Interrupted()
        return False
    return on_epoch


@pytest.fixture(scope="module")
def faces(first_faces_split):
    return first_faces_split(400)


@pytest.fixture(scope="module")
def straight(faces, tmp_path_factory):
    """4 epochs without interruption: (trainer, model, folder)."""
    folder = str(tmp_path_factory.mktemp("straight") / "model")
    trainer = Trainer(**SETTINGS)
    model = trainer.fit(*faces, out_dir=folder)
    return trainer, model, folder


def test_state_round_trip_and_mismatches(tmp_path):
    rng = np.random.RandomState(5)
    rng.rand(3)
    state = TrainingState(
        training={"net": "breeze", "l2": 1e-4}, faces=(10, 4), epoch=2,
        seconds=7.5, best_epoch=1, best_score=2.25,
        shared=[np.arange(6, dtype=np.float32).reshape(2, 3),
                np.array(4, dtype=np.int64)],
        best=[np.ones(3, np.float32)], rng=rng.get_state(),
        history=[{"epoch": 1, "val_rmse_px": 3.0, "best": True},
                 {"epoch": 2, "val_rmse_px": 2.25, "best": True}])
    save_state(str(tmp_path), state)
    assert has_state(str(tmp_path))
    back = load_state(str(tmp_path), {"l2": 1e-4, "net": "breeze"}, (10, 4))
    assert (back.epoch, back.seconds, back.best_epoch, back.best_score) == (
        2, 7.5, 1, 2.25)
    np.testing.assert_array_equal(back.shared[0], state.shared[0])
    assert back.shared[1].dtype == np.int64 and back.history == state.history
    again = np.random.RandomState(0)
    again.set_state(back.rng)
    assert again.rand() == rng.rand()
    with pytest.raises(StateError, match="other settings.*l2"):
        load_state(str(tmp_path), {"net": "breeze", "l2": 0.0}, (10, 4))
    with pytest.raises(StateError, match="10 \\+ 4 faces, not 11 \\+ 4"):
        load_state(str(tmp_path), state.training, (11, 4))
    assert load_state(str(tmp_path / "none"), state.training, None) is None
    with open(str(tmp_path / STATE_FILE), "wb") as f:
        f.write(b"not an npz")
    with pytest.raises(StateError, match="not a training state"):
        load_state(str(tmp_path), state.training, None)


def test_interrupted_run_resumes_to_the_same_result(straight, faces,
                                                    tmp_path):
    """Interrupted after epoch 2 and resumed: the folder was a complete
    model with its state meanwhile, the resumed run trains epochs 3-4 only
    and ends where the straight run ends (same batches, dropout masks and
    optimiser moments; floats with a tolerance), without a state left."""
    _, model, straight_dir = straight
    assert not has_state(straight_dir)
    folder = str(tmp_path / "model")
    with pytest.raises(Interrupted):
        Trainer(**SETTINGS).fit(*faces, out_dir=folder,
                                on_epoch=_interrupt_after(2))
    assert has_state(folder)
    assert os.path.isfile(os.path.join(folder, "model.json"))
    metrics = json.load(open(os.path.join(folder, "metrics.json")))
    assert "stopped_by" not in metrics
    seen = []
    resumed = Trainer(**SETTINGS)
    model2 = resumed.fit(*faces, out_dir=folder, resume=True,
                         on_epoch=lambda row: seen.append(row["epoch"]))
    assert seen == [3, 4]
    assert not has_state(folder)
    assert [r["epoch"] for r in resumed.history_] == [1, 2, 3, 4]
    np.testing.assert_allclose(
        [r["val_rmse_px"] for r in resumed.history_],
        [r["val_rmse_px"] for r in model.history], rtol=1e-4)
    for a, b in zip(lasagne.layers.get_all_param_values(model.layer),
                    lasagne.layers.get_all_param_values(model2.layer)):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5)
    metrics = json.load(open(os.path.join(folder, "metrics.json")))
    assert metrics["stopped_by"] == "max_epochs" and metrics["epochs"] == 4


def test_resume_with_other_settings_is_refused(faces, tmp_path):
    folder = str(tmp_path / "model")
    with pytest.raises(Interrupted):
        Trainer(**SETTINGS).fit(*faces, out_dir=folder,
                                on_epoch=_interrupt_after(1))
    with pytest.raises(StateError, match="other settings.*learning_rate"):
        Trainer(**dict(SETTINGS, learning_rate=1e-3)).fit(
            *faces, out_dir=folder, resume=True)
    assert has_state(folder)  # refused: nothing lost


def test_kfkd_train_resume_options(kfkd_fails, faces, tmp_path, data_dir):
    """``kfkd train`` on an interrupted run: one line naming --resume
    without it; --resume with --overwrite, with other settings, or on a
    finished model is refused; nothing in the folder changes."""
    folder = str(tmp_path / "model")
    with pytest.raises(Interrupted):
        Trainer(**dict(SETTINGS, augment=None)).fit(
            *faces, out_dir=folder, on_epoch=_interrupt_after(1))
    base = ["train", "--out", folder, "--data-dir", data_dir, "--net",
            "breeze", "--limit", "400"]
    kfkd_fails(base, names=["--out", folder, "--resume", STATE_FILE],
               untouched=[folder])
    kfkd_fails(base + ["--resume", "--overwrite"],
               names=["--resume", "--overwrite"], untouched=[folder])
    kfkd_fails(base + ["--resume", "--lr", "0.5"],
               names=["--resume", "other settings", "learning_rate"],
               untouched=[folder])
    done = str(tmp_path / "done")
    os.makedirs(done)
    with open(os.path.join(done, "metrics.json"), "w") as f:
        f.write("{}")
    kfkd_fails(["train", "--out", done, "--resume", "--data-dir", data_dir],
               names=["--resume", done, "finished"], untouched=[done])


def test_kfkd_train_resume_on_other_faces_is_refused_before_compiling(
        kfkd_fails, tmp_path, data_dir):
    """A run interrupted on the first 200 faces' grouped split, resumed by
    ``kfkd train --resume`` on 300: one line naming the faces, and the
    folder untouched (the check comes before anything compiles)."""
    import argparse
    from kfkd.config import TrainingConfig
    from kfkd.options import add_train_arguments
    from kfkd.splits import load_split

    folder = str(tmp_path / "model")
    argv = ["--out", folder, "--data-dir", data_dir, "--net", "breeze",
            "--no-augment", "--epochs", "4"] + sum(
        (["--param", "%s=%s" % (k, str(v).lower())]
         for k, v in NET.items()), [])
    parser = argparse.ArgumentParser()
    add_train_arguments(parser)
    config = TrainingConfig.from_args(parser.parse_args(argv))
    with pytest.raises(Interrupted):
        Trainer(config, verbose=False).fit(
            *load_split(data_dir, limit=200, verbose=False), out_dir=folder,
            on_epoch=_interrupt_after(1))
    line = kfkd_fails(["train"] + argv + ["--limit", "300", "--resume"],
                      names=["--resume", STATE_FILE, "faces"],
                      untouched=[folder])
    assert "not" in line


def test_cap_raised_only_when_the_cap_is_only_a_stop():
    run = {"net": "net6", "lr_schedule": "linear", "max_minutes": 120.0}
    assert cap_raised(run, dict(run, max_minutes=360.0))
    assert cap_raised(run, dict(run, max_minutes=None))  # no cap at all
    assert not cap_raised(run, dict(run))  # the same cap
    assert not cap_raised(run, dict(run, max_minutes=60.0))
    assert not cap_raised(dict(run, max_minutes=None), run)
    assert not cap_raised(run, dict(run, max_minutes=360.0, seed=1))
    timed = dict(run, lr_schedule="cosine-time")  # anneals over the cap
    assert not cap_raised(timed, dict(timed, max_minutes=360.0))


def test_run_stopped_by_its_cap_goes_on_under_a_larger_one(straight, faces,
                                                            tmp_path):
    """A run its --max-minutes stopped after epoch 1 keeps its state; under
    the same cap a resume trains nothing more, under no cap it trains
    epochs 2-4 and ends where the straight run ends (floats with a
    tolerance), its state then gone."""
    _, model, _ = straight
    folder = str(tmp_path / "model")
    capped = Trainer(**dict(SETTINGS, max_minutes=1e-4))
    capped.fit(*faces, out_dir=folder)
    assert capped.stopped_by_ == "max_minutes" and len(capped.history_) == 1
    assert has_state(folder)
    seen = []
    again = Trainer(**dict(SETTINGS, max_minutes=1e-4))
    again.fit(*faces, out_dir=folder, resume=True,
              on_epoch=lambda row: seen.append(row["epoch"]))
    assert seen == [] and again.stopped_by_ == "max_minutes"
    assert has_state(folder)
    longer = Trainer(**SETTINGS)
    longer.fit(*faces, out_dir=folder, resume=True,
               on_epoch=lambda row: seen.append(row["epoch"]))
    assert seen == [2, 3, 4] and longer.stopped_by_ == "max_epochs"
    assert not has_state(folder)
    np.testing.assert_allclose(
        [r["val_rmse_px"] for r in longer.history_],
        [r["val_rmse_px"] for r in model.history], rtol=1e-4)
    metrics = json.load(open(os.path.join(folder, "metrics.json")))
    assert metrics["stopped_by"] == "max_epochs" and metrics["epochs"] == 4


def test_kfkd_train_on_a_run_stopped_by_its_cap(kfkd_fails, tmp_path,
                                                data_dir):
    """``kfkd train`` on a folder whose run its --max-minutes stopped: one
    line saying so and naming --resume with a larger --max-minutes, with
    or without --resume under the same cap; the folder untouched."""
    import argparse
    from kfkd.config import TrainingConfig
    from kfkd.options import add_train_arguments
    from kfkd.splits import load_split

    folder = str(tmp_path / "model")
    argv = ["--out", folder, "--data-dir", data_dir, "--net", "breeze",
            "--no-augment", "--epochs", "4", "--limit", "200",
            "--max-minutes", "0.0001"] + sum(
        (["--param", "%s=%s" % (k, str(v).lower())]
         for k, v in NET.items()), [])
    parser = argparse.ArgumentParser()
    add_train_arguments(parser)
    config = TrainingConfig.from_args(parser.parse_args(argv))
    trainer = Trainer(config, verbose=False)
    trainer.fit(*load_split(data_dir, limit=200, verbose=False),
                out_dir=folder)
    assert trainer.stopped_by_ == "max_minutes"
    kfkd_fails(["train"] + argv, names=["--out", folder, "--max-minutes",
                                        "--resume", "larger", STATE_FILE],
               untouched=[folder])
    kfkd_fails(["train"] + argv + ["--resume"],
               names=["--resume", folder, "larger --max-minutes"],
               untouched=[folder])


def test_a_search_trial_its_cap_stopped_leaves_no_state(faces, tmp_path):
    """A trial is never extended: the worker drops the state a stop by
    the study's cap would keep, and keeps the trial's model."""
    import optuna
    from kfkd.search.space import load_space
    from kfkd.search.worker import run_trial

    trial = optuna.create_study().ask()
    _, pruned = run_trial(trial, load_space("tiny"), *faces, str(tmp_path),
                          minutes=1e-4)
    folder = trial.user_attrs["model_dir"]
    assert trial.user_attrs["stopped_by"] == "max_minutes" and not pruned
    assert os.path.isfile(os.path.join(folder, "model.json"))
    assert not has_state(folder)


def test_training_flushes_subnormals_and_puts_them_back(faces):
    """Trainer.fit trains with subnormals flushed to zero
    (kfkd.denormals) and leaves the thread as it found it."""
    from kfkd.denormals import supported
    if not supported():
        pytest.skip("MXCSR not reachable (glibc x86-64)")

    def kept():
        return bool((np.ones(1, np.float32) * np.float32(1e-39))[0] != 0)

    seen = []
    Trainer(**dict(SETTINGS, max_epochs=1)).fit(
        *faces, on_epoch=lambda row: seen.append(kept()))
    assert seen == [False] and kept()
