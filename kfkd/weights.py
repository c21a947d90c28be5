"""A model's weights file (model.npz): read and checked without pickle.

model.npz holds the parameter arrays ``param_000``, ``param_001``, ... of a
net in ``lasagne.layers.get_all_params`` order.  Their shapes and dtypes are
read from the ``.npy`` headers and checked against the net's before any
array is read, so that a small file cannot make the loader allocate more
than the net's size.  numpy only: no Theano here.
"""
import zipfile
import zlib

import numpy as np

from .errors import ModelError

__all__ = ["read_npz_headers", "read_weights", "write_weights"]


def write_weights(path, values):
    """Write parameter arrays as model.npz (``param_000``, ...)."""
    with open(path, "wb") as f:
        np.savez(f, **{"param_%03d" % i: v for i, v in enumerate(values)})


def _read_header(f):
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(f)
    if version == (2, 0):
        return np.lib.format.read_array_header_2_0(f)
    raise ValueError("unsupported .npy format version %s" % (version,))


def read_npz_headers(path):
    """Shapes and dtypes of the arrays of an ``.npz``, without reading them.

    Reads the ``.npy`` header at the start of each zip member (a few
    hundred bytes, whatever the array's size).

    Returns
    -------
    dict
        Array name -> ``(shape, dtype, data_bytes)``, where ``data_bytes``
        is the member's size after the header.

    Raises
    ------
    ModelError
        Not a zip file, a member that is not an ``.npy`` array, or a
        malformed header; the message names ``path`` and the array.
    """
    headers, name = {}, None
    try:
        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                name = info.filename
                if not name.endswith(".npy"):
                    raise ModelError("%s: member %r is not an array (.npy)"
                                     % (path, name))
                with z.open(info) as f:
                    shape, _, dtype = _read_header(f)
                    header_bytes = f.tell()
                headers[name[:-4]] = (tuple(shape), np.dtype(dtype),
                                      info.file_size - header_bytes)
    except ModelError:
        raise
    except (zipfile.BadZipFile, zlib.error, ValueError, EOFError,
            OSError, NotImplementedError) as e:
        where = "array %r" % name[:-4] if name else "not a zip file"
        raise ModelError("%s: %s (%s)" % (path, where, e))
    return headers


def _check_weights(path, headers, expected, dtype):
    """ModelError unless ``headers`` are exactly the ``expected`` shapes."""
    names = ["param_%03d" % i for i in range(len(expected))]
    missing = [n for n in names if n not in headers]
    extra = sorted(set(headers) - set(names))
    if missing or extra:
        listed = missing or extra
        raise ModelError("%s: %s array%s %s (the net has %d parameter "
                         "arrays)" % (path, "missing" if missing else
                                      "unexpected", "s" * (len(listed) > 1),
                                      ", ".join(listed[:3] + ["..."] * (
                                          len(listed) > 3)), len(names)))
    for name, shape in zip(names, expected):
        got, got_dtype, data_bytes = headers[name]
        if got != tuple(shape):
            raise ModelError("%s: array %s has shape %s, the net's is %s "
                             "(the weights do not match model.json's net)"
                             % (path, name, got, tuple(shape)))
        if got_dtype != np.dtype(dtype):
            raise ModelError("%s: array %s has dtype %s, expected %s"
                             % (path, name, got_dtype, dtype))
        if data_bytes != int(np.prod(shape)) * got_dtype.itemsize:
            raise ModelError("%s: array %s holds %d bytes, expected %d "
                             "(truncated?)" % (path, name, data_bytes,
                                               int(np.prod(shape))
                                               * got_dtype.itemsize))


def read_weights(path, expected, dtype="float32"):
    """The parameter arrays of a model.npz, checked before they are read.

    Parameters
    ----------
    path : str
        model.npz: ``param_000``, ``param_001``, ... (float32).
    expected : list of tuple
        The net's parameter shapes, in ``get_all_params`` order.
    dtype : str
        Of every array (Theano's ``floatX``).

    Returns
    -------
    list of ndarray

    Raises
    ------
    ModelError
        Not a zip, a missing, extra or malformed array, a shape or dtype
        other than the net's (found from the ``.npy`` headers, before any
        array is read: a small file cannot make the loader allocate more
        than the net's size), a truncated or corrupt array, or a non-finite
        value; the message names ``path`` and the array.
    """
    headers = read_npz_headers(path)
    _check_weights(path, headers, expected, dtype)
    values = []
    with zipfile.ZipFile(path) as z:
        for i in range(len(expected)):
            name = "param_%03d" % i
            try:
                with z.open(name + ".npy") as f:
                    value = np.lib.format.read_array(f, allow_pickle=False)
            except (zipfile.BadZipFile, zlib.error, ValueError, EOFError,
                    OSError) as e:
                raise ModelError("%s: array %s cannot be read (%s)"
                                 % (path, name, e))
            bad = int((~np.isfinite(value)).sum())
            if bad:
                raise ModelError("%s: array %s has %d non-finite values "
                                 "(NaN or inf)" % (path, name, bad))
            values.append(value)
    return values
