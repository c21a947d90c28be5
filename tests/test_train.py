"""kfkd.train, kfkd.model and the kfkd command, on small slices of the real
data with small nets (Theano)."""
import csv
import gzip
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from kfkd import compat  # noqa: F401  (configures Theano first)

import lasagne  # noqa: E402
import theano  # noqa: E402
import theano.tensor as T  # noqa: E402

from kfkd import nets  # noqa: E402
from kfkd.augment import Augmenter  # noqa: E402
from kfkd.data import find_file, load_test  # noqa: E402
from kfkd.keypoints import KAGGLE_COLUMNS, to_pixels, to_unit  # noqa: E402
from kfkd.model import load_model  # noqa: E402
from kfkd.config import HISTORY_COLUMNS  # noqa: E402
from kfkd.objective import init_output_bias, masked_mse, penalty  # noqa: E402
from kfkd.schedules import (cosine_time_rate,  # noqa: E402
                            learning_rate_schedule, linear_schedule)
from kfkd.train import EarlyStopping, Trainer, iterate_minibatches  # noqa

from kfkd.metrics import rmse  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
floatX = theano.config.floatX

#: A breeze small enough to train in seconds on a CPU (no batch norm: its
#: running averages need more mini-batches than a short run has).
TINY_BREEZE = dict(depth=3, width=8, convs_per_block=1, dense_units=64,
                   dropout_conv=0.0, dropout_dense=0.0, batch_norm=False)


@pytest.fixture(scope="module")
def small_split(first_faces_split):
    """800 real faces split 640 / 160 (seed 0)."""
    return first_faces_split(800)


@pytest.fixture(scope="module")
def trained(small_split):
    """A tiny breeze trained for 4 epochs on the 640 faces (~12 s), its
    learning rate on a cosine schedule."""
    train, val = small_split
    trainer = Trainer(net="breeze", net_params=TINY_BREEZE, update="adam",
                      learning_rate=2e-3, learning_rate_end=2e-4,
                      lr_schedule="cosine", batch_size=16, max_epochs=4,
                      patience=20, seed=0, verbose=False)
    model = trainer.fit(train, val)
    return trainer, model


def _targets(keypoints):
    """Trainer's targets and mask for ``keypoints`` (pixels, NaN unlabelled)."""
    mask = np.isfinite(keypoints)
    return (np.where(mask, to_unit(keypoints), 0).astype(floatX),
            mask.astype(floatX))


# -- the masked loss -------------------------------------------------------------
@pytest.fixture(scope="module")
def loss_and_grad():
    p, y, m = T.matrix("p"), T.matrix("y"), T.matrix("m")
    loss = masked_mse(p, y, m)
    return theano.function([p, y, m], [loss, T.grad(loss, p)])


def test_masked_loss_ignores_unlabelled_coordinates(training_data,
                                                    loss_and_grad):
    keypoints = training_data.keypoints[:64]
    targets, mask = _targets(keypoints)
    assert 0 < mask.mean() < 1  # real rows with missing keypoints
    pred = np.random.RandomState(0).uniform(-1, 1, mask.shape).astype(floatX)
    loss, grad = loss_and_grad(pred, targets, mask)
    # numpy masked MSE
    labelled = mask.astype(bool)
    expected = np.mean((pred[labelled] - targets[labelled]) ** 2)
    assert loss == pytest.approx(expected, rel=1e-5)
    # exactly zero gradient where unlabelled, 2 (p - y) / n where labelled
    assert np.all(grad[~labelled] == 0)
    np.testing.assert_allclose(
        grad[labelled], 2 * (pred - targets)[labelled] / labelled.sum(),
        rtol=1e-5)
    # unlabelled targets do not matter at all
    junk = targets.copy()
    junk[~labelled] = 1e3
    assert loss_and_grad(pred, junk, mask)[0] == loss


def test_masked_loss_with_nothing_labelled_is_zero(loss_and_grad):
    pred = np.ones((4, 30), floatX)
    loss, grad = loss_and_grad(pred, np.zeros_like(pred), np.zeros_like(pred))
    assert loss == 0 and np.all(grad == 0)


def test_rmse_px_is_nan_aware(training_data):
    keypoints = training_data.keypoints[:100]
    pred = np.where(np.isfinite(keypoints), keypoints, 0) + 2.0
    assert rmse(pred, keypoints) == pytest.approx(2.0)


