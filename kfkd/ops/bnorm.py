"""Fused batch normalisation for the CPU: two Theano C ops.

Training-mode batch normalisation (Ioffe & Szegedy 2015, Algorithm 1) over
every axis but the second (channels) of an ``(N, C, ...)`` tensor:

.. math::

    \\mu_c = \\frac{1}{M} \\sum x, \\quad
    \\sigma^2_c = \\frac{1}{M} \\sum (x - \\mu_c)^2, \\quad
    y = \\gamma_c \\frac{x - \\mu_c}{\\sqrt{\\sigma^2_c + \\epsilon}}
        + \\beta_c

with ``M = N * prod(shape[2:])`` (the biased variance, as Lasagne's
``BatchNormLayer`` and :class:`kfkd.layers.BatchNormLayer` use).

:class:`BatchNormTrain` reads each channel once to get both statistics
(shifted sums of ``x`` and ``x**2`` accumulated in float64 registers; the
tensor is never copied to float64) and once more to write ``y``.
:class:`BatchNormTrainGrad` is the backward pass of the paper's section 3
in two reads of ``x`` and ``dy`` per channel:

.. math::

    \\frac{\\partial L}{\\partial \\beta_c} = \\sum dy, \\quad
    \\frac{\\partial L}{\\partial \\gamma_c} = \\sum dy\\,\\hat x, \\quad
    \\frac{\\partial L}{\\partial x} = \\frac{\\gamma_c}{\\sqrt{\\sigma^2_c
    + \\epsilon}} \\Big(dy - \\frac{1}{M}\\sum dy
    - \\hat x\\,\\frac{1}{M} \\sum dy\\,\\hat x\\Big)

Channels are split between OpenMP threads when Theano compiles with
OpenMP (``THEANO_FLAGS=openmp=True``; :mod:`kfkd.compat`); the C code
compiles without it too.  float32 and float64.

Examples
--------
>>> import numpy as np, theano, theano.tensor as T
>>> x = T.tensor4()
>>> y, mean, inv_std = batch_norm_train(x, T.ones(3), T.zeros(3), 1e-4)
>>> f = theano.function([x], [y, mean])
>>> out, mu = f(np.arange(24, dtype="float32").reshape(2, 3, 2, 2))
>>> np.round(mu, 1)
array([ 7.5, 11.5, 15.5], dtype=float32)
"""
from .. import compat  # noqa: F401  (configures Theano)

import numpy as np
import theano.tensor as T
from theano.gradient import DisconnectedType, disconnected_type
from theano.graph.basic import Apply
from theano.graph.op import OpenMPOp

from ._support import ALLOC

__all__ = ["BatchNormTrain", "BatchNormTrainGrad", "batch_norm_train",
           "channel_axes"]

