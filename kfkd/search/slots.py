"""Device slots: one worker process per slot (``cpu``, ``cuda0``, ...).

Device names and the GPU diagnosis are :mod:`kfkd.devices`'; this module
turns ``--devices`` / ``--workers`` into slots and gives each worker its
environment (Theano device, thread count).
"""
import os

from ..devices import DEVICE_PATTERN, is_gpu
from ..errors import UsageError

__all__ = ["default_devices", "parse_devices", "worker_env"]


def default_devices(cores=None):
    """As many CPU slots as suit the machine.

    One single-threaded slot per core, at most 2, on machines of up to 3
    cores (on 2 cores, two workers give more trials per hour than one
    two-threaded one: see ``experiments/benchmark_search.py``), one per 2
    cores above that.  This holds with Theano's own loops threaded too
    (``THEANO_FLAGS=openmp=True``, :mod:`kfkd.compat`): a breeze training
    step cost 40-55% more CPU per image with 2 threads than with 1
    (``THEANO_FLAGS=openmp=True OMP_NUM_THREADS=1`` and ``=2 python
    experiments/benchmark_bnorm_net.py``, the second figure of each pair;
    2 cores shared with other jobs, load 9-11), so independent
    single-threaded workers use the cores best.
    """
    cores = cores or os.cpu_count() or 1
    return ["cpu"] * max(1, min(cores, 2 if cores <= 3 else cores // 2))


def parse_devices(devices=None, workers=None):
    """Device slots from ``--devices cpu,cpu`` / ``--workers N``.

    Parameters
    ----------
    devices : str or None
        Comma-separated slots: ``cpu``, ``cuda``, ``cudaN``, ``gpuN``,
        ``openclP:D``; a device may repeat (two workers on one GPU).
    workers : int or None
        N CPU slots (N >= 1).

    Returns
    -------
    list of str
        At least one slot; :func:`default_devices` when neither is given.

    Raises
    ------
    kfkd.errors.UsageError
        Both options given, ``--workers`` below 1, an empty ``--devices``
        or an empty slot in it (``cpu,,cpu``), or an unknown device name;
        the message names the option and the value.
    """
    if devices is not None and workers is not None:
        raise UsageError("give --devices or --workers, not both (--devices "
                         "%r, --workers %r)" % (devices, workers))
    if workers is not None:
        if isinstance(workers, bool) or not isinstance(workers, int) \
                or workers < 1:
            raise UsageError("--workers %r: the number of worker processes "
                             "must be an integer >= 1" % (workers,))
        return ["cpu"] * workers
    if devices is None:
        return default_devices()
    slots = [d.strip() for d in devices.split(",")]
    if not devices.strip() or any(not d for d in slots):
        raise UsageError("--devices %r: an empty device slot; give one or "
                         "more of cpu, cuda, cuda0, cuda1, ... separated by "
                         "commas" % devices)
    for d in slots:
        if not DEVICE_PATTERN.match(d):
            raise UsageError("--devices %r: unknown device %r (cpu, cuda, "
                             "cuda0, cuda1, ..., opencl0:0)" % (devices, d))
    return slots


def worker_env(device, threads, environ=None):
    """Environment of a worker: its Theano device and its thread count.

    ``THEANO_FLAGS`` gets ``device=<device>`` (appended, so it wins over the
    user's own device flag), and ``floatX=float32`` on a GPU slot; each
    worker activates its own device, the driver never touches a GPU
    (theano-pymc forbids a child from starting the GPU after its parent
    did); ``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS`` and
    ``MKL_NUM_THREADS`` are set to ``threads`` so that workers do not
    oversubscribe the cores (``OMP_NUM_THREADS`` also bounds Theano's own
    C loops and kfkd's ops when Theano runs with ``openmp=True``).
    """
    env = dict(os.environ if environ is None else environ)
    pinned = {"device": device}
    if is_gpu(device):  # the GPU backend computes in float32
        pinned["floatX"] = "float32"
    flags = [f for f in env.get("THEANO_FLAGS", "").split(",") if f
             and f.split("=")[0].strip() not in pinned]
    env["THEANO_FLAGS"] = ",".join(
        flags + ["%s=%s" % kv for kv in pinned.items()])
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    return env
