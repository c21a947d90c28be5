"""The configuration of a training run: its fields, defaults, checks and forms.

One :class:`TrainingConfig` (with a nested :class:`AugmentConfig`) describes
what :class:`kfkd.train.Trainer` does; each field, its default and its range
are written here once.  The same configuration travels in four forms, each
with a conversion to and from the object:

==================  ==========================================================
flat keys           ``{"net": "breeze", "net.depth": 4, "flip": True, ...}``:
                    what a search space draws and ``best.json``'s ``config``
                    (:meth:`TrainingConfig.from_flat`, :meth:`~.to_flat`);
                    an augmentation key switches augmentation on, the
                    strengths not given are 0 (:class:`kfkd.augment.
                    Augmenter`'s defaults)
model.json          its ``training`` section (:meth:`~.from_training`,
                    :meth:`~.to_training`)
CLI arguments       the options of ``kfkd train``, generated from the fields
                    (:func:`kfkd.options.add_options`, :meth:`~.from_args`)
a JSON file         a flat config, a ``best.json``, a model folder or its
                    model.json (:func:`read_config`, :meth:`~.write`)
==================  ==========================================================

Every field is checked when the object is made, by the converters of
:mod:`kfkd.checks` (those of the ``kfkd`` options); an error is a
:class:`kfkd.errors.UsageError` naming the key and the value.  The net's
hyperparameters (``net_params``) are checked against the net by
:func:`kfkd.nets.check_params`, at the Theano boundary, not here: this
module imports no Theano.

Examples
--------
>>> config = TrainingConfig.from_flat({"net": "net1", "net.hidden": 50,
...                                    "flip": True})
>>> config.net_params, config.augment.flip, config.augment.rotation
({'hidden': 50}, True, 0.0)
>>> TrainingConfig().augment.rotation  # kfkd train's default recipe
10.0
>>> TrainingConfig(batch_size=0)
Traceback (most recent call last):
...
kfkd.errors.UsageError: batch_size: 0 is not >= 1
"""
import dataclasses
import inspect
import json
import os

from . import checks
from .augment import Augmenter, EXPOSURE_METHODS
from .errors import UsageError
from .fileio import write_json
from .missing import STRATEGIES
from .schedules import STAGED

__all__ = ["TrainingConfig", "AugmentConfig", "TRAINER_KEYS", "AUGMENT_KEYS",
           "UPDATES", "LR_SCHEDULES", "option_fields", "read_config",
           "read_flat", "MODEL_FORMAT", "OPTION_FIELDS", "HISTORY_COLUMNS"]

#: Update rules of :class:`kfkd.train.Trainer`.
UPDATES = ("adam", "nesterov")

#: Learning-rate schedules over ``max_epochs``
#: (:func:`kfkd.schedules.learning_rate_schedule`); the first is the default.
LR_SCHEDULES = ("linear", "cosine", "cosine-time", "constant")

#: model.json's format tag (:data:`kfkd.model.FORMAT`; here, below the
#: Theano boundary, to recognise a model.json given as a config).
MODEL_FORMAT = "kfkd-model/1"

#: Columns of a training history, a model folder's history.csv (one row
#: per epoch).
HISTORY_COLUMNS = ("epoch", "train_loss", "val_loss", "val_rmse_px",
                   "learning_rate", "momentum", "seconds", "best")


def _field(default, check=None, kind=None, optional=False, flag=None,
           option_check=None, help=None, choices=None, factory=None):
    """A dataclass field with its check and its ``kfkd train`` option.

    ``check`` (a :mod:`kfkd.checks` converter) is the library's range;
    ``option_check`` a stricter one for the command line (``--epochs``
    must be >= 1, ``max_epochs=0`` is a valid warm-start-only run).
    """
    meta = {"check": check, "kind": kind, "optional": optional,
            "flag": flag, "option_check": option_check or check,
            "help": help, "choices": choices}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def _check_fields(obj):
    """Check every field of a config dataclass (UsageError naming it)."""
    for f in dataclasses.fields(obj):
        meta, value = f.metadata, getattr(obj, f.name)
        if meta.get("choices") is not None:
            if value not in meta["choices"]:
                raise UsageError("%s: %r is not one of %s" % (
                    f.name, value, ", ".join(map(str, meta["choices"]))))
        elif meta.get("kind") is not None:
            setattr(obj, f.name, checks.check_value(
                f.name, value, meta["check"], meta["kind"],
                meta["optional"]))


