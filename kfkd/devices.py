"""Devices Theano can run on, and what a GPU device still lacks here.

A search's worker slots are named as in ``THEANO_FLAGS=device=...``:
``cpu``, ``cuda`` (the default GPU), ``cuda0``, ``cuda1``, ...  theano-pymc
1.1.2 reaches a GPU only through its ``gpuarray`` backend, which needs

1. **pygpu** 0.7.x with libgpuarray API 2 (not on PyPI; Debian bookworm's
   ``python3-pygpu`` 0.7.6, made importable from ``.venv`` by
   ``scripts/setup.sh``), and ``six``, which pygpu imports;
2. **libgpuarray's C headers** (Debian ``libgpuarray-dev``), which Theano's
   GPU ops include when it compiles them;
3. the **NVIDIA driver's** ``libcuda.so``;
4. the CUDA toolkit's **NVRTC** (``libnvrtc.so``, libgpuarray compiles its
   kernels with it) and **cuBLAS** (``libcublas.so``);
5. a **visible device** of that number (``pygpu.init('cuda0')`` succeeds).

:func:`gpu_problem` checks them in that order without importing Theano, so
that the search can say in one line what is missing *before* any worker
starts, instead of every worker failing to activate its device.  cuDNN is
optional: Theano uses it when it accepts the installed version
(``dnn.enabled=auto``, its default) and its GPU ``CorrMM`` otherwise.

Examples
--------
>>> bool(DEVICE_PATTERN.match("cuda1")), bool(DEVICE_PATTERN.match("tpu0"))
(True, False)
>>> is_gpu("cuda1"), is_gpu("opencl0:1"), is_gpu("cpu")
(True, True, False)
"""
import ctypes
import ctypes.util
import importlib
import os
import re

from .errors import DeviceUnavailableError

__all__ = ["DEVICE_PATTERN", "is_gpu", "gpu_problem",
           "check_devices", "GPU_LIBRARIES"]

#: device names theano-pymc understands: cpu, cuda, cudaN, openclP:D (its
#: old ``gpu`` back-end was removed)
DEVICE_PATTERN = re.compile(r"^(cpu|cuda\d*|opencl\d+:\d+)$")

#: (what, library name for ctypes.util.find_library) the GPU backend loads,
#: by kind of device
GPU_LIBRARIES = {
    "cuda": (("the NVIDIA driver (libcuda.so)", "cuda"),
             ("NVRTC from the CUDA toolkit (libnvrtc.so)", "nvrtc"),
             ("cuBLAS from the CUDA toolkit (libcublas.so)", "cublas")),
    "opencl": (("an OpenCL loader (libOpenCL.so)", "OpenCL"),
               ("clBLAS (libclBLAS.so)", "clBLAS"))}

#: pygpu versions theano-pymc 1.1.2 accepts (``theano/gpuarray/__init__.py``)
PYGPU_MINOR, GPUARRAY_API_MAJOR = (0, 7), 2


def is_gpu(device):
    """True for ``cuda``, ``cudaN`` and ``openclP:D`` slots."""
    return device.startswith(("cuda", "opencl"))


def _pygpu_problem(import_module):
    try:
        pygpu = import_module("pygpu")
    except ImportError as e:
        return ("pygpu (theano-pymc's GPU backend; not on PyPI: run "
                "scripts/setup.sh as root to link Debian's python3-pygpu "
                "into .venv) cannot be imported: %s" % e)
    version = tuple(int(p) for p in re.findall(r"\d+", pygpu.__version__)[:2])
    api = pygpu.gpuarray.api_version()[0]
    if version != PYGPU_MINOR or api != GPUARRAY_API_MAJOR:
        return ("pygpu %s with libgpuarray API %d (theano-pymc 1.1.2 needs "
                "0.7.x with API 2)" % (pygpu.__version__, api))
    return None


def _headers_problem(pygpu_include=None):
    include = pygpu_include or "/usr/include"
    if not os.path.isfile(os.path.join(include, "gpuarray", "types.h")):
        return ("libgpuarray's C headers (Debian libgpuarray-dev; "
                "gpuarray/types.h not in %s)" % include)
    return None


def _device_problem(device, import_module):
    pygpu = import_module("pygpu")
    try:
        pygpu.init(device)
    except Exception as e:  # pygpu raises its own GpuArrayException
        return "a visible %s device (pygpu.init(%r) failed: %s)" % (
            device, device, str(e).strip() or type(e).__name__)
    return None


def gpu_problem(device, find_library=ctypes.util.find_library,
                import_module=importlib.import_module, include_dir=None):
    """What the first missing piece is for Theano to run on ``device``.

    Parameters
    ----------
    device : str
        A GPU slot: ``'cuda'``, ``'cudaN'`` or ``'openclP:D'``.
    find_library, import_module : callable, optional
        :func:`ctypes.util.find_library` and :func:`importlib.import_module`
        (replaced in tests).
    include_dir : str, optional
        Where libgpuarray's headers live (default ``/usr/include``).

    Returns
    -------
    str or None
        One line naming the first missing piece (pygpu, libgpuarray's
        headers, the NVIDIA driver, NVRTC, cuBLAS, a visible device), or
        None when Theano can activate ``device``.
    """
    problem = _pygpu_problem(import_module) or _headers_problem(include_dir)
    if problem:
        return problem
    kind = "opencl" if device.startswith("opencl") else "cuda"
    for what, name in GPU_LIBRARIES[kind]:
        if not find_library(name):
            return what
    return _device_problem(device, import_module)


def check_devices(slots, **kwargs):
    """Raise unless Theano can activate every GPU slot of ``slots``.

    Called by the search driver before any worker starts.

    Parameters
    ----------
    slots : list of str
        Device slots, e.g. ``['cuda0', 'cuda0']`` (two trials on one GPU) or
        ``['cpu', 'cpu']``.
    **kwargs
        Passed to :func:`gpu_problem`.

    Raises
    ------
    DeviceUnavailableError
        One line: the first GPU slot and what it lacks.

    Examples
    --------
    >>> check_devices(["cpu", "cpu"])
    """
    for device in dict.fromkeys(d for d in slots if is_gpu(d)):
        problem = gpu_problem(device, **kwargs)
        if problem:
            raise DeviceUnavailableError(
                "device %s: Theano cannot run on it here; missing %s"
                % (device, problem))