# -- penalties -------------------------------------------------------------------
def test_penalty_is_l1_l2_of_the_weights_only():
    layer = nets.build("breeze", depth=2, width=4, convs_per_block=1,
                       dense_units=16)  # with batch norm
    rng = np.random.RandomState(0)
    weights = []
    for l in lasagne.layers.get_all_layers(layer):
        for param in l.get_params():
            value = rng.uniform(-1, 1, param.get_value().shape)
            param.set_value(value.astype(floatX))  # biases, BN: non-zero too
            if param is getattr(l, "W", None):
                weights.append(value.astype(floatX).astype(np.float64))
    regularizable = lasagne.layers.get_all_params(layer, regularizable=True)
    assert len(regularizable) == len(weights) == 4  # 2 convs, 2 dense
    l1, l2 = 1e-4, 3e-3
    expected = (l1 * sum(np.abs(w).sum() for w in weights)
                + l2 * sum((w ** 2).sum() for w in weights))
    assert penalty(layer, l1, l2).eval() == pytest.approx(expected, rel=1e-5)
    assert penalty(layer, 0.0, 0.0).eval() == 0
    assert penalty(layer, l1, 0.0).eval() == pytest.approx(
        l1 * sum(np.abs(w).sum() for w in weights), rel=1e-5)
    # in the loss the trainer minimises: the data term plus the penalty
    p, y, m = T.matrix("p"), T.matrix("y"), T.matrix("m")
    data_loss = masked_mse(p, y, m)
    fn = theano.function([p, y, m],
                         [data_loss, data_loss + penalty(layer, l1, l2)])
    pred, targets = rng.uniform(-1, 1, (2, 8, 30)).astype(floatX)
    plain, penalised = fn(pred, targets, np.ones_like(targets))
    assert penalised - plain == pytest.approx(expected, rel=1e-4)


# -- schedules and early stopping -----------------------------------------------
def test_linear_schedule():
    schedule = linear_schedule(0.03, 0.0001, 5)
    assert schedule.dtype == np.float32 and schedule.shape == (5,)
    np.testing.assert_allclose(schedule, [0.03, 0.022525, 0.01505, 0.007575,
                                          0.0001], rtol=1e-5)
    np.testing.assert_allclose(linear_schedule(0.9, None, 3), [0.9] * 3)
    np.testing.assert_allclose(linear_schedule(0.9, 0.999, 2), [0.9, 0.999])


def test_learning_rate_schedules():
    cosine = learning_rate_schedule("cosine", 2e-3, 1e-5, 101)
    assert cosine.dtype == np.float32 and cosine.shape == (101,)
    # SGDR eq. 5: halfway between the ends at the middle epoch, symmetric
    assert cosine[0] == pytest.approx(2e-3)
    assert cosine[-1] == pytest.approx(1e-5)
    assert cosine[50] == pytest.approx((2e-3 + 1e-5) / 2)
    assert cosine[25] - 1e-5 == pytest.approx(2e-3 - cosine[75], rel=1e-4)
    assert np.all(np.diff(cosine) < 0)
    assert learning_rate_schedule("cosine", 1.0, None, 3)[-1] == 0
    np.testing.assert_array_equal(
        learning_rate_schedule("linear", 0.03, 1e-4, 5),
        linear_schedule(0.03, 1e-4, 5))
    np.testing.assert_allclose(
        learning_rate_schedule("constant", 0.1, None, 3), [0.1] * 3)
    assert learning_rate_schedule("cosine", 0.1, None, 1).tolist() == [
        pytest.approx(0.1)]
    with pytest.raises(ValueError, match="step"):
        learning_rate_schedule("step", 0.1, None, 3)


