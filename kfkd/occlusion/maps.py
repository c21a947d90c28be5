"""Occlusion-sensitivity heat maps (Zeiler & Fergus 2014, section 4.2).

A square patch slides over each face; for every position the censored faces
go through the network in batches and we measure, per keypoint, how far the
prediction moves (pixels) and, where labels exist, how much its error grows.
The network is any ``predict`` callable ``(M, 1, 96, 96) float32 in [0, 1]
-> (M, 2K) pixels`` or an object with such a ``predict`` method (a
:class:`kfkd.model.Model`): this module does not import Theano.
"""
import inspect
import time

import numpy as np
from tqdm.auto import tqdm

from ..transforms import check_images
from ..fileio import atomic_write
from .censors import CENSORS, GreyCensor, make_censor
from .geometry import patch_positions

__all__ = ["OcclusionMaps", "occlusion_maps", "compare_censors",
           "load_occlusion_maps"]


class OcclusionMaps(object):
    """Occlusion-sensitivity heat maps of N faces.

    Parameters
    ----------
    **fields
        The fields named in :attr:`ARRAYS` and :attr:`SCALARS` (and
        ``keypoint_names``), as :func:`occlusion_maps` makes them or
        :func:`load_occlusion_maps` reads them; the pixel maps
        (``displacement`` ... ``aggregate_error_increase``) are computed from
        the per-position values.

    Raises
    ------
    ValueError
        A field is missing.

    Attributes
    ----------
    displacement : ndarray, (N, K, 96, 96) float32, pixels
        Per keypoint, how far the prediction moves when the patch covers a
        pixel: ``|p_k(censored) - p_k(clean)|`` (Euclidean), averaged over
        the patch positions whose patch covers that pixel (the nominal
        ``patch x patch`` square for every censor, whatever its scale:
        a scaled censor's square is centred on it).
    error_increase : ndarray, (N, K, 96, 96) float32, pixels
        ``|p_k(censored) - y_k| - |p_k(clean) - y_k|`` with ``y_k`` the
        label, averaged the same way; NaN where keypoint ``k`` of a face is
        unlabelled.
    aggregate : ndarray, (N, 96, 96) float32, pixels
        ``displacement`` averaged over the K keypoints.
    aggregate_error_increase : ndarray, (N, 96, 96) float32, pixels
        ``error_increase`` averaged over the labelled keypoints (NaN if none).
    position_displacement, position_error_increase : ndarray, (N, P, K)
        The values per patch position before resampling.
    positions : ndarray, (P, 2) int
        Patch corners ``(y0, x0)``, :func:`patch_positions`.
    images : ndarray, (N, 1, 96, 96) float32
    clean_predictions : ndarray, (N, 2K) float32, pixels
    keypoints : ndarray, (N, 2K) float32, pixels, NaN where unlabelled
    patch, stride : int
    censor : str
        The censor's repr, e.g. ``"EdgeFreeCensor(sigma=6.0)"`` or
        ``"GreyCensor(level=0.41, scale=0.6)"``.
    censor_name : str
    keypoint_names : list of str
    seconds : float
        Wall time of censoring and the censored forward passes (not the
        clean prediction, whose first call may compile the network).
    """

    #: Saved fields; the pixel maps are derived from them.
    ARRAYS = ("position_displacement", "position_error_increase", "positions",
              "images", "clean_predictions", "keypoints")
    SCALARS = ("patch", "stride", "censor", "censor_name", "seconds")

    def __init__(self, **fields):
        missing = set(self.ARRAYS + self.SCALARS) - set(fields)
        if missing:
            raise ValueError("OcclusionMaps: missing %s" % sorted(missing))
        self.keypoint_names = list(fields.pop("keypoint_names", []) or [])
        for k, v in fields.items():
            setattr(self, k, v)
        frame = self.images.shape[-1]
        self.displacement = _to_pixel_maps(
            self.position_displacement, self.positions, self.patch, frame)
        self.error_increase = _to_pixel_maps(
            self.position_error_increase, self.positions, self.patch, frame)
        self.aggregate = self.displacement.mean(axis=1)
        labelled = np.isfinite(self.error_increase).any(axis=(2, 3))  # (N, K)
        self.aggregate_error_increase = np.full(self.aggregate.shape, np.nan,
                                                np.float32)
        for i in np.flatnonzero(labelled.any(axis=1)):
            self.aggregate_error_increase[i] = self.error_increase[
                i, labelled[i]].mean(axis=0)

    def __len__(self):
        return len(self.displacement)

    def focus(self, radius=8.0):
        """How much of the aggregate map lies near the face's keypoints.

        Returns
        -------
        focus, area : float
            Mean over faces of the share of ``aggregate`` (its sum) on the
            pixels within ``radius`` px of a clean-predicted keypoint, and
            the share of the frame those pixels cover (what a uniform map
            would score).  A censor whose own edges drive the network
            spreads its map and scores nearer ``area``.
        """
        side = self.aggregate.shape[-1]
        c = np.arange(side) + 0.5
        shares, areas = [], []
        for i in range(len(self)):
            xs = self.clean_predictions[i, 0::2]
            ys = self.clean_predictions[i, 1::2]
            d2 = ((c[None, :, None] - ys[:, None, None]) ** 2
                  + (c[None, None, :] - xs[:, None, None]) ** 2)
            near = (d2 <= radius ** 2).any(axis=0)
            total = float(self.aggregate[i].sum())
            shares.append(float(self.aggregate[i][near].sum()) / total
                          if total > 0 else np.nan)
            areas.append(near.mean())
        shares = np.array(shares, np.float64)
        share = (float(np.mean(shares[np.isfinite(shares)]))
                 if np.isfinite(shares).any() else np.nan)
        return share, float(np.mean(areas))

    def summary(self):
        """JSON-ready dict: settings, mean and max displacement per keypoint."""
        names = self.keypoint_names or [
            "keypoint_%d" % k for k in range(self.displacement.shape[1])]
        mean = self.displacement.mean(axis=(0, 2, 3))
        peak = self.displacement.max(axis=(0, 2, 3))
        return {"censor": self.censor, "censor_name": self.censor_name,
                "patch_px": int(self.patch), "stride_px": int(self.stride),
                "n_faces": len(self), "n_positions": int(len(self.positions)),
                "seconds": float(self.seconds),
                "seconds_per_face": float(self.seconds) / max(1, len(self)),
                "mean_displacement_px": dict(zip(names, map(float, mean))),
                "max_displacement_px": dict(zip(names, map(float, peak))),
                "mean_aggregate_px": float(self.aggregate.mean()),
                "focus_8px": _finite_or_none(self.focus(8.0)[0]),
                "focus_8px_uniform": self.focus(8.0)[1]}

    def save(self, path):
        """Write the fields of :attr:`ARRAYS` and :attr:`SCALARS` and the
        keypoint names to ``path`` (.npz, no pickle), atomically; the pixel
        maps are rebuilt on loading."""
        arrays = {k: np.asarray(getattr(self, k)) for k in self.ARRAYS}
        arrays.update({k: np.asarray(getattr(self, k)) for k in self.SCALARS})
        arrays["keypoint_names"] = np.asarray(self.keypoint_names, dtype=str)
        with atomic_write(path, "wb") as f:
            np.savez_compressed(f, **arrays)
        return path


