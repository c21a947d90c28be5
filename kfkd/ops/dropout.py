"""Fused dropout with a counter-based Philox4x32-10 generator, in C.

:class:`PhiloxDropout` computes ``y = x * mask * scale`` in one pass, the
mask drawn from Philox4x32-10 (Salmon, Moraes, Dror & Shaw 2011, "Parallel
random numbers: as easy as 1, 2, 3", SC'11, section 4.2 and Random123's
known-answer vectors): element ``e`` of the C-ordered input is kept iff

    ``philox(counter=(e // 4 low, e // 4 high, step low, step high),
    key=(seed low, seed high))[e % 4] < round((1 - p) * 2**32)``

(32-bit words).  The mask is a pure function of ``(seed, step, e)``: the
same on every run and machine, different for every ``step``, and the
backward pass regenerates it instead of storing it, so the gradient is the
same op applied to the output gradient.  Why regenerate: the generator is
compute-only and vectorised (the rounds of 16 blocks run side by side), so
it costs no memory traffic, while a stored mask would be one more tensor of
the activation's size per dropout layer written, kept (kfkd runs Theano
with ``allow_gc=False``) and read back; ``experiments/benchmark_ops.py``
times the whole forward + backward against Lasagne's MRG dropout.

:func:`dropout_mask` computes the same mask in numpy (reference and tests).

Examples
--------
>>> import numpy as np, theano, theano.tensor as T
>>> from kfkd.ops.dropout import PhiloxDropout, dropout_mask
>>> x, step = T.matrix("x"), T.lscalar("step")
>>> f = theano.function([x, step], PhiloxDropout(0.5, seed=42)(x, step))
>>> y = f(np.ones((2, 4), "float32"), 7)
>>> bool(((y == 2) == dropout_mask((2, 4), 0.5, seed=42, step=7)).all())
True
"""
from .. import compat  # noqa: F401  (configures Theano)

import numpy as np
import theano.tensor as T
from theano.gradient import DisconnectedType
from theano.graph.basic import Apply
from theano.graph.op import COp
from theano.graph.params_type import ParamsType
from theano.scalar import float64, int64

from ._support import ALLOC

__all__ = ["PhiloxDropout", "philox4x32", "dropout_mask", "keep_threshold"]

#: Philox4x32 multipliers and Weyl key increments (Salmon et al. 2011).
PHILOX_M = (0xD2511F53, 0xCD9E8D57)
PHILOX_W = (0x9E3779B9, 0xBB67AE85)
ROUNDS = 10
_MASK32 = np.uint64(0xFFFFFFFF)

