"""Redraw a stored study's results.csv, best.json and 3D surfaces.

    python experiments/plot_search.py --study default [--out runs] [--storage URL]
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from kfkd.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["plot-search"] + sys.argv[1:]))
