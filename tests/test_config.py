"""The training configuration: defaults, checks and round trips between its
forms (flat keys, model.json's training, CLI arguments, files).  Synthetic
and fast: no data, no Theano."""
import dataclasses
import json
import os

import pytest

from kfkd import cli
from kfkd.augment import Augmenter
from kfkd.config import (AUGMENT_KEYS, OPTION_FIELDS, TRAINER_KEYS,
                         AugmentConfig, TrainingConfig, read_config,
                         read_flat)
from kfkd.errors import UsageError

#: What a search space draws (kfkd/search/spaces/default.py's shape).
FLAT = {"net": "breeze", "net.depth": 4, "net.dense_units": 256,
        "update": "nesterov", "learning_rate": 0.01, "momentum": 0.95,
        "momentum_end": 0.99, "l2": 1e-4, "batch_size": 64,
        "max_minutes": 3.5, "seed": 7, "flip": False, "rotation": 12.5,
        "shift": 2.0, "scale": 0.05}

#: ``kfkd train``'s defaults before the configuration object existed.
KFKD_TRAIN_DEFAULTS = {
    "net": "breeze", "update": "adam", "learning_rate": 2e-3,
    "learning_rate_end": None, "lr_schedule": "linear", "momentum": 0.9,
    "momentum_end": None, "l1": 0.0, "l2": 0.0, "batch_size": 32,
    "max_epochs": 100,
    "max_minutes": None, "patience": 20, "exposure": None, "seed": 0, "engine": "custom",
    "missing": "masked", "schedule": None,
    "flip": True, "rotation": 10.0, "shift": 3.0, "scale": 0.05,
    "brightness": 0.0, "contrast": 0.0}


def parse(*argv):
    return cli.build_parser().parse_args(["train", "--out", "x"] + list(argv))


def test_defaults_are_kfkd_train_defaults():
    assert TrainingConfig().to_flat() == KFKD_TRAIN_DEFAULTS
    assert TrainingConfig.from_args(parse()).to_flat() == KFKD_TRAIN_DEFAULTS


def test_every_field_but_net_params_and_augment_is_a_key_and_an_option():
    fields = [f.name for f in dataclasses.fields(TrainingConfig)]
    assert set(TRAINER_KEYS) == set(fields) - {"net_params", "augment"}
    assert set(OPTION_FIELDS) == set(TRAINER_KEYS) | set(AUGMENT_KEYS)


def test_flat_round_trip():
    config = TrainingConfig.from_flat(FLAT)
    assert config.net_params == {"depth": 4, "dense_units": 256}
    flat = config.to_flat()
    assert {k: flat[k] for k in FLAT} == FLAT
    # keys not drawn take their defaults; the strengths not drawn are 0
    assert flat["patience"] == 20 and flat["brightness"] == 0.0
    assert TrainingConfig.from_flat(flat) == config


def test_flat_without_augmentation_keys_has_no_augmentation():
    config = TrainingConfig.from_flat({"net": "net1"})
    assert config.augment is None
    assert not set(AUGMENT_KEYS) & set(config.to_flat())


def test_augment_defaults_left_out_of_flat_keys_are_the_augmenters():
    config = TrainingConfig.from_flat({"flip": True})
    neutral = Augmenter().get_params()
    assert dataclasses.asdict(config.augment) == {
        k: neutral[k] for k in AUGMENT_KEYS}


def test_model_json_training_round_trip():
    config = TrainingConfig.from_flat(FLAT)
    training = config.to_training()
    assert list(training)[:2] == ["net", "net_params"]
    assert training["augment"]["border"] == "replicate"
    assert TrainingConfig.from_training(training) == config
    # as a model.json would hold it, with what is not configuration
    saved = json.loads(json.dumps(dict(training, init_model={"folder": "x"})))
    again = TrainingConfig.from_training(saved).to_training()
    assert again == training


def test_model_json_training_without_augmentation():
    training = TrainingConfig(augment=None).to_training()
    assert training["augment"] is None
    assert TrainingConfig.from_training(training).augment is None


@pytest.mark.parametrize("argv, changed", [
    (["--lr", "0.01", "--epochs", "5"],
     {"learning_rate": 0.01, "max_epochs": 5}),
    (["--no-flip", "--rotation", "4"], {"flip": False, "rotation": 4.0}),
    (["--exposure", "clahe", "--update", "nesterov"],
     {"exposure": "clahe", "update": "nesterov"}),
    (["--param", "depth=3", "--param", "dropout=0.1"],
     {"net.depth": 3, "net.dropout": 0.1}),
    (["--lr-schedule", "cosine", "--lr-end", "1e-5"],
     {"lr_schedule": "cosine", "learning_rate_end": 1e-5}),
], ids=["numbers", "augmentation", "choices", "net-params", "schedule"])
def test_argv_to_config(argv, changed):
    assert TrainingConfig.from_args(parse(*argv)).to_flat() == dict(
        KFKD_TRAIN_DEFAULTS, **changed)


def test_no_augment_option():
    config = TrainingConfig.from_args(parse("--no-augment", "--rotation", "5"))
    assert config.augment is None


def _write(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f)
    return str(path)