@dataclasses.dataclass
class AugmentConfig(object):
    """Augmentation strengths (:class:`kfkd.augment.Augmenter`).

    The defaults are ``kfkd train``'s recipe: flips, rotation up to 10
    degrees, shift up to 3 px, scale up to 5%.
    """

    flip: bool = _field(True, kind=bool, flag="--no-flip",
                        help="no horizontal flips")
    rotation: float = _field(10.0, checks.augment_range("rotation"), float,
                             flag="--rotation", help="max degrees, 0-180")
    shift: float = _field(3.0, checks.augment_range("shift"), float,
                          flag="--shift", help="max pixels, 0-48",
                          option_check=checks.augment_range(
                              "shift", checks.MAX_SHIFT))
    scale: float = _field(0.05, checks.augment_range("scale"), float,
                          flag="--scale",
                          help="max relative scale change, in [0, 1)")
    brightness: float = _field(0.0, checks.augment_range("brightness"),
                               float, flag="--brightness",
                               help="max intensity change, 0-1")
    contrast: float = _field(0.0, checks.augment_range("contrast"), float,
                             flag="--contrast",
                             help="max relative contrast change, 0-1")

    def __post_init__(self):
        _check_fields(self)

    def augmenter(self):
        """The :class:`kfkd.augment.Augmenter` of these strengths."""
        return Augmenter(**dataclasses.asdict(self))


#: Flat keys that configure the augmentation (:class:`AugmentConfig`).
AUGMENT_KEYS = tuple(f.name for f in dataclasses.fields(AugmentConfig))

#: What an augmentation key left out of a flat config is: the
#: :class:`kfkd.augment.Augmenter` default (no flip only if said so, every
#: strength 0).
_AUGMENTER_DEFAULTS = {k: p.default for k, p in inspect.signature(
    Augmenter).parameters.items() if k in AUGMENT_KEYS}


