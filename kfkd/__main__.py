"""``python -m kfkd``: the same as the ``kfkd`` command."""
import sys

from kfkd.cli import main

sys.exit(main())
