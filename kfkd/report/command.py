"""``kfkd figures``: the command line of the figures and the poster (one
parser-building function and one runner; ``experiments/reproduce_figures.py``
calls the subcommand)."""
import argparse
import dataclasses
import os
import time

from ..errors import UsageError
from .budget import BUDGETS, get_budget
from .groups import GROUPS
from .poster import build_poster
from .reproduce import reproduce
from .runs import parse_lane
from .store import REPO

__all__ = ["add_arguments", "add_parser", "build_parser", "run"]

#: What the command does (its help line).
DESCRIPTION = "Every figure of the paper, its data, and the poster, from " \
              "real runs."


def add_arguments(p):
    """Add the options of the figures command to the parser ``p``."""
    p.add_argument("--quick", action="store_true",
                   help="small budgets (~15 min on 2 cores) instead of the "
                   "full ones (hours)")
    p.add_argument("--budget", choices=sorted(BUDGETS),
                   help="a budget preset by name (overrides --quick)")
    p.add_argument("--out", default=os.path.join(REPO, "figures"),
                   help="figures folder (default: figures/)")
    p.add_argument("--only", help="comma-separated figure groups (default: "
                   "all: %s)" % ",".join(GROUPS))
    p.add_argument("--redraw", action="store_true",
                   help="redraw the figures and the poster from the saved "
                   "data only")
    p.add_argument("--model", help="model of the architecture, predictions "
                   "and occlusion figures (default: models/reference, or "
                   "$KFKD_MODEL)")
    p.add_argument("--study-dir", help="stored random-search study (default: "
                   "runs/default; if it has fewer than 3 complete trials a "
                   "small study is run)")
    p.add_argument("--data-dir", help="Kaggle data folder (default: "
                   "$KFKD_DATA_DIR)")
    p.add_argument("--runs", default=os.path.join(REPO, "runs"),
                   help="where the training runs are kept (default: runs/)")
    p.add_argument("--poster", default=os.path.join(REPO, "poster",
                                                    "poster.pdf"),
                   help="poster PDF to write (default: poster/poster.pdf)")
    p.add_argument("--lane", help="K/N: train only the K-th of N shares of "
                   "the unfinished runs (N processes side by side, e.g. one "
                   "per core); groups with runs left to other lanes are "
                   "drawn by a later call without --lane, which takes the "
                   "finished runs as they are")
    p.add_argument("--seeds", type=int, metavar="N",
                   help="seeds 0 to N-1 of every ablation and depth-study "
                   "variant instead of the budget's (e.g. --seeds 1, then "
                   "--seeds 2: every variant's first seed before any "
                   "second; the runs are the same either way)")
    p.add_argument("--draw-finished", action="store_true",
                   help="train nothing: draw the groups with training runs "
                   "from the runs finished so far (in --runs or recorded in "
                   "the figures folder); the tables say how many of the "
                   "budget's runs they hold")
    p.add_argument("--no-poster", action="store_true")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p


def build_parser(description=DESCRIPTION):
    """A standalone parser of the figures command."""
    return add_arguments(argparse.ArgumentParser(description=description))


def add_parser(subparsers):
    """Add ``figures`` to a ``kfkd`` subcommand parser; the subparser."""
    return add_arguments(subparsers.add_parser("figures", help=DESCRIPTION))


def run(args):
    """Make (or redraw) the figures and the poster from parsed ``args``.

    Returns
    -------
    dict
        The manifest of :func:`kfkd.report.reproduce`.
    """
    budget = get_budget(args.budget or ("quick" if args.quick else "full"))
    if args.seeds is not None:
        if args.seeds < 1:
            raise UsageError("--seeds %d: must be 1 or more" % args.seeds)
        budget = dataclasses.replace(budget, seeds=args.seeds)
    groups = args.only.split(",") if args.only else GROUPS
    unknown = [g for g in groups if g not in GROUPS]
    if unknown:
        raise UsageError("--only %s: unknown group %s (groups: %s)" % (
            args.only, ", ".join(unknown), ",".join(GROUPS)))
    lane = None
    if args.lane is not None:
        if args.redraw or args.draw_finished:
            raise UsageError("--lane %s: --%s trains nothing" % (
                args.lane, "redraw" if args.redraw else "draw-finished"))
        try:
            lane = parse_lane(args.lane)
        except ValueError as e:
            raise UsageError("--lane: %s" % e)
    started = time.time()
    manifest = reproduce(
        args.out, budget, groups, redraw=args.redraw, data_dir=args.data_dir,
        model=args.model, study_dir=args.study_dir, runs_dir=args.runs,
        verbose=not args.quiet, lane=lane, partial=args.draw_finished)
    if lane is not None:
        print("lane %d/%d: done; run again without --lane to draw the "
              "groups that waited for other lanes" % lane)
        return manifest
    if not args.no_poster:
        build_poster(args.out, args.poster)
        print("poster: %s" % args.poster)
    print("%s in %.1f min -> %s" % (
        "redrew the figures from their data" if args.redraw else
        "made the figures (budget %s)" % budget.name,
        (time.time() - started) / 60.0, args.out))
    return manifest
