"""Random grid search: search spaces, the Optuna study, device workers.

The 2015 paper chose its configuration by random search (Bergstra & Bengio
2012, "Random Search for Hyper-Parameter Optimization", JMLR 13) run as GPU
jobs.  A **trial** is one kfkd training run with early stopping under a
per-trial budget; its value is the best validation RMSE in pixels.  One
module per concern:

* :mod:`.space` -- what is sampled: a search space (``suggest(trial)``,
  ``FIXED``, ``SURFACES``, ``LOG_KEYS``), shipped in :mod:`.spaces` and found
  by name, or loaded from an explicit path; the first ``n_trials``
  configurations come from Optuna's seeded RandomSampler, reproducibly;
* :mod:`.storage` -- where the study lives (a journal file, repaired after a
  torn write, or a database) and the space and seed it records;
* :mod:`.slots` -- device slots (``cpu``, ``cuda0``, ...) and each worker's
  environment;
* :mod:`.protocol` -- what driver and workers agree on: claiming a trial,
  exit statuses, the ``interrupted`` mark;
* :mod:`.worker` -- one process per slot (``python -m kfkd.search.worker``)
  that trains the trials it claims; the only module that imports Theano
  (lazily), and not imported here;
* :mod:`.heartbeat` -- a database study's heartbeats: a trial whose worker
  went silent (another machine lost) is found and failed;
* :mod:`.reconcile` -- failing the trials of dead workers (bounded retries
  of killed or silent ones) and enqueueing what is missing;
* :mod:`.driver` -- :class:`Driver`, which keeps the slots busy;
* :mod:`.results` -- ``results.csv``, THE best trial, ``best.json``,
  ``best_model/``, the importances and the surfaces;
* :mod:`.response` -- the fitted response surfaces (Gaussian process over
  the sampled axes) and fANOVA importances; :mod:`.plots` draws them;
* :mod:`.benchmark` -- trials per hour.

Bad options, spaces, storage URLs and resumes with another seed or space
raise :class:`kfkd.errors.UsageError` / :class:`kfkd.errors.SearchError`
(one line from the ``kfkd`` command) before anything is written.
"""
import optuna

from .benchmark import trials_per_hour
from .driver import Driver
from .protocol import (DATA_ERROR_EXIT, DEVICE_ERROR_EXIT, claim_trial,
                       exit_cause)
from .reconcile import MAX_CRASH_RETRIES, fail_orphans, progress, reconcile
from .results import best_trial, log_scaled_keys, results_frame, write_outputs
from .slots import default_devices, parse_devices, worker_env
from .space import (SPACES_DIR, SearchSpace, load_space, log_uniform_or_zero,
                    sample_configs, space_names, study_space)
from .storage import (check_study_name, open_storage, open_study,
                      repair_journal)

__all__ = ["SPACES_DIR", "SearchSpace", "load_space", "space_names",
           "log_uniform_or_zero", "sample_configs", "study_space",
           "check_study_name", "repair_journal", "open_storage", "open_study",
           "default_devices", "parse_devices", "worker_env", "claim_trial",
           "exit_cause", "DEVICE_ERROR_EXIT", "DATA_ERROR_EXIT",
           "MAX_CRASH_RETRIES", "fail_orphans", "reconcile", "progress",
           "results_frame", "best_trial", "log_scaled_keys", "write_outputs",
           "Driver", "trials_per_hour"]

optuna.logging.set_verbosity(optuna.logging.WARNING)
