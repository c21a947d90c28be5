"""Exceptions shared by layers that must not import each other (no Theano)."""

__all__ = ["DeviceUnavailableError"]


class DeviceUnavailableError(RuntimeError):
    """Theano was asked for a device (a GPU) it cannot activate."""
