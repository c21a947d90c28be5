"""The main job: random search over breeze's hyperparameters, poor trials
stopped early by successive halving over epochs (kfkd.search.fidelity).

Runs trials as parallel worker processes on the device slots (CPU processes
here, GPUs where Theano has them), resumable, and plots the validation-RMSE
surfaces in 3D.  Same options as ``kfkd search``::

    python experiments/grid_search.py                       # 40 trials, 2 CPU workers
    python experiments/grid_search.py --trials 80 --minutes-per-trial 5
    python experiments/grid_search.py --devices cuda0,cuda1
    python experiments/grid_search.py --storage postgresql+psycopg://u:pw@host/kfkd --study big

(PostgreSQL needs its driver: ``pip install -e .[postgres]``.)  Rerunning the
same command resumes the study.  Outputs: runs/<study>/.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from kfkd.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["search"] + sys.argv[1:]))
