"""Reading and validating the Kaggle Facial Keypoints Detection files.

Files (plain ``.csv`` or gzipped ``.csv.gz``, found by :func:`find_file`):

===================  ==========================================================
training.csv         30 keypoint columns (pixels, empty where unlabelled), then
                     ``Image``: 9216 space-separated integers 0-255, row-major
test.csv             ``ImageId``, ``Image``
IdLookupTable.csv    ``RowId``, ``ImageId``, ``FeatureName``, ``Location``
===================  ==========================================================

Every problem is a :class:`DataError` naming the file, the row and the
column; no row is ever dropped silently.  Kaggle's genuine training.csv and
test.csv are recognised by their sha256 (``shared/data/kaggle-original``).
numpy and pandas only: no Theano here.

Examples
--------
>>> data = load_training(find_file("training.csv", "../shared/data/kfkd"))
... # doctest: +SKIP
>>> data.images.shape, data.keypoints.shape  # doctest: +SKIP
((3146, 1, 96, 96), (3146, 30))
"""
import csv
import gzip
import hashlib
import io
import os
import zlib

import numpy as np
import pandas as pd

from .keypoints import FRAME, KAGGLE_COLUMNS, KeypointSchema

__all__ = ["DataError", "DataNotFoundError", "KeypointData", "TestData",
           "GENUINE_SHA256", "N_PIXELS", "resolve_data_dir", "find_file",
           "load_training", "load_test", "load_lookup", "file_sha256",
           "MAX_ID"]

#: Pixels per image, 96 * 96.
N_PIXELS = FRAME * FRAME

#: sha256 of Kaggle's genuine (uncompressed) files, from
#: ``shared/data/kaggle-original/SOURCES.md``.
GENUINE_SHA256 = {
    "6521c1d8ad036e3304ccb50967834ab6a942bc1b84bcb7dca10e348522ed480a":
        "Kaggle's genuine training.csv (7049 faces)",
    "1600eed743e240d30969a8b4e3f48eed0dca2a6bccc9d20f7838640540c4adba":
        "Kaggle's genuine test.csv (1783 faces)",
    "e9fe9d4b34c3ca8db4598113d7bc9a3439640c5d70cbe2caa0a7f69355c3df55":
        "Kaggle's genuine IdLookupTable.csv (27124 rows)",
}

ENV_DATA_DIR = "KFKD_DATA_DIR"

#: Largest ImageId / RowId: ids are stored as int64.
MAX_ID = np.iinfo(np.int64).max


class DataError(ValueError):
    """A data file is malformed.

    The message names the file and, where it applies, the row (1-based data
    row; the header is line 1, so data row ``r`` is line ``r + 1``) and the
    column.

    Attributes
    ----------
    path, row, column : str, int or None, str or None
    """

    def __init__(self, path, message, row=None, column=None):
        self.path, self.row, self.column = str(path), row, column
        where = [self.path]
        if row is not None:
            where.append("row %d (line %d)" % (row, row + 1))
        if column is not None:
            where.append("column %r" % column)
        super(DataError, self).__init__("%s: %s" % (", ".join(where), message))


class DataNotFoundError(FileNotFoundError):
    """The data folder or a data file is missing (a one-line message)."""


def resolve_data_dir(data_dir=None):
    """The data folder: ``data_dir``, else ``$KFKD_DATA_DIR``.

    Raises
    ------
    DataNotFoundError
        Neither is given, or the folder does not exist.  The message says how
        to get Kaggle's files.
    """
    data_dir = data_dir or os.environ.get(ENV_DATA_DIR)
    hint = ("download Kaggle's files with `kaggle competitions download -c "
            "facial-keypoints-detection` (then unzip) and pass --data-dir DIR "
            "or set %s=DIR" % ENV_DATA_DIR)
    if not data_dir:
        raise DataNotFoundError("no data folder given: " + hint)
    if not os.path.isdir(data_dir):
        raise DataNotFoundError("data folder %s does not exist: %s"
                                % (data_dir, hint))
    return data_dir


def find_file(name, data_dir=None):
    """Path of ``name`` (e.g. ``'training.csv'``) or ``name + '.gz'``.

    Parameters
    ----------
    name : str
        File name without ``.gz``.
    data_dir : str, optional
        Folder; default from :func:`resolve_data_dir`.

    Raises
    ------
    DataNotFoundError
        Neither ``name`` nor ``name.gz`` is in the folder.
    """
    data_dir = resolve_data_dir(data_dir)
    for candidate in (name, name + ".gz"):
        path = os.path.join(data_dir, candidate)
        if os.path.isfile(path):
            return path
    raise DataNotFoundError(
        "%s: neither %s nor %s.gz is there (kaggle competitions download -c "
        "facial-keypoints-detection)" % (data_dir, name, name))


