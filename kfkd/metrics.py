"""Every RMSE of the project, in pixels, in one place (no Theano).

Keypoints and predictions are ``(N, 2K)`` arrays of pixel coordinates
(x, y pairs in schema order) with NaN where a coordinate is unlabelled; an
error is only ever taken over labelled coordinates.

=======================  ==================================================
:func:`rms`              root mean square of errors, ignoring NaN
:func:`rmse`             over every labelled coordinate (the training and
                         validation figure)
:func:`per_keypoint_rmse`  one value per keypoint, x and y pooled
:func:`per_face_rmse`    one value per face
:func:`lookup_rmse`      the competition's metric: the lookup table's rows,
                         predictions clipped to the frame (Kaggle's rule)
=======================  ==================================================

Examples
--------
>>> truth = np.array([[10., 20., np.nan, np.nan], [30., 40., 50., 60.]])
>>> guess = np.array([[13., 24., 0., 0.], [30., 40., 50., 60.]])
>>> round(rmse(guess, truth), 4)  # sqrt((9 + 16) / 6)
2.0412
>>> per_face_rmse(guess, truth)
array([3.53553391, 0.        ])
"""
import numpy as np

from .submission import build_submission, lookup_requests

__all__ = ["rms", "rmse", "per_keypoint_rmse", "per_face_rmse",
           "lookup_rmse"]


def rms(errors, axis=None):
    """Root mean square of ``errors``, ignoring NaN.

    Parameters
    ----------
    errors : array_like, float, pixels (or any unit)
    axis : int, optional
        Reduce along this axis only.

    Returns
    -------
    float or ndarray
        NaN where nothing is finite (no warning).

    Examples
    --------
    >>> rms([3., 4., np.nan])
    3.5355339059327378
    """
    squared = np.square(np.asarray(errors, np.float64))
    finite = np.isfinite(squared)
    count = finite.sum(axis=axis)
    total = np.where(finite, squared, 0.0).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.sqrt(total / count)
    return float(out) if np.ndim(out) == 0 else out


def rmse(predictions_px, keypoints_px):
    """RMSE in pixels over every labelled coordinate.

    Parameters
    ----------
    predictions_px : array_like, (N, 2K) float, pixels
    keypoints_px : array_like, (N, 2K) float, pixels, NaN where unlabelled

    Returns
    -------
    float
        ``sqrt(mean((prediction - truth) ** 2))`` over labelled coordinates.

    Raises
    ------
    ValueError
        The shapes differ.

    Examples
    --------
    >>> rmse(np.array([[1., 2.]]), np.array([[2., np.nan]]))
    1.0
    """
    return rms(_errors(predictions_px, keypoints_px))


def per_keypoint_rmse(predictions_px, keypoints_px, names):
    """RMSE in pixels per keypoint, x and y pooled, over labelled faces.

    Parameters
    ----------
    predictions_px, keypoints_px : array_like, (N, 2K) float, pixels
    names : sequence of str, length K
        Keypoint names in column order (``KeypointSchema.names``).

    Returns
    -------
    dict
        name -> RMSE (pixels), or None where no face labels that keypoint.

    Examples
    --------
    >>> per_keypoint_rmse(np.zeros((1, 4)), np.array([[3., 4., np.nan,
    ...                   np.nan]]), ["nose_tip", "mouth_center_bottom_lip"])
    {'nose_tip': 3.5355339059327378, 'mouth_center_bottom_lip': None}
    """
    errors = _errors(predictions_px, keypoints_px)
    pairs = errors.reshape(len(errors), -1, 2)
    if pairs.shape[1] != len(names):
        raise ValueError("%d keypoint names for %d keypoints"
                         % (len(names), pairs.shape[1]))
    values = rms(pairs.transpose(1, 0, 2).reshape(len(names), -1), axis=1)
    return {name: (float(v) if np.isfinite(v) else None)
            for name, v in zip(names, values)}


def per_face_rmse(predictions_px, keypoints_px):
    """RMSE in pixels of each face over its labelled coordinates.

    Returns
    -------
    ndarray, (N,) float64
        NaN for a face with no labelled coordinate.
    """
    return rms(_errors(predictions_px, keypoints_px), axis=1)


def lookup_rmse(predictions, keypoints, schema):
    """The competition metric on labelled faces, computed as Kaggle would.

    The labelled coordinates become lookup rows
    (:func:`kfkd.submission.lookup_requests`), the predictions are mapped and
    clipped to ``[0, 96]`` by :func:`kfkd.submission.build_submission`, and
    the RMSE is taken over the requested rows (the competition's evaluation
    rule: RMSE over the rows of ``IdLookupTable.csv``).

    Parameters
    ----------
    predictions : ndarray, (N, 2K) float, pixels
    keypoints : ndarray, (N, 2K) float, pixels, NaN where unlabelled
    schema : KeypointSchema

    Returns
    -------
    float
        ``sqrt(mean((clip(prediction, 0, 96) - truth) ** 2))``, pixels.

    Raises
    ------
    ValueError
        Nothing is labelled, or shapes disagree (a
        :class:`kfkd.submission.SubmissionError` for the predictions).

    Examples
    --------
    >>> from kfkd.keypoints import KeypointSchema
    >>> schema = KeypointSchema(["nose_tip_x", "nose_tip_y"])
    >>> # x: 50 vs 47 -> 3; y: 99 is clipped to 96, vs 92 -> 4
    >>> lookup_rmse(np.array([[50., 99.]]), np.array([[47., 92.]]), schema)
    3.5355339059327378
    """
    keypoints = np.asarray(keypoints)
    requests = lookup_requests(keypoints, schema)
    if len(requests) == 0:
        raise ValueError("no labelled coordinate to score")
    frame = build_submission(requests, np.arange(1, len(keypoints) + 1),
                             predictions, schema)
    column = {name: j for j, name in enumerate(schema.columns)}
    truth = keypoints[requests["ImageId"].values - 1,
                      [column[c] for c in requests["FeatureName"].values]]
    return rms(frame["Location"].values - truth.astype(np.float64))


def _errors(predictions_px, keypoints_px):
    predictions = np.asarray(predictions_px, np.float64)
    keypoints = np.asarray(keypoints_px, np.float64)
    if predictions.shape != keypoints.shape:
        raise ValueError("predictions %r and keypoints %r differ in shape"
                         % (predictions.shape, keypoints.shape))
    return predictions - keypoints