def _finite_or_none(value):
    """``value``, or None (JSON null) if it is NaN or infinite (the focus
    of a map that is zero everywhere)."""
    return float(value) if np.isfinite(value) else None


def load_occlusion_maps(path):
    """Read :meth:`OcclusionMaps.save` output (``allow_pickle=False``)."""
    with np.load(path, allow_pickle=False) as z:
        fields = {k: z[k] for k in z.files}
    for k in ("patch", "stride"):
        fields[k] = int(fields[k])
    fields["seconds"] = float(fields["seconds"])
    for k in ("censor", "censor_name"):
        fields[k] = str(fields[k])
    fields["keypoint_names"] = [str(s) for s in fields.get(
        "keypoint_names", [])]
    return OcclusionMaps(**fields)


def _predict_fn(predict, batch_size):
    """The predict callable; a ``.predict(images, batch_size)`` method gets
    ``batch_size`` so that the network sees the whole chunk at once."""
    fn = getattr(predict, "predict", predict)
    if not callable(fn):
        raise TypeError("predict must be callable or have a .predict method")
    try:
        takes_batch = "batch_size" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        takes_batch = False
    if takes_batch:
        return lambda images: fn(images, batch_size=batch_size)
    return fn


def _keypoint_distance(a, b):
    """Euclidean distance per keypoint: (M, 2K), (M, 2K) -> (M, K) float64."""
    d = (np.asarray(a, np.float64) - np.asarray(b, np.float64))
    d = d.reshape(len(d), -1, 2)
    return np.hypot(d[..., 0], d[..., 1])


def _to_pixel_maps(values, positions, patch, frame):
    """Mean over covering positions: (N, P, K) -> (N, K, frame, frame)."""
    n, _, k = values.shape
    sums = np.zeros((n, k, frame, frame))
    counts = np.zeros((frame, frame))
    for p, (y0, x0) in enumerate(positions):
        sums[:, :, y0:y0 + patch, x0:x0 + patch] += values[:, p, :, None, None]
        counts[y0:y0 + patch, x0:x0 + patch] += 1
    return (sums / counts).astype(np.float32)


