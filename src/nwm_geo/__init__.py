"""nwm_geo: geospatial analysis for Luton's Neighbourhood Working Model.

Stages, one module each:

- :mod:`nwm_geo.data`: load and validate the asset register, boundaries, population, postcodes
- :mod:`nwm_geo.network`: walk networks (OSM file, download, or offline approximation)
- :mod:`nwm_geo.coverage`: 15-minute walk coverage, weighted by population; asset criticality
- :mod:`nwm_geo.calibration`: the approximate network measured against OSM (Rutland)
- :mod:`nwm_geo.localities`: five balanced localities from whole wards, proven optimal
- :mod:`nwm_geo.requirements`: the outline of asset requirements
- :mod:`nwm_geo.maps` and :mod:`nwm_geo.report`: maps, spreadsheet, HTML index
- :mod:`nwm_geo.pipeline`: chains the stages; :mod:`nwm_geo.cli` is the ``nwm-geo`` command

Importing ``nwm_geo`` loads only the settings and the errors; each stage is imported
on its own (``from nwm_geo import coverage``), so the command line starts fast.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version

from nwm_geo import settings
from nwm_geo._errors import (
    DataValidationError,
    InfeasiblePartitionError,
    NetworkError,
    NwmGeoError,
    SolverError,
)
from nwm_geo._notebook import notebook_setup

try:
    __version__: str = _version("nwm_geo")
except PackageNotFoundError:  # a source checkout that is not installed
    __version__ = "0+unknown"

__all__ = [
    "DataValidationError",
    "InfeasiblePartitionError",
    "NetworkError",
    "NwmGeoError",
    "SolverError",
    "__version__",
    "notebook_setup",
    "settings",
]