def test_cosine_over_the_minutes_anneals_within_the_budget(small_split,
                                                            monkeypatch):
    """``cosine-time``: each epoch's rate is the cosine of the share of
    ``max_minutes`` spent when it starts (the epochs' number plays no part),
    so a run stopped by its minutes has annealed towards the end rate.
    Training's clock is a fake one that moves 1 s per reading."""
    assert cosine_time_rate(2e-3, None, 0.0, 60.0) == pytest.approx(2e-3)
    assert cosine_time_rate(2e-3, 1e-5, 30.0, 60.0) == pytest.approx(
        (2e-3 + 1e-5) / 2)
    assert cosine_time_rate(2e-3, 1e-5, 90.0, 60.0) == pytest.approx(1e-5)
    import itertools

    import kfkd.train
    from kfkd.data import KeypointData
    clock = itertools.count(0.0, 1.0)
    monkeypatch.setattr(kfkd.train, "_clock", lambda: next(clock))
    train, val = [KeypointData(d.images[:64], d.keypoints[:64], d.schema,
                               d.path, d.genuine) for d in small_split]
    trainer = Trainer(net="breeze", net_params=TINY_BREEZE,
                      learning_rate=2e-3, lr_schedule="cosine-time",
                      max_minutes=0.5, max_epochs=1000, patience=1000,
                      batch_size=64, seed=0, verbose=False)
    trainer.fit(train, val)
    rates = np.array([h["learning_rate"] for h in trainer.history_])
    assert trainer.stopped_by_ == "max_minutes" and len(rates) >= 5
    # the first epoch starts one reading after the run's start
    assert rates[0] == pytest.approx(cosine_time_rate(2e-3, None, 1, 30.0))
    assert np.all(np.diff(rates) < 0)
    # each rate is the cosine at its epoch's start: the previous epoch's end
    # (its "seconds"), plus the clock readings in between
    for h, rate in zip(trainer.history_[:-1], rates[1:]):
        assert cosine_time_rate(2e-3, None, h["seconds"] + 3, 30.0) \
            <= rate <= cosine_time_rate(2e-3, None, h["seconds"], 30.0)
    assert rates[-1] < 2e-3 / 4  # annealed: the last epoch near the end


def test_init_output_bias_is_the_mean_shape(training_data):
    layer = nets.build("net1", hidden=4)
    keypoints = training_data.keypoints[:200]
    init_output_bias(layer, keypoints)
    np.testing.assert_allclose(to_pixels(layer.b.get_value()),
                               np.nanmean(keypoints, axis=0), atol=1e-4)


def test_early_stopping_restores_the_best_epoch(small_split):
    train, val = small_split
    train = train.subset(slice(0, 128))
    lasagne.random.set_rng(np.random.RandomState(0))
    layer = nets.build("net1", hidden=8)
    init_output_bias(layer, train.keypoints)
    train_fn, predict_fn, _, _ = Trainer(
        net="net1", update="nesterov", learning_rate=0.01).compile_functions(layer)
    targets, mask = _targets(train.keypoints)

    def score():
        return rmse(to_pixels(predict_fn(val.images)), val.keypoints)

    stopper = EarlyStopping(patience=3)
    scores, snapshots = [], []
    rng = np.random.RandomState(0)
    for epoch in range(3):  # real training
        for index in iterate_minibatches(len(train), 32, rng):
            train_fn(train.images[index], targets[index], mask[index])
        scores.append(score())
        snapshots.append(lasagne.layers.get_all_param_values(layer))
        assert not stopper.update(epoch, scores[-1], snapshots[-1])
    best = int(np.argmin(scores))
    assert (stopper.best_epoch, stopper.best_score) == (best, scores[best])
    # worse epochs: the weights wander off until patience runs out
    for epoch in range(3, best + 4):
        lasagne.layers.set_all_param_values(
            layer, [v + rng.normal(0, 0.5, v.shape).astype(floatX)
                    for v in lasagne.layers.get_all_param_values(layer)])
        worse = score()
        assert worse > scores[best]
        stop = stopper.update(epoch, worse,
                              lasagne.layers.get_all_param_values(layer))
        assert stop == (epoch == best + 3)
    stopper.restore(layer)
    for got, want in zip(lasagne.layers.get_all_param_values(layer),
                         snapshots[best]):
        np.testing.assert_array_equal(got, want)
    assert score() == scores[best]


def test_on_epoch_sees_every_row_and_can_stop_training(small_split):
    """The per-epoch hook (the search's pruner hooks in here): called after
    every epoch with its history row; True stops training there."""
    train, val = small_split
    seen = []

    def stop_after_two(row):
        seen.append(dict(row))
        return row["epoch"] == 2

    # the graph of test_early_stopping_restores_the_best_epoch: compiled once
    trainer = Trainer(net="net1", net_params={"hidden": 8}, max_epochs=5,
                      update="nesterov", learning_rate=0.01, batch_size=64,
                      seed=0, verbose=False)
    model = trainer.fit(train.subset(slice(0, 128)), val,
                        on_epoch=stop_after_two)
    assert [r["epoch"] for r in seen] == [1, 2]
    assert seen == trainer.history_ == model.history
    assert trainer.stopped_by_ == "on_epoch"
    trainer.fit(train.subset(slice(0, 128)), val)
    assert trainer.stopped_by_ == "max_epochs" and len(trainer.history_) == 5