@dataclasses.dataclass
class TrainingConfig(object):
    """Everything :class:`kfkd.train.Trainer` needs to train a net.

    The defaults are ``kfkd train``'s.  Fields (see
    :class:`kfkd.train.Trainer` for their meaning): ``net``,
    ``net_params``, ``update``, ``learning_rate``, ``learning_rate_end``,
    ``lr_schedule`` (:data:`LR_SCHEDULES`),
    ``momentum``, ``momentum_end``, ``l1``, ``l2``, ``batch_size``,
    ``max_epochs``, ``max_minutes``, ``patience``, ``exposure``, ``seed``,
    ``engine`` (:data:`kfkd.nets.ENGINES`), ``missing``
    (:mod:`kfkd.missing`), ``schedule`` (:mod:`kfkd.schedules`) and
    ``augment`` (an
    :class:`AugmentConfig`, or None for none).

    Raises
    ------
    UsageError
        A field of the wrong type or out of its range (naming it).
    """

    net: str = _field("breeze", flag="--net",
                      help="net1, net2, net6, breeze, heatmap, vgglite, "
                      "leakybn (default breeze)")
    net_params: dict = _field(None, factory=dict)
    update: str = _field("adam", flag="--update", choices=UPDATES)
    learning_rate: float = _field(2e-3, checks.positive_float, float,
                                  flag="--lr")
    learning_rate_end: float = _field(None, checks.non_negative_float, float,
                                      optional=True, flag="--lr-end")
    lr_schedule: str = _field(
        "linear", flag="--lr-schedule", choices=LR_SCHEDULES,
        help="learning rate over --epochs: linear to --lr-end (constant "
        "without it; default), cosine to --lr-end (default 0), constant; "
        "cosine-time: cosine to --lr-end over the --max-minutes of wall "
        "time instead of the epochs")
    momentum: float = _field(0.9, checks.probability, float,
                             flag="--momentum")
    momentum_end: float = _field(None, checks.probability, float,
                                 optional=True, flag="--momentum-end")
    l1: float = _field(0.0, checks.non_negative_float, float, flag="--l1")
    l2: float = _field(0.0, checks.non_negative_float, float, flag="--l2")
    batch_size: int = _field(32, checks.positive_int, int,
                             flag="--batch-size")
    max_epochs: int = _field(100, checks.non_negative_int, int,
                             flag="--epochs",
                             option_check=checks.positive_int)
    max_minutes: float = _field(None, checks.positive_float, float,
                                optional=True, flag="--max-minutes")
    patience: int = _field(20, checks.non_negative_int, int,
                           flag="--patience")
    exposure: str = _field(None, flag="--exposure",
                           choices=(None,) + EXPOSURE_METHODS,
                           help="exposure correction of every image")
    seed: int = _field(0, checks.seed_int, int, flag="--seed")
    engine: str = _field("custom", flag="--engine", choices=("custom",
                                                             "stock"),
                         help="pooling and dropout layers: kfkd's C ops "
                         "(custom, default) or Lasagne's (stock)")
    missing: str = _field("masked", flag="--missing", choices=STRATEGIES,
                          help="missing keypoints of the training faces: "
                          "masked loss (default), drop incomplete faces, "
                          "ffill from the previous face (kfkd.missing)")
    schedule: str = _field(None, flag="--schedule",
                           choices=(None,) + tuple(sorted(STAGED)),
                           help="stepped stages of learning rate and batch "
                           "size instead of --lr and --batch-size "
                           "(kfkd.schedules)")
    augment: AugmentConfig = _field(None, factory=AugmentConfig)

    def __post_init__(self):
        if not isinstance(self.net, str):
            raise UsageError("net: %r is not a net name" % (self.net,))
        if not isinstance(self.net_params, dict):
            raise UsageError("net_params: %r is not an object"
                             % (self.net_params,))
        if not isinstance(self.augment, (AugmentConfig, type(None))):
            raise UsageError("augment: %r is not an augmentation config"
                             % (self.augment,))
        _check_fields(self)
        if (self.lr_schedule == "constant"
                and self.learning_rate_end is not None):
            raise UsageError("learning_rate_end: %r with lr_schedule "
                             "'constant' (leave it out, or use linear or "
                             "cosine)" % (self.learning_rate_end,))
        if self.lr_schedule == "cosine-time" and self.max_minutes is None:
            raise UsageError("lr_schedule: 'cosine-time' anneals over "
                             "max_minutes, which is not set (give "
                             "--max-minutes)")
        if self.schedule is not None and self.lr_schedule != "linear":
            raise UsageError("lr_schedule: %r with schedule %r, which sets "
                             "the learning rate itself (use one of them)"
                             % (self.lr_schedule, self.schedule))

    def replace(self, **changes):
        """A copy with ``changes`` (field names), checked."""
        return dataclasses.replace(self, **changes)

    # -- flat keys ---------------------------------------------------------
    @classmethod
    def from_flat(cls, flat):
        """From flat keys: field names, augmentation keys, ``net.<name>``.

        Keys left out take the field defaults, except that without any
        augmentation key there is no augmentation, and an augmentation key
        left out (with others given) is the Augmenter's default (0).

        Raises
        ------
        UsageError
            An unknown key, or a value out of range (naming the key).
        """
        fields, augment, net_params = {}, {}, {}
        for key, value in flat.items():
            if key.startswith("net."):
                net_params[key[4:]] = value
            elif key in TRAINER_KEYS:
                fields[key] = value
            elif key in AUGMENT_KEYS:
                augment[key] = value
            else:
                raise UsageError("unknown training setting %r" % (key,))
        augment = (AugmentConfig(**dict(_AUGMENTER_DEFAULTS, **augment))
                   if augment else None)
        return cls(net_params=net_params, augment=augment, **fields)

    def to_flat(self):
        """Flat keys: every field, the augmentation keys (if any) and
        ``net.<name>`` per net hyperparameter."""
        flat = {k: getattr(self, k) for k in TRAINER_KEYS}
        if self.augment is not None:
            flat.update(dataclasses.asdict(self.augment))
        flat.update({"net." + k: v for k, v in self.net_params.items()})
        return flat

    # -- model.json's training section ---------------------------------------
    @classmethod
    def from_training(cls, training):
        """From model.json's ``training`` (:meth:`to_training`); other keys
        (``init_model``, the augmenter's ``border`` and ``schema``) are
        not configuration and are left out."""
        return cls.from_flat(_training_flat(training))

    def to_training(self, augmenter=None):
        """model.json's ``training``: the fields, ``augment`` the
        augmenter's parameters (``augmenter``, default this config's; its
        ``schema`` as a list of columns) or None."""
        training = {k: getattr(self, k) for k in ("net", "net_params")}
        training.update({k: getattr(self, k) for k in TRAINER_KEYS[1:]})
        if augmenter is None and self.augment is not None:
            augmenter = self.augment.augmenter()
        training["augment"] = (augmenter.get_params()
                               if augmenter is not None else None)
        if training["augment"] and training["augment"]["schema"] is not None:
            training["augment"]["schema"] = list(
                training["augment"]["schema"].columns)
        return training

    # -- files ---------------------------------------------------------------
    def write(self, path):
        """Write the flat config (:meth:`to_flat`) as JSON, atomically."""
        write_json(path, self.to_flat())

    # -- command-line arguments ------------------------------------------------
    @classmethod
    def from_args(cls, args):
        """From parsed ``kfkd train`` arguments (:func:`kfkd.options.add_options`).

        With ``--config FILE``, the file's config (:func:`read_config`) with
        the options given on the command line on top (an augmentation
        option on top of a config without augmentation starts from the
        :class:`AugmentConfig` defaults); without, the options (whose
        defaults are the field defaults).
        """
        path = getattr(args, "config", None)
        given = getattr(args, "given_options", set())
        if path is None:
            base, given = cls(), set(OPTION_FIELDS) | {"net_params"}
        else:
            base = read_config(path, "--config")
        changes = {k: getattr(args, k) for k in TRAINER_KEYS if k in given}
        if "net_params" in given:
            changes["net_params"] = dict(base.net_params,
                                         **dict(args.net_params))
        augment = {k: getattr(args, k) for k in AUGMENT_KEYS if k in given}
        if args.no_augment:
            changes["augment"] = None
        elif augment:
            changes["augment"] = dataclasses.replace(
                base.augment or AugmentConfig(), **augment)
        return base.replace(**changes)


