"""Custom Theano ops in C for the CPU, each in its own module.

===========  ==============================================================
pool         max-pooling that records the arg-max (gradient = a scatter)
dropout      fused dropout with a counter-based Philox4x32-10 generator
bnorm        fused batch normalisation: one-pass statistics, fused backward
speed        microbenchmark of each op against the stock one
===========  ==============================================================

Their Lasagne layers are in :mod:`kfkd.layers`.
"""
