"""Speed of the nets: compile time, training and inference throughput.

What ``kfkd benchmark`` (and ``experiments/benchmark.py``) prints:
:func:`run`.  Every figure is measured in one
process on real faces, and training throughput is also given as a ratio to a
reference net measured in the same run (``net6``, Nouri's largest), so that
figures taken on a busy machine still compare.  With ``--peer torch`` each
net's PyTorch twin (:mod:`kfkd.peer`) is timed by the same protocol
(:func:`time_functions`) in the same run, and the Theano profile of each
training step is split by op class (:func:`profile_train_step`).

Examples
--------
>>> from kfkd.data import find_file, load_training
>>> faces = load_training(find_file("training.csv"))  # doctest: +SKIP
>>> measure_net("net1", faces, batches=2)["train_images_per_s"] > 0
... # doctest: +SKIP
True
>>> measure_twin("net1", faces, "channels_last")["n_params"]
... # doctest: +SKIP
924730
"""
from . import compat  # configures Theano, shims Lasagne

import os
import statistics
import time

import lasagne
import numpy as np

from . import nets, peer
from .data import find_file, load_training
from .objective import masked_targets
from .train import Trainer

__all__ = ["time_functions", "measure_net", "measure_twin",
           "profile_train_step", "benchmark", "format_table",
           "format_peer_table", "run", "COLUMNS", "PEER_COLUMNS", "FACES",
           "TRAINING"]

#: Faces of training.csv the benchmark runs on.
FACES = 512

#: The update rule of every measured training step (kfkd's and the peer's):
#: :class:`kfkd.train.Trainer` settings.
TRAINING = {"update": "nesterov", "learning_rate": 0.01, "momentum": 0.9}


#: Table columns: (key of :func:`measure_net`'s dict, header, format).
COLUMNS = (
    ("net", "net", "%-8s"),
    ("n_params", "params", "%10d"),
    ("compile_s", "compile s", "%9.1f"),
    ("train_images_per_s", "train img/s", "%11.1f"),
    ("train_vs_reference", "x ref", "%6.2f"),
    ("latency_ms", "batch-1 ms", "%10.2f"),
    ("infer_images_per_s", "infer img/s", "%11.1f"),
)