def test_file_to_config_flat_best_json_and_model_folder(tmp_path):
    config = TrainingConfig.from_flat(FLAT)
    flat_path = str(tmp_path / "config.json")
    config.write(flat_path)
    best = _write(tmp_path / "best.json", {"number": 3, "val_rmse_px": 2.0,
                                           "config": FLAT})
    folder = tmp_path / "model"
    folder.mkdir()
    _write(folder / "model.json", {"format": "kfkd-model/1",
                                   "training": config.to_training()})
    for path in (flat_path, best, str(folder),
                 str(folder / "model.json")):
        assert read_config(path) == config, path
    assert read_flat(best) == FLAT


def test_config_file_with_options_on_top(tmp_path):
    path = _write(tmp_path / "best.json", {"config": FLAT})
    config = TrainingConfig.from_args(parse("--config", path, "--lr", "0.02",
                                            "--param", "depth=5"))
    expected = TrainingConfig.from_flat(dict(FLAT, learning_rate=0.02,
                                             **{"net.depth": 5}))
    assert config == expected
    # an option given at its default value still overrides the file
    config = TrainingConfig.from_args(parse("--config", path,
                                            "--momentum", "0.9"))
    assert config.momentum == 0.9


@pytest.mark.parametrize("flat, names", [
    ({"batch_size": 0}, ["batch_size", "0"]),
    ({"batch_size": 2.5}, ["batch_size", "2.5"]),
    ({"learning_rate": -1}, ["learning_rate", "-1"]),
    ({"learning_rate": "fast"}, ["learning_rate", "fast"]),
    ({"momentum": 1.0}, ["momentum", "1"]),
    ({"seed": 2 ** 32}, ["seed", str(2 ** 32)]),
    ({"update": "sgd"}, ["update", "sgd"]),
    ({"lr_schedule": "step"}, ["lr_schedule", "step"]),
    ({"lr_schedule": "cosine-time"}, ["cosine-time", "max_minutes"]),
    ({"lr_schedule": "constant", "learning_rate_end": 0.1},
     ["learning_rate_end", "constant"]),
    ({"exposure": "gamma"}, ["exposure", "gamma"]),
    ({"max_minutes": 0}, ["max_minutes", "0"]),
    ({"rotation": 1e308}, ["rotation", "1e+308"]),
    ({"scale": 1.5}, ["scale", "1.5"]),
    ({"flip": "yes"}, ["flip", "yes"]),
    ({"frobnicate": 1}, ["frobnicate"]),
], ids=lambda v: "-".join(map(str, v)) if isinstance(v, list) else None)
def test_bad_value_names_the_key(flat, names):
    with pytest.raises(UsageError) as info:
        TrainingConfig.from_flat(flat)
    for name in names:
        assert name in str(info.value)


def test_library_allows_zero_epochs_the_cli_does_not():
    assert TrainingConfig(max_epochs=0).max_epochs == 0
    with pytest.raises(SystemExit):
        parse("--epochs", "0")


@pytest.mark.parametrize("content, names", [
    ("{not json", ["cannot read"]),
    ("[1, 2]", ["JSON object"]),
    ('{"config": {"batch_size": -4}}', ["batch_size", "-4"]),
    ('{"config": [1]}', ["'config' is not an object"]),
    ('{"nett": "net1"}', ["nett"]),
    ('{"momentum": 1.5}', ["momentum", "1.5"]),
    ('{"format": "kfkd-model/1", "training": {"update": "sgd"}}',
     ["update", "sgd"]),
    (None, ["cannot read"]),
], ids=["not-json", "a-list", "bad-value", "config-not-an-object",
        "unknown-key", "momentum-above-one", "model-json-bad-update",
        "missing-file"])
def test_bad_config_file_fails_in_one_line(tmp_path, kfkd_fails, content,
                                           names):
    """kfkd train --config FILE: one line naming --config, the file and the
    key, exit 2, before any data loads; nothing written."""
    path = tmp_path / "config.json"
    if content is not None:
        path.write_text(content)
    out = str(tmp_path / "out")
    kfkd_fails(["train", "--out", out, "--config", str(path)],
               names=["--config", str(path)] + names, untouched=[out])


def test_missing_config_file(tmp_path):
    with pytest.raises(UsageError, match="--config"):
        read_config(os.path.join(str(tmp_path), "absent.json"), "--config")


def test_augment_config_makes_the_augmenter():
    augmenter = AugmentConfig().augmenter()
    assert {k: augmenter.get_params()[k] for k in AUGMENT_KEYS} == {
        k: KFKD_TRAIN_DEFAULTS[k] for k in AUGMENT_KEYS}


def test_stepped_schedule_and_lr_schedule_are_not_combined():
    """``schedule`` sets the learning rate per stage: an ``lr_schedule``
    other than the default beside it is refused, naming both."""
    assert TrainingConfig(schedule="vgglite").schedule == "vgglite"
    with pytest.raises(UsageError, match="lr_schedule: 'cosine' with "
                       "schedule 'vgglite'"):
        TrainingConfig(schedule="vgglite", lr_schedule="cosine")


def test_read_flat_checks_the_keys_set_on_top(tmp_path):
    """A cosine-time config without max_minutes is refused alone and
    accepted with the budget its caller sets over it
    (``train_reference.py --config C --minutes M``)."""
    path = tmp_path / "c.json"
    path.write_text('{"lr_schedule": "cosine-time"}')
    with pytest.raises(UsageError, match="max_minutes"):
        read_flat(str(path), "--config")
    assert read_flat(str(path), "--config", on_top={"max_minutes": 5.0}) \
        == {"lr_schedule": "cosine-time"}