def _read_text(path):
    """Whole (decompressed) text of ``path`` and its sha256."""
    if not os.path.isfile(path):
        raise DataNotFoundError("%s: no such file" % path)
    try:
        if path.endswith(".gz"):
            with gzip.open(path, "rb") as f:
                raw = f.read()
        else:
            with open(path, "rb") as f:
                raw = f.read()
    except (EOFError, OSError, zlib.error) as e:
        raise DataError(path, "truncated or corrupt gzip file (%s)" % e)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DataError(path, "not UTF-8 text (byte %d)" % e.start)
    if not text.strip():
        raise DataError(path, "empty file")
    return text, hashlib.sha256(raw).hexdigest()


def file_sha256(path):
    """sha256 hex digest of the (decompressed) contents of ``path``."""
    return _read_text(path)[1]


def _check_field_counts(path, text, expected, optional=0):
    """DataError naming the first row with too few or too many fields.

    pandas pads a short row with empty strings (which would then read as
    unlabelled keypoints, or shift the pixels into a coordinate column), so
    rows are counted here first.  ``optional`` trailing columns may be absent
    (Kaggle's genuine IdLookupTable.csv has no trailing comma for the empty
    ``Location``).
    """
    lines = text.split("\n")
    if lines and lines[-1].strip() == "":
        lines.pop()  # the final newline does not start a row
    if '"' in text:
        counts = [len(fields) for fields in csv.reader(lines)]
    else:
        counts = [line.count(",") + 1 for line in lines]
    lo, hi = len(expected) - optional, len(expected)
    for r in range(1, len(counts)):
        if not lines[r].strip():
            raise DataError(path, "blank line", row=r)
        if not lo <= counts[r] <= hi:
            column = expected[counts[r]] if counts[r] < hi else None
            raise DataError(path, "%d fields, expected %d%s" % (
                counts[r], hi, " (truncated row?)" if counts[r] < hi else ""),
                row=r, column=column)


def _read_table(path, expected, optional=0):
    """Parse a CSV whose header must be exactly ``expected``.

    Returns the rows as a DataFrame of strings (nothing dropped), and the
    sha256 of the contents.  The last ``optional`` columns may be missing
    from a row (pandas fills them with empty strings).
    """
    text, sha = _read_text(path)
    header = next(csv.reader(io.StringIO(text.split("\n", 1)[0])))
    header = [h.strip() for h in header]
    for k, name in enumerate(expected):
        if k >= len(header):
            raise DataError(path, "missing column (header has %d columns, "
                            "expected %d: %s)" % (len(header), len(expected),
                                                  ",".join(expected)),
                            column=name)
        if header[k] != name:
            if header[k] not in expected:
                problem = ("unexpected column %r where %r expected"
                           % (header[k], name))
            elif name not in header:
                problem = "missing column (%r found where %r expected)" % (
                    header[k], name)
            else:
                problem = ("misordered column: %r found where %r expected"
                           % (header[k], name))
            raise DataError(path, problem, column=name)
    if len(header) > len(expected):
        raise DataError(path, "unexpected extra column", column=header[len(expected)])
    _check_field_counts(path, text, expected, optional)
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False,
                            na_filter=False, skip_blank_lines=False,
                            engine="c")
    except pd.errors.ParserError as e:
        raise DataError(path, "malformed CSV (%s)" % e)
    frame.columns = header
    # A blank line inside the file would become a row of empty strings; a
    # trailing newline does not produce a row.  Report, never drop.
    if len(frame) == 0:
        raise DataError(path, "no data rows after the header")
    return frame, sha


