"""Layers that Lasagne 0.1 lacks, written as Lasagne layers.

Each is a small :class:`lasagne.layers.Layer` subclass with its Theano
expression in ``get_output_for``: batch normalisation, and drop-in twins of
Lasagne's ``MaxPool2DLayer`` and ``DropoutLayer`` and of
:class:`BatchNormLayer` computed by kfkd's C ops (:mod:`kfkd.ops`), same
constructors, shapes and parameters; :func:`fold_batch_norm` folds batch
norms into the layer below for prediction; :class:`SoftArgmaxLayer`, the
soft-argmax read-out of heat maps.
"""
from . import compat  # noqa: F401  (configures Theano, shims Lasagne)

import collections
import copy
import functools

import numpy as np
import theano
import theano.tensor as T
from lasagne import init, nonlinearities
from lasagne.layers import (Conv2DLayer, DenseLayer, DropoutLayer,
                            InputLayer, Layer, MaxPool2DLayer, MergeLayer,
                            NonlinearityLayer, get_all_layers)
from lasagne.random import get_rng

from .errors import UsageError
from .ops.bnorm import batch_norm_train, channel_axes
from .ops.dropout import PhiloxDropout
from .ops.pool import ArgmaxPool

__all__ = ["BatchNormLayer", "batch_norm", "ArgmaxPool2DLayer",
           "PhiloxDropoutLayer", "FusedBatchNormLayer", "fold_batch_norm",
           "SameConv2DLayer", "SoftArgmaxLayer", "ENGINES", "DEFAULT_ENGINE",
           "engine_layers"]


class BatchNormLayer(Layer):
    """Batch normalisation (Ioffe & Szegedy 2015, Algorithm 1).

    .. math:: y = \\gamma \\frac{x - \\mu}{\\sqrt{\\sigma^2 + \\epsilon}} + \\beta

    In training (``deterministic=False``) :math:`\\mu, \\sigma^2` are the
    mini-batch statistics over ``axes`` and the running averages
    ``mean``/``inv_std`` move towards them by ``alpha`` per call (through
    Theano's ``default_update``, so a compiled training function updates them
    without being told); with ``deterministic=True`` the running averages are
    used.  Backported from Lasagne 0.2.

    Parameters
    ----------
    incoming : Layer or tuple
    axes : 'auto' or tuple of int
        Axes to normalise over; 'auto' is all but the second (channels).
    epsilon : float
    alpha : float
        Running-average coefficient.
    beta, gamma, mean, inv_std : initialisers
        ``beta``/``gamma`` are trainable and not regularised;
        ``mean``/``inv_std`` are neither.
    """

    def __init__(self, incoming, axes="auto", epsilon=1e-4, alpha=0.1,
                 beta=init.Constant(0), gamma=init.Constant(1),
                 mean=init.Constant(0), inv_std=init.Constant(1), **kwargs):
        super(BatchNormLayer, self).__init__(incoming, **kwargs)
        if axes == "auto":
            axes = (0,) + tuple(range(2, len(self.input_shape)))
        self.axes = tuple(axes)
        self.epsilon, self.alpha = epsilon, alpha
        shape = [size for axis, size in enumerate(self.input_shape)
                 if axis not in self.axes]
        self.beta = self.add_param(beta, shape, "beta", trainable=True,
                                   regularizable=False)
        self.gamma = self.add_param(gamma, shape, "gamma", trainable=True,
                                    regularizable=False)
        self.mean = self.add_param(mean, shape, "mean", trainable=False,
                                   regularizable=False)
        self.inv_std = self.add_param(inv_std, shape, "inv_std",
                                      trainable=False, regularizable=False)

    def get_output_for(self, input, deterministic=False, **kwargs):
        if deterministic:
            mean, inv_std = self.mean, self.inv_std
        else:
            mean = input.mean(self.axes)
            inv_std = T.inv(T.sqrt(input.var(self.axes) + self.epsilon))
            running_mean, running_inv_std = self._running_averages()
            self._track(running_mean, mean)
            self._track(running_inv_std, inv_std)
            # include the clones in the graph so their updates happen
            mean += 0 * running_mean
            inv_std += 0 * running_inv_std
        pattern = self._pattern(input.ndim)
        return ((input - mean.dimshuffle(pattern))
                * (self.gamma * inv_std).dimshuffle(pattern)
                + self.beta.dimshuffle(pattern))

    def _running_averages(self):
        """Clones of ``mean`` and ``inv_std`` to carry default updates."""
        return (theano.clone(self.mean, share_inputs=False),
                theano.clone(self.inv_std, share_inputs=False))

    def _track(self, running, batch):
        """Move ``running`` by ``alpha`` towards ``batch`` on every call."""
        running.default_update = ((1 - self.alpha) * running
                                  + self.alpha * batch)

    def _pattern(self, ndim):
        """dimshuffle pattern of a per-channel vector for an input."""
        pattern, k = [], 0
        for axis in range(ndim):
            if axis in self.axes:
                pattern.append("x")
            else:
                pattern.append(k)
                k += 1
        return pattern


