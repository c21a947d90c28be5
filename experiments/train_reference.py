"""Train the reference model in stages: base, pseudo-labels, specialists.

Usage::

    python experiments/train_reference.py --stage base --config CONFIG \\
        --minutes 60 --out runs/reference/base
    python experiments/train_reference.py --stage pseudo|specialists|continue \\
        --from runs/reference/base --minutes 30 --out runs/reference/STAGE

The stages and options are described in :mod:`kfkd.recipe`
(``--help`` lists them); ``--config`` is anything ``kfkd train --config``
reads (a flat config, a search's best.json, a model folder).
"""
import os
import sys

# Runnable from a checkout without ``pip install -e .``.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from kfkd.recipe import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
