"""Compose the A1 portrait poster (PDF) from the saved figures.

    python poster/build.py [--figures figures] [--out poster/poster.pdf]

Reads the figures and their data written by
``python experiments/reproduce_figures.py`` (:func:`kfkd.report.build_poster`)
and writes the PDF, a layout JSON and a PNG preview beside it.
"""
import argparse
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from kfkd.report import build_poster  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--figures", default=os.path.join(REPO, "figures"))
    p.add_argument("--out", default=os.path.join(REPO, "poster",
                                                 "poster.pdf"))
    args = p.parse_args(argv)
    try:
        layout = build_poster(args.figures, args.out)
    except FileNotFoundError as e:
        print("poster/build.py: error: %s" % e, file=sys.stderr)
        return 2
    print("wrote %s (%d panels, %d x %d mm)" % (
        args.out, len(layout["panels"]), *layout["page_mm"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