_PHILOX = r"""
#define KFKD_LANES 16  /* Philox blocks per batch: 64 elements */

/* Philox4x32-10 of the counters (c0, c1, c2, c3)[i], i < KFKD_LANES, in
   place; lanes in separate arrays so that the compiler vectorises the
   rounds (32x32->64-bit multiplies, several blocks per instruction). */
static inline void kfkd_philox_lanes(npy_uint32* c0, npy_uint32* c1,
                                     npy_uint32* c2, npy_uint32* c3,
                                     npy_uint32 k0, npy_uint32 k1)
{
    for (int r = 0; r < 10; ++r) {
        for (int i = 0; i < KFKD_LANES; ++i) {
            const npy_uint64 p0 = (npy_uint64)0xD2511F53u * c0[i];
            const npy_uint64 p1 = (npy_uint64)0xCD9E8D57u * c2[i];
            const npy_uint32 n0 = (npy_uint32)(p1 >> 32) ^ c1[i] ^ k0;
            const npy_uint32 n2 = (npy_uint32)(p0 >> 32) ^ c3[i] ^ k1;
            c0[i] = n0;  c1[i] = (npy_uint32)p1;
            c2[i] = n2;  c3[i] = (npy_uint32)p0;
        }
        k0 += 0x9E3779B9u;  k1 += 0xBB67AE85u;
    }
}

/* y[e] = x[e] * (word e % 4 of block e / 4 < thr ? scale : 0) */
template <typename T>
static void kfkd_dropout(const T* x, T* y, npy_intp n, npy_uint64 step,
                         npy_uint32 k0, npy_uint32 k1, npy_uint64 thr,
                         T scale)
{
    npy_uint32 c[4][KFKD_LANES];
    for (npy_intp b0 = 0; 4 * b0 < n; b0 += KFKD_LANES) {
        for (int i = 0; i < KFKD_LANES; ++i) {
            const npy_uint64 b = (npy_uint64)(b0 + i);
            c[0][i] = (npy_uint32)b;  c[1][i] = (npy_uint32)(b >> 32);
            c[2][i] = (npy_uint32)step;  c[3][i] = (npy_uint32)(step >> 32);
        }
        kfkd_philox_lanes(c[0], c[1], c[2], c[3], k0, k1);
        const T* xb = x + 4 * b0;
        T* yb = y + 4 * b0;
        if (4 * (b0 + KFKD_LANES) <= n) {
            for (int i = 0; i < KFKD_LANES; ++i)
                for (int l = 0; l < 4; ++l)
                    yb[4 * i + l] = xb[4 * i + l]
                                    * (c[l][i] < thr ? scale : (T)0);
        } else {
            for (npy_intp e = 0; 4 * b0 + e < n; ++e)
                yb[e] = xb[e] * (c[e % 4][e / 4] < thr ? scale : (T)0);
        }
    }
}
"""

_CODE = r"""
{
    PyArrayObject* xc = PyArray_GETCONTIGUOUS(%(x)s);
    if (!xc || kfkd_alloc(&%(y)s, PyArray_NDIM(xc), PyArray_DIMS(xc),
                          PyArray_TYPE(xc))) {
        Py_XDECREF(xc);
        %(fail)s
    }
    const npy_uint64 step = (npy_uint64)(
        (dtype_%(step)s*)PyArray_DATA(%(step)s))[0];
    kfkd_dropout((const dtype_%(x)s*)PyArray_DATA(xc),
                 (dtype_%(y)s*)PyArray_DATA(%(y)s), PyArray_SIZE(xc), step,
                 (npy_uint32)%(params)s->key0, (npy_uint32)%(params)s->key1,
                 (npy_uint64)%(params)s->threshold,
                 (dtype_%(y)s)%(params)s->scale);
    Py_DECREF(xc);
}
"""


def keep_threshold(p):
    """``round((1 - p) * 2**32)``: a 32-bit word below it keeps its element.

    Raises
    ------
    ValueError
        ``p`` outside [0, 1).
    """
    if not 0 <= p < 1:
        raise ValueError("dropout p=%r must be in [0, 1)" % (p,))
    return int(round((1.0 - p) * 2 ** 32))


def philox4x32(counter, key):
    """Philox4x32-10 in numpy (Salmon et al. 2011; reference for the C).

    Parameters
    ----------
    counter : (M, 4) array of uint32
    key : pair of uint32

    Returns
    -------
    (M, 4) ndarray of uint32
        The 4 random words of each counter.
    """
    c = np.asarray(counter, dtype=np.uint64).T.copy()
    k0, k1 = np.uint64(key[0]), np.uint64(key[1])
    m0, m1 = np.uint64(PHILOX_M[0]), np.uint64(PHILOX_M[1])
    for _ in range(ROUNDS):
        p0, p1 = m0 * c[0], m1 * c[2]
        c = np.stack([(p1 >> np.uint64(32)) ^ c[1] ^ k0, p1 & _MASK32,
                      (p0 >> np.uint64(32)) ^ c[3] ^ k1, p0 & _MASK32])
        k0 = (k0 + np.uint64(PHILOX_W[0])) & _MASK32
        k1 = (k1 + np.uint64(PHILOX_W[1])) & _MASK32
    return c.T.astype(np.uint32)


