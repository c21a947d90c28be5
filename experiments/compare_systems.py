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
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

from kfkd.systems import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
