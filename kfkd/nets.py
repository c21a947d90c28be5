"""Lasagne network definitions, by name.

Each builder takes its hyperparameters as keyword arguments and returns the
output layer, named ``"output"``: a :class:`lasagne.layers.DenseLayer` with
``n_outputs`` linear units (heatmap: a :class:`kfkd.layers.SoftArgmaxLayer`
of ``n_outputs / 2`` heat maps) regressing keypoints scaled to [-1, 1]
(:func:`kfkd.keypoints.to_unit`).  Inputs are ``(N, 1, 96, 96) float32 in
[0, 1]``.

========  ====================================================================
net1      Nouri (2014) net1: one hidden layer of 100 rectified units
net2      Nouri net2: 3 x (conv, max-pool), 2 dense layers of 500
net6      Nouri net6: net2 with 32/64/128 filters, dropout .1/.2/.3/.5 and
          two dense layers of 1000
breeze    a deeper, narrower CNN after the 2015 paper: ``depth`` blocks of
          ``convs_per_block`` 3x3 convolutions (width doubling per block,
          optional batch normalisation), max-pool and increasing dropout,
          then a small dense head.  Sized for a CPU (~1.3M parameters at the
          defaults against net6's 16.6M).
heatmap   fully convolutional heat-map regression: breeze's conv blocks down
          to a 12 x 12 grid, four more 3x3 convolutions there, a 1x1
          convolution to one score map per keypoint and a soft-argmax
          read-out (DSNT; 0.31M parameters, 1.6x breeze's multiply-adds)
vgglite   a capstone's VGG16-inspired net (:func:`kfkd.nets_published.
          vgglite`)
leakybn   a report's Keras net of LeakyReLU, batch-normalised convolutions
          (:func:`kfkd.nets_published.leakybn`)
========  ====================================================================

Examples
--------
>>> from kfkd import nets
>>> out = nets.build("net1")
>>> lasagne.layers.get_output_shape(out)
(None, 30)
>>> sorted(nets.NETS)
['breeze', 'heatmap', 'leakybn', 'net1', 'net2', 'net6', 'vgglite']
"""
from . import compat  # noqa: F401  (configures Theano, shims Lasagne)

import inspect
import math
import numbers

import lasagne
import numpy as np
from lasagne.layers import (Conv2DLayer, DenseLayer, GlobalPoolLayer,
                            InputLayer, Pool2DLayer)
from lasagne.nonlinearities import rectify

from .errors import UsageError
from . import nets_published
from .keypoints import FRAME
from .layers import (DEFAULT_ENGINE, ENGINES, SameConv2DLayer,
                     SoftArgmaxLayer)
from .layers import engine_layers as _engine

__all__ = ["NETS", "ENGINES", "DEFAULT_ENGINE", "register", "build",
           "default_params", "check_params", "SameConv2DLayer",
           "receptive_field", "multiply_accumulates",
           "net1", "net2", "net6", "breeze", "heatmap", "vgglite", "leakybn"]

#: name -> builder function
NETS = {}

INPUT_SHAPE = (None, 1, FRAME, FRAME)

#: Builder arguments that are not hyperparameters.
_NOT_PARAMS = ("n_outputs", "engine")


def register(builder):
    """Decorator: add ``builder`` to :data:`NETS` under its function name."""
    NETS[builder.__name__] = builder
    return builder


def default_params(name):
    """The builder's hyperparameters and their defaults, as a dict."""
    signature = inspect.signature(_builder(name))
    return {k: p.default for k, p in signature.parameters.items()
            if p.default is not inspect.Parameter.empty
            and k not in _NOT_PARAMS}


def _builder(name):
    try:
        return NETS[name]
    except (KeyError, TypeError):
        raise UsageError("unknown net %r; known: %s"
                         % (name, ", ".join(sorted(NETS))))


#: hyperparameters that must lie in [0, 1) (dropout probabilities)
_PROBABILITY_PREFIX = "dropout"


def check_params(name, params):
    """Check a net name and hyperparameters before anything is built.

    Parameters
    ----------
    name : str
        A key of :data:`NETS`.
    params : dict
        Hyperparameters of that net's builder.  Each must have the type of
        the builder's default (``int`` for ``depth``, ``bool`` for
        ``batch_norm``, a finite real number for ``dropout_conv``); integer
        sizes must be >= 1 and dropout probabilities in [0, 1).

    Returns
    -------
    dict
        ``params`` with ints given for float hyperparameters made floats.

    Raises
    ------
    UsageError
        Unknown net, unknown hyperparameter, or a value of the wrong type or
        range; the message names the net, the parameter and the value.

    Examples
    --------
    >>> check_params("breeze", {"depth": 3})
    {'depth': 3}
    >>> check_params("breeze", {"depth": "abc"})
    Traceback (most recent call last):
    ...
    kfkd.errors.UsageError: net breeze: depth='abc' must be an integer
    """
    known = default_params(name)
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise UsageError("net %s has no hyperparameter %s; it takes %s" % (
            name, ", ".join(map(repr, unknown)), ", ".join(sorted(known))))
    checked = {}
    for key, value in params.items():
        checked[key] = _check_value(name, key, value, known[key])
        low, high = _RANGES.get((name, key), (value, value))
        if not low <= checked[key] <= high:
            raise UsageError("net %s: %s=%r must be %d-%d"
                             % (name, key, value, low, high))
    return checked


