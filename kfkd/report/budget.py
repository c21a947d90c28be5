"""How much computing the figure runs get: :class:`Budget` and its presets
:data:`BUDGETS` (``smoke`` for tests and notebooks, ``quick``, ``full``).

Examples
--------
>>> from kfkd.report.budget import BUDGETS
>>> sorted(BUDGETS)
['full', 'quick', 'smoke']
"""
import dataclasses

__all__ = ["Budget", "BUDGETS", "get_budget"]


@dataclasses.dataclass(frozen=True)
class Budget(object):
    """How much computing the figure runs get.

    Attributes
    ----------
    name : str
    limit : int or None
        Training runs use the first ``limit`` faces of training.csv (split
        80/20 as always, :func:`kfkd.splits.load_split`); None: all 3146.
    nets : tuple of str
        The nets of the training curves.
    net_minutes : float
        Budget of each net's run (``kfkd train --max-minutes``); in the
        full budget a cap that early stopping (``patience``) is expected to
        come before.
    net_max_epochs : int
    ablation_params : tuple of str
        ``NAME=VALUE`` net hyperparameters of the ablated breeze (``--param``).
    ablation_minutes : float
    ablation_max_epochs : int
    patience : int
        Early-stopping patience (epochs) of all runs.
    search_space : str
        Space of the study run when no stored study exists.
    search_trials : int
    search_minutes : float or None
        Per-trial wall-clock cap of that study (None: its space's epochs).
    search_limit : int or None
        Faces for its trials.
    occlusion_faces, occlusion_stride : int
        Validation faces and stride (px) of the edge-free heat maps.
    compare_faces, compare_stride : int
        The same for the censor comparison (five censors).
    matched_faces, matched_stride : int
        The same for the censors at matched strength (0 faces: none),
        scaled on the first ``calibration_faces`` validation faces
        (:func:`kfkd.occlusion.run.compute_matched`).
    best_worst : int
        Faces in each row of the best/worst predictions.
    seeds : int
        Seeds (``--seed 0 .. seeds-1``) of every ablation and depth-study
        run, for their spread.
    depths : tuple of int
        Conv blocks of the depth study's breeze runs (``--param depth=D``),
        each with the ablations' arguments and minutes (a matched budget).
    search_long : tuple
        ``(study, trials, seed)`` of a longer study of the same space, run
        (or resumed) in ``runs/<study>`` and drawn beside the first in
        ``search/long/``; empty: none.
    """

    name: str
    limit: object
    nets: tuple
    net_minutes: float
    net_max_epochs: int
    ablation_params: tuple
    ablation_minutes: float
    ablation_max_epochs: int
    patience: int
    search_space: str
    search_trials: int
    search_minutes: float
    search_limit: object
    occlusion_faces: int
    occlusion_stride: int
    compare_faces: int
    compare_stride: int
    best_worst: int = 6
    seeds: int = 1
    depths: tuple = ()
    search_long: tuple = ()
    matched_faces: int = 0
    matched_stride: int = 2
    calibration_faces: int = 32

    def to_dict(self):
        """JSON-ready dict of the settings."""
        d = dataclasses.asdict(self)
        d["nets"], d["ablation_params"] = list(self.nets), list(
            self.ablation_params)
        d["depths"] = list(self.depths)
        d["search_long"] = list(self.search_long)
        return d


#: Presets: ``smoke`` (tests, notebooks under test: seconds per run),
#: ``quick`` (the whole reproduction in at most ~15 minutes on 2 cores) and
#: ``full`` (real budgets: hours; the ablation and depth runs share their
#: baseline, 3 seeds each: 30 runs of 15 minutes; the nets 5 trained until
#: early stopping, at most 6 hours each (on one core); the
#: search: the main job's 40-trial study and a 100-trial one).
BUDGETS = {
    "smoke": Budget("smoke", limit=150, nets=("net1", "net2"),
                    net_minutes=0.2, net_max_epochs=2,
                    ablation_params=("depth=2", "width=4", "dense_units=16"),
                    ablation_minutes=0.2, ablation_max_epochs=2, patience=5,
                    search_space="tiny", search_trials=2, search_minutes=0.1,
                    search_limit=150, occlusion_faces=2, occlusion_stride=12,
                    compare_faces=2, compare_stride=12, best_worst=3,
                    depths=(1, 2), search_long=("figures-smoke-long", 2, 1),
                    matched_faces=1, matched_stride=12, calibration_faces=2),
    "quick": Budget("quick", limit=800, nets=("net1", "net2", "net6",
                                               "breeze"),
                    net_minutes=1.2, net_max_epochs=200,
                    ablation_params=("width=8", "dense_units=64"),
                    ablation_minutes=1.0, ablation_max_epochs=200,
                    patience=20, search_space="tiny", search_trials=4,
                    search_minutes=0.2, search_limit=300, occlusion_faces=4,
                    occlusion_stride=6, compare_faces=4, compare_stride=8,
                    depths=(2, 4)),
    "full": Budget("full", limit=None, nets=("net1", "net2", "net6",
                                              "breeze", "heatmap"),
                   net_minutes=360.0, net_max_epochs=1000, ablation_params=(),
                   ablation_minutes=15.0, ablation_max_epochs=1000,
                   patience=25, search_space="default", search_trials=40,
                   search_minutes=None, search_limit=None, occlusion_faces=16,
                   occlusion_stride=2, compare_faces=8, compare_stride=4,
                   seeds=3, depths=(2, 3, 4, 5, 6),
                   search_long=("long", 100, 1), matched_faces=8,
                   matched_stride=2, calibration_faces=32),
}


def get_budget(budget):
    """A :class:`Budget` from its name (or a Budget, returned as is).

    Raises
    ------
    ValueError
        Unknown name.
    """
    if isinstance(budget, Budget):
        return budget
    if budget not in BUDGETS:
        raise ValueError("unknown budget %r; known: %s"
                         % (budget, ", ".join(sorted(BUDGETS))))
    return BUDGETS[budget]


#: ``kfkd train`` arguments of each net's training curve (beyond the
#: budget's).  net1 as in Nouri (2014): Nesterov momentum, learning rate