def batch_norm(layer, fused=False, after_nonlinearity=False, **kwargs):
    """Insert a :class:`BatchNormLayer` before ``layer``'s nonlinearity.

    ``layer``'s bias is removed (the normalisation's ``beta`` replaces it)
    and its nonlinearity moved after the normalisation, as in Lasagne 0.2.
    With ``fused=True`` the layer is a :class:`FusedBatchNormLayer` (same
    parameters, same outputs, faster training).  With
    ``after_nonlinearity=True`` ``layer`` is left as it is and its output
    normalised (Keras nets that put ``BatchNormalization`` after the
    activation); such a norm does not fold (:func:`fold_batch_norm`).

    Returns
    -------
    Layer
        The nonlinearity layer on top (or the BatchNormLayer if ``layer`` had
        none).
    """
    normalise = FusedBatchNormLayer if fused else BatchNormLayer
    name = getattr(layer, "name", None)
    if after_nonlinearity:
        return normalise(layer, name=name and name + "_bn", **kwargs)
    nonlinearity = getattr(layer, "nonlinearity", None)
    if nonlinearity is not None:
        layer.nonlinearity = nonlinearities.identity
    if getattr(layer, "b", None) is not None:
        del layer.params[layer.b]
        layer.b = None
    layer = normalise(layer, name=name and name + "_bn", **kwargs)
    if nonlinearity is not None:
        layer = NonlinearityLayer(layer, nonlinearity,
                                  name=name and name + "_nl")
    return layer


class ArgmaxPool2DLayer(MaxPool2DLayer):
    """Lasagne's ``MaxPool2DLayer`` by :class:`kfkd.ops.pool.ArgmaxPool`.

    Same constructor, output shape and forward values as ``MaxPool2DLayer``
    (no parameters); the forward pass records each window's arg-max so the
    backward pass is a scatter (:class:`kfkd.ops.pool.ArgmaxUnpool`) instead
    of Theano's recomputing ``MaxPoolGrad``.  On tied maxima only the first
    (row-major) input gets the gradient.

    Parameters
    ----------
    incoming, pool_size, stride, pad, ignore_border, **kwargs
        As ``MaxPool2DLayer``: input ``(N, C, H, W)``, output
        ``(N, C, H', W')`` with ``H' = H // 2`` for ``pool_size=2``.

    Raises
    ------
    ValueError
        ``pad >= pool_size``, or padding with ``ignore_border=False``.

    Examples
    --------
    >>> from kfkd.layers import ArgmaxPool2DLayer
    >>> layer = ArgmaxPool2DLayer((None, 16, 96, 96), 2)
    >>> layer.output_shape
    (None, 16, 48, 48)
    """

    def __init__(self, incoming, pool_size, stride=None, pad=(0, 0),
                 ignore_border=True, **kwargs):
        super(ArgmaxPool2DLayer, self).__init__(
            incoming, pool_size, stride, pad, ignore_border, **kwargs)
        self.op = ArgmaxPool(self.pool_size, self.stride, self.pad,
                             self.ignore_border)

    def get_output_for(self, input, **kwargs):
        return self.op(input)[0]


class PhiloxDropoutLayer(DropoutLayer):
    """Lasagne's ``DropoutLayer`` by :class:`kfkd.ops.dropout.PhiloxDropout`.

    Same constructor and semantics as ``DropoutLayer`` (drop with
    probability ``p``, scale the kept inputs by ``1 / (1 - p)`` if
    ``rescale``, identity when ``deterministic``), and it draws its seed
    from ``lasagne.random.get_rng()`` exactly as ``DropoutLayer`` does, so
    the weights of a net built with either are the same.  The mask is a
    Philox4x32-10 function of (seed, step, element index): ``step`` is a
    shared ``int64`` counter (:attr:`step`) that every compiled function
    using the training output advances by one per call through its
    ``default_update``, so a trainer needs no extra updates, and the masks
    of a run repeat exactly when the seed and step do.

    Parameters
    ----------
    incoming : Layer or tuple
    p : float in [0, 1)
        A Python number (a symbolic ``p`` is not supported).
    rescale : bool

    Raises
    ------
    ValueError
        ``p`` outside [0, 1).

    Examples
    --------
    >>> from kfkd.layers import PhiloxDropoutLayer
    >>> layer = PhiloxDropoutLayer((None, 256), p=0.3)
    >>> int(layer.step.get_value())
    0
    """

    def __init__(self, incoming, p=0.5, rescale=True, **kwargs):
        Layer.__init__(self, incoming, **kwargs)
        self.p, self.rescale = p, rescale
        self.seed = int(get_rng().randint(1, 2147462579))
        self.op = PhiloxDropout(p, self.seed, rescale)
        self.step = theano.shared(np.int64(0), name="dropout_step")
        self.step.default_update = self.step + 1

    def get_output_for(self, input, deterministic=False, **kwargs):
        if deterministic or self.p == 0:
            return input
        return self.op(input, self.step)


