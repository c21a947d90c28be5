"""``kfkd benchmark`` (the speed of the nets, :func:`kfkd.benchmark.run`)
and ``kfkd benchmark-subnormals`` (what subnormal Adam accumulators cost a
step, :func:`kfkd.benchmark.run_subnormals`): their parsers, argument
checks and commands; :mod:`kfkd.cli` wires them in."""
from .checks import positive_int
from .errors import UsageError

__all__ = ["add_parsers", "CHECKS", "COMMANDS"]


def add_parsers(sub):
    """Add ``benchmark`` and ``benchmark-subnormals`` to a ``kfkd``
    subcommand parser."""
    p = sub.add_parser("benchmark", help="speed of each net: compile time, "
                       "training and inference throughput")
    p.add_argument("--nets", default="net1,net2,net6,breeze",
                   help="comma-separated nets (net6, the reference, is "
                   "always measured)")
    p.add_argument("--batches", type=positive_int, default=3,
                   help="timed mini-batches per measurement")
    p.add_argument("--batch-size", type=positive_int, default=128)
    p.add_argument("--data-dir", help="default: $KFKD_DATA_DIR")
    p.add_argument("--peer", choices=["torch"],
                   help="also measure each net's PyTorch twin, NCHW and "
                   "channels_last, print kfkd / PyTorch ratios and kfkd's "
                   "training-step profile (needs pip install torch==2.13.0, "
                   "not a kfkd dependency)")
    p.add_argument("--threads", type=positive_int,
                   help="threads of Theano's BLAS and of PyTorch (default: "
                   "the number of cores)")
    p.add_argument("--profile", action="store_true",
                   help="print the share of each Theano op class in each "
                   "net's training step")
    p.add_argument("--engines", default="custom",
                   help="comma-separated engines each net is measured with: "
                   "custom (kfkd's C ops), stock (Lasagne's layers); "
                   "default custom")
    p = sub.add_parser("benchmark-subnormals", help="seconds per Adam step "
                       "with the accumulators at zero and subnormal, without "
                       "and with subnormals flushed to zero")
    p.add_argument("--net", default="net6", help="default net6")
    p.add_argument("--engine", default="stock", choices=("custom", "stock"))
    p.add_argument("--steps", type=positive_int, default=10)
    p.add_argument("--batch-size", type=positive_int, default=32)
    p.add_argument("--data-dir", help="default: $KFKD_DATA_DIR")


def check_benchmark(args):
    """Every net of ``--nets`` exists; ``--peer torch`` finds torch."""
    from . import nets, peer  # the Theano boundary

    for name in args.nets.split(","):
        try:
            nets.check_params(name, {})
        except UsageError as e:
            raise UsageError("--nets: %s" % e)
    for engine in args.engines.split(","):
        if engine not in nets.ENGINES:
            raise UsageError("--engines: unknown engine %r; known: %s" % (
                engine, ", ".join(sorted(nets.ENGINES))))
    if args.peer is not None:
        peer.import_torch()


def check_subnormals(args):
    """``--net`` exists."""
    from . import nets  # the Theano boundary

    try:
        nets.check_params(args.net, {})
    except UsageError as e:
        raise UsageError("--net: %s" % e)


def cmd_benchmark(args):
    from . import benchmark  # the Theano boundary

    return benchmark.run(args.nets, args.batches, args.batch_size,
                         args.data_dir, peer_name=args.peer,
                         threads=args.threads, profile=args.profile,
                         engines_text=args.engines)


def cmd_benchmark_subnormals(args):
    from . import benchmark  # the Theano boundary

    return benchmark.run_subnormals(args.net, args.engine, args.steps,
                                    args.batch_size, args.data_dir)


CHECKS = {"benchmark": check_benchmark,
          "benchmark-subnormals": check_subnormals}
COMMANDS = {"benchmark": cmd_benchmark,
            "benchmark-subnormals": cmd_benchmark_subnormals}
