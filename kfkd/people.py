"""Which training faces are likely the same person: the groups of the
grouped validation split (:func:`kfkd.splits.load_split`).

training.csv holds about 260 people, 8 to 15 frames of one video each,
cropped with random jitter of scale (6%) and position (2.5 px)
(``shared/data/kfkd/README.md``); a random row split puts frames of every
validation person into training.  No identity is given, so it is
estimated from the pixels, in four steps (:func:`group_faces`):

1. **Align** every face on its labelled eye centres and nose tip (every
   row has them) with the least-squares similarity transform to their mean
   position (:func:`aligned_faces`; ``cv2.estimateAffinePartial2D``,
   ``cv2.warpAffine``), so that the crop jitter is undone.
2. **Describe** each aligned crop by a histogram of oriented gradients
   (Dalal and Triggs, "Histograms of oriented gradients for human
   detection", CVPR 2005; ``cv2.HOGDescriptor``), mean-removed and
   normalised, minus the mean over faces (:func:`face_features`):
   gradients look past the lighting, which raw pixels compare first.
3. **Score** pairs against each face's own background
   (:func:`pair_scores`).  The raw similarities are not bimodal (no valley
   between "same person" and "other person" in the similarity of a face
   with its nearest neighbours), as faces differ in how alike they are to
   everyone (lighting, pose: "hubs").  A person has at most 15 frames, so
   a face's neighbours ranked 16 to 45 are other people for certain; they
   are its null, and the score of a pair is its similarity in standard
   deviations above the null's mean, the smaller of the two faces' views.
4. **Cluster** with average linkage (``scipy.cluster.hierarchy``) on
   ``-score`` and cut at :data:`THRESHOLD` = 0: two clusters merge while
   their mean pair score is above 0, i.e. while their faces are on average
   more alike than a face and the other people nearest to it.  The cut is
   the null's own mean, not a tuned number.

On ``shared/data/kfkd``'s 3146 faces this makes 712 groups of 1 to 14
faces (``kfkd figures --only split`` writes the histogram and example
groups to ``figures/split/``).  That is more groups than people (frames of
one person that differ in pose and expression stay apart, and a few groups
mix people), but the split by these groups removes the leak that a net can
use: the median correlation (raw pixels, :func:`nearest_correlation`) of a
validation face with its most alike training face is 0.791 with the random
split, 0.706 with the grouped one, and 0.719 for test.csv's faces, which
are other people by construction (``figures/split/groups.json``).  Raw
pixels instead of gradients, and single instead of average linkage, were
tried on the same check and removed less of the leak; no test label was
looked at.

numpy, scipy and OpenCV only: no Theano here.

Examples
--------
>>> from kfkd.data import find_file, load_training  # doctest: +SKIP
>>> groups = group_faces(load_training(find_file("training.csv")))  # doctest: +SKIP
>>> len(np.unique(groups))  # doctest: +SKIP
712
"""
import cv2
import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

__all__ = ["ANCHORS", "CROP", "NULL_RANKS", "THRESHOLD", "aligned_faces",
           "face_features", "pair_scores", "group_faces", "normalised_rows",
           "nearest_correlation"]

#: The keypoints every row of training.csv has, that faces are aligned on.
ANCHORS = ("left_eye_center", "right_eye_center", "nose_tip")

#: Side of the aligned crop (pixels) and the span of the source face it
#: covers (pixels of the 96x96 frame around the anchors' centre).
CROP, SPAN = 64, 80

#: Neighbour ranks (0-based, nearest first) of a face's null: other people
#: for certain, a person having at most 15 frames.
NULL_RANKS = (15, 45)

#: Cut of the average-linkage tree, in null standard deviations.
THRESHOLD = 0.0


def _anchor_columns(schema):
    """Columns of the :data:`ANCHORS`' x and y in ``schema``; ValueError
    naming the missing one."""
    try:
        return [schema.column_index(name + axis) for name in ANCHORS
                for axis in ("_x", "_y")]
    except KeyError as e:
        raise ValueError("cannot align faces: %s" % e.args[0])


def aligned_faces(images, keypoints, schema, size=CROP, span=SPAN):
    """Faces warped so that their eye centres and nose tip sit at their mean
    positions (the similarity transform that fits them best).

    Parameters
    ----------
    images : ndarray, (N, 1, 96, 96) float32 in [0, 1]
    keypoints : ndarray, (N, 2K) float, pixels
    schema : kfkd.keypoints.KeypointSchema
        Must name the :data:`ANCHORS`.
    size : int
        Side of the output crop, pixels.
    span : float
        Pixels of the source frame that the crop's side covers.

    Returns
    -------
    ndarray, (N, size, size) float32 in [0, 1]

    Raises
    ------
    ValueError
        An anchor is missing from the schema or unlabelled in some row
        (naming the first such row, 1-based).
    """
    cols = _anchor_columns(schema)
    src = np.asarray(keypoints, dtype=np.float32)[:, cols].reshape(-1, 3, 2)
    missing = np.isnan(src).any(axis=(1, 2))
    if missing.any():
        raise ValueError("cannot align faces: row %d has no %s" % (
            np.flatnonzero(missing)[0] + 1, " / ".join(ANCHORS)))
    mean = src.mean(axis=0)
    dst = ((mean - mean.mean(axis=0)) * (size / float(span))
           + size / 2.0).astype(np.float32)
    out = np.empty((len(src), size, size), dtype=np.float32)
    for i, (face, points) in enumerate(zip(images, src)):
        # RANSAC with a threshold wider than the frame keeps all three
        # points as inliers; its refinement is then the least-squares fit
        matrix, _ = cv2.estimateAffinePartial2D(
            points, dst, method=cv2.RANSAC, ransacReprojThreshold=1000.0)
        out[i] = cv2.warpAffine(face[0], matrix, (size, size),
                                flags=cv2.INTER_AREA,
                                borderMode=cv2.BORDER_REPLICATE)
    return out


