"""Value checks shared by the ``kfkd`` options and the training configuration.

Each check is a converter ``check(text_or_value) -> value`` usable as an
argparse ``type`` (:func:`in_range`: a finite number in a range); the
training configuration (:mod:`kfkd.config`) applies the same converters to
values from a file or a search space through :func:`check_value`, so that a
range is written once whatever the source.  numpy-free, no Theano.
"""
import argparse
import math
import numbers

from .augment import RANGES
from .errors import UsageError
from .keypoints import FRAME

__all__ = ["in_range", "positive_int", "non_negative_int", "seed_int",
           "positive_float", "non_negative_float", "fraction", "probability",
           "augment_range", "MAX_SHIFT", "check_value"]


def _interval(lo, hi, lo_open, hi_open):
    """Human form of a range: '>= 1', '> 0', '[0, 1)', ..."""
    def text(bound):
        return "%d" % bound if isinstance(bound, int) else "%g" % bound

    if hi is None:
        return "%s %s" % (">" if lo_open else ">=", text(lo))
    return "%s%s, %s%s" % ("(" if lo_open else "[", text(lo), text(hi),
                           ")" if hi_open else "]")


def in_range(kind, lo, hi=None, lo_open=False, hi_open=False):
    """An argparse ``type``: a finite ``kind`` (int or float) in a range.

    Parameters
    ----------
    kind : type
        ``int`` or ``float``.
    lo, hi : number or None
        Bounds (``hi=None``: no upper bound).
    lo_open, hi_open : bool
        Exclude the bound itself.

    Returns
    -------
    callable
        ``convert(text) -> kind``; raises :class:`argparse.ArgumentTypeError`
        (argparse prefixes the option: ``argument --batch-size: ...``) for
        text that is not a number, NaN, an infinity or a value out of range.

    Examples
    --------
    >>> in_range(float, 0, 1, hi_open=True)("0.5")
    0.5
    >>> in_range(int, 1)("0")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: 0 is not >= 1
    """
    interval = _interval(lo, hi, lo_open, hi_open)

    def convert(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError("%r is not %s" % (
                text, "an integer" if kind is int else "a number"))
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError("%r is not a finite number"
                                             % text)
        below = value <= lo if lo_open else value < lo
        above = hi is not None and (value >= hi if hi_open else value > hi)
        if below or above:
            raise argparse.ArgumentTypeError("%s is not %s%s" % (
                text, "in " if hi is not None else "", interval))
        return value
    convert.__name__ = "%s %s" % (kind.__name__, interval)
    convert.kind = kind
    return convert


#: integers >= 1: sizes and counts (--batch-size, --epochs, --limit, ...)
positive_int = in_range(int, 1)
#: integers >= 0 (--patience)
non_negative_int = in_range(int, 0)
#: a numpy RandomState seed, [0, 2**32 - 1]
seed_int = in_range(int, 0, 2 ** 32 - 1)
#: finite floats > 0 (--lr, --max-minutes, --minutes-per-trial)
positive_float = in_range(float, 0, lo_open=True)
#: finite floats >= 0 (--l1, --l2, --lr-end)
non_negative_float = in_range(float, 0)
#: a share strictly between 0 and 1 (--val-fraction)
fraction = in_range(float, 0, 1, lo_open=True, hi_open=True)
#: [0, 1): momentum
probability = in_range(float, 0, 1, hi_open=True)


#: Largest ``--shift`` of ``kfkd train``, pixels: half the frame (a shift
#: beyond it moves every keypoint out of the face; the library allows it).
MAX_SHIFT = FRAME // 2


def augment_range(name, hi=None):
    """The argparse ``type`` of augmentation strength ``name``: its range in
    :data:`kfkd.augment.RANGES` (``--rotation``: degrees in [0, 180]), with
    ``hi`` as upper bound where the library sets none."""
    lo, top, hi_open = RANGES[name]
    return in_range(float, lo, hi if top is None else top, hi_open=hi_open)


def check_value(name, value, check, kind=None, optional=False):
    """``value`` (from a file or a search space) checked by an option type.

    Parameters
    ----------
    name : str
        The key or option, named in the error (``batch_size``, ``--lr``).
    value : object
    check : callable
        A converter of this module (:func:`in_range`), or None for none.
    kind : type, optional
        ``int``, ``float`` or ``bool``: the type ``value`` must have (an int
        is a float; a bool is neither); default the converter's own.
    optional : bool
        None is allowed.

    Returns
    -------
    object
        ``value``, converted by ``check``.

    Raises
    ------
    UsageError
        Naming ``name`` and ``value``.

    Examples
    --------
    >>> check_value("batch_size", 32, positive_int)
    32
    >>> check_value("batch_size", 2.5, positive_int)
    Traceback (most recent call last):
    ...
    kfkd.errors.UsageError: batch_size: 2.5 is not an integer
    """
    if value is None and optional:
        return None
    kind = kind or getattr(check, "kind", None)
    wanted = {int: numbers.Integral, float: numbers.Real, bool: bool}.get(kind)
    if wanted is not None and (not isinstance(value, wanted) or (
            kind is not bool and isinstance(value, bool))):
        raise UsageError("%s: %s is not %s" % (name, _show(value), {
            int: "an integer", float: "a number", bool: "true or false"}[
                kind]))
    if check is None:
        return value
    try:
        return check(value)
    except argparse.ArgumentTypeError as e:
        raise UsageError("%s: %s" % (name, e))


def _show(value):
    return repr(value) if isinstance(value, str) else str(value)
