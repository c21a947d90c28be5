"""Kaggle submission writing: lookup-table mapping, validation, atomic write.

The competition rule
--------------------
Kaggle's Facial Keypoints Detection does not score every coordinate of every
test face.  ``IdLookupTable.csv`` lists the requested values, one row each
(``RowId, ImageId, FeatureName``); a submission is ``RowId, Location`` with
one row per lookup row, and the score is the RMSE in pixels over those rows:

.. math:: \\mathrm{RMSE} = \\sqrt{\\tfrac{1}{R} \\sum_{r=1}^{R}
          (\\hat y_r - y_r)^2}

Kaggle's genuine lookup table (27124 rows, 1783 test faces) asks all 30
values for 556 faces, the 8 values of eye centres, nose tip and bottom lip
for 1190 faces, and 6 to 28 values for the remaining 37 (the shared
Kaggle-format data follows the same pattern: 30 values for 335 faces, 8 for
723).  Locations must lie in the 96x96 frame, so predictions are clipped to
[0, 96] pixels.

:func:`kfkd.metrics.lookup_rmse` computes this metric on a labelled validation
split "as Kaggle would": the labelled coordinates become lookup rows
(:func:`lookup_requests`) and the predictions go through the same
:func:`build_submission` path, clipping included.

Examples
--------
>>> from kfkd.data import find_file, load_lookup, load_test  # doctest: +SKIP
>>> test = load_test(find_file("test.csv"))  # doctest: +SKIP
>>> lookup = load_lookup(find_file("IdLookupTable.csv"))  # doctest: +SKIP
>>> frame = build_submission(lookup, test.image_ids,
...                          model.predict(test.images), model.schema)
... # doctest: +SKIP
>>> write_submission("submission.csv", frame, lookup)  # doctest: +SKIP

numpy and pandas only: no Theano here.
"""
import csv

import numpy as np
import pandas as pd

from .data import load_lookup, load_test
from .fileio import atomic_write
from .keypoints import FRAME

__all__ = ["SubmissionError", "write_predictions", "lookup_index",
           "build_submission", "validate_submission", "write_submission",
           "make_submission", "lookup_requests",
           "SUBMISSION_COLUMNS", "LOOKUP_COLUMNS"]

#: Header of a Kaggle submission file.
SUBMISSION_COLUMNS = ("RowId", "Location")

#: Columns :func:`build_submission` needs in the lookup table.
LOOKUP_COLUMNS = ("RowId", "ImageId", "FeatureName")

#: How many offending ids an error message lists.
_SHOW = 5


class SubmissionError(ValueError):
    """A submission cannot be built or written; nothing has been written.

    The message names the file (lookup table, test.csv or the submission)
    and, where it applies, the 1-based data row (line ``row + 1``, after the
    header) and the column, as :class:`kfkd.data.DataError` does.

    Attributes
    ----------
    path, row, column : str or None, int or None, str or None
    """

    def __init__(self, message, path=None, row=None, column=None):
        self.path, self.row, self.column = path, row, column
        where = [str(path)] if path is not None else []
        if row is not None:
            where.append("row %d (line %d)" % (row, row + 1))
        if column is not None:
            where.append("column %r" % column)
        super(SubmissionError, self).__init__(
            ", ".join(where) + ": " + message if where else message)


def _ids_text(ids):
    shown = ", ".join(str(int(i)) for i in ids[:_SHOW])
    return shown + (", ..." if len(ids) > _SHOW else "")