def normalised_rows(x):
    """Rows of ``x`` (N, ...) flattened, mean-removed, unit length:
    ``(N, D) float64``, so that ``a @ b.T`` is their correlation."""
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    x = x - x.mean(axis=1, keepdims=True)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def face_features(crops):
    """HOG descriptors of aligned crops, normalised, minus the mean face's.

    Parameters
    ----------
    crops : ndarray, (N, S, S) float32 in [0, 1], S a multiple of 8

    Returns
    -------
    ndarray, (N, D) float64, unit rows: ``features @ features.T`` is the
    similarity :func:`pair_scores` takes (16x16-pixel blocks, 8x8 cells,
    9 orientations).
    """
    size = crops.shape[-1]
    hog = cv2.HOGDescriptor((size, size), (16, 16), (8, 8), (8, 8), 9)
    grey = np.clip(np.round(crops * 255), 0, 255).astype(np.uint8)
    x = normalised_rows([hog.compute(c).ravel() for c in grey])
    x -= x.mean(axis=0)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def pair_scores(similarity, null_ranks=NULL_RANKS):
    """Pair similarities in standard deviations above each face's null.

    Parameters
    ----------
    similarity : ndarray, (N, N) float, symmetric
    null_ranks : (int, int)
        Neighbour ranks ``[lo, hi)`` (0-based, nearest first, the face
        itself left out) that make a face's null; clipped to the ``N - 1``
        neighbours there are.

    Returns
    -------
    ndarray, (N, N) float64, symmetric, 0 on the diagonal:
    ``min(z_ij, z_ji)`` with ``z_ij = (s_ij - mean_i) / std_i``.

    Raises
    ------
    ValueError
        Fewer than 3 faces (no null to speak of).
    """
    s = np.array(similarity, dtype=np.float64)
    n = len(s)
    if n < 3:
        raise ValueError("%d face(s) are too few to group" % n)
    lo = min(null_ranks[0], n - 3)
    hi = max(lo + 2, min(null_ranks[1], n - 1))
    np.fill_diagonal(s, -np.inf)
    ranked = -np.sort(-np.partition(s, n - hi, axis=1)[:, n - hi:], axis=1)
    null = ranked[:, lo:hi]
    mean, std = null.mean(axis=1), np.maximum(null.std(axis=1), 1e-9)
    z = (s - mean[:, None]) / std[:, None]
    z = np.minimum(z, z.T)
    np.fill_diagonal(z, 0.0)
    return z


def group_faces(data, threshold=THRESHOLD):
    """Group labels of the faces of ``data``: likely the same person.

    Parameters
    ----------
    data : kfkd.data.KeypointData
        Faces with the :data:`ANCHORS` among their keypoint columns.  A
        face without all of them labelled (Kaggle's genuine training.csv
        has 10 without eye centres) cannot be aligned: it is a group of its
        own; so is every face when fewer than 3 can be aligned.
    threshold : float
        Cut of the average-linkage tree on the pair scores, in null
        standard deviations (see the module's description).

    Returns
    -------
    ndarray, (N,) int
        Group of each face, numbered 0, 1, ... in the order of their first
        face; deterministic (the same data gives the same groups).

    Raises
    ------
    ValueError
        The schema has no :data:`ANCHORS` columns (:func:`aligned_faces`).
    """
    cols = _anchor_columns(data.schema)
    anchored = np.flatnonzero(np.isfinite(data.keypoints[:, cols]).all(axis=1))
    labels = np.arange(len(data)) + len(data)  # singletons, unless grouped
    if len(anchored) >= 3:
        features = face_features(aligned_faces(
            data.images[anchored], data.keypoints[anchored], data.schema))
        z = pair_scores(features @ features.T)
        top = z.max()
        distance = top - z
        np.fill_diagonal(distance, 0.0)
        tree = linkage(squareform(distance, checks=False), method="average")
        labels[anchored] = fcluster(tree, top - threshold,
                                    criterion="distance")
    _, first, renumbered = np.unique(labels, return_index=True,
                                     return_inverse=True)
    order = np.argsort(np.argsort(first))  # groups by their first face
    return order[renumbered].astype(np.intp)


def nearest_correlation(images, references, size=48, batch=512):
    """Each face's correlation with its most alike reference face, in
    pixels (the leak check of the module's description).

    Parameters
    ----------
    images, references : ndarray, (N, 1, 96, 96) and (M, 1, 96, 96) in [0, 1]
    size : int
        Faces are compared at ``size x size`` (``cv2.INTER_AREA``), as
        faces, not as pixel noise, and 4 times faster than at 96.
    batch : int
        Faces compared at once (memory).

    Returns
    -------
    ndarray, (N,) float32 in [-1, 1]
        Maximum over the references of the correlation of the mean-removed
        images (unaligned: as a net sees them).
    """
    def rows(x):
        small = [cv2.resize(face[0], (size, size), interpolation=cv2.INTER_AREA)
                 for face in x]
        return normalised_rows(small).astype(np.float32)

    ref = rows(references)
    return np.concatenate([(rows(images[i:i + batch]) @ ref.T).max(axis=1)
                           for i in range(0, len(images), batch)])
