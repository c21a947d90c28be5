"""Theano configuration and the theano-pymc <-> Lasagne 0.1 shims.

This is the one module that imports :mod:`theano` first.  Every module of
kfkd that touches Theano or Lasagne imports it (``from kfkd import compat``)
before anything else, so that

1. Theano is configured before its first import, without the user touching
   ``~/.theanorc``: ``floatX=float32``, ``allow_gc=False`` (measured +25%
   training throughput on a 2-core CPU), a BLAS that works, ``openmp=False``
   (``THEANO_FLAGS=openmp=True`` works with fix 5 below: theano-pymc
   1.1.2's Elemwise emits an OpenMP pragma that g++ rejects) and a compile
   directory of kfkd's own.  Flags the user sets in ``THEANO_FLAGS`` win.
2. Lasagne 0.1 (the only Lasagne on PyPI, written for Theano 0.7) imports
   against theano-pymc 1.1.2.  Each shim below restores one name Lasagne 0.1
   imports that theano-pymc renamed or removed:

   ===============================================  =====================================
   Lasagne 0.1 imports                              theano-pymc 1.1.2 provides
   ===============================================  =====================================
   ``theano.sandbox.rng_mrg.MRG_RandomStreams``     ``MRG_RandomStream``
   ``theano.tensor.signal.downsample.max_pool_2d``  ``theano.tensor.signal.pool.pool_2d``
                                                    (``ws``/``stride``/``pad``)
   ``theano.gof.Variable`` (and friends)            ``theano.graph.basic``
   ``pkg_resources.get_distribution``               ``importlib.metadata`` (setuptools
                                                    >= 82 no longer ships pkg_resources)
   ===============================================  =====================================

   Fix 5 repairs the C that theano-pymc's ``Elemwise`` writes with
   ``openmp=True``.  Fix 6 makes ``theano.scan`` (Lasagne's recurrent
   layers) compile on CPython 3.11: theano-pymc's Cython loop is built by
   :mod:`kfkd.compat_scan` the first time Theano needs it.

Examples
--------
>>> from kfkd import compat
>>> import lasagne
>>> compat.theano.config.floatX
'float32'
"""
import ctypes.util
import importlib.metadata
import importlib.util
import os
import sys
import types
import warnings

__all__ = ["theano", "lasagne", "theano_flags", "default_compiledir",
           "blas_ldflags", "set_blas_threads", "DeviceUnavailableError",
           "check_device"]


from . import compat_scan  # noqa: E402  (imports theano lazily)
from .devices import gpu_problem, is_gpu  # noqa: E402  (no theano)
from .errors import DeviceUnavailableError  # noqa: E402


def default_compiledir():
    """Folder where kfkd keeps Theano's compiled C modules.

    ``$KFKD_THEANO_CACHE`` if set, else ``$XDG_CACHE_HOME/kfkd/theano``
    (``~/.cache/kfkd/theano``).  Keeping it between runs turns a 30-50 s cold
    compile of a conv net into 3-5 s.
    """
    if os.environ.get("KFKD_THEANO_CACHE"):
        return os.environ["KFKD_THEANO_CACHE"]
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(
        os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "kfkd", "theano")


def blas_ldflags():
    """Linker flags for Theano's BLAS.

    ``-lopenblas`` when the system OpenBLAS (Debian ``libopenblas-dev``) is
    present.  numpy 1.23.5's bundled OpenBLAS has renamed symbols and cannot
    serve, so without a system BLAS the flags are empty and Theano falls back
    to numpy's gemm (slower, but correct).
    """
    return "-lopenblas" if ctypes.util.find_library("openblas") else ""


def set_blas_threads(n):
    """Set the threads of the system OpenBLAS that Theano links, now.

    OpenBLAS reads ``OPENBLAS_NUM_THREADS`` once, when it loads; this calls
    its ``openblas_set_num_threads`` instead, so it also works after Theano
    has loaded it (the process holds one copy of the library).

    Parameters
    ----------
    n : int
        Threads (>= 1).

    Returns
    -------
    int or None
        The thread count OpenBLAS now uses, or None where Theano uses no
        system OpenBLAS (``blas__ldflags`` without ``-lopenblas``).
    """
    name = ctypes.util.find_library("openblas")
    if not name or "openblas" not in theano.config.blas__ldflags:
        return None
    library = ctypes.CDLL(name)
    library.openblas_set_num_threads(int(n))
    return int(library.openblas_get_num_threads())


def _parse_flags(text):
    flags = {}
    for item in filter(None, (s.strip() for s in text.split(","))):
        key, _, value = item.partition("=")
        flags[key.strip().replace(".", "__")] = value.strip()
    return flags


def theano_flags(environ=None):
    """The ``THEANO_FLAGS`` string kfkd runs Theano with.

    kfkd's defaults, overridden by whatever the user already set in
    ``environ['THEANO_FLAGS']`` (dotted ``blas.ldflags`` and double-underscore
    ``blas__ldflags`` spellings are both understood).

    Parameters
    ----------
    environ : mapping, optional
        Environment to read (default ``os.environ``).

    Returns
    -------
    str
        Comma-separated ``key=value`` flags.
    """
    environ = os.environ if environ is None else environ
    flags = {
        "floatX": "float32",
        "allow_gc": "False",
        "openmp": "False",
        "blas__ldflags": blas_ldflags(),
        "base_compiledir": default_compiledir(),
        "device": "cpu",
    }
    flags.update(_parse_flags(environ.get("THEANO_FLAGS", "")))
    return ",".join("%s=%s" % kv for kv in flags.items())


