"""Speed of the nets: compile time, training and inference throughput.

What ``kfkd benchmark`` (and ``experiments/benchmark.py``) prints:
:func:`run`.  Every figure is measured in one
process on real faces, and training throughput is also given as a ratio to a
reference net measured in the same run (``net6``, Nouri's largest), so that
figures taken on a busy machine still compare.

Examples
--------
>>> from kfkd.data import find_file, load_training
>>> faces = load_training(find_file("training.csv"))  # doctest: +SKIP
>>> measure_net("net1", faces, batches=2)["train_images_per_s"] > 0
... # doctest: +SKIP
True
"""
from . import compat  # noqa: F401  (configures Theano, shims Lasagne)

import os
import statistics
import time

import lasagne
import numpy as np

from . import nets
from .data import find_file, load_training
from .objective import masked_targets
from .train import Trainer

__all__ = ["measure_net", "benchmark", "format_table", "run", "COLUMNS",
           "FACES"]

#: Faces of training.csv the benchmark runs on.
FACES = 512


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


def measure_net(name, faces, params=None, batches=3, batch_size=128,
                infer_batch_size=256, latency_runs=20, warmup=1, seed=0):
    """Time one net: compile, train step, batch-1 and batched inference.

    Parameters
    ----------
    name : str
        A net of :data:`kfkd.nets.NETS`.
    faces : kfkd.data.KeypointData
        Real faces ``(N, 1, 96, 96) float32 in [0, 1]`` with keypoints
        (pixels, NaN where unlabelled); ``N >= max(batch_size,
        infer_batch_size)``.
    params : dict, optional
        Net hyperparameters (default: the builder's defaults).
    batches : int
        Timed mini-batches, for training and for batched inference.
    batch_size : int
        Training mini-batch (forward, backward and a Nesterov-momentum
        update, as :class:`kfkd.train.Trainer` compiles it).
    infer_batch_size : int
        Batch of the inference throughput (deterministic pass, no dropout).
    latency_runs : int
        Single-face predictions timed for the median latency.
    warmup : int
        Untimed calls of each function first.
    seed : int
        Seeds the weights and dropout.

    Returns
    -------
    dict
        ``net``, ``params``, ``n_params`` (all parameters, including
        batch-norm running averages), ``compile_s`` (seconds to compile the
        training and prediction functions), ``train_images_per_s``,
        ``latency_ms`` (median, one face), ``infer_images_per_s``.

    Raises
    ------
    ValueError
        Unknown net or hyperparameter, or too few faces.
    """
    need = max(batch_size, infer_batch_size)
    if len(faces) < need:
        raise ValueError("need at least %d faces, got %d" % (need, len(faces)))
    params = dict(params or {})
    lasagne.random.set_rng(np.random.RandomState(seed))
    layer = nets.build(name, n_outputs=faces.schema.n_outputs, **params)
    trainer = Trainer(net=name, net_params=params, update="nesterov",
                      learning_rate=0.01, momentum=0.9)
    started = time.perf_counter()
    train_fn, predict_fn, _, _ = trainer.compile_functions(layer)
    compile_s = time.perf_counter() - started

    rng = np.random.RandomState(seed)
    targets, mask = masked_targets(faces.keypoints)

    def train_step():
        index = rng.choice(len(faces), batch_size, replace=False)
        train_fn(faces.images[index], targets[index], mask[index])

    one, many = faces.images[:1], faces.images[:infer_batch_size]
    _timed(train_step, warmup)
    train_s = sum(_timed(train_step, batches))
    _timed(lambda: predict_fn(one), warmup)
    latency = statistics.median(_timed(lambda: predict_fn(one), latency_runs))
    _timed(lambda: predict_fn(many), warmup)
    infer_s = sum(_timed(lambda: predict_fn(many), batches))
    return {
        "net": name,
        "params": params,
        "n_params": int(lasagne.layers.count_params(layer)),
        "compile_s": compile_s,
        "train_images_per_s": batches * batch_size / train_s,
        "latency_ms": 1000.0 * latency,
        "infer_images_per_s": batches * len(many) / infer_s,
    }


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


def run(nets_text, batches, batch_size, data_dir=None):
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

    Returns
    -------
    list of dict
        :func:`benchmark`'s rows.
    """
    faces = load_training(find_file("training.csv", data_dir),
                          verbose=False).subset(slice(0, FACES))
    print("load average (1 min) at start: %.2f on %d cores"
          % (os.getloadavg()[0], os.cpu_count()))
    print("%d real faces; training batch %d, %d timed batches after 1 "
          "warm-up\n" % (len(faces), batch_size, batches))
    rows = benchmark(
        nets_text.split(","), faces, reference="net6", batches=batches,
        batch_size=batch_size,
        progress=lambda r: print("  measured %s (%.0f s to compile)"
                                 % (r["net"], r["compile_s"]), flush=True))
    print()
    print(format_table(rows))
    print("\nx ref: training throughput / net6's in this run")
    print("load average (1 min) at end: %.2f" % os.getloadavg()[0])
    return rows
