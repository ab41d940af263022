"""What a loader reads an area from: its profile and the folder its bundle files are in.

In: an area profile (:mod:`nwm_geo.areas`) and the imported bundle folder. Out:
:class:`AreaFiles`, the first argument of every loader of :mod:`nwm_geo.data`.
:class:`nwm_geo.data.AreaData` (from :func:`nwm_geo.data.open_area`) is the one to use:
it is an :class:`AreaFiles` that also reads each table once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nwm_geo import settings
from nwm_geo.areas import Area, load_area
from nwm_geo.data.bundle import require_raw

__all__ = ["AreaFiles"]


@dataclass(frozen=True, repr=False)
class AreaFiles:
    """An area profile and the imported bundle folder its files are read from.

    Attributes
    ----------
    profile
        The area profile (:class:`~nwm_geo.areas.Area`): which files, which columns.
    data_dir
        The imported bundle folder (``data/raw``) the profile's paths are relative to.
    """

    profile: Area
    data_dir: Path

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.profile.key!r}, data_dir={str(self.data_dir)!r})"

    @classmethod
    def default(cls) -> AreaFiles:
        """Return the default area (:data:`nwm_geo.settings.default_area`) in ``data/raw``."""
        return cls(load_area(None), settings.raw_dir())

    def path(self, relative: str) -> Path:
        """Return the path of one bundle file (:func:`nwm_geo.data.require_raw`).

        Raises
        ------
        NwmGeoError
            If the file is missing, with the command that imports it.
        """
        return require_raw(relative, data_dir=self.data_dir)
