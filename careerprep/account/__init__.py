"""Your account: settings, password, devices, your data, deleting the account."""

from .views import bp

__all__ = ["bp"]