#: Flat keys that are :class:`TrainingConfig` fields (all but ``net_params``
#: and ``augment``, which have keys of their own).
TRAINER_KEYS = tuple(f.name for f in dataclasses.fields(TrainingConfig)
                     if f.name not in ("net_params", "augment"))


def option_fields():
    """The fields that have a ``kfkd train`` option, in option order."""
    return [f for f in dataclasses.fields(TrainingConfig)
            + dataclasses.fields(AugmentConfig) if f.metadata.get("flag")]


#: The fields that have a ``kfkd train`` option.
OPTION_FIELDS = tuple(f.name for f in option_fields())


def _training_flat(training):
    """The flat keys of model.json's ``training`` (those it has)."""
    flat = {k: training[k] for k in TRAINER_KEYS if k in training}
    flat.update({"net." + k: v
                 for k, v in (training.get("net_params") or {}).items()})
    augment = training.get("augment") or {}
    flat.update({k: augment[k] for k in AUGMENT_KEYS if k in augment})
    return flat


def read_flat(path, option=None, on_top=None):
    """The flat keys a config file or model folder gives (checked with the
    keys ``on_top`` set over them: e.g. a ``max_minutes`` a
    ``cosine-time`` schedule needs).

    Parameters
    ----------
    path : str
        A flat config JSON (:meth:`TrainingConfig.write`, a search space's
        draw), a ``best.json`` of a search or the figures (its ``config``),
        a single model's folder or its ``model.json`` (its ``training``).
        Not an ensemble's or a specialist model's folder: its nets were
        trained with configs of their own (give one of its sub-folders).
    option : str, optional
        Named in errors (``--config``).
    on_top : dict, optional
        Flat keys the caller will set over the file's (checked together,
        not returned).

    Returns
    -------
    dict
        Only the keys the file has (:func:`read_config` fills in the
        defaults).

    Raises
    ------
    UsageError
        No such file, not a JSON object, an unknown key or a bad value;
        an ensemble's or a specialist model's folder (naming its
        sub-folders); naming the option, the path and the key.
    """
    where = "%s %s" % (option, path) if option else path
    if os.path.isdir(path):
        _refuse_several_nets(path, where)
        path = os.path.join(path, "model.json")
    try:
        with open(path, "rb") as f:
            obj = json.loads(f.read().decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise UsageError("%s: cannot read a config: %s" % (
            where, getattr(e, "strerror", None) or e))
    if not isinstance(obj, dict):
        raise UsageError("%s: expected a JSON object" % where)
    if obj.get("format") == MODEL_FORMAT:
        flat = _training_flat(obj.get("training") or {})
    else:
        flat = obj["config"] if "config" in obj else obj
    if not isinstance(flat, dict):
        raise UsageError("%s: 'config' is not an object" % where)
    try:
        TrainingConfig.from_flat(dict(flat, **(on_top or {})))
    except UsageError as e:
        raise UsageError("%s: %s" % (where, e))
    return flat


#: The files that make a folder an ensemble's or a specialist model's
#: (:data:`kfkd.fileio.MODEL_MARKERS`), and what it is called.
_SEVERAL_NETS = (("ensemble.json", "an ensemble"),
                 ("specialists.json", "a specialist model"))


def _refuse_several_nets(folder, where):
    """UsageError if ``folder`` holds an ensemble or specialist model (and
    no model.json of its own): there is no one config to read, so the
    message names its single-net sub-folders (and their nets) to give
    instead."""
    if os.path.isfile(os.path.join(folder, "model.json")):
        return
    kind = next((k for marker, k in _SEVERAL_NETS
                 if os.path.isfile(os.path.join(folder, marker))), None)
    if kind is None:
        return
    subs = []
    for entry in sorted(os.listdir(folder)):
        spec = os.path.join(folder, entry, "model.json")
        if os.path.isfile(spec):
            try:
                with open(spec, "rb") as f:
                    net = json.loads(f.read().decode("utf-8")).get("net")
            except (OSError, UnicodeDecodeError, ValueError, AttributeError):
                net = None
            subs.append("%s%s" % (os.path.join(folder, entry),
                                  " (%s)" % net if isinstance(net, str)
                                  else ""))
    raise UsageError("%s: is %s of several nets, each trained with its own "
                     "config; give one of their folders: %s" % (
                         where, kind, ", ".join(subs) or "none found"))


def read_config(path, option=None):
    """The :class:`TrainingConfig` of a file or a model folder
    (:func:`read_flat`; the keys it lacks take their defaults).

    Raises
    ------
    UsageError
        As :func:`read_flat`.
    """
    return TrainingConfig.from_flat(read_flat(path, option))
