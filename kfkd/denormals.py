"""Flushing subnormal floats to zero while a net trains.

A float32 below 1.18e-38 is *subnormal*.  x86 CPUs compute with subnormal
operands or results through a microcode assist that costs on the order of a
hundred cycles per operation (Intel 64 and IA-32 Architectures Optimization
Reference Manual, "Floating-point modes and exceptions"), unless the SSE
control register MXCSR has FTZ (flush to zero, bit 15) and DAZ (denormals
are zero, bit 6) set.  Adam fills its accumulators with them: the first
moment ``m <- beta1 m + (1 - beta1) g`` of a parameter whose gradient stays
exactly zero (a unit ReLU or dropout silences) decays by 0.9 per step, is
subnormal after ~750 steps (``1e-4 * 0.9**750 ~ 1e-38``) and then stays at
the smallest subnormal (1.4e-45) for good, since ``0.9 x`` of it rounds back
to it.

Measured by ``experiments/benchmark_denormals.py`` (one thread, batch 32,
net6 with Lasagne's stock layers, 16.6 M parameters, 33.5 M Adam
accumulator elements): a training step takes 0.45 s with the accumulators
at zero and 1.9-2.5 s with all of them subnormal; with FTZ and DAZ set,
0.45 s either way.  net6's full-budget run without them slowed from 38 s
per epoch to 80-97 s from its tenth epoch (79 steps an epoch: the ~750
steps above).  PyTorch offers the same switch
(``torch.set_flush_denormal``); TensorFlow sets it in its own threads.

:func:`flushed_denormals` sets both bits for the calling thread (where
Theano's element-wise loops, such as the optimiser's updates, run) and puts
MXCSR back afterwards.  Subnormals become zero: a relative change below
1e-38 of any value, nothing a float32 net can tell apart.  It reads and
writes MXCSR through the C library's ``fegetenv``/``fesetenv``: in glibc's
x86-64 ``fenv_t`` (``bits/fenv.h``) MXCSR is the last field, after the
28-byte x87 environment.  Elsewhere (another CPU or C library) it does
nothing and says so.

Examples
--------
>>> import numpy as np
>>> with flushed_denormals() as flushed:
...     tiny = np.float32(1e-39) * np.ones(1, np.float32)
>>> bool(tiny[0] == 0) == flushed
True
"""
import contextlib
import ctypes
import ctypes.util
import platform
import struct

__all__ = ["FTZ", "DAZ", "flushed_denormals", "supported"]

#: MXCSR bits: flush results to zero, treat subnormal operands as zero.
FTZ, DAZ = 1 << 15, 1 << 6

#: glibc x86-64: ``sizeof(fenv_t)`` and the offset of its ``__mxcsr``.
_FENV_SIZE, _MXCSR_OFFSET = 32, 28


def _libm():
    """The C maths library when MXCSR can be reached through its fenv_t
    (glibc on x86-64), else None."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return None
    if platform.libc_ver()[0] != "glibc":
        return None
    name = ctypes.util.find_library("m")
    return ctypes.CDLL(name) if name else None


def supported():
    """True when :func:`flushed_denormals` can set FTZ and DAZ here."""
    return _libm() is not None


@contextlib.contextmanager
def flushed_denormals():
    """Context in which the calling thread flushes subnormal float results
    to zero and reads subnormal operands as zero (MXCSR FTZ and DAZ).

    Yields
    ------
    bool
        True when set; False where MXCSR cannot be reached (not glibc on
        x86-64): nothing changes then.

    On leaving, the thread's floating-point environment (MXCSR with it)
    is what it was.
    """
    libm = _libm()
    env = ctypes.create_string_buffer(_FENV_SIZE)
    if libm is None or libm.fegetenv(env) != 0:
        yield False
        return
    saved = env.raw
    mxcsr = struct.unpack_from("<I", saved, _MXCSR_OFFSET)[0]
    struct.pack_into("<I", env, _MXCSR_OFFSET, mxcsr | FTZ | DAZ)
    if libm.fesetenv(env) != 0:
        yield False
        return
    try:
        yield True
    finally:
        libm.fesetenv(ctypes.create_string_buffer(saved, _FENV_SIZE))
