"""The published systems side by side: the README's comparison table.

    python experiments/compare_systems.py runs/systems [more run folders]
    python experiments/compare_systems.py runs/systems --commands --minutes 10
    python experiments/compare_systems.py runs/systems15 --figures figures
Reads the model folder of each system in ``runs/systems/NAME`` (and the
CPU time from ``runs/systems/NAME.log``) and prints a Markdown table
(:func:`kfkd.systems.markdown_table`); ``--commands`` prints the ``kfkd
train`` commands that make the runs instead (:func:`kfkd.systems.commands`);
``--figures DIR`` also keeps the table and its rows in ``DIR/systems.md``
and ``DIR/systems/systems.csv`` (the README's table and the poster's panel:
:func:`kfkd.systems.write_figure_data`).
"""
import argparse
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

from kfkd import systems  # noqa: E402
from kfkd.errors import UsageError  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("runs", nargs="+", help="folders of runs, one per system")
    p.add_argument("--names", help="comma-separated runs (default: all)")
    p.add_argument("--commands", action="store_true")
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--missing", default="masked")
    p.add_argument("--figures", metavar="DIR",
                   help="also write DIR/systems.md and DIR/systems/systems.csv")
    args = p.parse_args(argv)
    names = args.names and args.names.split(",")
    try:
        if args.commands:
            print("\n".join(systems.commands(args.runs[0], args.minutes,
                                             names, args.missing)))
            return 0
        per_folder = [systems.comparison_rows(r, names) for r in args.runs]
        rows = sum(per_folder, [])
        print(systems.markdown_table(rows))
        if args.figures:
            for path in systems.write_figure_data(rows, args.figures, [
                    r for r, found in zip(args.runs, per_folder)
                    for _ in found]):
                print("wrote %s" % path, file=sys.stderr)
    except UsageError as e:
        print("error: %s" % e, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