#: C++ shared by both ops (identical text, so Theano includes it once;
#: ``kfkd_alloc`` comes from :data:`kfkd.ops._support.ALLOC`).
SUPPORT_CODE = r"""
#include <math.h>

/* (N, C, S) view of an (N, C, ...) array; 0, or -1 with an exception. */
static int kfkd_bn_dims(PyArrayObject* x, npy_intp* N, npy_intp* C,
                        npy_intp* S, PyArrayObject* per_channel)
{
    *N = PyArray_DIMS(x)[0];
    *C = PyArray_DIMS(x)[1];
    *S = 1;
    for (int i = 2; i < PyArray_NDIM(x); ++i) *S *= PyArray_DIMS(x)[i];
    if (per_channel && PyArray_DIMS(per_channel)[0] != *C) {
        PyErr_Format(PyExc_ValueError, "batch norm: %ld channels but a "
                     "per-channel parameter of %ld", (long)*C,
                     (long)PyArray_DIMS(per_channel)[0]);
        return -1;
    }
    return 0;
}

/* 0 if b has a's shape, else -1 with an exception. */
static int kfkd_bn_same(PyArrayObject* a, PyArrayObject* b)
{
    if (PyArray_SAMESHAPE(a, b)) return 0;
    PyErr_SetString(PyExc_ValueError, "batch norm gradient: dy and x "
                    "differ in shape");
    return -1;
}

/* Sums of (a - shift) and (a - shift) * (b - shift2) over n values, in
   four independent float64 chains so that the adds pipeline. */
template <typename T>
static void kfkd_bn_sums(const T* a, const T* b, npy_intp n, double shift,
                         double shift2, double* sum, double* sumprod)
{
    double s[4] = {0, 0, 0, 0}, p[4] = {0, 0, 0, 0};
    npy_intp i = 0;
    for (; i + 4 <= n; i += 4) {
        for (int k = 0; k < 4; ++k) {
            const double u = (double)a[i + k] - shift;
            s[k] += u;
            p[k] += u * ((double)b[i + k] - shift2);
        }
    }
    for (; i < n; ++i) {
        const double u = (double)a[i] - shift;
        s[0] += u;
        p[0] += u * ((double)b[i] - shift2);
    }
    *sum += (s[0] + s[1]) + (s[2] + s[3]);
    *sumprod += (p[0] + p[1]) + (p[2] + p[3]);
}

template <typename T>
static void kfkd_bn_forward(const T* x, const T* gamma, const T* beta,
                            T* y, T* mean, T* inv_std, npy_intp N,
                            npy_intp C, npy_intp S, double eps)
{
    const double M = (double)N * (double)S;
    #ifdef _OPENMP
    #pragma omp parallel for schedule(static)
    #endif
    for (npy_intp c = 0; c < C; ++c) {
        const double shift = M > 0 ? (double)x[c * S] : 0.0;
        double sum = 0, sumsq = 0;
        for (npy_intp n = 0; n < N; ++n) {
            const T* row = x + (n * C + c) * S;
            kfkd_bn_sums(row, row, S, shift, shift, &sum, &sumsq);
        }
        const double d = sum / M;
        const double var = sumsq / M - d * d;
        const double istd = 1.0 / sqrt((var > 0 ? var : 0.0) + eps);
        const double mu = shift + d;
        mean[c] = (T)mu;
        inv_std[c] = (T)istd;
        const T scale = (T)((double)gamma[c] * istd);
        const T offset = (T)((double)beta[c] - mu * (double)gamma[c] * istd);
        for (npy_intp n = 0; n < N; ++n) {
            const T* row = x + (n * C + c) * S;
            T* out = y + (n * C + c) * S;
            for (npy_intp s = 0; s < S; ++s) out[s] = row[s] * scale + offset;
        }
    }
}

template <typename T>
static void kfkd_bn_backward(const T* x, const T* dy, const T* gamma,
                             const T* mean, const T* inv_std, T* dx,
                             T* dgamma, T* dbeta, npy_intp N, npy_intp C,
                             npy_intp S)
{
    const double M = (double)N * (double)S;
    #ifdef _OPENMP
    #pragma omp parallel for schedule(static)
    #endif
    for (npy_intp c = 0; c < C; ++c) {
        double sdy = 0, sdyx = 0;  /* sum dy, sum dy * (x - mean) */
        for (npy_intp n = 0; n < N; ++n) {
            const npy_intp at = (n * C + c) * S;
            kfkd_bn_sums(dy + at, x + at, S, 0.0, (double)mean[c],
                         &sdy, &sdyx);
        }
        const double istd = inv_std[c];
        dbeta[c] = (T)sdy;
        dgamma[c] = (T)(sdyx * istd);
        const T k = (T)((double)gamma[c] * istd);
        const T a = (T)(sdy / M);
        const T b = (T)(istd * istd * sdyx / M);
        const T mu = mean[c];
        for (npy_intp n = 0; n < N; ++n) {
            const npy_intp at = (n * C + c) * S;
            for (npy_intp s = 0; s < S; ++s)
                dx[at + s] = k * (dy[at + s] - a - (x[at + s] - mu) * b);
        }
    }
}
"""


def channel_axes(ndim):
    """The axes batch normalisation reduces over: all but 1 (channels)."""
    return (0,) + tuple(range(2, ndim))


def _per_channel(ndim):
    """dimshuffle pattern broadcasting a ``(C,)`` vector to ``ndim`` axes."""
    return ["x", 0] + ["x"] * (ndim - 2)


