"""Keypoint detectors trained on the IMM face database.

A third write-up of this problem (a course project) trains a nose-tip
detector and a full 58-point detector on IMM people 1-32 and tests them
on people 33-40.  ``kfkd imm-train --target nose|all58`` does that here:

=====================  =====================================================
:mod:`.points`         the 58 points as a keypoint schema (names, mirror
                       pairs), canonical eye order, the split by person,
                       the inter-ocular distance and the error table
:mod:`.crops`          the photos cut as the photo pipeline cuts them
:mod:`.run`            the config (breeze, augmentation) and
                       train-then-test (imports Theano)
:mod:`.report`         the table, summary and best/worst test faces
:mod:`.command`        ``kfkd imm-train``
=====================  =====================================================
"""
