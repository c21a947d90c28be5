"""Microbenchmark: forward + backward of each custom op against the stock op.

For every ``MaxPool2DLayer``, ``DropoutLayer`` and ``BatchNormLayer`` of a
net (as :func:`kfkd.nets.build` makes it, batch ``batch``), compiles
``x -> (sum(layer(x) * w), its gradient)`` once with the stock Lasagne
layer and once with its :mod:`kfkd.layers` twin and times the calls.
Speed is printed, never asserted (``experiments/benchmark_ops.py`` is the
command).

Examples
--------
>>> from kfkd.ops.speed import op_layers
>>> [kind for kind, shape, kwargs in op_layers("net2", batch=4)]
['pool', 'pool', 'pool']
"""
from .. import compat  # noqa: F401  (configures Theano)

import time

import lasagne
import numpy as np
import theano
import theano.tensor as T
from lasagne.layers import DropoutLayer, MaxPool2DLayer

from .. import nets
from ..layers import (ArgmaxPool2DLayer, BatchNormLayer, FusedBatchNormLayer,
                      PhiloxDropoutLayer)

__all__ = ["op_layers", "time_layer", "compare"]

#: kind -> (stock layer class, custom layer class)
PAIRS = {"pool": (MaxPool2DLayer, ArgmaxPool2DLayer),
         "dropout": (DropoutLayer, PhiloxDropoutLayer),
         "bnorm": (BatchNormLayer, FusedBatchNormLayer)}


def op_layers(net, batch=128, **params):
    """The max-pool, dropout and batch-norm layers of ``net``, in order.

    Returns
    -------
    list of (kind, shape, kwargs)
        ``kind`` 'pool', 'dropout' or 'bnorm', the layer's input
        ``shape`` with the batch axis set to ``batch``, and the constructor
        arguments that rebuild it.
    """
    found = []
    for layer in lasagne.layers.get_all_layers(nets.build(net, **params)):
        shape = (batch,) + tuple(layer.input_shape[1:]) if hasattr(
            layer, "input_shape") else None
        if isinstance(layer, MaxPool2DLayer):  # stock or custom twin
            found.append(("pool", shape, dict(
                pool_size=layer.pool_size, stride=layer.stride,
                pad=layer.pad, ignore_border=layer.ignore_border)))
        elif isinstance(layer, DropoutLayer):
            found.append(("dropout", shape, dict(p=layer.p)))
        elif isinstance(layer, BatchNormLayer):  # stock or fused
            found.append(("bnorm", shape, dict(
                axes=layer.axes, epsilon=layer.epsilon, alpha=layer.alpha)))
    return found


def time_layer(cls, shape, kwargs, repeat=10, seed=0):
    """Seconds per call (best wall, mean CPU) of forward + backward.

    Parameters
    ----------
    cls : Layer class
        Built as ``cls(shape, **kwargs)`` and used with
        ``deterministic=False``.
    shape : tuple of int
        Input shape, float32 (``floatX``) normal noise.
    repeat : int
        Timed calls after one warm-up call.
    """
    layer = cls(shape, **kwargs)
    x = T.TensorType(theano.config.floatX, (False,) * len(shape))("x")
    rng = np.random.RandomState(seed)
    w = theano.shared(rng.randn(*layer.output_shape).astype(x.dtype))
    cost = (layer.get_output_for(x, deterministic=False) * w).sum()
    # the cost makes the forward pass run; borrow: the gradient's buffer is
    # reused between calls, as an intermediate of a training function is
    fn = theano.function([x], [cost, theano.Out(T.grad(cost, x),
                                                borrow=True)])
    xv = rng.randn(*shape).astype(x.dtype)
    fn(xv)
    walls, cpu0 = [], time.process_time()
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(xv)
        walls.append(time.perf_counter() - t0)
    return min(walls), (time.process_time() - cpu0) / repeat


def _row(net, kind, what, stock, custom):
    """One printed line: wall and CPU milliseconds and their ratios."""
    return "%-7s %-8s %-16s" % (net, kind, what) + "".join(
        " %8.1f %8.1f %6.1fx" % (1e3 * s, 1e3 * c, s / c)
        for s, c in zip(stock, custom))


def compare(net_names=("breeze", "net6"), batch=128, repeat=10, out=print):
    """Print stock vs custom forward + backward times per layer and per net.

    Both the best wall time and the mean CPU time per call (the CPU time is
    the steadier figure on a shared machine).

    Returns
    -------
    dict
        ``(net, kind) -> (stock, custom)``, each ``(wall, cpu)`` seconds per
        training step summed over the net's layers of that kind.
    """
    totals = {}
    out("%-7s %-8s %-16s" % ("net", "op", "input") + " %8s %8s %7s" % (
        "stock", "custom", "wall") + " %8s %8s %7s" % ("stock", "custom",
                                                       "CPU"))
    for net in net_names:
        for kind, shape, kwargs in op_layers(net, batch):
            stock, custom = (np.array(time_layer(cls, shape, kwargs, repeat))
                             for cls in PAIRS[kind])
            out(_row(net, kind, "x".join(map(str, shape)), stock, custom))
            zero = (np.zeros(2), np.zeros(2))
            before = totals.get((net, kind), zero)
            totals[net, kind] = (before[0] + stock, before[1] + custom)
    for (net, kind), (stock, custom) in sorted(totals.items()):
        out(_row(net, kind, "all layers", stock, custom))
    return totals