class FusedBatchNormLayer(BatchNormLayer):
    """:class:`BatchNormLayer` computed by fused C ops in training.

    The same constructor, parameters (``beta``, ``gamma``, ``mean``,
    ``inv_std``, in that order), shapes and running-average updates as
    :class:`BatchNormLayer`, so weights files load into either and both
    predict the same.  In training (``deterministic=False``) with the
    default channel ``axes`` the statistics, the normalisation and their
    gradient are :class:`kfkd.ops.bnorm.BatchNormTrain` and
    :class:`~kfkd.ops.bnorm.BatchNormTrainGrad` (one pass for the
    statistics, a fused backward; Ioffe & Szegedy 2015); otherwise it is
    :class:`BatchNormLayer`.  At prediction time fold it into the layer
    below with :func:`fold_batch_norm`.

    Parameters
    ----------
    incoming, axes, epsilon, alpha, beta, gamma, mean, inv_std
        As :class:`BatchNormLayer`.  Input ``(N, C, ...)`` float32 or
        float64 (conv ``(N, C, H, W)`` or dense ``(N, C)``); the output has
        its shape and dtype; the parameters are ``(C,)``.

    Examples
    --------
    >>> layer = FusedBatchNormLayer(InputLayer((None, 16, 48, 48)))
    >>> [p.name for p in layer.get_params()]
    ['beta', 'gamma', 'mean', 'inv_std']
    """

    def get_output_for(self, input, deterministic=False, **kwargs):
        if deterministic or self.axes != channel_axes(input.ndim):
            return super(FusedBatchNormLayer, self).get_output_for(
                input, deterministic=deterministic, **kwargs)
        running_mean, running_inv_std = self._running_averages()
        # the clones join the graph (through beta) so their updates happen
        beta = self.beta + 0 * (running_mean + running_inv_std)
        output, mean, inv_std = batch_norm_train(input, self.gamma, beta,
                                                 self.epsilon)
        self._track(running_mean, mean)
        self._track(running_inv_std, inv_std)
        return output


#: Layers whose output channels a following batch norm can be folded into,
#: with the axis of ``W`` that indexes the output channels.
FOLDABLE = ((Conv2DLayer, 0), (DenseLayer, 1))


def fold_batch_norm(layer):
    """The inference net of ``layer`` with batch norms folded into weights.

    Every :class:`BatchNormLayer` (or :class:`FusedBatchNormLayer`) over
    the channel axes whose input is a :class:`lasagne.layers.Conv2DLayer`
    or :class:`~lasagne.layers.DenseLayer` with a linear output and no
    other consumer is removed, and that layer computes with

    .. math::

        W' = W \\, s, \\quad b' = (b - \\mu) \\, s + \\beta, \\quad
        s = \\gamma \\cdot \\mathrm{inv\\_std}

    per output channel (the running averages ``mean`` = :math:`\\mu` and
    ``inv_std``; Ioffe & Szegedy 2015, section 3.2: at inference the
    normalisation is a linear transform, which composes with the linear
    layer before it).  ``W'`` and ``b'`` are Theano expressions of the
    original shared parameters, so a compiled function stays current when
    the net trains on.  Other layers are shallow copies wired to the new
    inputs (the :class:`~lasagne.layers.InputLayer` is shared);
    ``lasagne.layers.get_all_params`` of the result lists the same
    variables in the same order.  Only ``deterministic=True`` outputs of
    the result equal those of ``layer``.

    Parameters
    ----------
    layer : lasagne.layers.Layer
        The output layer of a net.

    Returns
    -------
    lasagne.layers.Layer
        The output layer of the folded net (``layer`` itself if nothing
        folds).

    Examples
    --------
    >>> from kfkd import nets
    >>> net = nets.build("breeze", depth=2)
    >>> folded = fold_batch_norm(net)
    >>> any(isinstance(l, BatchNormLayer) for l in get_all_layers(folded))
    False
    """
    layers = get_all_layers(layer)
    consumers = collections.Counter(
        id(below) for above in layers for below in _inputs(above))
    rebuilt = {}
    for each in layers:  # inputs first
        rebuilt[id(each)] = _rebuild(each, rebuilt, consumers)
    return rebuilt[id(layer)]


