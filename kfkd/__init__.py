"""kfkd: facial keypoint detection on the Kaggle challenge, Theano/Lasagne era.

A replication of "Optimising Facial Keypoint Detection With Deep Learning"
(2015).  Low layers (:mod:`kfkd.keypoints`, :mod:`kfkd.data`,
:mod:`kfkd.augment`, the plots of :mod:`kfkd.report`) never import Theano;
modules that do import :mod:`kfkd.compat` first.
"""
__version__ = "0.1.0"
