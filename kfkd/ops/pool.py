"""Max-pooling that records its arg-max, and its scatter gradient, in C.

Theano's stock ``MaxPoolGrad`` recomputes each window's maximum in the
backward pass and compares every input with it.  :class:`ArgmaxPool` writes,
beside each pooled value, the position of the input it came from (an
``int32`` index ``row * W + col`` inside its ``(H, W)`` plane), so that the
gradient, :class:`ArgmaxUnpool`, is one scatter-add of the output gradient.

Semantics are those of ``theano.tensor.signal.pool.pool_2d(mode='max')``
(which ``lasagne.layers.MaxPool2DLayer`` calls): window ``ws``, ``stride``,
``pad`` (padding never wins: only real inputs are compared) and
``ignore_border``.  On ties the first maximum in row-major order gets the
gradient, where the stock gradient gives it to every tied input; the two
agree wherever a window's maximum is unique (always, in practice, on
convolution outputs; not on raw 8-bit pixels).

Examples
--------
>>> import numpy as np, theano, theano.tensor as T
>>> from kfkd.ops.pool import argmax_pool_2d
>>> x = T.tensor4("x")
>>> f = theano.function([x], argmax_pool_2d(x, (2, 2)))
>>> f(np.arange(16, dtype="float32").reshape(1, 1, 4, 4))[0, 0]
array([[ 5.,  7.],
       [13., 15.]], dtype=float32)
"""
from .. import compat  # noqa: F401  (configures Theano)

import theano.tensor as T
from theano.gradient import DisconnectedType
from theano.graph.basic import Apply
from theano.graph.op import COp
from theano.graph.params_type import ParamsType
from theano.scalar import int64
from theano.tensor.signal.pool import Pool

from ._support import ALLOC

__all__ = ["ArgmaxPool", "ArgmaxUnpool", "argmax_pool_2d"]

_GEOMETRY = ParamsType(wh=int64, ww=int64, sh=int64, sw=int64, ph=int64,
                       pw=int64, ignore_border=int64)

