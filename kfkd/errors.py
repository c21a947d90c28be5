"""Exceptions shared by layers that must not import each other (no Theano).

Every exception here is a *user error*: the ``kfkd`` command reports it as
one line, ``kfkd CMD: error: MESSAGE``, and exits with status 2.  Its message
names what is at fault (a file, an option, a row, a column, a value).
"""

__all__ = ["DeviceUnavailableError", "UsageError", "ModelError",
           "SearchError"]


class DeviceUnavailableError(RuntimeError):
    """Theano was asked for a device (a GPU) it cannot activate."""


class UsageError(ValueError):
    """An option or configuration value is out of range or malformed.

    The message names the option (``--batch-size``) or the key
    (``net.depth``) and the value given.
    """


class ModelError(ValueError):
    """A model folder cannot be loaded, or cannot be written where asked.

    The message names the folder or file (``model.json``, ``model.npz``) and
    the field or array at fault.
    """


class SearchError(ValueError):
    """A study cannot be opened, resumed or run as asked (storage URL,
    space file, a resume with different settings)."""
