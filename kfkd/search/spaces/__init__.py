"""The search spaces shipped with kfkd, found by name (``--space NAME``).

Each module is one space (see :func:`kfkd.search.space.load_space`):
``suggest(trial) -> config``, ``FIXED``, ``SURFACES`` and ``LOG_KEYS``.
"""