_TEMPLATES = r"""
/* 2x2 windows, stride 2, no padding, every window complete. */
#define KFKD_POOL_2X2(g, d, zd) ((g)->wh == 2 && (g)->ww == 2 \
    && (g)->sh == 2 && (g)->sw == 2 && !(g)->ph && !(g)->pw \
    && 2 * (zd)[2] <= (d)[2] && 2 * (zd)[3] <= (d)[3])

static npy_intp kfkd_pool_len(npy_intp n, npy_intp w, npy_intp s,
                              npy_intp p, npy_int64 ignore_border)
{   /* theano.tensor.signal.pool.Pool.out_shape, one axis */
    n += 2 * p;
    if (ignore_border) return n < w ? 0 : (n - w) / s + 1;
    if (s >= w) return (n - 1) / s + 1;
    npy_intp k = (n - 1 - w + s) / s;
    return (k > 0 ? k : 0) + 1;
}

template <typename T>
static void kfkd_pool_2x2(const T* x, T* z, npy_int32* a, npy_intp planes,
                          npy_intp H, npy_intp W, npy_intp zh, npy_intp zw)
{
    for (npy_intp p = 0; p < planes; ++p) {
        const T* xp = x + p * H * W;
        T* zp = z + p * zh * zw;
        npy_int32* ap = a + p * zh * zw;
        for (npy_intp i = 0; i < zh; ++i) {
            const T* r0 = xp + 2 * i * W;
            const T* r1 = r0 + W;
            const npy_int32 b0 = (npy_int32)(2 * i * W), b1 = b0 + W;
            for (npy_intp j = 0; j < zw; ++j) {
                T m = r0[2 * j];
                npy_int32 k = b0 + 2 * j;
                T v = r0[2 * j + 1];
                k = v > m ? b0 + 2 * j + 1 : k;  m = v > m ? v : m;
                v = r1[2 * j];
                k = v > m ? b1 + 2 * j : k;      m = v > m ? v : m;
                v = r1[2 * j + 1];
                k = v > m ? b1 + 2 * j + 1 : k;  m = v > m ? v : m;
                zp[i * zw + j] = m;
                ap[i * zw + j] = k;
            }
        }
    }
}

/* Any window, stride and padding (g = wh, ww, sh, sw, ph, pw). */
template <typename T>
static void kfkd_pool_any(const T* x, T* z, npy_int32* a, npy_intp planes,
                          npy_intp H, npy_intp W, npy_intp zh, npy_intp zw,
                          const npy_intp* g)
{
    for (npy_intp p = 0; p < planes; ++p) {
        const T* xp = x + p * H * W;
        for (npy_intp i = 0; i < zh; ++i) {
            npy_intp r0 = i * g[2] - g[4], r1 = r0 + g[0];
            r0 = r0 > 0 ? r0 : 0;  r1 = r1 < H ? r1 : H;
            for (npy_intp j = 0; j < zw; ++j) {
                npy_intp c0 = j * g[3] - g[5], c1 = c0 + g[1];
                c0 = c0 > 0 ? c0 : 0;  c1 = c1 < W ? c1 : W;
                npy_intp k = r0 * W + c0;
                T m = xp[k];
                for (npy_intp r = r0; r < r1; ++r)
                    for (npy_intp c = c0; c < c1; ++c) {
                        const T v = xp[r * W + c];
                        k = v > m ? r * W + c : k;  m = v > m ? v : m;
                    }
                z[(p * zh + i) * zw + j] = m;
                a[(p * zh + i) * zw + j] = (npy_int32)k;
            }
        }
    }
}

/* kfkd_pick(c, g) = c ? g : 0 without a branch (a bit mask): the arg-max
   of a window is random, so a branch would be mispredicted half the time
   (measured 7x slower on net6's first pooling). */
template <typename T> struct kfkd_bits;
template <> struct kfkd_bits<npy_float32> { typedef npy_uint32 type; };
template <> struct kfkd_bits<npy_float64> { typedef npy_uint64 type; };

template <typename T>
static inline T kfkd_pick(bool c, T g)
{
    typedef typename kfkd_bits<T>::type U;
    U u;
    memcpy(&u, &g, sizeof u);
    u &= (U)0 - (U)c;
    memcpy(&g, &u, sizeof u);
    return g;
}

/* Gradient of kfkd_pool_2x2: every window's 4 inputs written once (no
   zeroing pass, no scatter).  -1 if an index is not in its window. */
template <typename T>
static int kfkd_unpool_2x2(const T* gz, const npy_int32* a, T* gx,
                           npy_intp planes, npy_intp H, npy_intp W,
                           npy_intp zh, npy_intp zw)
{
    int bad = 0;
    if (2 * zh != H || 2 * zw != W)  /* rows/columns no window covers */
        memset(gx, 0, sizeof(T) * planes * H * W);
    for (npy_intp p = 0; p < planes; ++p) {
        const T* gp = gz + p * zh * zw;
        const npy_int32* ap = a + p * zh * zw;
        for (npy_intp i = 0; i < zh; ++i) {
            T* r0 = gx + p * H * W + 2 * i * W;
            T* r1 = r0 + W;
            for (npy_intp j = 0; j < zw; ++j) {
                const npy_intp k = ap[i * zw + j] - (2 * i * W + 2 * j);
                const T g = gp[i * zw + j];
                r0[2 * j] = kfkd_pick(k == 0, g);
                r0[2 * j + 1] = kfkd_pick(k == 1, g);
                r1[2 * j] = kfkd_pick(k == W, g);
                r1[2 * j + 1] = kfkd_pick(k == W + 1, g);
                bad |= (k != 0) & (k != 1) & (k != W) & (k != W + 1);
            }
        }
    }
    return bad ? -1 : 0;
}

/* gx = 0; gx[plane, a[plane, k]] += gz[plane, k].  -1 on a bad index. */
template <typename T>
static int kfkd_unpool(const T* gz, const npy_int32* a, T* gx,
                       npy_intp planes, npy_intp hw, npy_intp zhw)
{
    memset(gx, 0, sizeof(T) * planes * hw);
    for (npy_intp p = 0; p < planes; ++p) {
        const T* gp = gz + p * zhw;
        const npy_int32* ap = a + p * zhw;
        T* xp = gx + p * hw;
        for (npy_intp k = 0; k < zhw; ++k) {
            if ((npy_uint32)ap[k] >= (npy_uint64)hw) return -1;
            xp[ap[k]] += gp[k];
        }
    }
    return 0;
}
"""

_FORWARD = r"""
{
    PyArrayObject* xc = PyArray_GETCONTIGUOUS(%(x)s);
    if (!xc) %(fail)s
    const npy_intp* d = PyArray_DIMS(xc);
    const npy_intp g[6] = {%(params)s->wh, %(params)s->ww, %(params)s->sh,
                           %(params)s->sw, %(params)s->ph, %(params)s->pw};
    const npy_int64 ib = %(params)s->ignore_border;
    npy_intp zd[4] = {d[0], d[1], kfkd_pool_len(d[2], g[0], g[2], g[4], ib),
                      kfkd_pool_len(d[3], g[1], g[3], g[5], ib)};
    if (kfkd_alloc(&%(z)s, 4, zd, PyArray_TYPE(xc))
            || kfkd_alloc(&%(a)s, 4, zd, NPY_INT32)) {
        Py_DECREF(xc);
        %(fail)s
    }
    const dtype_%(x)s* xp = (const dtype_%(x)s*)PyArray_DATA(xc);
    dtype_%(z)s* zp = (dtype_%(z)s*)PyArray_DATA(%(z)s);
    npy_int32* ap = (npy_int32*)PyArray_DATA(%(a)s);
    if (KFKD_POOL_2X2(%(params)s, d, zd))
        kfkd_pool_2x2(xp, zp, ap, d[0] * d[1], d[2], d[3], zd[2], zd[3]);
    else
        kfkd_pool_any(xp, zp, ap, d[0] * d[1], d[2], d[3], zd[2], zd[3], g);
    Py_DECREF(xc);
}
"""