#: Integer hyperparameters with an upper bound: (net, name) -> (low, high).
_RANGES = {("breeze", "depth"): (1, 6), ("heatmap", "pools"): (1, 5),
           ("leakybn", "blocks"): (1, 6)}


def _check_value(name, key, value, default):
    def bad(what):
        return UsageError("net %s: %s=%r must be %s" % (name, key, value, what))

    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise bad("true or false")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise bad("an integer")
        if value < 1:
            raise bad(">= 1")
        return int(value)
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) \
                or not math.isfinite(value):
            raise bad("a finite number")
        if key.startswith(_PROBABILITY_PREFIX) and not 0 <= value < 1:
            raise bad("in [0, 1)")
        return float(value)
    return value


def build(name, n_outputs=30, engine=DEFAULT_ENGINE, **params):
    """Build net ``name`` with hyperparameters ``params``.

    Parameters
    ----------
    name : str
        A key of :data:`NETS`.
    n_outputs : int
        Linear outputs (2 per keypoint).
    engine : str
        A key of :data:`ENGINES`: the pooling, dropout and batch-norm layers.
    **params
        The builder's hyperparameters (:func:`default_params`).

    Raises
    ------
    UsageError
        Unknown net or engine, unknown hyperparameter or a bad value
        (:func:`check_params`).
    """
    builder = _builder(name)
    params = check_params(name, params)
    return builder(n_outputs=n_outputs, engine=_engine(engine), **params)


def _head(layer, units, dropouts, n_outputs, engine, normalise=False,
          output_W=lasagne.init.GlorotUniform()):
    for k, p in enumerate(dropouts):
        layer = DenseLayer(layer, units, name="dense%d" % (k + 1))
        if normalise:
            layer = engine["batch_norm"](layer)
        if p:
            layer = engine["dropout"](layer, p)
    return DenseLayer(layer, n_outputs, W=output_W, nonlinearity=None,
                      name="output")


def _filters(width, block):
    """Filters of block ``block`` (0-based): ``width`` doubled per block, at
    most 256."""
    return min(256, width * 2 ** block)


def _conv_block(layer, filters, convs, batch_norm, engine, block):
    """``convs`` 3x3 'same' convolutions of ``filters`` ReLUs (He-normal
    weights), each batch-normalised if ``batch_norm``; named
    ``conv<block>_<c>``."""
    for c in range(convs):
        layer = SameConv2DLayer(layer, filters, 3,
                                W=lasagne.init.HeNormal(gain="relu"),
                                nonlinearity=rectify,
                                name="conv%d_%d" % (block, c + 1))
        if batch_norm:
            layer = engine["batch_norm"](layer)
    return layer


def _pooled_blocks(layer, blocks, width, convs_per_block, dropout,
                   batch_norm, engine):
    """breeze's blocks: block ``b`` (0-based) is :func:`_conv_block` of
    :func:`_filters` ``(width, b)``, a 2x2 max-pool and dropout
    ``min(0.5, dropout * (b + 1))`` (Nouri's increasing schedule)."""
    for b in range(blocks):
        layer = _conv_block(layer, _filters(width, b), convs_per_block,
                            batch_norm, engine, b + 1)
        layer = engine["pool"](layer, 2, name="pool%d" % (b + 1))
        p = min(0.5, dropout * (b + 1))
        if p:
            layer = engine["dropout"](layer, p)
    return layer


@register
def net1(n_outputs=30, hidden=100, engine=DEFAULT_ENGINE):
    """Nouri net1: 9216 inputs -> ``hidden`` rectified units -> linear output."""
    layer = InputLayer(INPUT_SHAPE, name="input")
    layer = DenseLayer(layer, hidden, name="hidden")
    return DenseLayer(layer, n_outputs, nonlinearity=None, name="output")


def _nouri_conv(n_outputs, dense_units, dropouts, engine):
    engine = _engine(engine)
    layer = InputLayer(INPUT_SHAPE, name="input")
    for k, (filters, size) in enumerate(((32, 3), (64, 2), (128, 2))):
        layer = Conv2DLayer(layer, filters, size, name="conv%d" % (k + 1))
        layer = engine["pool"](layer, 2, name="pool%d" % (k + 1))
        if dropouts[k]:
            layer = engine["dropout"](layer, dropouts[k])
    return _head(layer, dense_units, dropouts[3:], n_outputs, engine)


