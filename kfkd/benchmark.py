"""Speed of the nets: compile time, training and inference throughput.

What ``kfkd benchmark`` (and ``experiments/benchmark.py``) prints:
:func:`run`.  Every figure is measured (:mod:`kfkd.timing`) in one process
on real faces, and training throughput is also given as a ratio to a
reference net measured in the same run (``net6``, Nouri's largest), so that
figures taken on a busy machine still compare.  Each net can be measured
with both engines (:data:`kfkd.nets.ENGINES`: Lasagne's pooling and dropout,
or kfkd's C ops).  With ``--peer torch`` each net's PyTorch twin
(:mod:`kfkd.peer`) is timed by the same protocol in the same run, and the
Theano profile of each training step is split by op class
(:func:`kfkd.timing.profile_train_step`).
"""
from . import compat  # configures Theano, shims Lasagne

import os

from . import nets, peer
from .data import find_file, load_training
from .timing import (FACES, measure_net, measure_twin, profile_train_step,
                     subnormal_state_steps)

__all__ = ["benchmark", "format_table", "format_peer_table", "run",
           "run_subnormals", "COLUMNS", "PEER_COLUMNS", "PEER_MEASURES"]

#: Table columns: (key of :func:`measure_net`'s dict, header, format).
COLUMNS = (
    ("net", "net", "%-8s"),
    ("engine", "engine", "%-7s"),
    ("n_params", "params", "%10d"),
    ("compile_s", "compile s", "%9.1f"),
    ("train_images_per_s", "train img/s", "%11.1f"),
    ("train_vs_reference", "x ref", "%6.2f"),
    ("latency_ms", "batch-1 ms", "%10.2f"),
    ("infer_images_per_s", "infer img/s", "%11.1f"),
)


def benchmark(names, faces, reference="net6", progress=None,
              engines=(nets.DEFAULT_ENGINE,), **kwargs):
    """:func:`measure_net` for each net and engine, with training speed
    relative to ``reference`` (with the same engine).

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
    engines : sequence of str
        Engines (:data:`kfkd.nets.ENGINES`) each net is measured with.
    **kwargs
        Passed to :func:`measure_net`.

    Returns
    -------
    list of dict
        One per net and engine (nets outer), each with
        ``train_vs_reference`` added.
    """
    names = list(names)
    if reference not in names:
        names.append(reference)
    rows = []
    for name in names:
        for engine in engines:
            rows.append(measure_net(name, faces, engine=engine, **kwargs))
            if progress is not None:
                progress(rows[-1])
    for row in rows:
        ref = next(r for r in rows if r["net"] == reference
                   and r["engine"] == row["engine"])
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
    as text: parameter counts, then per measure one line per net and
    engine with kfkd's figure, each twin's and ``kfkd/CL``, kfkd's speed
    over the channels_last twin's (> 1: kfkd is faster; for latency, CL ms
    / kfkd ms).

    ``twins``: ``{(net, memory format): row}``.
    """
    lines = ["%-8s  %12s  %12s" % ("net", "kfkd params", "torch params")]
    counted = {}
    for row in rows:
        counted.setdefault(row["net"], row["n_params"])
    for name, n_params in counted.items():
        count = twins[name, "channels_last"]["n_params"]
        lines.append("%-8s  %12d  %12d%s" % (
            name, n_params, count, "" if count == n_params else "  (differ!)"))
    for key, title, faster_up in PEER_MEASURES:
        lines += ["", title, "%-15s  %10s  %10s  %10s  %8s" % (
            ("net/engine", "kfkd") + tuple(h for _, h in PEER_COLUMNS)
            + ("kfkd/CL",))]
        for row in rows:
            peers = [twins[row["net"], fmt][key] for fmt, _ in PEER_COLUMNS]
            ratio = row[key] / peers[-1] if faster_up else peers[-1] / row[key]
            lines.append("%-15s  %10.2f  %10.2f  %10.2f  %7.2fx" % (
                ("%s/%s" % (row["net"], row["engine"]), row[key])
                + tuple(peers) + (ratio,)))
    return "\n".join(lines)


def _measure_peer(rows, faces, threads, **timing):
    """:func:`measure_twin` of each net of ``rows`` in each memory format;
    -> ``{(net, memory format): row}``."""
    peer.import_torch().set_num_threads(threads)
    twins = {}
    for name in dict.fromkeys(row["net"] for row in rows):
        for fmt, _ in PEER_COLUMNS:
            twins[name, fmt] = measure_twin(name, faces, fmt, **timing)
        print("  measured the PyTorch twins of %s" % name, flush=True)
    return twins


def _print_profile(name, faces, batch_size, engine, top=8):
    """Print :func:`profile_train_step`'s ``top`` op classes for ``name``."""
    total, classes = profile_train_step(name, faces, batch_size=batch_size,
                                        engine=engine)
    print("\nTheano profile of the kfkd training step of %s, engine %s "
          "(batch %d): %.3f s in ops per step" % (name, engine, batch_size,
                                                  total))
    for cls, fraction in classes[:top]:
        print("  %-24s %5.1f %%" % (cls, 100 * fraction))
    if classes[top:]:
        print("  %-24s %5.1f %%" % ("(%d more)" % len(classes[top:]),
                                    100 * sum(f for _, f in classes[top:])))