def _timed(fn, repeats):
    """Seconds of each of ``repeats`` calls of ``fn()``."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times


def _check_faces(faces, batch_size=128, infer_batch_size=256, **timing):
    need = max(batch_size, infer_batch_size)
    if len(faces) < need:
        raise ValueError("need at least %d faces, got %d" % (need, len(faces)))


def _train_step(train_fn, faces, batch_size, seed):
    """``step()``: one call of ``train_fn`` on ``batch_size`` faces drawn
    at random (seeded) from ``faces``."""
    rng = np.random.RandomState(seed)
    targets, mask = masked_targets(faces.keypoints)

    def step():
        index = rng.choice(len(faces), batch_size, replace=False)
        train_fn(faces.images[index], targets[index], mask[index])
    return step


def time_functions(train_fn, predict_fn, faces, batches=3, batch_size=128,
                   infer_batch_size=256, latency_runs=20, warmup=1, seed=0):
    """Time a net's training and prediction functions on real faces.

    The one protocol for kfkd's compiled functions and for a peer's
    (:meth:`kfkd.peer.Twin.functions`).

    Parameters
    ----------
    train_fn : callable
        ``train_fn(images, targets, mask)``: one update (forward, backward
        and the update rule), as :meth:`kfkd.train.Trainer.compile_functions`
        returns it.
    predict_fn : callable
        ``predict_fn(images) -> (N, 2K)``, deterministic.
    faces : kfkd.data.KeypointData
        Real faces ``(N, 1, 96, 96) float32 in [0, 1]`` with keypoints
        (pixels, NaN where unlabelled); ``N >= max(batch_size,
        infer_batch_size)``.
    batches : int
        Timed mini-batches, for training and for batched inference.
    batch_size : int
        Training mini-batch (faces drawn at random, seeded by ``seed``).
    infer_batch_size : int
        Batch of the inference throughput.
    latency_runs : int
        Single-face predictions timed for the median latency.
    warmup : int
        Untimed calls of each function first.
    seed : int

    Returns
    -------
    dict
        ``train_images_per_s``, ``train_images_per_cpu_s`` (per second of
        the process's CPU time, all threads: less sensitive than wall time
        to what else the machine runs), ``latency_ms`` (median, one face),
        ``infer_images_per_s``.

    Raises
    ------
    ValueError
        Too few faces.
    """
    _check_faces(faces, batch_size, infer_batch_size)
    train_step = _train_step(train_fn, faces, batch_size, seed)
    one, many = faces.images[:1], faces.images[:infer_batch_size]
    _timed(train_step, warmup)
    cpu = time.process_time()
    train_s = sum(_timed(train_step, batches))
    train_cpu_s = time.process_time() - cpu
    _timed(lambda: predict_fn(one), warmup)
    latency = statistics.median(_timed(lambda: predict_fn(one), latency_runs))
    _timed(lambda: predict_fn(many), warmup)
    infer_s = sum(_timed(lambda: predict_fn(many), batches))
    return {"train_images_per_s": batches * batch_size / train_s,
            "train_images_per_cpu_s": batches * batch_size / train_cpu_s,
            "latency_ms": 1000.0 * latency,
            "infer_images_per_s": batches * len(many) / infer_s}


def _build(name, faces, params, seed):
    lasagne.random.set_rng(np.random.RandomState(seed))
    return nets.build(name, n_outputs=faces.schema.n_outputs, **params)


def measure_net(name, faces, params=None, seed=0, **timing):
    """Time one net: compile, train step, batch-1 and batched inference.

    Parameters
    ----------
    name : str
        A net of :data:`kfkd.nets.NETS`.
    faces : kfkd.data.KeypointData
        As :func:`time_functions` takes them.
    params : dict, optional
        Net hyperparameters (default: the builder's defaults).
    seed : int
        Seeds the weights, dropout and the mini-batches.
    **timing
        ``batches``, ``batch_size``, ``infer_batch_size``, ``latency_runs``,
        ``warmup`` of :func:`time_functions`.  Training is forward, backward
        and the :data:`TRAINING` update, as :class:`kfkd.train.Trainer`
        compiles it; inference is the deterministic pass (no dropout).

    Returns
    -------
    dict
        ``net``, ``params``, ``n_params`` (all parameters, including
        batch-norm running averages), ``compile_s`` (seconds to compile the
        training and prediction functions) and :func:`time_functions`'s
        figures.

    Raises
    ------
    ValueError
        Unknown net or hyperparameter, or too few faces.
    """
    _check_faces(faces, **timing)
    params = dict(params or {})
    layer = _build(name, faces, params, seed)
    trainer = Trainer(net=name, net_params=params, **TRAINING)
    started = time.perf_counter()
    train_fn, predict_fn, _, _ = trainer.compile_functions(layer)
    row = {"net": name, "params": params,
           "n_params": int(lasagne.layers.count_params(layer)),
           "compile_s": time.perf_counter() - started}
    row.update(time_functions(train_fn, predict_fn, faces, seed=seed,
                              **timing))
    return row


def measure_twin(name, faces, memory_format="channels_last", params=None,
                 seed=0, **timing):
    """:func:`measure_net` for the PyTorch twin of the net
    (:func:`kfkd.peer.twin`: the same layers, weights copied from the
    Lasagne net) in ``memory_format`` ('nchw' or 'channels_last'); the
    same protocol (:func:`time_functions`) and update rule
    (:data:`TRAINING`, ``torch.optim.SGD(nesterov=True)``).

    Returns
    -------
    dict
        ``net``, ``memory_format``, ``n_params`` (the twin's parameters and
        batch-norm running averages) and :func:`time_functions`'s figures.

    Raises
    ------
    UsageError
        torch is not installed, or the net has a layer with no twin.
    """
    _check_faces(faces, **timing)
    twin = peer.twin(_build(name, faces, dict(params or {}), seed))
    train_fn, predict_fn = twin.copy_weights().functions(
        memory_format=memory_format, **TRAINING)
    row = {"net": name, "memory_format": memory_format,
           "n_params": twin.count_params()}
    row.update(time_functions(train_fn, predict_fn, faces, seed=seed,
                              **timing))
    return row


def profile_train_step(name, faces, steps=3, batch_size=128, params=None,
                       seed=0):
    """Where kfkd's training step spends its time, by Theano op class.

    Compiles the training function of :func:`measure_net` with Theano's
    profiler (``theano.compile.profiling.ProfileStats``), runs one untimed
    step, then ``steps`` profiled steps of ``batch_size`` real faces, and
    adds each op's time (``apply_time``) up by the op's class.

    Returns
    -------
    total_s : float
        Seconds in ops per step.
    classes : list of (str, float)
        ``(op class name, fraction of total_s)``, largest first
        (``Elemwise``, ``MaxPoolGrad``, ``CorrMM_gradWeights``, ...).
    """
    from theano.compile.profiling import ProfileStats  # kfkd.compat's Theano

    profile = ProfileStats(atexit_print=False)
    layer = _build(name, faces, dict(params or {}), seed)
    train_fn = Trainer(net=name, net_params=dict(params or {}),
                       **TRAINING).compile_functions(layer, profile)[0]
    step = _train_step(train_fn, faces, batch_size, seed)
    step()
    profile.apply_time.clear()
    _timed(step, steps)
    by_class = profile.class_time()
    total = sum(by_class.values())
    classes = sorted(((cls.__name__, t / total) for cls, t in by_class.items()),
                     key=lambda item: -item[1])
    return total / steps, classes


def benchmark(names, faces, reference="net6", progress=None, **kwargs):
    """:func:`measure_net` for each net, with training speed relative to
    ``reference``.

    Parameters
    ----------
    names : sequence of str
        Nets to measure (at their default hyperparameters).
    faces : kfkd.data.KeypointData
    reference : str
        The net whose training throughput is the unit of ``train_vs_reference``;
        measured too if not in ``names`` (and then listed last).
    progress : callable, optional
        Called with each result as it is measured (e.g. to print it).
    **kwargs
        Passed to :func:`measure_net`.

    Returns
    -------
    list of dict
        One per net, in order, each with ``train_vs_reference`` added.
    """
    names = list(names)
    if reference not in names:
        names.append(reference)
    rows = []
    for name in names:
        rows.append(measure_net(name, faces, **kwargs))
        if progress is not None:
            progress(rows[-1])
    ref = next(r for r in rows if r["net"] == reference)
    for row in rows:
        row["train_vs_reference"] = (row["train_images_per_s"]
                                     / ref["train_images_per_s"])
    return rows


def format_table(rows):
    """The rows of :func:`benchmark` as a fixed-width text table."""
    widths = [len(fmt % (0 if "d" in fmt or "f" in fmt else ""))
              for _, _, fmt in COLUMNS]
    lines = ["  ".join(h.rjust(w) if i else h.ljust(w) for i, ((_, h, _), w)
                       in enumerate(zip(COLUMNS, widths)))]
    for row in rows:
        lines.append("  ".join(fmt % row[key] for key, _, fmt in COLUMNS))
    return "\n".join(lines)


#: The peer's columns: (memory format, header); and the measures compared,
#: (key, title, True where more is faster).
PEER_COLUMNS = (("nchw", "torch NCHW"), ("channels_last", "torch CL"))
PEER_MEASURES = (
    ("train_images_per_s", "training img/s (forward + backward + update)",
     True),
    ("train_images_per_cpu_s", "training img per CPU-second (all threads)",
     True),
    ("infer_images_per_s", "inference img/s (batch 256)", True),
    ("latency_ms", "batch-1 latency ms", False),
)


def format_peer_table(rows, twins):
    """kfkd's rows (:func:`benchmark`) beside its twins' (:func:`measure_twin`)
    as text: parameter counts, then per measure one line per net with
    kfkd's figure, each twin's and ``kfkd/CL``, kfkd's speed over the
    channels_last twin's (> 1: kfkd is faster; for latency, CL ms / kfkd ms).

    ``twins``: ``{(net, memory format): row}``.
    """
    names = [r["net"] for r in rows]
    lines = ["%-8s  %12s  %12s" % ("net", "kfkd params", "torch params")]
    for row in rows:
        count = twins[row["net"], "channels_last"]["n_params"]
        lines.append("%-8s  %12d  %12d%s" % (
            row["net"], row["n_params"], count,
            "" if count == row["n_params"] else "  (differ!)"))
    for key, title, faster_up in PEER_MEASURES:
        lines += ["", title, "%-8s  %10s  %10s  %10s  %8s" % (
            ("net", "kfkd") + tuple(h for _, h in PEER_COLUMNS) + ("kfkd/CL",))]
        for name, row in zip(names, rows):
            peers = [twins[name, fmt][key] for fmt, _ in PEER_COLUMNS]
            ratio = row[key] / peers[-1] if faster_up else peers[-1] / row[key]
            lines.append("%-8s  %10.2f  %10.2f  %10.2f  %7.2fx" % (
                (name, row[key]) + tuple(peers) + (ratio,)))
    return "\n".join(lines)


def _measure_peer(rows, faces, threads, **timing):
    """:func:`measure_twin` of each net of ``rows`` in each memory format;
    -> ``{(net, memory format): row}``."""
    peer.import_torch().set_num_threads(threads)
    twins = {}
    for row in rows:
        for fmt, _ in PEER_COLUMNS:
            twins[row["net"], fmt] = measure_twin(row["net"], faces, fmt,
                                                  **timing)
        print("  measured the PyTorch twins of %s" % row["net"], flush=True)
    return twins


def _print_profile(name, faces, batch_size, top=8):
    """Print :func:`profile_train_step`'s ``top`` op classes for ``name``."""
    total, classes = profile_train_step(name, faces, batch_size=batch_size)
    print("\nTheano profile of the kfkd training step of %s (batch %d): "
          "%.3f s in ops per step" % (name, batch_size, total))
    for cls, fraction in classes[:top]:
        print("  %-24s %5.1f %%" % (cls, 100 * fraction))
    if classes[top:]:
        print("  %-24s %5.1f %%" % ("(%d more)" % len(classes[top:]),
                                    100 * sum(f for _, f in classes[top:])))


def run(nets_text, batches, batch_size, data_dir=None, peer_name=None,
        threads=None, profile=False):
    """Measure the nets and print the table (``kfkd benchmark``).

    Per net (default hyperparameters), on the first :data:`FACES` real faces
    of training.csv and in one run (:func:`benchmark`): parameter count,
    seconds to compile the training and prediction functions, training
    throughput (images/s of forward + backward + Nesterov update over
    ``batches`` mini-batches of ``batch_size`` after one warm-up), that
    throughput as a ratio to net6's in the same run (``x ref``), median
    batch-1 latency (ms) and batch-256 inference throughput (images/s).
    Prints the 1-minute load average before and after: the figures depend
    on what else the machine runs.

    Parameters
    ----------
    nets_text : str
        Comma-separated net names (net6, the reference, is always measured).
    batches, batch_size : int
    data_dir : str, optional
    peer_name : {None, 'torch'}
        Also measure each net's PyTorch twin, NCHW and channels_last
        (:func:`measure_twin`), and print them beside kfkd
        (:func:`format_peer_table`) and the profile of kfkd's training
        step (``profile``).
    threads : int, optional
        Threads of Theano's BLAS (:func:`kfkd.compat.set_blas_threads`)
        and of PyTorch (default: the number of cores).
    profile : bool
        Print the share of each Theano op class in each net's training step
        (:func:`profile_train_step`).

    Returns
    -------
    list of dict
        :func:`benchmark`'s rows.

    Raises
    ------
    UsageError
        ``peer_name`` is 'torch' and torch is not installed.
    """
    if peer_name is not None:
        peer.import_torch()  # before any data loads or anything compiles
    threads = threads or os.cpu_count()
    faces = load_training(find_file("training.csv", data_dir),
                          verbose=False).subset(slice(0, FACES))
    print("load average (1 min) at start: %.2f on %d cores; threads: %d "
          "(Theano's BLAS: %s)" % (os.getloadavg()[0], os.cpu_count(),
                                   threads, compat.set_blas_threads(threads)))
    print("%d real faces; training batch %d, %d timed batches after 1 "
          "warm-up\n" % (len(faces), batch_size, batches))
    rows = benchmark(
        nets_text.split(","), faces, reference="net6", batches=batches,
        batch_size=batch_size,
        progress=lambda r: print("  measured %s (%.0f s to compile)"
                                 % (r["net"], r["compile_s"]), flush=True))
    if peer_name is not None:
        twins = _measure_peer(rows, faces, threads, batches=batches,
                              batch_size=batch_size)
    print()
    print(format_table(rows))
    print("\nx ref: training throughput / net6's in this run")
    if peer_name is not None:
        print("\nPyTorch %s twins (the same layers and parameter counts; "
              "threads: %d), the same run:\n" % (
                  peer.import_torch().__version__, threads))
        print(format_peer_table(rows, twins))
    if profile or peer_name is not None:
        for row in rows:
            _print_profile(row["net"], faces, batch_size)
    print("load average (1 min) at end: %.2f" % os.getloadavg()[0])
    return rows