@register
def net2(n_outputs=30, dense_units=500, engine=DEFAULT_ENGINE):
    """Nouri net2: conv 32@3x3, 64@2x2, 128@2x2 (each max-pooled 2x2), dense."""
    return _nouri_conv(n_outputs, dense_units, (0, 0, 0, 0, 0), engine)


@register
def net6(n_outputs=30, dense_units=1000, dropout1=0.1, dropout2=0.2,
         dropout3=0.3, dropout4=0.5, engine=DEFAULT_ENGINE):
    """Nouri net6: conv 32@3x3 -> pool -> dropout .1 -> conv 64@2x2 -> pool ->
    dropout .2 -> conv 128@2x2 -> pool -> dropout .3 -> dense 1000 ->
    dropout .5 -> dense 1000 -> linear output."""
    return _nouri_conv(n_outputs, dense_units,
                       (dropout1, dropout2, dropout3, dropout4, 0), engine)


@register
def breeze(n_outputs=30, depth=4, width=16, convs_per_block=1,
           dense_units=256, dropout_conv=0.05, dropout_dense=0.3,
           batch_norm=True, global_pool=False, engine=DEFAULT_ENGINE):
    """A deeper CNN after the 2015 paper, with depth and width as parameters.

    Parameters
    ----------
    depth : int
        Conv blocks; block ``b`` (0-based) has ``width * 2**b`` filters (at
        most 256), ``convs_per_block`` 3x3 'same' convolutions, a 2x2 max-pool
        and dropout ``min(0.5, dropout_conv * (b + 1))`` (Nouri's increasing
        schedule).  96 px -> 96 / 2**depth px.
    width : int
        Filters in the first block.
    convs_per_block : int
    dense_units : int
        Units of the one hidden dense layer of the head.
    dropout_conv, dropout_dense : float in [0, 1)
    batch_norm : bool
        Batch-normalise every convolution (Ioffe & Szegedy 2015).
    global_pool : bool
        Average the last block over space before the head (fewest
        parameters) instead of flattening it.
    engine : str or dict
        Pooling, dropout and batch-norm layers (:data:`ENGINES`).
    """
    if not 1 <= depth <= 6:
        raise UsageError("net breeze: depth=%r must be 1-6" % depth)
    engine = _engine(engine)
    layer = _pooled_blocks(InputLayer(INPUT_SHAPE, name="input"), depth,
                           width, convs_per_block, dropout_conv, batch_norm,
                           engine)
    if global_pool:
        layer = GlobalPoolLayer(layer, name="gap")
    # Output weights start at 0: with the bias at the mean shape
    # (kfkd.objective.init_output_bias) the untrained net predicts the mean shape
    # instead of random offsets of tens of pixels.
    return _head(layer, dense_units, (dropout_dense,), n_outputs, engine,
                 normalise=batch_norm, output_W=lasagne.init.Constant(0.0))