if "theano" not in sys.modules:
    os.environ["THEANO_FLAGS"] = theano_flags()
    os.makedirs(_parse_flags(os.environ["THEANO_FLAGS"])["base_compiledir"],
                exist_ok=True)

import theano  # noqa: E402  (configured above)
import theano.graph.basic  # noqa: E402
import theano.sandbox.rng_mrg  # noqa: E402
import theano.tensor.elemwise  # noqa: E402
import theano.tensor.signal.pool  # noqa: E402


# -- shim 1: MRG_RandomStreams ----------------------------------------------
if not hasattr(theano.sandbox.rng_mrg, "MRG_RandomStreams"):
    theano.sandbox.rng_mrg.MRG_RandomStreams = \
        theano.sandbox.rng_mrg.MRG_RandomStream


# -- shim 2: theano.tensor.signal.downsample.max_pool_2d ---------------------
def max_pool_2d(input, ds, ignore_border=None, st=None, padding=(0, 0),
                mode="max"):
    """Theano 0.7's ``downsample.max_pool_2d`` on top of ``pool.pool_2d``.

    Parameters map as ``ds -> ws``, ``st -> stride``, ``padding -> pad``.
    """
    return theano.tensor.signal.pool.pool_2d(
        input, ws=tuple(ds), ignore_border=ignore_border,
        stride=None if st is None else tuple(st), pad=tuple(padding),
        mode=mode)


if "theano.tensor.signal.downsample" not in sys.modules:
    downsample = types.ModuleType(
        "theano.tensor.signal.downsample",
        "kfkd shim: Theano 0.7's downsample module for Lasagne 0.1.")
    downsample.max_pool_2d = max_pool_2d
    sys.modules[downsample.__name__] = downsample
    theano.tensor.signal.downsample = downsample


# -- shim 3: theano.gof ------------------------------------------------------
if not hasattr(theano, "gof"):
    gof = types.ModuleType("theano.gof",
                           "kfkd shim: theano.gof names for Lasagne 0.1.")
    for _name in ("Variable", "Constant", "Apply", "Node"):
        setattr(gof, _name, getattr(theano.graph.basic, _name))
    sys.modules[gof.__name__] = gof
    theano.gof = gof


# -- shim 4: pkg_resources ---------------------------------------------------
if importlib.util.find_spec("pkg_resources") is None:
    pkg_resources = types.ModuleType(
        "pkg_resources", "kfkd shim: get_distribution for Lasagne 0.1.")

    class _Distribution:
        def __init__(self, name):
            self.project_name = name
            self.version = importlib.metadata.version(name)

    pkg_resources.get_distribution = _Distribution
    sys.modules["pkg_resources"] = pkg_resources

# -- fix 5: Elemwise's OpenMP pragma ------------------------------------------
# theano-pymc 1.1.2's Elemwise.c_code (tensor/elemwise.py, the contiguous
# loop) writes ``#pragma omp parallel for if(n>={int(config.openmp_
# elemwise_minsize)})`` from a string that lacks its f prefix, so with
# ``openmp=True`` g++ stops at "expected primary-expression before '{'".
# The placeholder is replaced by the value it names.
_OMP_PLACEHOLDER = "{int(config.openmp_elemwise_minsize)}"
_elemwise_c_code = theano.tensor.elemwise.Elemwise.c_code


def _elemwise_c_code_fixed(self, node, nodename, inames, onames, sub):
    code = _elemwise_c_code(self, node, nodename, inames, onames, sub)
    return code.replace(_OMP_PLACEHOLDER,
                        str(int(theano.config.openmp_elemwise_minsize)))


if not getattr(_elemwise_c_code, "kfkd_fixed", False):
    _elemwise_c_code_fixed.kfkd_fixed = True
    theano.tensor.elemwise.Elemwise.c_code = _elemwise_c_code_fixed


# -- fix 6 (CPython 3.11): theano.scan's compiled loop -----------------------
compat_scan.install()


with warnings.catch_warnings():
    # setuptools' pkg_resources deprecation notice, raised by Lasagne's
    # ``import pkg_resources``; nothing a kfkd user can act on.
    warnings.simplefilter("ignore", UserWarning)
    warnings.simplefilter("ignore", DeprecationWarning)
    import lasagne  # noqa: E402  (after the shims)


def check_device(device):
    """Make sure Theano runs on ``device``; raise if it cannot.

    Parameters
    ----------
    device : str
        ``'cpu'``, ``'cuda'``, ``'cuda0'``, ``'cuda1'``, ... as in
        ``THEANO_FLAGS=device=...``.

    Raises
    ------
    DeviceUnavailableError
        ``device`` is a GPU and Theano could not activate it (the message
        names what is missing: :func:`kfkd.devices.gpu_problem`), or Theano
        was configured for another device.  kfkd never silently runs a GPU
        job on the CPU.
    """
    active = theano.config.device
    if device == active and not is_gpu(device):
        return
    if device == active:
        try:
            from theano.gpuarray import pygpu_activated
        except ImportError:
            pygpu_activated = False
        if pygpu_activated:
            return
    raise DeviceUnavailableError(
        "device %r requested but Theano is running on %r%s" % (
            device, active, "" if not is_gpu(device) else
            ": missing %s" % (gpu_problem(device) or "an active GPU context")))