def run(nets_text, batches, batch_size, data_dir=None, peer_name=None,
        threads=None, profile=False, engines_text=nets.DEFAULT_ENGINE):
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
    engines_text : str
        Comma-separated engines (:data:`kfkd.nets.ENGINES`), each net is
        measured with each (``stock,custom``: what kfkd's C ops gain).

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
        batch_size=batch_size, engines=engines_text.split(","),
        progress=lambda r: print("  measured %s, engine %s (%.0f s to "
                                 "compile)" % (r["net"], r["engine"],
                                               r["compile_s"]), flush=True))
    if peer_name is not None:
        twins = _measure_peer(rows, faces, threads, batches=batches,
                              batch_size=batch_size)
    print()
    print(format_table(rows))
    print("\nx ref: training throughput / net6's (same engine) in this run")
    if peer_name is not None:
        print("\nPyTorch %s twins (the same layers and parameter counts; "
              "threads: %d), the same run:\n" % (
                  peer.import_torch().__version__, threads))
        print(format_peer_table(rows, twins))
    if profile or peer_name is not None:
        for row in rows:
            _print_profile(row["net"], faces, batch_size, row["engine"])
    print("load average (1 min) at end: %.2f" % os.getloadavg()[0])
    return rows


def run_subnormals(net="net6", engine="stock", steps=10, batch_size=32,
                   data_dir=None):
    """``kfkd benchmark-subnormals``: print what subnormal Adam
    accumulators cost a training step of
    ``net`` (:func:`kfkd.timing.subnormal_state_steps`, on the first
    :data:`FACES` faces of training.csv), without and with subnormals
    flushed (:mod:`kfkd.denormals`); -> the measured row.

    Raises
    ------
    kfkd.data.DataNotFoundError, kfkd.data.DataError
        No training.csv, or a bad one.
    """
    faces = load_training(find_file("training.csv", data_dir),
                          verbose=False).subset(slice(0, FACES))
    row = subnormal_state_steps(net, faces, steps, batch_size, engine=engine)
    print("%s (%s engine): %d parameters, %d Adam accumulator elements, "
          "batch %d, median of %d steps; load average (1 min) %.2f" % (
              net, engine, row["n_params"], row["n_accumulators"],
              batch_size, steps, os.getloadavg()[0]))
    for suffix, label in (("", "as the process starts"),
                          ("_flushed", "subnormals flushed")):
        zero, sub = row["zero" + suffix], row["subnormal" + suffix]
        print("  %-22s accumulators zero %.3f s/step, subnormal %.3f "
              "s/step: x%.2f" % (label, zero, sub, sub / zero))
    return row