def _parse_images(path, column):
    """Pixel strings -> (N, 1, 96, 96) float32 in [0, 1]; DataError on bad rows.

    numpy's C ``loadtxt`` parses the well-formed file in one pass; when it
    fails or finds a bad value, the rows are checked one by one to name the
    first bad row and pixel.
    """
    try:
        with np.errstate(invalid="ignore"):
            pixels = np.loadtxt(column.values, dtype=np.float64, ndmin=2)
        if (pixels.shape == (len(column), N_PIXELS)
                and np.all((pixels == np.round(pixels)) & (pixels >= 0)
                           & (pixels <= 255))):
            return (pixels.astype(np.float32) / np.float32(255.0)).reshape(
                -1, 1, FRAME, FRAME)
    except ValueError:
        pass
    images = np.empty((len(column), N_PIXELS), dtype=np.float32)
    for r, text in enumerate(column, start=1):
        tokens = text.split()
        if len(tokens) != N_PIXELS:
            raise DataError(path, "%d pixels, expected %d (96x96)%s" % (
                len(tokens), N_PIXELS, " (truncated file?)" if tokens else ""),
                row=r, column="Image")
        try:
            pixels = np.array(tokens, dtype=np.float64)
        except ValueError:
            bad = next(t for t in tokens if not _is_number(t))
            raise DataError(path, "pixel %d is %r, not an integer" % (
                tokens.index(bad) + 1, bad), row=r, column="Image")
        bad = np.flatnonzero((pixels != np.round(pixels)) | (pixels < 0)
                             | (pixels > 255))
        if bad.size:
            raise DataError(path, "pixel %d is %r, not an integer in 0-255" % (
                bad[0] + 1, tokens[bad[0]]), row=r, column="Image")
        images[r - 1] = pixels
    images /= 255.0
    return images.reshape(-1, 1, FRAME, FRAME)


def _is_number(token):
    try:
        float(token)
        return True
    except ValueError:
        return False


def _parse_coordinates(path, frame, columns):
    """Keypoint strings -> (N, 2K) float32 pixels, NaN where empty."""
    out = np.full((len(frame), len(columns)), np.nan, dtype=np.float32)
    for j, name in enumerate(columns):
        values = frame[name].str.strip()
        present = values != ""
        numbers = pd.to_numeric(values[present], errors="coerce")
        if numbers.isna().any():
            k = int(np.flatnonzero(numbers.isna().values)[0])
            raise DataError(path, "%r is not a number" % values[present].iloc[k],
                            row=int(np.flatnonzero(present.values)[k]) + 1,
                            column=name)
        numbers = np.asarray(numbers, dtype=np.float64)
        bad = ~np.isfinite(numbers) | (numbers < 0) | (numbers > FRAME)
        if bad.any():
            r = int(np.flatnonzero(present.values)[np.flatnonzero(bad)[0]]) + 1
            raise DataError(path, "coordinate %r outside [0, %d] pixels" % (
                numbers[bad][0], FRAME), row=r, column=name)
        out[present.values, j] = numbers
    return out


class KeypointData(object):
    """Faces and their keypoints, as loaded from training.csv.

    Attributes
    ----------
    images : ndarray, (N, 1, 96, 96) float32 in [0, 1]
    keypoints : ndarray, (N, 2K) float32, pixels, NaN where unlabelled
    schema : KeypointSchema
    path : str
    genuine : str or None
        Which genuine Kaggle file this is, if its sha256 says so.
    split : dict or None
        Set by :func:`kfkd.splits.load_split` on the two sides of a split:
        how they were drawn (``method``, ``val_fraction``, ``seed``,
        ``limit``); None otherwise (a :meth:`subset` is no longer a split).
    groups : ndarray, (N,) int, or None
        Set by :func:`kfkd.splits.load_split` on the two sides of a grouped
        split: each face's group (:func:`kfkd.people.group_faces`).
    rows : ndarray, (N,) int, or None
        Set by :func:`kfkd.splits.load_split`: each face's data row in the
        file (0-based).
    """

    split = groups = rows = None

    def __init__(self, images, keypoints, schema, path="", genuine=None):
        self.images, self.keypoints = images, keypoints
        self.schema, self.path, self.genuine = schema, path, genuine

    @property
    def mask(self):
        """(N, 2K) bool: True where a coordinate is labelled."""
        return ~np.isnan(self.keypoints)

    def __len__(self):
        return len(self.images)

    def subset(self, index):
        """The faces at ``index`` (an index array or slice), as a new object."""
        return KeypointData(self.images[index], self.keypoints[index],
                            self.schema, self.path, self.genuine)

    def __repr__(self):
        full = int(self.mask.all(axis=1).sum())
        return "KeypointData(%d faces, %d fully labelled, %s)" % (
            len(self), full, self.path)


class TestData(object):
    """Faces of test.csv.

    Attributes
    ----------
    image_ids : ndarray, (N,) int64
    images : ndarray, (N, 1, 96, 96) float32 in [0, 1]
    path : str
    genuine : str or None
    """

    __test__ = False  # a data class, not a pytest test class

    def __init__(self, image_ids, images, path="", genuine=None):
        self.image_ids, self.images = image_ids, images
        self.path, self.genuine = path, genuine

    def __len__(self):
        return len(self.images)

    def subset(self, index):
        """The faces at ``index``, as a new object."""
        return TestData(self.image_ids[index], self.images[index], self.path,
                        self.genuine)


