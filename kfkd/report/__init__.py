"""The paper's figures and poster, each figure from a real run, its data
saved beside it (no Theano unless a group trains or predicts).

Every figure group (:mod:`kfkd.report.groups`, one module per group)
writes into ``<out_dir>/<group>/`` the data it computed and then draws its
figures *from those saved files*, so that ``redraw=True`` draws the same
figures again without training, a model or the data.  Every training run
is exactly a ``kfkd train`` command (:mod:`kfkd.report.runs`), recorded
with its results.  How long the runs are is set by a :class:`Budget`
(:data:`BUDGETS`).  :func:`build_poster` lays the saved figures out on an
A1 page.

==========================  ============================================
module                      what it holds
==========================  ============================================
``budget``                  :class:`Budget`, :data:`BUDGETS`
``store``                   saved files: paths, readers and writers
``runs``                    the ``kfkd train`` runs of the curve groups
``groups``                  one module per figure group, a registry
``reproduce``               :func:`reproduce`: run groups, manifest
``kfkd.plotting``          :func:`save_figure`, faces and keypoints
``*_plots``                 the figures by family (arrays in, figure out)
``poster``, ``poster_layout``  the A1 poster and its layout check
``command``                 the command line of ``reproduce_figures.py``
==========================  ============================================

Examples
--------
>>> from kfkd import report
>>> sorted(report.BUDGETS)
['full', 'quick', 'smoke']
>>> report.GROUPS[:3]
('samples', 'augment', 'training')
"""
from . import groups
from .budget import BUDGETS, Budget, get_budget
from .groups import GROUPS
from ..plotting import save_figure
from .poster import build_poster
from .reproduce import reproduce

__all__ = ["Budget", "BUDGETS", "get_budget", "GROUPS", "groups",
           "reproduce", "build_poster", "save_figure"]
