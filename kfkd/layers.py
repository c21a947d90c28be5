"""Layers that Lasagne 0.1 lacks, written as Lasagne layers.

Each is a small :class:`lasagne.layers.Layer` subclass with its Theano
expression in ``get_output_for``: batch normalisation, and drop-in twins of
Lasagne's ``MaxPool2DLayer`` and ``DropoutLayer`` computed by kfkd's C ops
(:mod:`kfkd.ops`), same constructors, shapes and parameters.
"""
from . import compat  # noqa: F401  (configures Theano, shims Lasagne)

import numpy as np
import theano
import theano.tensor as T
from lasagne import init, nonlinearities
from lasagne.layers import (DropoutLayer, Layer, MaxPool2DLayer,
                            NonlinearityLayer)
from lasagne.random import get_rng

from .ops.dropout import PhiloxDropout
from .ops.pool import ArgmaxPool

__all__ = ["BatchNormLayer", "batch_norm", "ArgmaxPool2DLayer",
           "PhiloxDropoutLayer"]


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
            running_mean = theano.clone(self.mean, share_inputs=False)
            running_inv_std = theano.clone(self.inv_std, share_inputs=False)
            running_mean.default_update = ((1 - self.alpha) * running_mean
                                           + self.alpha * mean)
            running_inv_std.default_update = ((1 - self.alpha)
                                              * running_inv_std
                                              + self.alpha * inv_std)
            # include the clones in the graph so their updates happen
            mean += 0 * running_mean
            inv_std += 0 * running_inv_std
        pattern = []
        k = 0
        for axis in range(input.ndim):
            if axis in self.axes:
                pattern.append("x")
            else:
                pattern.append(k)
                k += 1
        return ((input - mean.dimshuffle(pattern))
                * (self.gamma * inv_std).dimshuffle(pattern)
                + self.beta.dimshuffle(pattern))


def batch_norm(layer, **kwargs):
    """Insert a :class:`BatchNormLayer` before ``layer``'s nonlinearity.

    ``layer``'s bias is removed (the normalisation's ``beta`` replaces it)
    and its nonlinearity moved after the normalisation, as in Lasagne 0.2.

    Returns
    -------
    Layer
        The nonlinearity layer on top (or the BatchNormLayer if ``layer`` had
        none).
    """
    nonlinearity = getattr(layer, "nonlinearity", None)
    if nonlinearity is not None:
        layer.nonlinearity = nonlinearities.identity
    if getattr(layer, "b", None) is not None:
        del layer.params[layer.b]
        layer.b = None
    name = getattr(layer, "name", None)
    layer = BatchNormLayer(layer, name=name and name + "_bn", **kwargs)
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