def _announce(path, sha, verbose):
    genuine = GENUINE_SHA256.get(sha)
    if genuine and verbose:
        print("%s: recognised %s (sha256 %s...)" % (path, genuine, sha[:12]))
    return genuine


def load_training(path, schema=None, verbose=True):
    """Load and validate a training.csv(.gz).

    Parameters
    ----------
    path : str
        File path (``.gz`` is decompressed).
    schema : KeypointSchema, optional
        Expected coordinate columns; default Kaggle's 30.
    verbose : bool
        Print a line when the file is Kaggle's genuine training.csv.

    Returns
    -------
    KeypointData
        ``images (N, 1, 96, 96) float32 in [0, 1]``,
        ``keypoints (N, 30) float32`` in pixels with NaN where unlabelled.

    Raises
    ------
    DataNotFoundError
        No such file.
    DataError
        Empty or truncated file; missing, extra or misordered columns; a
        pixel count other than 9216; a pixel that is not an integer in
        0-255; a coordinate that is not a number in [0, 96].
    """
    schema = schema or KeypointSchema(KAGGLE_COLUMNS)
    frame, sha = _read_table(path, schema.columns + ("Image",))
    keypoints = _parse_coordinates(path, frame, schema.columns)
    images = _parse_images(path, frame["Image"])
    return KeypointData(images, keypoints, schema, path,
                        _announce(path, sha, verbose))


def load_test(path, verbose=True):
    """Load and validate a test.csv(.gz).

    Returns
    -------
    TestData
        ``image_ids (N,) int64`` and ``images (N, 1, 96, 96) float32 in [0, 1]``.

    Raises
    ------
    DataNotFoundError, DataError
        As :func:`load_training`; also a non-integer, repeated or too large
        (more than :data:`MAX_ID`) ImageId.
    """
    frame, sha = _read_table(path, ("ImageId", "Image"))
    ids = _parse_ids(path, frame, "ImageId", unique=True)
    images = _parse_images(path, frame["Image"])
    return TestData(ids, images, path, _announce(path, sha, verbose))


def _parse_ids(path, frame, column, unique=False):
    """Column ``column`` of ``frame`` as (N,) int64 ids; DataError naming the
    file, row and column of the first id that is not a non-negative integer,
    is larger than :data:`MAX_ID` (int64), or (``unique``) repeats."""
    values = frame[column].str.strip()
    ok = values.str.fullmatch(r"\d+")
    if not ok.all():
        r = int(np.flatnonzero(~ok.values)[0])
        raise DataError(path, "%r is not a positive integer" % values.iloc[r],
                        row=r + 1, column=column)
    digits = values.str.lstrip("0").str.len()
    for r in np.flatnonzero(digits.values >= len(str(MAX_ID))):
        if int(values.iloc[r]) > MAX_ID:
            raise DataError(path, "%s is too large for an id (at most %d)"
                            % (values.iloc[r], MAX_ID), row=int(r) + 1,
                            column=column)
    ids = values.astype(np.int64).values
    if unique:
        dup = pd.Series(ids).duplicated().values
        if dup.any():
            r = int(np.flatnonzero(dup)[0])
            raise DataError(path, "%s %d repeats an earlier row" % (column, ids[r]),
                            row=r + 1, column=column)
    return ids


def load_lookup(path, verbose=True):
    """Load and validate an IdLookupTable.csv(.gz).

    Returns
    -------
    pandas.DataFrame
        Columns ``RowId`` (int64, unique), ``ImageId`` (int64),
        ``FeatureName`` (str), in file order.

    Raises
    ------
    DataNotFoundError, DataError
        Empty file, wrong columns, a non-integer or repeated RowId, a
        non-integer ImageId, an id larger than :data:`MAX_ID`, an empty
        FeatureName.
    """
    frame, sha = _read_table(path, ("RowId", "ImageId", "FeatureName",
                                    "Location"), optional=1)
    _announce(path, sha, verbose)
    row_ids = _parse_ids(path, frame, "RowId", unique=True)
    image_ids = _parse_ids(path, frame, "ImageId")
    names = frame["FeatureName"].str.strip()
    empty = names == ""
    if empty.any():
        r = int(np.flatnonzero(empty.values)[0])
        raise DataError(path, "empty FeatureName", row=r + 1,
                        column="FeatureName")
    return pd.DataFrame({"RowId": row_ids, "ImageId": image_ids,
                         "FeatureName": names.values})