def test_shared_coefficients_give_the_same_penalty_and_dropout():
    """l1, l2 and Lasagne's dropout probabilities become shared variables
    for training (one compiled function for every value): same numbers.
    The custom engine's Philox dropout takes its probability as an op
    parameter (one C module for every value) and is left as it is."""
    from kfkd.objective import share_dropout, shared_coefficient

    lasagne.random.set_rng(np.random.RandomState(0))
    small = dict(depth=1, width=2, dense_units=4, dropout_conv=0.25,
                 dropout_dense=0.5)
    assert share_dropout(nets.build("breeze", engine="custom", **small)) == []
    layer = nets.build("breeze", engine="stock", **small)
    l1, l2 = shared_coefficient(1e-4, "l1"), shared_coefficient(1e-3, "l2")
    assert penalty(layer, l1, shared_coefficient(0.0, "l2")).eval() == \
        pytest.approx(penalty(layer, 1e-4, 0.0).eval(), rel=1e-6)
    assert penalty(layer, l1, l2).eval() == pytest.approx(
        penalty(layer, 1e-4, 1e-3).eval(), rel=1e-6)
    shared = share_dropout(layer)
    assert [float(p.get_value()) for p in shared] == [0.25, 0.5]
    assert share_dropout(layer) == []  # already shared


# -- a short real training run --------------------------------------------------
def test_short_training_beats_the_mean_shape(trained, small_split):
    trainer, model = trained
    train, val = small_split
    mean_shape = np.nanmean(train.keypoints, axis=0)
    baseline = rmse(np.tile(mean_shape, (len(val), 1)), val.keypoints)
    history = trainer.history_
    val_rmse = [h["val_rmse_px"] for h in history]
    assert len(history) == 4
    assert min(val_rmse) < 0.95 * baseline, (val_rmse, baseline)
    assert val_rmse[-1] < val_rmse[0]
    # the returned model holds the best epoch's weights
    # (validation ran in the trainer's batches, predict in its own: the
    # same weights up to float32 summation order, hence abs=1e-4 px)
    assert rmse(model.predict(val.images), val.keypoints) == pytest.approx(
        min(val_rmse), abs=1e-4)
    assert trainer.best_epoch_ == int(np.argmin(val_rmse)) + 1
    assert [h["best"] for h in history].count(True) >= 1
    assert history[trainer.best_epoch_ - 1]["best"]
    assert [h["epoch"] for h in history] == list(range(1, 5))
    assert all(set(h) == set(HISTORY_COLUMNS) for h in history)
    np.testing.assert_allclose(
        [h["learning_rate"] for h in history],
        learning_rate_schedule("cosine", 2e-3, 2e-4, 4), rtol=1e-6)


def test_trainer_is_deterministic_for_a_seed(small_split):
    train, val = small_split
    train, val = train.subset(slice(0, 96)), val.subset(slice(0, 32))
    params = dict(depth=1, width=4, convs_per_block=1, dense_units=16)

    def run(seed):  # batch norm, dropout and augmentation all draw from seed
        trainer = Trainer(net="breeze", net_params=params, batch_size=32,
                          max_epochs=2, seed=seed, verbose=False,
                          augmenter=Augmenter(rotation=10, shift=3))
        model = trainer.fit(train, val)
        history = [{k: v for k, v in h.items() if k != "seconds"}
                   for h in trainer.history_]
        return history, lasagne.layers.get_all_param_values(model.layer)

    (h1, w1), (h2, w2), (h3, w3) = run(0), run(0), run(1)
    assert h1 == h2
    for a, b in zip(w1, w2):
        np.testing.assert_array_equal(a, b)
    assert h3 != h1
    assert any(not np.array_equal(a, c) for a, c in zip(w1, w3))