def dropout_mask(shape, p, seed, step):
    """The keep-mask :class:`PhiloxDropout` draws, computed in numpy.

    Parameters
    ----------
    shape : tuple of int
    p : float in [0, 1)
        Drop probability.
    seed, step : int in [0, 2**63)

    Returns
    -------
    ndarray of bool, ``shape``
        True where the element is kept.
    """
    n = int(np.prod(shape))
    block = np.arange((n + 3) // 4, dtype=np.uint64)
    step = np.uint64(step)
    counter = np.stack([block & _MASK32, block >> np.uint64(32),
                        np.full_like(block, step & _MASK32),
                        np.full_like(block, step >> np.uint64(32))], 1)
    seed = np.uint64(seed)
    words = philox4x32(counter, (seed & _MASK32, seed >> np.uint64(32)))
    return (words.reshape(-1)[:n] < keep_threshold(p)).reshape(shape)


class PhiloxDropout(COp):
    """Dropout ``y = x * mask * scale`` with a Philox4x32-10 mask.

    ``PhiloxDropout(p, seed, rescale=True)(x, step)`` -> ``y``.

    Parameters
    ----------
    p : float in [0, 1)
        Probability of dropping an element.
    seed : int in [0, 2**63)
        Philox key; one per layer.
    rescale : bool
        Scale kept elements by ``1 / (1 - p)`` (else by 1), as Lasagne's
        ``DropoutLayer``.

    Inputs: ``x`` float32/float64 of any shape; ``step``, an int64 scalar
    (the Philox counter's high half: advance it once per training step).
    Output: ``y``, ``x``'s shape and dtype.  The gradient with respect to
    ``x`` is this op applied to the output gradient (same mask); ``step``
    has none.  ``seed``, ``p`` and ``rescale`` are passed to the C code at
    run time, so every layer shares one compiled module per dtype.

    Raises
    ------
    ValueError
        ``p`` outside [0, 1) or ``seed`` outside [0, 2**63).
    TypeError
        ``x`` not float32/float64, or ``step`` not an int64 scalar.
    """

    __props__ = ("p", "seed", "rescale")
    params_type = ParamsType(key0=int64, key1=int64, threshold=int64,
                             scale=float64)

    def __init__(self, p, seed, rescale=True):
        self.p, self.seed, self.rescale = float(p), int(seed), bool(rescale)
        keep_threshold(self.p)
        if not 0 <= self.seed < 2 ** 63:
            raise ValueError("dropout seed=%r must be in [0, 2**63)" % seed)

    def get_params(self, node):
        return self.params_type.get_params(
            key0=self.seed & 0xFFFFFFFF, key1=self.seed >> 32,
            threshold=keep_threshold(self.p),
            scale=1.0 / (1.0 - self.p) if self.rescale else 1.0)

    def make_node(self, x, step):
        x, step = T.as_tensor_variable(x), T.as_tensor_variable(step)
        if x.dtype not in ("float32", "float64"):
            raise TypeError("PhiloxDropout needs float32 or float64, got %s"
                            % x.type)
        if step.dtype != "int64" or step.ndim != 0:
            raise TypeError("PhiloxDropout: step must be an int64 scalar, "
                            "got %s" % step.type)
        return Apply(self, [x, step], [x.type()])

    def infer_shape(self, fgraph, node, in_shapes):
        return [in_shapes[0]]

    def connection_pattern(self, node):
        return [[True], [False]]

    def L_op(self, inputs, outputs, output_grads):
        return [self(output_grads[0], inputs[1]), DisconnectedType()()]

    def perform(self, node, inputs, outputs, params=None):
        raise NotImplementedError("PhiloxDropout has only a C implementation "
                                  "(needs a C++ compiler)")

    def c_support_code(self, **kwargs):
        return [ALLOC, _PHILOX]

    def c_code(self, node, name, inputs, outputs, sub):
        return _CODE % dict(x=inputs[0], step=inputs[1], y=outputs[0], **sub)

    def c_code_cache_version(self):
        return (2,)
