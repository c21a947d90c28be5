"""Kaggle submission writing: lookup-table mapping, validation, atomic write.

No Theano here.
"""
import csv

import numpy as np

from .fileio import atomic_write

__all__ = ["write_predictions"]


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