def _censored_displacements(fn, images, keypoints, clean, censor, positions,
                            patch, batch_size, progress):
    """Per face, position and keypoint: how far the censored prediction
    moves, and how much its error grows (pixels); two (N, P, K) float32."""
    n, k = len(images), clean.shape[1] // 2
    clean_error = _keypoint_distance(clean, keypoints)      # (N, K)
    disp = np.zeros((n, len(positions), k), np.float32)
    incr = np.zeros((n, len(positions), k), np.float32)
    for i in tqdm(range(n), disable=not progress, unit="face",
                  desc="occlusion (%s)" % censor.name):
        fill = censor.fill(images[i:i + 1])[0]
        for s in range(0, len(positions), batch_size):
            chunk = positions[s:s + batch_size]
            batch = censor.apply_positions(images[i], chunk, patch, fill)
            pred = np.asarray(fn(batch), dtype=np.float32)
            disp[i, s:s + len(chunk)] = _keypoint_distance(pred, clean[i:i + 1])
            incr[i, s:s + len(chunk)] = (
                _keypoint_distance(pred, keypoints[i:i + 1]) - clean_error[i])
    return disp, incr


def occlusion_maps(predict, images, keypoints=None, censor="edge_free",
                   patch=12, stride=2, batch_size=256, grey_level=None,
                   keypoint_names=None, progress=False):
    """Occlusion-sensitivity heat maps (Zeiler & Fergus 2014, section 4.2).

    For every face and every patch position (:func:`patch_positions`) the
    censored face is run through the network; positions are batched,
    ``batch_size`` images per ``predict`` call.

    Parameters
    ----------
    predict : callable or object with ``.predict``
        ``(M, 1, 96, 96) float32 in [0, 1] -> (M, 2K)`` pixels, e.g. a
        :class:`kfkd.model.Model`.
    images : ndarray, (N, 1, 96, 96) float32 in [0, 1]
    keypoints : ndarray, (N, 2K), pixels, NaN where unlabelled; optional
        Labels for ``error_increase`` (all NaN without them).
    censor : str or Censor
        A key of :data:`CENSORS` or a censor.
    patch, stride : int
        Patch side and stride, pixels.
    batch_size : int
        Censored images per ``predict`` call (also passed as
        ``predict.predict(images, batch_size=...)`` where it takes one).
    grey_level : float, optional
        For ``censor='grey'``: the dataset mean grey level.
    keypoint_names : sequence of str, optional
        Defaults to ``predict.schema.names`` if there is one.
    progress : bool
        tqdm progress bar over faces.

    Returns
    -------
    OcclusionMaps
        Pixel maps are the mean over the patch positions whose patch covers
        the pixel.

    Raises
    ------
    ValueError
        Bad shapes, unknown censor, a bad patch/stride or batch size.
    """
    images = np.asarray(check_images(images), dtype=np.float32)
    frame = images.shape[-1]
    censor = make_censor(censor, grey_level)
    if isinstance(censor, GreyCensor) and censor.level is None:
        censor = GreyCensor(float(images.mean())).scaled(censor.scale)
    fn = _predict_fn(predict, batch_size)
    positions = patch_positions(patch, stride, frame)
    if int(batch_size) < 1:
        raise ValueError("batch_size must be >= 1, got %r" % (batch_size,))
    clean = np.asarray(fn(images), dtype=np.float32)  # may compile: untimed
    started = time.time()
    if clean.ndim != 2 or len(clean) != len(images) or clean.shape[1] % 2:
        raise ValueError("predict returned shape %r for %d images"
                         % (clean.shape, len(images)))
    if keypoints is None:
        keypoints = np.full(clean.shape, np.nan, np.float32)
    keypoints = np.asarray(keypoints, dtype=np.float32)
    if keypoints.shape != clean.shape:
        raise ValueError("keypoints must have shape %r, got %r"
                         % (clean.shape, keypoints.shape))
    disp, incr = _censored_displacements(fn, images, keypoints, clean,
                                         censor, positions, patch,
                                         batch_size, progress)
    if keypoint_names is None:
        schema = getattr(predict, "schema", None)
        keypoint_names = list(schema.names) if schema is not None else []
    return OcclusionMaps(
        position_displacement=disp, position_error_increase=incr,
        positions=positions, images=images, clean_predictions=clean,
        keypoints=keypoints, patch=int(patch), stride=int(stride),
        censor=repr(censor), censor_name=censor.name,
        seconds=time.time() - started, keypoint_names=keypoint_names)


def compare_censors(predict, images, keypoints=None, censors=tuple(CENSORS),
                    patch=12, stride=4, grey_level=None, progress=False,
                    **kwargs):
    """:func:`occlusion_maps` for several censors on the same faces.

    Returns
    -------
    dict
        censor name -> OcclusionMaps, in the order of ``censors``.
    """
    return {make_censor(c, grey_level).name: occlusion_maps(
        predict, images, keypoints, c, patch, stride, grey_level=grey_level,
        progress=progress, **kwargs) for c in censors}