_BACKWARD = r"""
{
    PyArrayObject* gzc = PyArray_GETCONTIGUOUS(%(gz)s);
    PyArrayObject* ac = PyArray_GETCONTIGUOUS(%(a)s);
    const npy_intp* d = PyArray_DIMS(%(x)s);
    const npy_intp* zd = PyArray_DIMS(%(a)s);
    int bad = !gzc || !ac;
    if (!bad && !PyArray_SAMESHAPE(gzc, ac)) {
        PyErr_SetString(PyExc_ValueError,
                        "ArgmaxUnpool: gz and argmax shapes differ");
        bad = 1;
    }
    if (!bad && (zd[0] != d[0] || zd[1] != d[1])) {
        PyErr_SetString(PyExc_ValueError,
                        "ArgmaxUnpool: argmax and x differ in (N, C)");
        bad = 1;
    }
    bad = bad || kfkd_alloc(&%(gx)s, 4, d, PyArray_TYPE(gzc));
    if (!bad) {
        const dtype_%(gz)s* gp = (const dtype_%(gz)s*)PyArray_DATA(gzc);
        const npy_int32* ap = (const npy_int32*)PyArray_DATA(ac);
        dtype_%(gx)s* xp = (dtype_%(gx)s*)PyArray_DATA(%(gx)s);
        bad = KFKD_POOL_2X2(%(params)s, d, zd)
              ? kfkd_unpool_2x2(gp, ap, xp, d[0] * d[1], d[2], d[3], zd[2],
                                zd[3])
              : kfkd_unpool(gp, ap, xp, d[0] * d[1], d[2] * d[3],
                            zd[2] * zd[3]);
        if (bad)
            PyErr_SetString(PyExc_IndexError,
                            "ArgmaxUnpool: argmax index outside its window");
    }
    Py_XDECREF(gzc);
    Py_XDECREF(ac);
    if (bad) %(fail)s
}
"""


def _float4(x, who):
    x = T.as_tensor_variable(x)
    if x.ndim != 4 or x.dtype not in ("float32", "float64"):
        raise TypeError("%s needs a 4D float32 or float64 tensor, got %s"
                        % (who, x.type))
    return x


class _PoolCOp(COp):
    """Shared pooling geometry: props, runtime params and C helpers."""

    __props__ = ("ws", "stride", "pad", "ignore_border")
    params_type = _GEOMETRY

    def __init__(self, ws, stride=None, pad=(0, 0), ignore_border=True):
        self.ws = tuple(int(w) for w in ws)
        self.stride = self.ws if stride is None else tuple(
            int(s) for s in stride)
        self.pad = tuple(int(p) for p in pad)
        self.ignore_border = bool(ignore_border)
        if not (len(self.ws) == len(self.stride) == len(self.pad) == 2):
            raise ValueError("ws, stride and pad need 2 values each, got "
                             "%r, %r, %r" % (self.ws, self.stride, self.pad))
        if min(self.ws + self.stride) < 1 or min(self.pad) < 0:
            raise ValueError("ws and stride must be >= 1 and pad >= 0, got "
                             "%r, %r, %r" % (self.ws, self.stride, self.pad))
        if any(p >= w for p, w in zip(self.pad, self.ws)):
            raise ValueError("pad %r must be smaller than ws %r"
                             % (self.pad, self.ws))
        if any(self.pad) and not self.ignore_border:
            raise ValueError("padding needs ignore_border=True (as pool_2d)")

    def get_params(self, node):
        return self.params_type.get_params(
            wh=self.ws[0], ww=self.ws[1], sh=self.stride[0],
            sw=self.stride[1], ph=self.pad[0], pw=self.pad[1],
            ignore_border=int(self.ignore_border))

    def c_support_code(self, **kwargs):
        return [ALLOC, _TEMPLATES]

    def perform(self, node, inputs, outputs, params=None):
        raise NotImplementedError("%s has only a C implementation (needs "
                                  "a C++ compiler)" % type(self).__name__)

    def c_code_cache_version(self):
        return (3,)