@register
def heatmap(n_outputs=30, width=12, pools=3, convs=4, dropout=0.05,
            batch_norm=True, engine=DEFAULT_ENGINE):
    """Fully convolutional heat-map regression with a soft-argmax read-out.

    breeze's conv blocks without its dense head: ``pools`` blocks of one
    3x3 'same' convolution (``width * 2**b`` filters in block ``b``, ReLU,
    He-normal weights, batch norm), a 2x2 max-pool and dropout
    ``min(0.5, dropout * (b + 1))`` take the face down to a grid of
    ``96 / 2**pools`` cells (12 x 12 at the default, cells of 8 px); there
    ``convs`` more 3x3 convolutions of ``width * 2**pools`` filters (at
    most 256) widen the receptive field; a 1x1 convolution
    ``"heatmaps"`` (linear, no bias: a softmax ignores a constant) scores
    the cells for each keypoint, and :class:`kfkd.layers.SoftArgmaxLayer`
    ``"output"`` turns each score map into a spatial softmax and reads out
    its mean position (DSNT: Nibali, Zhen, Morgan & Peterson 2018,
    "Numerical coordinate regression with convolutional neural networks",
    arXiv:1801.07372; the spatial soft-argmax of Levine, Finn, Darrell &
    Abbeel 2016, JMLR 17).  The keypoints come from where features are,
    not from a dense layer's memory of positions; the loss is kfkd's
    masked MSE on the read-out coordinates (unit scale), as for every net.

    Parameters
    ----------
    n_outputs : int
        Coordinates, 2 per keypoint (one heat map each): even.
    width : int
        Filters of the first block; doubled per block.
    pools : int
        Blocks with a 2x2 max-pool, 1-5: the grid is ``96 / 2**pools``
        cells a side (3: 12 x 12; 2: 24 x 24).
    convs : int
        3x3 convolutions at the grid's resolution.
    dropout : float in [0, 1)
        Dropout after the first pool; ``dropout * (b + 1)`` after pool
        ``b`` (0-based), at most 0.5 (breeze's ``dropout_conv``).
    batch_norm : bool
        Batch-normalise every 3x3 convolution (Ioffe & Szegedy 2015).
    engine : str or dict
        Pooling, dropout and batch-norm layers (:data:`ENGINES`).

    Raises
    ------
    UsageError
        ``n_outputs`` odd, or ``pools`` outside 1-5.

    Notes
    -----
    At the defaults: 306,684 parameters and batch-norm averages (303,372
    in the 3x3 convolutions, 1,872 in the batch norms, 96 x 15 = 1,440 in
    the 1x1 convolution; breeze: 1.29M); 54.95M multiply-accumulates per
    face forward (:func:`multiply_accumulates`; breeze: 34.36M, so 1.6x);
    a receptive field of 86 px of the 96 px face for each cell's scores
    (:func:`receptive_field`: 22 px after the three blocks, +16 px per
    3x3 convolution on the 8 px grid), so a cell's features see both eyes
    or an eye and the frame's edge, and can tell the left eye from the
    right.  The 1x1 convolution starts at zero: uniform maps, so the
    untrained net predicts the frame centre (48, 48) px for every
    keypoint (no output bias to set at the mean shape:
    :func:`kfkd.objective.init_output_bias` leaves it alone); as breeze's
    zero output weights, the first updates move it and then the layers
    below.  Predictions lie within the cell centres, 4-92 px on the 12 x
    12 grid (49 of the 45,606 labelled coordinates of training.csv lie
    outside).

    Examples
    --------
    >>> out = build("heatmap")
    >>> lasagne.layers.get_output_shape(out), out.name
    ((None, 30), 'output')
    >>> lasagne.layers.get_output_shape(out.input_layer)  # the heat maps
    (None, 15, 12, 12)
    """
    if n_outputs % 2:
        raise UsageError("net heatmap: n_outputs=%r must be even (an x and "
                         "a y per keypoint)" % n_outputs)
    if not 1 <= pools <= 5:
        raise UsageError("net heatmap: pools=%r must be 1-5" % pools)
    engine = _engine(engine)
    layer = _pooled_blocks(InputLayer(INPUT_SHAPE, name="input"), pools,
                           width, 1, dropout, batch_norm, engine)
    layer = _conv_block(layer, _filters(width, pools), convs, batch_norm,
                        engine, pools + 1)
    layer = SameConv2DLayer(layer, n_outputs // 2, 1,
                            W=lasagne.init.Constant(0.0), b=None,
                            nonlinearity=None, name="heatmaps")
    return SoftArgmaxLayer(layer, name="output")


def receptive_field(layer):
    """Side of the receptive field of ``layer``'s units, in input pixels.

    Walks the net input first: a convolution or pool of size ``k`` and
    stride ``s`` widens the field by ``(k - 1) * jump`` and multiplies
    the ``jump`` (input pixels between neighbouring units) by ``s``;
    other layers act per unit.  Square filters and pools only.  The
    theoretical field: padding inside it included, the units' effective
    field is smaller.

    Returns
    -------
    size, jump : int
        Pixels.

    Examples
    --------
    >>> receptive_field(build("heatmap").input_layer)
    (86, 8)
    """
    size, jump = 1, 1
    for each in lasagne.layers.get_all_layers(layer):
        if isinstance(each, Conv2DLayer):
            k, s = each.filter_size[0], each.stride[0]
        elif isinstance(each, Pool2DLayer):
            k, s = each.pool_size[0], each.stride[0]
        else:
            continue
        size, jump = size + (k - 1) * jump, jump * s
    return size, jump


def multiply_accumulates(layer):
    """Multiply-accumulates of a forward pass of one face through
    ``layer``'s net: those of its convolutions and dense layers (batch
    norms, pools and read-outs are a few operations per value, left out).

    Examples
    --------
    >>> multiply_accumulates(build("net1"))  # 9216 x 100 + 100 x 30
    924600
    """
    total = 0
    for each in lasagne.layers.get_all_layers(layer):
        if isinstance(each, Conv2DLayer):
            total += (np.prod(each.output_shape[1:])
                      * np.prod(each.get_W_shape()[1:]))
        elif isinstance(each, DenseLayer):
            total += np.prod(each.input_shape[1:]) * each.num_units
    return int(total)


vgglite = register(nets_published.vgglite)
leakybn = register(nets_published.leakybn)