# -- save / load -----------------------------------------------------------------
def test_save_load_round_trip(trained, small_split, tmp_path):
    trainer, model = trained
    _, val = small_split
    folder = str(tmp_path / "model")
    model.save(folder, metrics=model.metrics(val))
    assert sorted(os.listdir(folder)) == ["history.csv", "metrics.json",
                                          "model.json", "model.npz"]
    loaded = load_model(folder)
    # two compiled functions of bit-identical weights (checked below):
    # equal up to float32 summation order
    np.testing.assert_allclose(loaded.predict(val.images),
                               model.predict(val.images), rtol=0, atol=1e-4)
    values = lasagne.layers.get_all_param_values(model.layer)
    with np.load(os.path.join(folder, "model.npz"), allow_pickle=False) as f:
        assert sorted(f.files) == ["param_%03d" % i
                                   for i in range(len(values))]
        for i, v in enumerate(values):
            np.testing.assert_array_equal(f["param_%03d" % i], v)
    spec = json.load(open(os.path.join(folder, "model.json")))
    assert spec["net"] == "breeze"
    assert spec["net_params"] == TINY_BREEZE
    assert spec["keypoint_columns"] == list(KAGGLE_COLUMNS)
    assert set(spec["normalisation"]) == {"input", "target"}
    assert spec["n_params"] == lasagne.layers.count_params(model.layer)
    assert spec["training"]["learning_rate"] == 2e-3
    assert spec["training"]["lr_schedule"] == "cosine"
    with open(os.path.join(folder, "history.csv")) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(trainer.history_)
    assert float(rows[0]["val_rmse_px"]) == pytest.approx(
        trainer.history_[0]["val_rmse_px"])


def test_load_model_rejects_weights_of_another_net(trained, tmp_path):
    _, model = trained
    folder = str(tmp_path / "model")
    model.save(folder)
    spec = json.load(open(os.path.join(folder, "model.json")))
    spec["net_params"]["dense_units"] = 32
    json.dump(spec, open(os.path.join(folder, "model.json"), "w"))
    with pytest.raises(ValueError, match="do not match"):
        load_model(folder)
    with pytest.raises(FileNotFoundError, match="model.json"):
        load_model(str(tmp_path / "nothing"))