class ArgmaxPool(_PoolCOp):
    """2D max-pooling over the last two axes, returning the arg-max too.

    ``ArgmaxPool(ws, stride=None, pad=(0, 0), ignore_border=True)(x)`` ->
    ``(z, argmax)``.

    Parameters
    ----------
    ws : pair of int
        Window (rows, columns).
    stride : pair of int, optional
        Step between windows (default ``ws``).
    pad : pair of int
        Virtual border on each side, never selected; smaller than ``ws``.
    ignore_border : bool
        Drop partial windows at the bottom/right (``False`` needs no pad).

    Inputs: ``x (N, C, H, W)`` float32/float64.  Outputs: ``z (N, C, zh, zw)``
    of ``x``'s dtype with ``(zh, zw)`` as :meth:`Pool.out_shape`, and
    ``argmax (N, C, zh, zw) int32``, the index ``row * W + col`` of each
    maximum in its plane (first one in row-major order on ties).

    Raises
    ------
    ValueError
        Inconsistent geometry (as ``pool_2d`` rejects it).
    TypeError
        ``x`` not a 4D float tensor.
    """

    def make_node(self, x):
        x = _float4(x, "ArgmaxPool")
        argmax = T.TensorType("int32", x.broadcastable)()
        return Apply(self, [x], [x.type(), argmax])

    def infer_shape(self, fgraph, node, in_shapes):
        shape = Pool.out_shape(in_shapes[0], self.ws, self.ignore_border,
                               self.stride, self.pad)
        return [shape, shape]

    def connection_pattern(self, node):
        return [[True, False]]

    def L_op(self, inputs, outputs, output_grads):
        gz = output_grads[0]
        if isinstance(gz.type, DisconnectedType):
            return [inputs[0].zeros_like()]
        unpool = ArgmaxUnpool(self.ws, self.stride, self.pad,
                              self.ignore_border)
        return [unpool(inputs[0], outputs[1], gz)]

    def c_code(self, node, name, inputs, outputs, sub):
        return _FORWARD % dict(x=inputs[0], z=outputs[0], a=outputs[1],
                               **sub)


class ArgmaxUnpool(_PoolCOp):
    """Gradient of :class:`ArgmaxPool`: scatter-add ``gz`` at ``argmax``.

    ``ArgmaxUnpool(ws, stride, pad, ignore_border)(x, argmax, gz)`` -> ``gx``
    of ``x``'s shape, zero but at the arg-max positions, which receive the
    sum of the output gradients of the windows they won.  ``x`` gives only
    the shape.  Its own gradient (with respect to ``gz``) gathers ``ggx`` at
    ``argmax``, so second derivatives and ``verify_grad`` of this op work.

    Raises
    ------
    ValueError
        ``gz`` and ``argmax`` differ in shape, or ``x`` in (N, C) (at run
        time).
    IndexError
        An ``argmax`` index outside its ``H * W`` plane, or, for 2x2
        windows with stride 2, outside its window (at run time).
    """

    def make_node(self, x, argmax, gz):
        x, gz = _float4(x, "ArgmaxUnpool"), _float4(gz, "ArgmaxUnpool")
        argmax = T.as_tensor_variable(argmax)
        if argmax.dtype != "int32" or argmax.ndim != 4:
            raise TypeError("ArgmaxUnpool: argmax must be a 4D int32 "
                            "tensor, got %s" % argmax.type)
        return Apply(self, [x, argmax, gz], [gz.type()])

    def infer_shape(self, fgraph, node, in_shapes):
        return [in_shapes[0]]

    def connection_pattern(self, node):
        return [[False], [False], [True]]

    def L_op(self, inputs, outputs, output_grads):
        x, argmax, gz = inputs
        planes = x.shape[0] * x.shape[1]
        rows = argmax.reshape((planes, -1))
        offsets = T.arange(planes) * (x.shape[2] * x.shape[3])
        flat = (rows + offsets.dimshuffle(0, "x")).flatten()
        ggz = output_grads[0].flatten()[flat].reshape(gz.shape)
        return [DisconnectedType()(), DisconnectedType()(), ggz]

    def c_code(self, node, name, inputs, outputs, sub):
        return _BACKWARD % dict(x=inputs[0], a=inputs[1], gz=inputs[2],
                                gx=outputs[0], **sub)


def argmax_pool_2d(x, ws, stride=None, pad=(0, 0), ignore_border=True):
    """Max-pool ``x`` like ``pool_2d(x, ws, ignore_border, stride, pad)``.

    The arg-max pooling of :class:`ArgmaxPool`, output only; its gradient is
    :class:`ArgmaxUnpool`.  Arguments and errors as :class:`ArgmaxPool`.

    Returns
    -------
    TensorVariable
        ``(N, C, zh, zw)``, ``x``'s dtype.
    """
    return ArgmaxPool(ws, stride, pad, ignore_border)(x)[0]