class _BatchNormOp(OpenMPOp):
    """What both ops share: C support code, version, input checks."""

    def c_support_code(self, **kwargs):
        return [ALLOC, SUPPORT_CODE]

    def c_code_cache_version(self):
        return (3, int(bool(self.openmp)))

    @staticmethod
    def _c_call(node, kernel, inputs, outputs, fail, extra=""):
        """C calling ``kernel<dtype>(inputs..., outputs..., N, C, S extra)``
        on C-contiguous inputs: ``(C,)`` inputs and ``inputs[0]``'s
        channels must agree, other inputs have its shape; ``outputs[0]``
        has its shape, the others are ``(C,)``."""
        copies = ["c%d" % k for k in range(len(inputs))]
        checks = ["kfkd_bn_dims(c0, &N, &C, &S, %s)" % c
                  if var.ndim == 1 else "kfkd_bn_same(c0, %s)" % c
                  for c, var in zip(copies[1:], node.inputs[1:])]
        checks += ["kfkd_alloc(&%s, PyArray_NDIM(c0), PyArray_DIMS(c0), "
                   "type)" % outputs[0]]
        checks += ["kfkd_alloc(&%s, 1, &C, type)" % out
                   for out in outputs[1:]]
        dtype = "dtype_%s" % inputs[0]
        return """{
        %(get)s
        npy_intp N, C, S;
        int type = PyArray_TYPE(c0), failed = %(checks)s;
        if (!failed)
            %(kernel)s<%(dtype)s>(%(args)s, N, C, S%(extra)s);
        %(release)s
        if (failed) %(fail)s
        }""" % dict(
            get="\n".join("PyArrayObject* %s = PyArray_GETCONTIGUOUS(%s);"
                          % pair for pair in zip(copies, inputs)),
            checks="\n || ".join(
                ["kfkd_bn_dims(c0, &N, &C, &S, NULL)"] + checks),
            args=", ".join("(%s*)PyArray_DATA(%s)" % (dtype, v)
                           for v in copies + list(outputs)),
            release=" ".join("Py_DECREF(%s);" % c for c in copies),
            kernel=kernel, dtype=dtype, extra=extra, fail=fail)

    @staticmethod
    def _tensor(x, dtype=None, what="input"):
        x = T.as_tensor_variable(x)
        if dtype is not None:
            return T.cast(x, dtype) if x.dtype != dtype else x
        if x.dtype not in ("float32", "float64") or x.ndim < 2:
            raise TypeError("batch norm: %s must be a float32 or float64 "
                            "tensor of 2 or more dimensions (N, C, ...), "
                            "got %s" % (what, x.type))
        return x


class BatchNormTrain(_BatchNormOp):
    """Training-mode batch normalisation in one C op.

    Inputs ``x (N, C, ...)`` float32 or float64, ``gamma (C,)``,
    ``beta (C,)`` (cast to ``x``'s dtype); outputs ``y`` (``x``'s shape),
    the batch ``mean (C,)`` and ``inv_std (C,) = 1 / sqrt(var + epsilon)``.
    Its gradient is :class:`BatchNormTrainGrad` (plus, when ``mean`` or
    ``inv_std`` themselves feed the cost, their exact derivatives).

    Parameters
    ----------
    epsilon : float
        Added to the variance (Ioffe & Szegedy 2015, Algorithm 1).
    """

    __props__ = ("epsilon",)

    def __init__(self, epsilon=1e-4, openmp=None):
        super().__init__(openmp=openmp)
        self.epsilon = float(epsilon)

    def make_node(self, x, gamma, beta):
        x = self._tensor(x)
        gamma, beta = (self._tensor(v, x.dtype) for v in (gamma, beta))
        vector = T.TensorType(x.dtype, (False,))
        return Apply(self, [x, gamma, beta],
                     [x.type(), vector(), vector()])

    def infer_shape(self, fgraph, node, shapes):
        return [shapes[0], shapes[1], shapes[1]]

    def connection_pattern(self, node):
        return [[True, True, True], [True, False, False],
                [True, False, False]]

    def perform(self, node, inputs, outputs):
        x, gamma, beta = inputs
        axes, pattern = channel_axes(x.ndim), (1, -1) + (1,) * (x.ndim - 2)
        mean = x.mean(axes, dtype=np.float64)
        inv_std = 1 / np.sqrt(x.var(axes, dtype=np.float64) + self.epsilon)
        scale = (gamma * inv_std).reshape(pattern)
        y = (x - mean.reshape(pattern)) * scale + beta.reshape(pattern)
        for out, value in zip(outputs, (y, mean, inv_std)):
            out[0] = value.astype(x.dtype)

    def c_code(self, node, name, inputs, outputs, sub):
        return self._c_call(node, "kfkd_bn_forward", inputs, outputs,
                            sub["fail"], ", %r" % self.epsilon)

    def grad(self, inputs, output_grads):
        x, gamma, beta = inputs
        _, mean, inv_std = self(x, gamma, beta)
        gy, g_mean, g_inv_std = output_grads
        if isinstance(gy.type, DisconnectedType):  # only mean/inv_std used
            dx = T.zeros_like(x)
            dgamma = dbeta = disconnected_type()
        else:
            dx, dgamma, dbeta = BatchNormTrainGrad(openmp=self.openmp)(
                x, gy, gamma, mean, inv_std)
        pattern = _per_channel(x.ndim)
        size = T.prod([x.shape[a] for a in channel_axes(x.ndim)]).astype(
            x.dtype)
        if not isinstance(g_mean.type, DisconnectedType):
            dx += g_mean.dimshuffle(pattern) / size
        if not isinstance(g_inv_std.type, DisconnectedType):
            # d inv_std / dx = -inv_std**3 (x - mean) / M
            dx -= ((g_inv_std * inv_std ** 3).dimshuffle(pattern)
                   * (x - mean.dimshuffle(pattern)) / size)
        return [dx, dgamma, dbeta]