# -- the kfkd command --------------------------------------------------------------
def _kfkd(*args):
    env = dict(os.environ, PYTHONPATH=REPO)
    return subprocess.run([sys.executable, "-m", "kfkd"] + list(args),
                          env=env, cwd=REPO, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def cli_data_dir(tmp_path_factory, data_dir):
    """A data folder whose training.csv is the first 310 real rows (so that
    each command reads 10 MB, not the whole 26 MB gzip)."""
    folder = tmp_path_factory.mktemp("cli_data")
    with gzip.open(find_file("training.csv", data_dir), "rb") as f:
        head = b"".join(f.readline() for _ in range(311))
    (folder / "training.csv").write_bytes(head)
    return str(folder)


@pytest.fixture(scope="module")
def cli_model(tmp_path_factory, cli_data_dir):
    """``kfkd train --net net1 --limit 300 --epochs 2`` run as a command."""
    folder = str(tmp_path_factory.mktemp("cli") / "net1")
    result = _kfkd("train", "--net", "net1", "--limit", "300", "--epochs",
                   "2", "--out", folder, "--data-dir", cli_data_dir,
                   "--quiet")
    assert result.returncode == 0, result.stderr
    return folder, result


def test_cli_train_writes_the_model_folder(cli_model):
    folder, result = cli_model
    assert sorted(os.listdir(folder)) == ["history.csv", "metrics.json",
                                          "model.json", "model.npz"]
    metrics = json.load(open(os.path.join(folder, "metrics.json")))
    assert metrics["epochs"] == 2 and metrics["seconds"] > 0
    # 20% of 300 faces: whole groups of the grouped split (the default),
    # so at least 60 faces and less than one group (<= 15 faces) more
    assert 60 <= metrics["n_faces"] < 75
    assert 0 < metrics["val_rmse_px"] < 48
    per_keypoint = metrics["per_keypoint_rmse_px"]
    assert list(per_keypoint) == [c[:-2] for c in KAGGLE_COLUMNS[::2]]
    assert all(v is None or v > 0 for v in per_keypoint.values())
    printed = json.loads(result.stdout.strip().splitlines()[-1])
    assert printed["val_rmse_px"] == metrics["val_rmse_px"]
    with open(os.path.join(folder, "history.csv")) as f:
        assert len(list(csv.DictReader(f))) == 2
    spec = json.load(open(os.path.join(folder, "model.json")))
    assert spec["net"] == "net1" and spec["training"]["max_epochs"] == 2
    assert spec["training"]["split"] == {"method": "grouped", "seed": 42,
                                         "val_fraction": 0.2, "limit": 300}


def test_cli_evaluate_prints_overall_and_per_keypoint_rmse(cli_model,
                                                           cli_data_dir):
    folder, _ = cli_model
    metrics = json.load(open(os.path.join(folder, "metrics.json")))
    # the split the model recorded: grouped, its first 300 faces
    result = _kfkd("evaluate", "--model", folder, "--data-dir", cli_data_dir)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert ("validation faces: %d (grouped split, first 300 faces)"
            % metrics["n_faces"]) in out
    assert ("RMSE (all labelled coordinates): %.4f px"
            % metrics["val_rmse_px"]) in out
    for name, value in metrics["per_keypoint_rmse_px"].items():
        expected = "%.4f px" % value if value is not None else "-"
        assert any(line.split() == [name] + expected.split()
                   for line in out.splitlines()), name


def test_cli_predict_writes_image_id_and_30_columns(cli_model, data_dir,
                                                    tmp_path):
    folder, _ = cli_model
    with gzip.open(find_file("test.csv", data_dir), "rb") as f:
        head = b"".join(f.readline() for _ in range(6))  # header + 5 faces
    small = tmp_path / "test5.csv"
    small.write_bytes(head)
    out = tmp_path / "preds.csv"
    result = _kfkd("predict", "--model", folder, "--csv", str(small),
                   "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(tmp_path)) == ["preds.csv", "test5.csv"]
    with open(out) as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["ImageId"] + list(KAGGLE_COLUMNS)
    assert len(rows) == 6
    test = load_test(str(small), verbose=False)
    assert [int(r[0]) for r in rows[1:]] == list(test.image_ids)
    values = np.array([[float(v) for v in r[1:]] for r in rows[1:]])
    np.testing.assert_allclose(values, load_model(folder).predict(test.images),
                               atol=6e-5)


# -- the heatmap net through the kfkd command ---------------------------------
@pytest.fixture(scope="module")
def cli_heatmap(tmp_path_factory, cli_data_dir):
    """``kfkd train --net heatmap`` (narrow) on the first 64 faces, 4
    epochs of 16-face batches, as a command."""
    folder = str(tmp_path_factory.mktemp("cli") / "heatmap")
    result = _kfkd("train", "--net", "heatmap", "--param", "width=4",
                   "--param", "convs=2", "--limit", "64", "--epochs", "4",
                   "--batch-size", "16", "--out", folder, "--data-dir",
                   cli_data_dir, "--quiet")
    assert result.returncode == 0, result.stderr
    return folder


def test_cli_heatmap_learns_saves_and_evaluates(cli_heatmap, cli_data_dir,
                                                capsys):
    from kfkd import cli

    folder = cli_heatmap
    with open(os.path.join(folder, "history.csv")) as f:
        history = list(csv.DictReader(f))
    losses = [float(h["train_loss"]) for h in history]
    assert len(losses) == 4 and losses[-1] < 0.8 * losses[0], losses
    spec = json.load(open(os.path.join(folder, "model.json")))
    assert (spec["net"], spec["net_params"]) == ("heatmap", {"width": 4,
                                                             "convs": 2})
    metrics = json.load(open(os.path.join(folder, "metrics.json")))
    assert 0 < metrics["val_rmse_px"] < 48
    # model.npz and model.json load into the same net (kfkd evaluate)
    argv = ["evaluate", "--model", folder, "--data-dir", cli_data_dir]
    assert cli.main(argv) == 0
    assert ("RMSE (all labelled coordinates): %.4f px"
            % metrics["val_rmse_px"]) in capsys.readouterr().out
    assert cli.main(argv + ["--tta", "flip"]) == 0
    out = capsys.readouterr().out
    assert "flip test-time augmentation" in out
    rmse_line = out.split("RMSE (all labelled coordinates): ")[1]
    assert 0 < float(rmse_line.split()[0]) < 48
