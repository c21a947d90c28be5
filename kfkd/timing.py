"""Timing the nets: compile, training step, inference, Theano's profile.

The measurements behind ``kfkd benchmark`` (:mod:`kfkd.benchmark` prints
them): one protocol (:func:`time_functions`) for kfkd's compiled functions
(:func:`measure_net`, either engine of :data:`kfkd.nets.ENGINES`) and for
their PyTorch twins (:func:`measure_twin`, :mod:`kfkd.peer`), on the same
real faces, plus where kfkd's training step spends its time by Theano op
class (:func:`profile_train_step`).

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
from . import compat  # noqa: F401  (configures Theano, shims Lasagne)

import contextlib
import statistics
import time

import lasagne
import numpy as np

from . import nets, peer
from .objective import masked_targets
from .train import Trainer

__all__ = ["time_functions", "measure_net", "measure_twin",
           "profile_train_step", "images_per_second", "batch_norm_rates",
           "FACES", "TRAINING"]

#: Faces of training.csv the benchmark runs on.
FACES = 512

#: The update rule of every measured training step (kfkd's and the peer's):
#: :class:`kfkd.train.Trainer` settings.
TRAINING = {"update": "nesterov", "learning_rate": 0.01, "momentum": 0.9}


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


def _build(name, faces, params, seed, engine=nets.DEFAULT_ENGINE):
    lasagne.random.set_rng(np.random.RandomState(seed))
    return nets.build(name, n_outputs=faces.schema.n_outputs, engine=engine,
                      **params)


def measure_net(name, faces, params=None, seed=0, engine=nets.DEFAULT_ENGINE,
                **timing):
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
    engine : str
        The pooling and dropout layers (:data:`kfkd.nets.ENGINES`).
    **timing
        ``batches``, ``batch_size``, ``infer_batch_size``, ``latency_runs``,
        ``warmup`` of :func:`time_functions`.  Training is forward, backward
        and the :data:`TRAINING` update, as :class:`kfkd.train.Trainer`
        compiles it; inference is the deterministic pass (no dropout).

    Returns
    -------
    dict
        ``net``, ``engine``, ``params``, ``n_params`` (all parameters, including
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
    layer = _build(name, faces, params, seed, engine)
    trainer = Trainer(net=name, net_params=params, engine=engine, **TRAINING)
    started = time.perf_counter()
    train_fn, predict_fn, _, _ = trainer.compile_functions(layer)
    row = {"net": name, "engine": engine, "params": params,
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
                       seed=0, engine=nets.DEFAULT_ENGINE):
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
    layer = _build(name, faces, dict(params or {}), seed, engine)
    train_fn = Trainer(net=name, net_params=dict(params or {}), engine=engine,
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


def subnormal_state_steps(name, faces, steps=10, batch_size=32, seed=0,
                          engine="stock"):
    """Seconds per Adam training step of net ``name`` with its optimiser
    accumulators at zero and all subnormal, each with and without
    subnormals flushed (:func:`kfkd.denormals.flushed_denormals`).

    Adam's accumulators of parameters whose gradient stays zero end at the
    smallest float32 subnormal (:mod:`kfkd.denormals`); this measures what
    that costs a step.  The net is at its initial weights; one untimed
    step comes before each timed set, whose median is reported.

    Returns
    -------
    dict
        ``n_params``, ``n_accumulators`` (elements) and seconds per step
        ``zero``, ``subnormal``, ``zero_flushed``, ``subnormal_flushed``.
    """
    from .denormals import flushed_denormals

    layer = _build(name, faces, {}, seed, engine)
    trainer = Trainer(net=name, engine=engine, update="adam")
    train_fn = trainer.compile_functions(layer)[0]
    params = set(lasagne.layers.get_all_params(layer))
    accumulators = [v for v in train_fn.get_shared()
                    if v not in params and v.get_value().ndim > 0]
    step = _train_step(train_fn, faces, batch_size, seed)
    smallest = np.float32(1.4e-45)  # the smallest float32 subnormal
    row = {"net": name, "engine": engine,
           "n_params": lasagne.layers.count_params(layer, trainable=True),
           "n_accumulators": sum(v.get_value().size for v in accumulators)}
    for suffix, context in (("", contextlib.nullcontext),
                            ("_flushed", flushed_denormals)):
        for state, value in (("zero", 0.0), ("subnormal", smallest)):
            for v in accumulators:
                v.set_value(np.full_like(v.get_value(), value))
            with context():
                step()
                row[state + suffix] = statistics.median(_timed(step, steps))
    return row


def images_per_second(fn, n, images):
    """``"wall / CPU"``: images per wall-clock second and per CPU-second
    (all threads of this process) of ``n`` calls of ``fn()`` after one
    untimed call, each call handling ``images`` images."""
    fn()
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(n):
        fn()
    return "%.1f / %.1f" % (images * n / (time.perf_counter() - wall),
                            images * n / (time.process_time() - cpu))


def batch_norm_rates(faces, steps, fused, seed=0):
    """breeze with kfkd's pooling and dropout and the stock (``fused=False``)
    or fused batch norm: ``"train R | infer folded R | unfolded R"``, each
    R :func:`images_per_second` (training batch 128, inference batch 256
    with the batch norms folded or not) over ``steps`` calls on the first
    512 of ``faces`` (a :class:`kfkd.data.KeypointData`)."""
    import functools

    import theano

    from .layers import batch_norm
    engine = dict(nets.ENGINES["custom"], batch_norm=functools.partial(
        batch_norm, fused=fused))
    net = nets.build("breeze", n_outputs=faces.schema.n_outputs,
                     engine=engine)
    arrays = (faces.images[:512],) + masked_targets(faces.keypoints[:512])
    step, predict, _, _ = Trainer(net="breeze").compile_functions(net)
    x = lasagne.layers.get_all_layers(net)[0].input_var
    unfolded = theano.function([x], lasagne.layers.get_output(
        net, deterministic=True))
    rng = np.random.RandomState(seed)

    def train_step():
        pick = rng.choice(len(arrays[0]), 128, replace=False)
        step(*(a[pick] for a in arrays))
    return "train %s | infer folded %s | unfolded %s" % (
        images_per_second(train_step, steps, 128),
        images_per_second(lambda: predict(arrays[0][:256]), steps, 256),
        images_per_second(lambda: unfolded(arrays[0][:256]), steps, 256))