class BatchNormTrainGrad(_BatchNormOp):
    """Backward pass of :class:`BatchNormTrain` in one C op.

    Inputs ``x (N, C, ...)``, ``dy`` (its shape), ``gamma``, the forward
    pass's ``mean`` and ``inv_std`` (``(C,)``); outputs ``dx``,
    ``dgamma (C,)``, ``dbeta (C,)`` (Ioffe & Szegedy 2015, section 3).
    Not differentiable itself.
    """

    __props__ = ()

    def make_node(self, x, dy, gamma, mean, inv_std):
        x = self._tensor(x)
        dy = self._tensor(dy, x.dtype)
        rest = [self._tensor(v, x.dtype) for v in (gamma, mean, inv_std)]
        return Apply(self, [x, dy] + rest,
                     [x.type(), rest[0].type(), rest[0].type()])

    def infer_shape(self, fgraph, node, shapes):
        return [shapes[0], shapes[2], shapes[2]]

    def perform(self, node, inputs, outputs):
        x, dy, gamma, mean, inv_std = inputs
        axes, pattern = channel_axes(x.ndim), (1, -1) + (1,) * (x.ndim - 2)
        xhat = (x - mean.reshape(pattern)) * inv_std.reshape(pattern)
        dbeta = dy.sum(axes, dtype=np.float64)
        dgamma = (dy * xhat).sum(axes, dtype=np.float64)
        size = x.size // x.shape[1]
        dx = (gamma * inv_std).reshape(pattern) * (
            dy - (dbeta.reshape(pattern) + xhat * dgamma.reshape(pattern))
            / size)
        for out, value in zip(outputs, (dx, dgamma, dbeta)):
            out[0] = value.astype(x.dtype)

    def c_code(self, node, name, inputs, outputs, sub):
        return self._c_call(node, "kfkd_bn_backward", inputs, outputs,
                            sub["fail"])


def batch_norm_train(x, gamma, beta, epsilon=1e-4):
    """Training-mode batch normalisation of ``x`` over :func:`channel_axes`.

    Parameters
    ----------
    x : Theano tensor ``(N, C, ...)`` float32 or float64
    gamma, beta : Theano vectors ``(C,)``
        Scale and shift (cast to ``x``'s dtype).
    epsilon : float

    Returns
    -------
    y, mean, inv_std : Theano tensors
        ``y`` has ``x``'s shape; ``mean`` and ``inv_std`` are ``(C,)``.

    Raises
    ------
    TypeError
        ``x`` is not a float32/float64 tensor of >= 2 dimensions.
    """
    return BatchNormTrain(epsilon)(x, gamma, beta)