def write_predictions(path, image_ids, predictions, schema):
    """Write ``ImageId`` + one column per coordinate (pixels), atomically.

    Parameters
    ----------
    path : str
    image_ids : ndarray, (N,) int
    predictions : ndarray, (N, 2K) float, pixels
    schema : KeypointSchema

    Raises
    ------
    ValueError
        Shapes disagree.
    """
    predictions = np.asarray(predictions)
    if predictions.shape != (len(image_ids), schema.n_outputs):
        raise ValueError("predictions %r do not match %d image ids x %d "
                         "coordinates" % (predictions.shape, len(image_ids),
                                          schema.n_outputs))
    with atomic_write(path, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(("ImageId",) + schema.columns)
        for image_id, row in zip(image_ids, predictions):
            writer.writerow([int(image_id)] + ["%.4f" % v for v in row])


def lookup_index(lookup, image_ids, schema, lookup_path=None, test_path=None):
    """Where each lookup row's value sits in an ``(N, 2K)`` prediction array.

    Parameters
    ----------
    lookup : pandas.DataFrame
        ``RowId``, ``ImageId``, ``FeatureName`` (as from
        :func:`kfkd.data.load_lookup`), one row per requested value.
    image_ids : ndarray, (N,) int
        ImageIds of the prediction rows (test.csv order).
    schema : KeypointSchema
        The coordinate columns of the predictions.
    lookup_path, test_path : str, optional
        File names for the error messages.

    Returns
    -------
    faces, columns : ndarray, (R,) intp
        ``predictions[faces[r], columns[r]]`` answers lookup row ``r``.

    Raises
    ------
    SubmissionError
        A lookup column is missing; a RowId repeats; lookup ImageIds are
        missing from ``image_ids`` (the first few are named, with how many);
        a FeatureName is not one of ``schema.columns``; ``image_ids`` repeat.
    """
    lookup_name = lookup_path or "lookup table"
    test_name = test_path or "test.csv"
    missing = [c for c in LOOKUP_COLUMNS if c not in lookup.columns]
    if missing:
        raise SubmissionError("missing column(s) %s (expected %s)" % (
            ", ".join(missing), ", ".join(LOOKUP_COLUMNS)), lookup_name)
    image_ids = np.asarray(image_ids)
    if image_ids.ndim != 1:
        raise SubmissionError("image ids must be 1-D, got shape %r"
                              % (image_ids.shape,), test_name)
    dup = pd.Series(image_ids).duplicated().values
    if dup.any():
        r = int(np.flatnonzero(dup)[0])
        raise SubmissionError("ImageId %d repeats an earlier row"
                              % image_ids[r], test_name, row=r + 1,
                              column="ImageId")
    dup = lookup["RowId"].duplicated().values
    if dup.any():
        r = int(np.flatnonzero(dup)[0])
        raise SubmissionError("RowId %d repeats an earlier row (%d repeated "
                              "RowIds)" % (lookup["RowId"].iloc[r], dup.sum()),
                              lookup_name, row=r + 1, column="RowId")
    faces = pd.Index(image_ids).get_indexer(lookup["ImageId"].values)
    absent = faces < 0
    if absent.any():
        ids = pd.unique(lookup["ImageId"].values[absent])
        raise SubmissionError(
            "%d ImageIds (%d rows) are missing from %s (%d images): %s; "
            "first at this row" % (len(ids), absent.sum(), test_name,
                                   len(image_ids), _ids_text(ids)),
            lookup_name, row=int(np.flatnonzero(absent)[0]) + 1,
            column="ImageId")
    columns = pd.Index(schema.columns).get_indexer(lookup["FeatureName"].values)
    unknown = columns < 0
    if unknown.any():
        r = int(np.flatnonzero(unknown)[0])
        names = pd.unique(lookup["FeatureName"].values[unknown])
        raise SubmissionError(
            "unknown FeatureName %r (%d rows, %d distinct unknown names); the "
            "model predicts %s ... %s" % (
                lookup["FeatureName"].iloc[r], unknown.sum(), len(names),
                schema.columns[0], schema.columns[-1]),
            lookup_name, row=r + 1, column="FeatureName")
    return faces, columns


def build_submission(lookup, image_ids, predictions, schema, lookup_path=None,
                     test_path=None):
    """The Kaggle submission: one ``RowId, Location`` row per lookup row.

    Parameters
    ----------
    lookup : pandas.DataFrame
        ``RowId``, ``ImageId``, ``FeatureName`` (from
        :func:`kfkd.data.load_lookup`).
    image_ids : ndarray, (N,) int
        ImageIds of ``predictions``' rows.
    predictions : ndarray, (N, 2K) float, pixels
        Columns in ``schema.columns`` order (e.g. :meth:`kfkd.model.Model.predict`).
    schema : KeypointSchema
    lookup_path, test_path : str, optional
        File names for the error messages.

    Returns
    -------
    pandas.DataFrame
        ``RowId`` (int64) and ``Location`` (float64, pixels, clipped to
        [0, 96] as the competition requires), in lookup order; ``Location``
        of row ``r`` is ``clip(predictions[i, j], 0, 96)`` for the face
        ``i`` with ``image_ids[i] == ImageId[r]`` and ``schema.columns[j] ==
        FeatureName[r]``.

    Raises
    ------
    SubmissionError
        ``predictions`` is not ``(N, 2K)``; a requested prediction is NaN or
        infinite (named by lookup row, ImageId and FeatureName); and every
        case of :func:`lookup_index`.
    """
    predictions = np.asarray(predictions)
    expected = (len(image_ids), schema.n_outputs)
    if predictions.shape != expected:
        raise SubmissionError(
            "predictions have shape %r, expected %r (%d test image ids x %d "
            "keypoint columns)" % (predictions.shape, expected, expected[0],
                                   expected[1]))
    faces, columns = lookup_index(lookup, image_ids, schema, lookup_path,
                                  test_path)
    values = predictions[faces, columns].astype(np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        r = int(np.flatnonzero(bad)[0])
        raise SubmissionError(
            "the prediction for ImageId %d, %s is %r (%d requested "
            "predictions are not finite)" % (
                lookup["ImageId"].iloc[r], lookup["FeatureName"].iloc[r],
                values[r], bad.sum()),
            lookup_path or "lookup table", row=r + 1)
    return pd.DataFrame({
        "RowId": lookup["RowId"].values.astype(np.int64),
        "Location": np.clip(values, 0.0, float(FRAME))})


def validate_submission(frame, lookup=None, name="submission",
                        lookup_path=None):
    """Check a submission before it is written.

    Parameters
    ----------
    frame : pandas.DataFrame
        ``RowId``, ``Location``.
    lookup : pandas.DataFrame, optional
        The lookup table it answers.  With it, the RowIds must be the
        lookup's, in its order (so the row count is the lookup's); without
        it, they must be 1..R (Kaggle numbers its lookup rows so).
    name : str
        How the messages call the submission (its path).
    lookup_path : str, optional

    Raises
    ------
    SubmissionError
        Other columns than ``RowId, Location``; no rows; a row count other
        than the lookup's; a repeated RowId; RowIds that are not the
        lookup's (or not 1..R); a Location that is NaN, infinite or outside
        [0, 96] pixels.
    """
    if tuple(frame.columns) != SUBMISSION_COLUMNS:
        raise SubmissionError("columns %s, expected %s" % (
            ",".join(map(str, frame.columns)), ",".join(SUBMISSION_COLUMNS)),
            name)
    if len(frame) == 0:
        raise SubmissionError("no rows", name)
    if lookup is not None and len(frame) != len(lookup):
        raise SubmissionError("%d rows, but the lookup table%s has %d" % (
            len(frame), " " + lookup_path if lookup_path else "",
            len(lookup)), name)
    row_ids = frame["RowId"].values
    if not np.issubdtype(row_ids.dtype, np.integer):
        raise SubmissionError("RowId has dtype %s, expected integers"
                              % row_ids.dtype, name, column="RowId")
    dup = pd.Series(row_ids).duplicated().values
    if dup.any():
        r = int(np.flatnonzero(dup)[0])
        raise SubmissionError("RowId %d repeats an earlier row (%d repeated)"
                              % (row_ids[r], dup.sum()), name, row=r + 1,
                              column="RowId")
    expected = (lookup["RowId"].values if lookup is not None
                else np.arange(1, len(frame) + 1))
    wrong = row_ids != expected
    if wrong.any():
        r = int(np.flatnonzero(wrong)[0])
        raise SubmissionError("RowId %d where %s has RowId %d (RowIds must be "
                              "%s, complete and in order)" % (
                                  row_ids[r], "the lookup table" if lookup
                                  is not None else "numbering 1..R",
                                  expected[r], "the lookup table's" if lookup
                                  is not None else "1..%d" % len(frame)),
                              name, row=r + 1, column="RowId")
    location = frame["Location"].values.astype(np.float64)
    bad = ~np.isfinite(location) | (location < 0) | (location > FRAME)
    if bad.any():
        r = int(np.flatnonzero(bad)[0])
        raise SubmissionError("Location %r is not a number in [0, %d] pixels "
                              "(%d such rows)" % (location[r], FRAME,
                                                  bad.sum()),
                              name, row=r + 1, column="Location")


def write_submission(path, frame, lookup=None, lookup_path=None):
    """Validate and write a submission CSV atomically.

    The file has the header ``RowId,Location`` and one line per row,
    Locations with 4 decimals (1e-4 pixel).  It is written to a temporary
    file renamed onto ``path`` (:func:`kfkd.fileio.atomic_write`): on any
    failure nothing is written and an existing ``path`` is left untouched.

    Parameters
    ----------
    path : str
    frame : pandas.DataFrame
        From :func:`build_submission`.
    lookup : pandas.DataFrame, optional
        See :func:`validate_submission`.
    lookup_path : str, optional

    Raises
    ------
    SubmissionError
        See :func:`validate_submission`.
    """
    validate_submission(frame, lookup, name="%s (not written)" % path,
                        lookup_path=lookup_path)
    with atomic_write(path, newline="") as f:
        frame.to_csv(f, index=False, float_format="%.4f", lineterminator="\n")
    return path


def make_submission(model, test_path, lookup_path, out_path, verbose=True):
    """test.csv + IdLookupTable.csv + a model -> a validated submission file.

    The lookup table is checked against test.csv before the (slow)
    prediction, so a mismatch fails at once.

    Parameters
    ----------
    model : kfkd.model.Model
        Anything with ``predict(images) -> (N, 2K) pixels`` and ``schema``.
    test_path, lookup_path, out_path : str
    verbose : bool
        Print a line when a file is Kaggle's genuine one.

    Returns
    -------
    dict
        ``rows`` (lookup rows written), ``images`` (faces of test.csv),
        ``lookup_images`` (distinct ImageIds in the lookup), ``path``.

    Raises
    ------
    kfkd.data.DataNotFoundError, kfkd.data.DataError
        A missing or malformed input file.
    SubmissionError
        See :func:`build_submission` and :func:`validate_submission`;
        nothing is written then.
    """
    lookup = load_lookup(lookup_path, verbose=verbose)
    test = load_test(test_path, verbose=verbose)
    lookup_index(lookup, test.image_ids, model.schema, lookup_path, test_path)
    predictions = model.predict(test.images)
    frame = build_submission(lookup, test.image_ids, predictions, model.schema,
                             lookup_path, test_path)
    write_submission(out_path, frame, lookup, lookup_path)
    return {"rows": len(frame), "images": len(test),
            "lookup_images": int(lookup["ImageId"].nunique()),
            "path": out_path}


def lookup_requests(keypoints, schema):
    """Lookup-table rows asking for every labelled coordinate of ``keypoints``.

    A fully labelled face asks for all 2K values, a partly labelled one for
    its labelled subset (Kaggle's lookup asks 30 values of some test faces
    and 8 of most others; see the module docstring).

    Parameters
    ----------
    keypoints : ndarray, (N, 2K) float, pixels, NaN where unlabelled
    schema : KeypointSchema

    Returns
    -------
    pandas.DataFrame
        ``RowId`` (1..R), ``ImageId`` (1-based face index into
        ``keypoints``), ``FeatureName``; face by face, columns in schema
        order.

    Raises
    ------
    ValueError
        ``keypoints`` is not ``(N, 2K)``.
    """
    keypoints = np.asarray(keypoints)
    if keypoints.ndim != 2 or keypoints.shape[1] != schema.n_outputs:
        raise ValueError("keypoints must be (N, %d), got %r"
                         % (schema.n_outputs, keypoints.shape))
    faces, columns = np.nonzero(~np.isnan(keypoints))
    return pd.DataFrame({
        "RowId": np.arange(1, len(faces) + 1, dtype=np.int64),
        "ImageId": faces.astype(np.int64) + 1,
        "FeatureName": np.asarray(schema.columns, dtype=object)[columns]})
