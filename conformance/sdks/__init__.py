"""The SDK registry: one module per SDK, each defining a :class:`~.profile.Profile` that
registers itself under its name (python, javascript, go, java, dotnet). Adding an SDK is a
driver folder (``drivers/<name>/``), one module here and its tests."""

from . import dotnet, go, java, javascript, python  # noqa: F401 (each registers its profile)
from .profile import PROFILES, DriverSpec, Profile, driver_names, get, names

__all__ = ["PROFILES", "DriverSpec", "Profile", "driver_names", "get", "names"]