def _inputs(layer):
    if isinstance(layer, MergeLayer):
        return list(layer.input_layers)
    return [] if isinstance(layer, InputLayer) else [layer.input_layer]


def _channel_axis(layer, consumers):
    """Axis of ``W`` a batch norm on ``layer`` folds into, or None."""
    for kind, axis in FOLDABLE:
        if (isinstance(layer, kind) and consumers[id(layer)] == 1
                and layer.nonlinearity in (None, nonlinearities.identity)
                and isinstance(layer.W, theano.compile.SharedVariable)):
            return axis
    return None


def _rebuild(layer, rebuilt, consumers):
    inputs = [rebuilt[id(below)] for below in _inputs(layer)]
    below = _inputs(layer)[0] if inputs else None
    if isinstance(layer, BatchNormLayer) and layer.axes == channel_axes(
            len(layer.input_shape)):
        axis = _channel_axis(below, consumers)
        if axis is not None:
            return _folded(below, layer, rebuilt[id(below)], axis)
    if all(new is old for new, old in zip(inputs, _inputs(layer))):
        return layer
    layer = copy.copy(layer)
    if isinstance(layer, MergeLayer):
        layer.input_layers = inputs
    else:
        layer.input_layer = inputs[0]
    return layer


def _folded(linear, norm, rebuilt_linear, axis):
    """Copy of ``linear`` (rewired as ``rebuilt_linear``) with ``norm`` in W, b."""
    folded = copy.copy(rebuilt_linear)
    scale = norm.gamma * norm.inv_std
    pattern = ["x"] * linear.W.ndim
    pattern[axis] = 0
    bias = -norm.mean if linear.b is None else linear.b - norm.mean
    folded.W = linear.W * scale.dimshuffle(pattern)
    folded.b = bias * scale + norm.beta
    folded.params = collections.OrderedDict(linear.params)
    folded.params.update(norm.params)
    folded.name = linear.name
    return folded


#: The layers of each engine, ``{name: {"pool": class, "dropout": class,
#: "batch_norm": function}}``: ``stock`` is Lasagne 0.1's pooling and
#: dropout (Theano's pool and MRG streams) and the Theano-expression batch
#: normalisation; ``custom`` kfkd's C ops (:mod:`kfkd.ops`: arg-max
#: pooling, Philox dropout, fused batch normalisation).  Both have the same
#: constructors, shapes and parameters, so a model's weights load into
#: either; the engine changes training speed and the dropout masks drawn,
#: not what a trained net computes.
ENGINES = {
    "stock": {"pool": MaxPool2DLayer, "dropout": DropoutLayer,
              "batch_norm": functools.partial(batch_norm, fused=False)},
    "custom": {"pool": ArgmaxPool2DLayer, "dropout": PhiloxDropoutLayer,
               "batch_norm": functools.partial(batch_norm, fused=True)},
}
#: The engine :func:`kfkd.nets.build` uses unless told.
DEFAULT_ENGINE = "custom"

def engine_layers(engine):
    """The layer classes of ``engine`` (:data:`ENGINES`); UsageError if
    unknown."""
    if isinstance(engine, dict):
        return engine
    try:
        return ENGINES[engine]
    except (KeyError, TypeError):
        raise UsageError("unknown engine %r; known: %s"
                         % (engine, ", ".join(sorted(ENGINES))))


class SameConv2DLayer(Conv2DLayer):
    """A 2D convolution with 'same' padding computed in one Theano op.

    Lasagne 0.1's ``Conv2DLayer(pad='same')`` computes a full convolution and
    crops it; this computes ``conv2d(..., border_mode='half')`` directly.
    Odd filter sizes only.
    """

    def __init__(self, incoming, num_filters, filter_size, **kwargs):
        super(SameConv2DLayer, self).__init__(incoming, num_filters,
                                              filter_size, pad="same",
                                              **kwargs)
        if any(s % 2 == 0 for s in self.filter_size):
            raise ValueError("SameConv2DLayer needs odd filter sizes")

    def get_output_for(self, input, input_shape=None, **kwargs):
        conved = T.nnet.conv2d(input, self.W, input_shape=self.input_shape,
                               filter_shape=self.get_W_shape(),
                               border_mode="half", subsample=self.stride)
        if self.b is not None:
            conved = conved + self.b.dimshuffle("x", 0, "x", "x")
        return self.nonlinearity(conved)


# the read-out of heat maps lives in its own module; kfkd.layers keeps the name
from .readout import SoftArgmaxLayer  # noqa: E402
