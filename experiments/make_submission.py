"""Write a Kaggle submission (``RowId,Location``) with a trained model.

Usage::

    python experiments/make_submission.py [--model M] [--data-dir D] [--tta flip]
        [--out submission.csv] [--test-csv T] [--lookup L]

The same as ``kfkd submit``: the default model is the shipped reference
model (``models/reference``, or ``$KFKD_MODEL``); test.csv(.gz) and
IdLookupTable.csv(.gz) come from ``--data-dir`` (default ``$KFKD_DATA_DIR``)
unless given explicitly.  Prints the rows written, the number of test images
and the seconds taken; a data or submission error ends with one line on
stderr and exit status 2, and no file is written.
"""
import os
import sys

# Runnable from a checkout without ``pip install -e .``.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from kfkd.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["submit"] + sys.argv[1:]))
