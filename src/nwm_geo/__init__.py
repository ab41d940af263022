"""nwm_geo: geospatial analysis for Luton's Neighbourhood Working Model.

``import nwm_geo`` is the entry point. The study and the stages are at the top level:

- :class:`nwm_geo.Study`: one analysis of an area, each stage computed once on first
  use; ``nwm_geo.Study(project_dir=...)`` reads a project from any working directory
- :mod:`nwm_geo.data`: load and validate the asset register, boundaries, population, postcodes
- :mod:`nwm_geo.network`: walk networks (OSM file, download, or offline approximation)
- :mod:`nwm_geo.coverage`: 15-minute walk coverage, weighted by population; asset criticality
- :mod:`nwm_geo.calibration`: the approximate network measured against OSM (Rutland)
- :mod:`nwm_geo.localities`: balanced localities from whole wards, proven optimal
- :mod:`nwm_geo.hubs`, :mod:`nwm_geo.equity`, :mod:`nwm_geo.requirements`: hubs, who is
  within the walk, the outline of asset requirements
- :mod:`nwm_geo.scenarios`: what-ifs compared with the baseline (:class:`Comparison`)
- :mod:`nwm_geo.maps` and :mod:`nwm_geo.report`: maps, spreadsheet, HTML index
- :mod:`nwm_geo.pipeline`: chains the stages (:func:`run`); the ``nwm-geo`` command

Every name above is imported on first use (PEP 562 ``__getattr__``), so ``import
nwm_geo`` (and the command line) loads only the settings and the errors.

Examples
--------
>>> import nwm_geo
>>> "Study" in dir(nwm_geo) and "annotations" not in dir(nwm_geo)
True
"""

import importlib as _importlib
from typing import Any

from nwm_geo import settings
from nwm_geo._errors import (
    DataValidationError,
    InfeasiblePartitionError,
    NetworkError,
    NwmGeoError,
    SolverError,
)
from nwm_geo._notebook import notebook_setup


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nwm_geo")
    except PackageNotFoundError:  # a source checkout that is not installed
        return "0+unknown"


__version__: str = _package_version()

#: The stages, imported on first use (``nwm_geo.coverage`` loads geopandas then).
_MODULES = (
    "areas",
    "calibration",
    "coverage",
    "data",
    "equity",
    "hubs",
    "localities",
    "maps",
    "network",
    "pipeline",
    "report",
    "requirements",
    "scenarios",
)

#: Classes and functions at the top level: name -> the module that defines it.
_NAMES = {
    "Study": "nwm_geo.pipeline",
    "StudySettings": "nwm_geo.pipeline",
    "run": "nwm_geo.pipeline",
    "Comparison": "nwm_geo.scenarios",
    "LocalityPlan": "nwm_geo.localities",
}


def __getattr__(name: str) -> Any:
    """Import a stage or a top-level name on first use (PEP 562)."""
    if name in _MODULES:
        return _importlib.import_module(f"nwm_geo.{name}")
    if name in _NAMES:
        value = getattr(_importlib.import_module(_NAMES[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'nwm_geo' has no attribute {name!r}")


def __dir__() -> list[str]:
    """Return the public names: the ones in ``__all__``."""
    return sorted(__all__)


__all__ = [
    "Comparison",
    "DataValidationError",
    "InfeasiblePartitionError",
    "LocalityPlan",
    "NetworkError",
    "NwmGeoError",
    "SolverError",
    "Study",
    "StudySettings",
    "__version__",
    "areas",
    "calibration",
    "coverage",
    "data",
    "equity",
    "hubs",
    "localities",
    "maps",
    "network",
    "notebook_setup",
    "pipeline",
    "report",
    "requirements",
    "run",
    "scenarios",
    "settings",
]
