"""The ``augment`` figure group: one face before and after each transform,
and exposure correction of over-exposed faces."""
import os

import numpy as np

from ...augment import Augmenter, equalize_exposure
from ...fileio import write_json
from ...keypoints import KeypointSchema
from .. import store
from ..faces_plots import augmentation_figure, exposure_figure
from ...plotting import save_figure

__all__ = ["NAME", "run", "AUGMENT_EXAMPLES", "augmentation_examples"]

#: The group's name (:data:`kfkd.report.groups.GROUPS`).
NAME = "augment"


#: (title, transform parameters) shown by :func:`augmentation_examples`;
#: parameters as :meth:`kfkd.augment.Augmenter.sample_params` returns them.
AUGMENT_EXAMPLES = (
    ("flip", {"flip": True}),
    ("rotation +10 deg", {"angle": 10.0}),
    ("shift (+3, -3) px", {"shift": (3.0, -3.0)}),
    ("scale 1.05", {"scale": 1.05}),
    ("brightness +0.15", {"brightness": 0.15}),
    ("contrast x0.6", {"contrast": 0.6}),
)


def _one_face_params(flip=False, angle=0.0, scale=1.0, shift=(0.0, 0.0),
                     contrast=1.0, brightness=0.0):
    return {"flip": np.array([flip]), "angle": np.array([angle]),
            "scale": np.array([scale]), "shift": np.array([shift], float),
            "contrast": np.array([contrast]),
            "brightness": np.array([brightness])}


def augmentation_examples(out_dir, budget="quick", redraw=False,
                          data_dir=None, n_random=5, n_exposure=6, seed=0):
    """One face before and after each transform; exposure correction.

    The transforms are those of :class:`kfkd.augment.Augmenter`, one at a
    time at the strengths ``kfkd train`` uses by default (flip, rotation
    10 deg, shift 3 px, scale 5%; brightness and contrast, off by default,
    at visible strengths), then ``n_random`` random draws of the default
    training augmenter.  Exposure: the ``n_exposure`` training faces with
    the largest share of near-white pixels (grey level >= 0.9), corrected
    by :func:`kfkd.augment.equalize_exposure` ('clahe' and 'hist').

    Writes ``augment/augment.npz`` (``images (M, 1, 96, 96)``,
    ``keypoints (M, 30)``, ``titles``), ``augment/augment.json`` (the face,
    the transform parameters), ``augment/exposure.npz`` (``original``,
    ``clahe``, ``hist``, ``index``, ``white_share``) and the figures
    ``augmentation`` and ``exposure``.

    Returns
    -------
    dict
        ``written``.
    """
    folder = store.folder(out_dir, "augment")
    paths = [os.path.join(folder, f) for f in (
        "augment.npz", "augment.json", "exposure.npz")]
    written = []
    if not redraw:
        train, _ = store.split(data_dir)
        written += _save_transforms(paths[0], paths[1], train, n_random, seed)
        written.append(_save_exposure(paths[2], train, n_exposure))
    store.need(*paths)
    return {"written": written + _draw(folder, paths[0], paths[2])}


def _transforms(image, kp, n_random, seed):
    """Each transform of :data:`AUGMENT_EXAMPLES` and ``n_random`` random
    draws of the default training augmenter applied to one face.

    Returns
    -------
    titles, images, keypoints, params : lists, the original first
    default : Augmenter
        The random draws' augmenter.
    """
    every = Augmenter(flip=True, rotation=10, shift=3, scale=0.05,
                      brightness=0.15, contrast=0.4)
    titles, images, keypoints, params = ["original"], [image[0]], [kp[0]], []
    for title, p in AUGMENT_EXAMPLES:
        out, moved = every.apply(image, kp, _one_face_params(**p))
        titles.append(title)
        images.append(out[0])
        keypoints.append(moved[0])
        params.append({"title": title, "params": {
            k: list(v) if isinstance(v, tuple) else v
            for k, v in p.items()}})
    default = Augmenter(flip=True, rotation=10, shift=3, scale=0.05)
    rng = np.random.RandomState(seed)
    for k in range(n_random):
        drawn = default.sample_params(1, rng)
        out, moved = default.apply(image, kp, drawn)
        titles.append("random %d" % (k + 1))
        images.append(out[0])
        keypoints.append(moved[0])
        params.append({"title": titles[-1], "params": {
            key: np.asarray(v).ravel().tolist()
            for key, v in drawn.items()}})
    return titles, images, keypoints, params, default


def _save_transforms(npz, js, train, n_random, seed):
    """The transforms of the first fully labelled face, saved; the paths."""
    full = np.flatnonzero(np.isfinite(train.keypoints).all(axis=1))
    face = int(full[0])
    image, kp = train.images[face:face + 1], train.keypoints[face:face + 1]
    titles, images, keypoints, params, default = _transforms(
        image, kp, n_random, seed)
    written = [store.save_npz(npz, images=np.array(images),
                              keypoints=np.array(keypoints),
                              titles=np.array(titles))]
    write_json(js, {
        "face": face, "source": "training split, first fully labelled "
        "face", "transforms": params,
        "random_augmenter": {k: v for k, v in default.get_params().items()
                             if k != "schema"}})
    return written + [js]


def _save_exposure(path, train, n_exposure):
    """The most over-exposed training faces and their corrections, saved."""
    white = (train.images >= 0.9).mean(axis=(1, 2, 3))
    worst = np.argsort(white)[::-1][:n_exposure]
    originals = train.images[worst]
    return store.save_npz(
        path, original=originals,
        clahe=equalize_exposure(originals, "clahe"),
        hist=equalize_exposure(originals, "hist"), index=worst,
        white_share=white[worst])


def _draw(folder, augment_npz, exposure_npz):
    """The figures ``augmentation`` and ``exposure`` from the saved files."""
    d = store.load_npz(augment_npz)
    left = np.array([n.startswith("left")
                     for n in KeypointSchema.kaggle().names])
    examples = [(str(t), im, kp) for t, im, kp in zip(
        d["titles"], d["images"], d["keypoints"])]
    written = save_figure(augmentation_figure(examples, left),
                          os.path.join(folder, "augmentation"))
    e = store.load_npz(exposure_npz)
    rows = [("original", e["original"]), ("CLAHE", e["clahe"]),
            ("histogram\nequalised", e["hist"])]
    titles = ["#%d: %.0f%% >= 0.9" % (i, 100 * w)
              for i, w in zip(e["index"], e["white_share"])]
    return written + save_figure(exposure_figure(rows, titles),
                                 os.path.join(folder, "exposure"))

def run(out_dir, budget, redraw, data_dir=None, **context):
    """The group protocol (:mod:`kfkd.report.groups`)."""
    return augmentation_examples(out_dir, budget, redraw, data_dir)
