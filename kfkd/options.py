"""``kfkd train``'s command-line options, one per configuration field.

The options are made from :class:`kfkd.config.TrainingConfig`'s and
:class:`kfkd.config.AugmentConfig`'s fields (their ``flag``, check and
help), so that a field added there is an option here with nothing else to
write; :meth:`kfkd.config.TrainingConfig.from_args` reads them back.  The
data options of every command that takes the validation split
(:func:`add_split_options`) live here too.
"""
import argparse

from . import checks
from .config import AUGMENT_KEYS, TrainingConfig, option_fields
from .splits import DEFAULT_SPLIT, SPLITS

__all__ = ["net_param", "add_split_options", "add_train_arguments",
           "add_options"]


class _Given(argparse.Action):
    """Stores an option's value (``const`` for a flag, appended for
    ``--param``) and records it in ``given_options``, so that
    :meth:`TrainingConfig.from_args` puts only the options given on top of
    a ``--config`` file."""

    def __call__(self, parser, namespace, values, option_string=None):
        if self.nargs == 0:
            values = self.const
        elif isinstance(self.default, list):
            values = getattr(namespace, self.dest) + [values]
        setattr(namespace, self.dest, values)
        namespace.given_options = (set(getattr(namespace, "given_options",
                                               ())) | {self.dest})


def _value(text):
    """'5' -> 5, '0.1' -> 0.1, 'true' -> True, 'none' -> None, else the text."""
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def net_param(text):
    """The argparse ``type`` of ``--param NAME=VALUE``: ``(name, value)``."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError("expected NAME=VALUE, got %r" % text)
    return key, _value(value)


def add_split_options(parser, split_default=DEFAULT_SPLIT):
    """Add the data options of a command that loads the validation split:
    ``--data-dir``, ``--split``, ``--val-fraction``, ``--limit``.

    ``split_default`` is said in ``--split``'s help; the option's value is
    None unless given (``kfkd evaluate`` then takes the model's own split,
    :func:`kfkd.splits.recorded_split`; the others
    :data:`kfkd.splits.DEFAULT_SPLIT`)."""
    parser.add_argument("--data-dir", help="folder with training.csv(.gz) "
                        "etc. (default: $KFKD_DATA_DIR)")
    parser.add_argument("--split", choices=SPLITS,
                        help="validation faces: whole groups of likely the "
                        "same person, or random rows (default: %s)"
                        % split_default)
    parser.add_argument("--val-fraction", type=checks.fraction, default=None,
                        help="validation share of training.csv (default "
                        "0.2)")
    parser.add_argument("--limit", type=checks.positive_int,
                        help="use only the first N faces")


def add_train_arguments(parser):
    """Add every argument of ``kfkd train`` to ``parser``: the output
    folder, the data split (:func:`add_split_options`) and the training
    options (:func:`add_options`).  The command and the report's training
    runs (:mod:`kfkd.report.runs`) parse with it, so that a figure's run is
    exactly a ``kfkd train`` command."""
    parser.add_argument("--out", required=True, help="model folder to write")
    parser.add_argument("--overwrite", action="store_true", help="replace "
                        "the model (or anything else) already in --out")
    parser.add_argument("--resume", action="store_true", help="go on with "
                        "the interrupted run in --out (its resume.npz, "
                        "same settings) where it stopped, or extend a run "
                        "its --max-minutes stopped (a larger "
                        "--max-minutes); start it if --out holds none")
    add_split_options(parser)
    add_options(parser)
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bar")


def add_options(parser):
    """Add ``kfkd train``'s training options to ``parser``, one per field
    (its dest is the field's name: ``--epochs`` -> ``max_epochs``).

    Parameters
    ----------
    parser : argparse.ArgumentParser
    """
    parser.set_defaults(given_options=set())
    parser.add_argument("--config", metavar="FILE", help="a flat config "
                        "JSON, a search's best.json, a model folder or its "
                        "model.json; the options given override its values")
    defaults = TrainingConfig()
    for f in option_fields():
        meta = f.metadata
        owner = defaults.augment if f.name in AUGMENT_KEYS else defaults
        default = getattr(owner, f.name)
        if f.type is bool or f.type == "bool":  # --no-flip
            parser.add_argument(meta["flag"], dest=f.name, action=_Given,
                                nargs=0, const=not default, default=default,
                                help=meta["help"])
            continue
        choices = meta["choices"] and [c for c in meta["choices"] if c]
        parser.add_argument(
            meta["flag"], dest=f.name, action=_Given, default=default,
            type=meta["option_check"], choices=choices,
            help=meta["help"] or _default_help(default))
    parser.add_argument("--no-augment", dest="no_augment", action=_Given,
                        nargs=0, const=True, default=False,
                        help="no augmentation at all")
    parser.add_argument("--param", dest="net_params", type=net_param,
                        action=_Given, default=[], metavar="NAME=VALUE",
                        help="net hyperparameter, e.g. --param depth=5")


def _default_help(default):
    return "default %s" % ("none" if default is None else default)
